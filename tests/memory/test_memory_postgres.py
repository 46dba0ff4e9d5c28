"""The store on a real PostgreSQL server (started by the test, loopback only): runs kept
and read back, tool results reused, questions answered from it, writers side by side."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from muie.agent.api import Agent, make_request
from muie.agent.ask.conversation import ask
from muie.memory.db import engine_for
from muie.memory.store import Store
from muie.settings import Settings
from tests.support.paths import ROOT
from tests.support.postgres import postgres_server
from tests.support.store_writer import result

pytestmark = pytest.mark.postgres

MEDIA = ROOT / "examples" / "media"
CAPTION = (MEDIA / "caption.txt").read_text()


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    with postgres_server() as url:
        yield Settings(data_dir=str(tmp_path_factory.mktemp("pgdata")), store_url=url, reuse_runs=False)
        engine_for(url).dispose()


def test_runs_and_tool_results_kept_in_postgresql(pg):
    agent = Agent(settings=pg, store=True)
    req = lambda: make_request(CAPTION, [str(MEDIA / "photo.png")])  # noqa: E731
    (r1,), id1 = agent.run_kept(req())
    (r2,), id2 = agent.run_kept(req())
    store = Store(pg)
    assert store.engine.dialect.name == "postgresql"
    first, second = store.run(id1), store.run(id2)
    assert first.cached_calls == 0 and second.cached_calls == second.tool_calls > 0
    assert json.dumps(r1.model_dump(exclude={"trace"})) == json.dumps(r2.model_dump(exclude={"trace"}))
    assert store.result(id1).to_json() == r1.to_json()
    assert store.check() == []
    a = ask("where is the coffee cup?", text=CAPTION, images=[str(MEDIA / "photo.png")], settings=pg)
    assert a.source == "memory" and a.run_id in (id1, id2)
    assert a.citations and any(c.grounding is not None and c.grounding.kind == "region" for c in a.citations)


def test_writers_side_by_side(pg):
    from muie.agent.inputs import default_schema
    from muie.request import Request

    store = Store(pg)
    before = store.counts()

    def write(k: int) -> str:
        res = result(k, str(MEDIA / "photo.png"), str(MEDIA / "speech.wav"))
        return store.record_run(Request(text=f"writer {k}", inputs=res.inputs[1:], schema=default_schema()), res,
                                "embedded", 0.1)

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(write, range(8)))
    after = store.counts()
    assert len(set(ids)) == 8 and after["runs"] - before["runs"] == 8
    assert after["entities"] - before["entities"] == 8 * 200
    assert store.check() == []

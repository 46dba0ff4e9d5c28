"""The store: runs kept with their rows and read back; tool results reused by the next
extraction of the same media (wherever the file lies); a process killed while writing
leaves the store readable and consistent; a store that cannot be opened is bad input."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from muie.agent.api import Agent, make_request
from muie.memory.db import engine_for
from muie.memory.media import content_hash
from muie.memory.store import Store
from muie.settings import Settings
from tests.support.cli import MUIE, assert_bad_input, muie
from tests.support.paths import ROOT

MEDIA = ROOT / "examples" / "media"
CAPTION = (MEDIA / "caption.txt").read_text()


def _strip(result) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(result.model_dump(exclude={"trace"}), sort_keys=True)


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """Two extractions of the same photo and speech, the second from copies under other names
    (the run itself is not reused, so that its tool calls come from the tool cache)."""
    root = tmp_path_factory.mktemp("kept")
    settings = Settings(data_dir=str(root / "data"), reuse_runs=False)
    agent = Agent(settings=settings, store=True)
    (r1,), id1 = agent.run_kept(make_request(CAPTION, [str(MEDIA / "photo.png")], [str(MEDIA / "speech.wav")]))
    shutil.copy(MEDIA / "photo.png", root / "renamed.png")
    shutil.copy(MEDIA / "speech.wav", root / "renamed.wav")
    (r2,), id2 = agent.run_kept(make_request(CAPTION, [str(root / "renamed.png")], [str(root / "renamed.wav")]))
    return settings, agent, (r1, id1), (r2, id2), root


def test_a_run_is_kept_with_its_rows(kept):
    settings, _, (r1, id1), _, _ = kept
    store = Store(settings)
    run = store.run(id1)
    assert store.result(id1).to_json() == r1.to_json()
    assert (run.entities, run.relations, run.events) == (len(r1.entities), len(r1.relations), len(r1.events))
    assert run.text == CAPTION and run.reasoner == "embedded" and run.tool_calls > 0
    assert {i["id"]: i.get("hash") for i in run.inputs} == {
        "text": None, "image0": content_hash(MEDIA / "photo.png"), "audio0": content_hash(MEDIA / "speech.wav")}
    counts = store.counts()
    assert counts["runs"] == 2 and counts["media"] == 2 and counts["run_media"] == 4
    assert counts["groundings"] == 2 * sum(len(e.groundings) for e in r1.entities) + 2 * sum(
        len(v.trigger.groundings) for v in r1.events)
    speech = [t for t in store.read_texts(id1) if t.kind == "speech"]
    assert len(speech) == 1 and "NASA" in speech[0].text and speech[0].words[0]["start_s"] is not None
    assert store.check() == []


def test_the_same_media_under_another_name_reuses_every_tool_result(kept):
    settings, agent, (r1, id1), (r2, id2), root = kept
    store = Store(settings)
    first, second = store.run(id1), store.run(id2)
    assert first.cached_calls == 0
    assert second.cached_calls == second.tool_calls == first.tool_calls, "every tool result kept from the first run"
    assert _strip(r2).replace("renamed.png", "photo.png").replace("renamed.wav", "speech.wav").replace(
        str(root) + "/", str(MEDIA) + "/") == _strip(r1)
    acts = [s for s in r2.trace if s.node == "act" and getattr(s, "tool", None)]
    assert acts and all("kept from before" in s.summary for s in acts)
    assert second.seconds < first.seconds / 5, (first.seconds, second.seconds)
    latest = store.latest_run({"image0": content_hash(root / "renamed.png"),
                               "audio0": content_hash(MEDIA / "speech.wav")},
                              text_hash=first.text_hash)
    assert latest is not None and latest.id == id2


def test_other_settings_of_a_tool_are_another_model_version(kept):
    settings, _, (r1, id1), _, root = kept
    other = Agent(settings=settings.model_copy(update={"region_min_score": 0.5}), store=True)
    (r3,), id3 = other.run_kept(make_request(CAPTION, [str(MEDIA / "photo.png")], [str(MEDIA / "speech.wav")]))
    assert Store(settings).run(id3).cached_calls == 0
    off = Agent(settings=settings.model_copy(update={"tool_cache": False}), store=True)
    (_,), id4 = off.run_kept(make_request(CAPTION, [str(MEDIA / "photo.png")], [str(MEDIA / "speech.wav")]))
    assert Store(settings).run(id4).cached_calls == 0


def test_retrained_weights_are_another_version(tmp_path, monkeypatch):
    """Results kept from other model files (``make model`` run again) are not reused."""
    from muie.memory import tool_cache
    from muie.settings import default_settings

    shipped = tool_cache.muie_version()
    assert shipped.startswith(tool_cache.version("muie") + "+")
    weights = tmp_path / "weights"
    weights.mkdir()
    for f in tool_cache.WEIGHTS.glob("*.onnx"):
        shutil.copy(f, weights / f.name)
    monkeypatch.setattr(tool_cache, "WEIGHTS", weights)
    tool_cache._weights_digest.cache_clear()
    try:
        same = tool_cache.model_version(default_settings())
        with (weights / "relations.onnx").open("ab") as f:
            f.write(b"\0")
        tool_cache._weights_digest.cache_clear()
        assert tool_cache.muie_version() != shipped
        assert tool_cache.model_version(default_settings()) != same
    finally:
        tool_cache._weights_digest.cache_clear()


def test_runs_are_listed_shown_and_exported(kept, tmp_path):
    settings, _, (r1, id1), (r2, id2), _ = kept
    env = {"MUIE_DATA_DIR": settings.data_dir}
    listed = _muie(env, "runs", "list", "--json", "--media", str(MEDIA / "speech.wav"))
    rows = [json.loads(x) for x in listed.stdout.splitlines()]
    assert {id1, id2} <= {r["run"] for r in rows}
    shown = _muie(env, "runs", "show", id1[:10])
    assert json.loads(shown.stdout)["entities"] == json.loads(r1.to_json())["entities"]
    out = tmp_path / "all.jsonl"
    _muie(env, "runs", "export", str(out))
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(records) == len(Store(settings).runs()) and all("result" in r and "run" in r for r in records)
    table = _muie(env, "runs", "list")
    assert id1[:12] in table.stdout


def test_killing_the_process_while_it_writes_leaves_the_store_readable_and_consistent(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    committed = 0
    for delay in (0.0, 0.13, 0.37):
        proc = subprocess.Popen([sys.executable, "-m", "tests.support.store_writer", str(data),
                                 str(MEDIA / "photo.png"), str(MEDIA / "speech.wav")], cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True)
        for _ in range(2):  # some runs committed, then killed in the middle of the next writes
            line = proc.stdout.readline()
            assert line.strip(), "the writer stopped"
            committed = max(committed, int(line))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        db = data / "muie.db"
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        engine_for.cache_clear()
        store = Store(Settings(data_dir=str(data)))
        assert store.check() == []
        runs = store.runs(limit=10_000)
        assert len(runs) >= committed > 0
        for r in runs:
            res = store.result(r.id)
            assert len(res.entities) == r.entities == 200
        assert store.counts()["entities"] == 200 * len(runs)


def test_a_store_that_cannot_be_opened_is_bad_input(tmp_path):
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "muie.db").write_bytes(b"this is not a database, just bytes " * 100)
    r = _muie({"MUIE_DATA_DIR": str(bad)}, "runs", "list", check=False)
    assert r.returncode == 2 and "muie.db" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _muie({"MUIE_STORE_URL": "nosuchdb://x/y"}, "runs", "list", check=False)
    assert r.returncode == 2 and "store nosuchdb://x/y" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert_bad_input(muie("runs", "export", str(tmp_path / "out.csv"), cwd=ROOT), "out.csv")


def _muie(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    import os

    r = subprocess.run([str(MUIE), *args], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env=dict(os.environ, **env))
    if check:
        assert r.returncode == 0, r.stderr
    return r


def _open_and_count(data: str) -> int:
    return Store(Settings(data_dir=data)).counts()["runs"]


def test_processes_opening_a_new_store_at_once(tmp_path):
    import multiprocessing

    for k in range(3):  # batch workers start together on a data folder not used yet
        folder = tmp_path / f"new{k}"
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            assert pool.map(_open_and_count, [str(folder)] * 4) == [0, 0, 0, 0]


def test_a_request_answered_before_is_answered_by_its_kept_run(tmp_path):
    settings = Settings(data_dir=str(tmp_path / "data"))
    photo = tmp_path / "photo.png"
    shutil.copy(MEDIA / "photo.png", photo)
    (r1,), id1 = Agent(settings=settings, store=True).run_kept(make_request(CAPTION, [str(photo)]))
    moved = tmp_path / "moved.png"
    photo.rename(moved)  # the same bytes under another name: the same request
    (r2,), id2 = Agent(settings=settings, store=True).run_kept(make_request(CAPTION, [str(moved)]))
    assert id2 == id1 and r2.trace[-1].node == "store" and id1 in r2.trace[-1].model_extra["run"]
    assert r2.inputs[1].path == str(moved)  # the paths are the request's, not the kept run's
    assert _strip(r2).replace("moved.png", "photo.png") == _strip(r1)
    assert Store(settings).counts()["runs"] == 1  # nothing ran, nothing new was kept
    for other in (make_request(CAPTION, [str(moved)], tasks="ner"), make_request(CAPTION + " ", [str(moved)])):
        (r3,), id3 = Agent(settings=settings, store=True).run_kept(other)  # another request: it runs
        assert id3 != id1 and r3.trace[-1].node == "finish"
    tuned = Agent(settings=settings.model_copy(update={"region_min_score": 0.5}), store=True)
    (r4,), id4 = tuned.run_kept(make_request(CAPTION, [str(moved)]))  # other settings: another request
    assert id4 not in (id1, id3) and r4.trace[-1].node == "finish"
    off = Agent(settings=settings.model_copy(update={"reuse_runs": False}), store=True)
    (r5,), id5 = off.run_kept(make_request(CAPTION, [str(moved)]))
    assert id5 != id1 and r5.trace[-1].node == "finish" and _strip(r5).replace("moved.png", "photo.png") == _strip(r1)


def test_a_run_in_which_a_tool_failed_never_answers_again(tmp_path):
    """A tool that failed (a model not installed yet) leaves a result without its work: the
    run is kept for the record, but the same request runs again next time."""
    from muie.domain import TraceStep

    agent = Agent(settings=Settings(data_dir=str(tmp_path / "data")), store=True)
    request = make_request(CAPTION)
    (result,), _ = agent.run_kept(request)
    failed = TraceStep(step=len(result.trace), node="act", summary="link_regions.v1 x1 in 3.0 ms: RuntimeError: "
                       "the ISNet model is not installed", tool="link_regions.v1", failed=True)
    ok = TraceStep(step=len(result.trace), node="act", summary="link_regions.v1 x1 in 3.0 ms", tool="link_regions.v1")
    kept_failed = agent._keep({"request": request, "trace": [failed]}, result, 0.1, "fingerprint-failed")
    kept_ok = agent._keep({"request": request, "trace": [ok]}, result, 0.1, "fingerprint-ok")
    assert kept_failed is not None and kept_ok is not None  # both are kept...
    assert agent.store.kept_result("fingerprint-failed") is None  # ...only the whole one answers
    assert agent.store.kept_result("fingerprint-ok")[1] == kept_ok

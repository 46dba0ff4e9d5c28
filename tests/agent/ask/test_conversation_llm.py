"""Questions answered by an LLM from the kept results: the real Qwen model on llama.cpp's
OpenAI-compatible server, its citations checked against the evidence; a failing endpoint
(a real HTTP server answering 500) leaves the embedded answer, saying why."""

from __future__ import annotations

import pytest

from muie.agent.api import Agent, make_request
from muie.agent.ask.conversation import ask
from muie.domain import Segment
from muie.settings import Settings
from tests.support.llm_server import ScriptedLLM, serve_in_thread
from tests.support.paths import ROOT

pytestmark = pytest.mark.llm

MEDIA = ROOT / "examples" / "media"
SPEECH = str(MEDIA / "speech.wav")


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> Settings:
    """A store holding one extraction of the example recording ("Eileen Collins works for NASA...")."""
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("llm-data")))
    Agent(settings=settings, store=True).run_kept(make_request(None, [], [SPEECH]))
    return settings


@pytest.mark.slow
def test_the_real_llm_answers_from_the_results_and_cites_them(kept, qwen) -> None:  # type: ignore[no-untyped-def]
    s = kept.model_copy(update={"llm_base_url": qwen, "llm_model": "qwen", "llm_timeout_s": 600, "llm_max_tokens": 200})
    a = ask("When is NASA mentioned?", audio=[SPEECH], settings=s, reasoner="llm")
    assert a.answered_by == "llm" and a.source == "memory"
    assert "NASA" in a.answer or "2." in a.answer, a.answer
    segments = [c.grounding for c in a.citations if isinstance(c.grounding, Segment)]
    assert segments, a.citations  # cited evidence carries its groundings, never places the model made up
    embedded = ask("When is NASA mentioned?", audio=[SPEECH], settings=kept)
    known = {(g.start_s, g.end_s) for c in embedded.citations for g in [c.grounding] if isinstance(g, Segment)}
    assert all(g.input == "audio0" and 0 <= g.start_s <= g.end_s <= 8.0 for g in segments)
    assert known & {(g.start_s, g.end_s) for g in segments} or any("nasa" in c.what.lower() for c in a.citations)


def test_a_failing_llm_leaves_the_embedded_answer(kept) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM([{"status": 500}])
    with serve_in_thread(llm.app()) as base:
        s = kept.model_copy(update={"llm_base_url": base + "/v1", "llm_max_retries": 0, "llm_timeout_s": 10})
        a = ask("When is NASA mentioned?", audio=[SPEECH], settings=s, reasoner="llm")
    assert a.answered_by.startswith("embedded (the LLM failed") and "500" in a.answered_by
    assert "NASA" in a.answer and isinstance(a.citations[0].grounding, Segment)
    assert llm.requests and "NASA" in llm.requests[0]["messages"][-1]["content"]

"""The LLM reasoner against real OpenAI-compatible servers on localhost.

A scripted server answers each failure path for real over HTTP (a 500, a 429, a delay
past the timeout, a body that is not JSON, an answer that breaks the schema, a tool that
does not exist, arguments the graph rejects); each ends in a retry, a fallback to the
embedded reasoner noted in the trace, or a clear error. The real small LLM
(Qwen2.5-Coder-1.5B-Instruct under llama.cpp's server) extracts end to end in both typed
modes, and plans on a caption with an image.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from muie.agent.api import Agent, extract
from muie.reasoner.llm import LLMReasoner, locate
from muie.reasoner.llm_client import LLMError
from muie.settings import Settings
from tests.support.cli import MUIE
from tests.support.llm_server import ScriptedLLM, free_port, serve_in_thread
from tests.support.paths import ROOT

pytestmark = pytest.mark.llm

TEXT = "Marie Curie was born in Warsaw. Marie Curie worked in Paris."
SCHEMA = {"entity_types": ["person", "city"], "relation_types": ["born_in"]}
GOOD = {"entities": [{"text": "Marie Curie", "type": "person"}, {"text": "Warsaw", "type": "City"},
                     {"text": "Paris", "type": "city"}, {"text": "Einstein", "type": "person"}],
        "relations": [{"head": "Marie Curie", "type": "born_in", "tail": "Warsaw"}], "events": []}
EXAMPLES = ROOT / "examples" / "media"


def settings(url: str, **kw: object) -> Settings:
    base = dict(llm_base_url=url, llm_model="scripted", llm_max_retries=1, llm_validation_retries=1,
                llm_timeout_s=5.0, llm_send_images=False)
    return Settings(**(base | kw))


def run(url: str, text: str = TEXT, schema: dict = SCHEMA, **kw: object):  # type: ignore[no-untyped-def]
    agent = Agent(LLMReasoner(settings(url, **kw)), settings=settings(url, **kw))
    return extract(text=text, schema=schema, agent=agent)


def reason_notes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.summary for s in result.trace if s.node == "reason"]


@pytest.fixture
def scripted():  # type: ignore[no-untyped-def]
    def start(script: list[dict]):  # type: ignore[type-arg]
        llm = ScriptedLLM(script)
        cm = serve_in_thread(llm.app())
        llm.url = cm.__enter__() + "/v1"  # type: ignore[attr-defined]
        started.append(cm)
        return llm

    started: list = []  # type: ignore[type-arg]
    yield start
    for cm in started:
        cm.__exit__(None, None, None)


def test_typed_answer_in_tools_mode_is_located_in_the_text(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"tool": "Extraction", "arguments": GOOD}])
    r = run(llm.url)
    got = {(e.text, e.type, tuple((m.start, m.end) for m in e.mentions)) for e in r.entities}
    assert got == {("Marie Curie", "person", ((0, 11), (32, 43))), ("Warsaw", "city", ((24, 30),)),
                   ("Paris", "city", ((54, 59),))}  # 'Einstein' is not in the text: dropped
    (rel,) = r.relations
    names = {e.id: e.text for e in r.entities}
    assert (names[rel.head], rel.type, names[rel.tail]) == ("Marie Curie", "born_in", "Warsaw")
    assert any("1 not found" in n for n in reason_notes(r))
    body = llm.requests[0]
    assert body["tools"][0]["function"]["name"] == "Extraction"
    assert "entities" in body["tools"][0]["function"]["parameters"]["properties"]
    user = body["messages"][-1]["content"]
    assert TEXT in user and "person, city" in user and "born_in" in user
    assert len(llm.requests) == 1  # one call for one short text; the embedded text tools never ran
    assert not any(s.summary.startswith("recognize_entities") for s in r.trace if s.node == "act")


def test_json_mode_reads_the_answer_from_the_message(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"content": json.dumps(GOOD)}])
    r = run(llm.url, llm_mode="json")
    assert {e.text for e in r.entities} == {"Marie Curie", "Warsaw", "Paris"}
    assert llm.requests[0]["response_format"] == {"type": "json_object"}
    assert "tools" not in llm.requests[0]


def test_server_error_is_retried_then_answered(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"status": 500}, {"tool": "Extraction", "arguments": GOOD}])
    r = run(llm.url)
    assert len(llm.requests) == 2
    assert {e.text for e in r.entities} == {"Marie Curie", "Warsaw", "Paris"}
    assert not any("fallback" in n for n in reason_notes(r))


def test_rate_limit_is_retried(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"status": 429}, {"tool": "Extraction", "arguments": GOOD}])
    r = run(llm.url)
    assert len(llm.requests) == 2 and len(r.entities) == 3


def test_persistent_server_error_falls_back_to_the_embedded_reasoner(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"status": 500}])
    r = run(llm.url)
    assert len(llm.requests) == 2  # one try, one retry (llm_max_retries=1)
    note = next(n for n in reason_notes(r) if "fallback" in n)
    assert "HTTP 500" in note and "2 attempt(s)" in note
    assert {"Marie Curie", "Warsaw"} <= {e.text for e in r.entities}  # the embedded tools found them
    assert any(s.summary.startswith(Settings().entity_tool) for s in r.trace if s.node == "act")


def test_persistent_error_fails_the_run_when_so_configured(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"status": 503}])
    with pytest.raises(LLMError, match=r"HTTP 503 after 2 attempt\(s\)"):
        run(llm.url, llm_on_error="fail")


def test_timeout_is_retried_then_falls_back(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"sleep": 3.0}, {"tool": "Extraction", "arguments": GOOD}])
    t0 = time.perf_counter()
    r = run(llm.url, llm_timeout_s=0.5, llm_max_retries=0)
    assert time.perf_counter() - t0 < 30
    assert any("timeout" in n and "fallback" in n for n in reason_notes(r))


def test_endpoint_down_falls_back() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    r = run(url, llm_max_retries=0)
    assert any("unreachable" in n and "fallback" in n for n in reason_notes(r))
    assert "Warsaw" in {e.text for e in r.entities}


def test_body_that_is_not_json_falls_back(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"raw": "<html>upstream broke</html>"}])
    r = run(llm.url, llm_max_retries=0)
    assert any("fallback" in n for n in reason_notes(r))
    assert "Warsaw" in {e.text for e in r.entities}


def test_answer_that_is_not_json_goes_back_to_the_llm(scripted) -> None:  # type: ignore[no-untyped-def]
    llm = scripted([{"content": "Sure! Here are the entities: Marie Curie"}, {"content": json.dumps(GOOD)}])
    r = run(llm.url, llm_mode="json")
    assert len(llm.requests) == 2  # the reask
    assert {e.text for e in r.entities} == {"Marie Curie", "Warsaw", "Paris"}


def test_schema_violating_answer_is_reasked_then_falls_back(scripted) -> None:  # type: ignore[no-untyped-def]
    bad = {"entities": "Marie Curie", "relations": [{"head": 3}]}
    llm = scripted([{"tool": "Extraction", "arguments": bad}])
    r = run(llm.url)
    assert len(llm.requests) == 2  # the first answer, and one reask with the errors
    reask = json.dumps(llm.requests[1]["messages"])
    assert "entities" in reask and "valid" in reask.lower()
    assert any("invalid output" in n and "fallback" in n for n in reason_notes(r))


def test_unknown_tool_is_reasked_and_bad_arguments_go_back(scripted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On a case with an image the LLM may call media tools: a tool that does not exist is
    a validation error sent back (the reask); arguments the graph rejects come back to the
    reasoner as call errors, and the LLM corrects its calls."""
    text = "A coffee cup."
    answer = {"entities": [{"text": "coffee cup", "type": "object"}], "relations": [], "events": []}
    unknown = answer | {"calls": [{"tool": "fly.v1", "arguments": {"input": "image0"}}]}
    bad_args = answer | {"calls": [{"tool": "segment_image.v1", "arguments": {"input": "image0", "max_regions": 0}}]}
    fixed = answer | {"calls": [{"tool": "segment_image.v1", "arguments": {"input": "image0", "text": "coffee cup"}}]}
    llm = scripted([{"tool": "ExtractionAndCalls", "arguments": unknown},
                    {"tool": "ExtractionAndCalls", "arguments": bad_args},
                    {"tool": "ExtractionAndCalls", "arguments": fixed},
                    {"tool": "Extraction", "arguments": {"entities": [], "relations": [], "events": []}}])
    s = settings(llm.url)
    agent = Agent(LLMReasoner(s), settings=s)
    r = extract(text=text, images=[str(EXAMPLES / "photo.png")], schema={"entity_types": ["object"]}, agent=agent)
    enum = llm.requests[0]["tools"][0]["function"]["parameters"]
    assert "fly.v1" not in json.dumps(enum) and "segment_image.v1" in json.dumps(enum)
    assert "fly.v1" in json.dumps(llm.requests[1]["messages"])  # the reask names the bad tool
    assert "max_regions" in json.dumps(llm.requests[2]["messages"])  # the graph's error, back to the LLM
    validate = [s for s in r.trace if s.node == "validate" and s.model_extra.get("errors")]
    assert validate and "max_regions" in validate[0].model_extra["errors"][0]
    ran = [s.summary for s in r.trace if s.node == "act"]
    assert any(x.startswith("segment_image.v1 x1") for x in ran)
    (cup,) = [e for e in r.entities if e.text == "coffee cup"]
    assert cup.mentions[0].start == 2 and cup.groundings  # grounded in the photo


def test_locate_finds_whole_words_and_ignores_case_only_when_needed() -> None:
    assert locate("Paris, not Parisian. paris.", "Paris") == [(0, 5)]
    assert locate("the  Space\nShuttle flew", "space shuttle") == [(5, 18)]
    assert locate("met the Queen", "The Queen") == [(4, 13)]
    assert locate("nothing here", "Warsaw") == []


def test_cli_fails_with_one_line_when_the_llm_is_down_and_fallback_is_off(tmp_path) -> None:
    import subprocess

    env = os.environ | {"MUIE_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "MUIE_LLM_ON_ERROR": "fail",
                        "MUIE_LLM_MAX_RETRIES": "0"}
    proc = subprocess.run([str(MUIE), "extract", "--text", TEXT, "--entity-types", "person", "--reasoner", "llm"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert "unreachable" in line and "MUIE_LLM_BASE_URL" not in line and "127.0.0.1" in line


# --------------------------------------------------------------------------- the real LLM


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["tools", "json"])
def test_real_llm_extracts_typed_entities(qwen, mode) -> None:  # type: ignore[no-untyped-def]
    s = settings(qwen, llm_model="qwen", llm_mode=mode, llm_timeout_s=600, llm_max_tokens=400)
    agent = Agent(LLMReasoner(s), settings=s)
    r = extract(text="Marie Curie was born in Warsaw.", schema=SCHEMA, agent=agent)
    got = {(e.text, e.type) for e in r.entities}
    assert ("Marie Curie", "person") in got and ("Warsaw", "city") in got
    for e in r.entities:  # offsets found in the text, never taken from the model
        assert all("Marie Curie was born in Warsaw."[m.start:m.end] == e.text for m in e.mentions)
    assert not any("fallback" in n for n in reason_notes(r))


@pytest.mark.slow
def test_real_llm_on_a_caption_with_an_image(qwen) -> None:  # type: ignore[no-untyped-def]
    s = settings(qwen, llm_model="qwen", llm_timeout_s=600, llm_max_tokens=400)
    agent = Agent(LLMReasoner(s), settings=s)
    schema = json.loads((EXAMPLES / "schema.json").read_text())
    r = extract(text="Eileen Collins commanded a mission for NASA.", images=[str(EXAMPLES / "photo.png")],
                schema=schema, agent=agent)
    assert not any("fallback" in n for n in reason_notes(r))
    (collins,) = [e for e in r.entities if e.text == "Eileen Collins"]
    assert collins.type == "person" and [(m.start, m.end) for m in collins.mentions] == [(0, 14)]
    read = [e for e in r.entities if any(g.kind == "region" and g.input == "image0" for g in e.groundings)]
    assert any("NASA" in e.text for e in read)  # read on the sign (the LLM reads the photo's OCR words)
    assert [s.summary for s in r.trace if s.node == "act" and "read_text.v1" in s.summary]


def test_configuration_from_the_environment_keeps_the_key_secret(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MUIE_LLM_BASE_URL", "http://gpu-host:8000/v1")
    monkeypatch.setenv("MUIE_LLM_MODEL", "Qwen/Qwen2.5-VL-7B-Instruct")
    monkeypatch.setenv("MUIE_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("MUIE_LLM_MODE", "json")
    s = Settings.from_env()
    assert (s.llm_base_url, s.llm_model, s.llm_mode) == (
        "http://gpu-host:8000/v1", "Qwen/Qwen2.5-VL-7B-Instruct", "json")
    assert s.llm_api_key.get_secret_value() == "sk-very-secret"  # type: ignore[union-attr]
    assert "sk-very-secret" not in repr(s) and "sk-very-secret" not in s.model_dump_json()
    monkeypatch.setenv("MUIE_LLM_MODE", "telepathy")
    with pytest.raises(Exception, match="MUIE_LLM_MODE"):
        Settings.from_env()


def test_meta_response_mode_plans_the_tools_in_reamo_form(scripted) -> None:  # type: ignore[no-untyped-def]
    """A REAMO-style model plugs in: its <Module>/<Instruction> text becomes typed calls that
    run; a malformed block goes back to it; no block means done."""
    ner = (f'<Module>NER</Module><Instruction>{{"input": "text", "start": 0, "end": {len(TEXT)}, '
           '"entity_types": ["person", "city"]}</Instruction>')
    llm = scripted([{"content": "I will call <Module>NER</Module><Instruction>{oops</Instruction>"},
                    {"content": "Let me find the entities.\n" + ner},
                    {"content": "All done."}])
    r = run(llm.url, llm_mode="meta")
    assert len(llm.requests) == 3
    assert "not valid JSON" in llm.requests[1]["messages"][-1]["content"]  # the bad block, sent back
    assert f"text [0, {len(TEXT)})" in llm.requests[0]["messages"][-1]["content"]  # chunks with their offsets
    assert f"recognize_entities.v1@text:0:{len(TEXT)}" in llm.requests[2]["messages"][-1]["content"]  # calls that ran
    assert {"Marie Curie", "Warsaw"} <= {e.text for e in r.entities}
    assert not any("fallback" in n for n in reason_notes(r))


def test_the_critique_is_answered_with_targeted_calls(scripted) -> None:  # type: ignore[no-untyped-def]
    """A re-plan the verifier asks for (read a span again) becomes the embedded reasoner's
    targeted call; the run is not taken for a fallback because of it."""
    from muie.agent.api import make_request
    from muie.calls import CallKey
    from muie.draft import Draft
    from muie.findings import Finding, Replan
    from muie.reasoner.base import View

    llm = scripted([{"status": 500}])  # never asked: nothing new to read
    s = settings(llm.url)
    req = make_request(text=TEXT, schema=SCHEMA)
    finding = Finding(check="uncovered_name", message="'Paris' is no entity", where="text[54:59]",
                      replan=Replan(goal="reextract", input="text", start=54, end=59))
    view = View(request=req, chunks=[("text", 0, len(TEXT))], draft=Draft(), findings=[finding],
                history=[], iteration=1)
    d = LLMReasoner(s).decide(view)
    (call,) = d.calls
    assert call["tool"] == s.entity_tool and call["arguments"]["start"] <= 54
    assert "1 targeted call" in d.note and not llm.requests
    later = View(request=req, chunks=view.chunks, draft=Draft(),
                 history=[CallKey(tool=s.entity_tool, input="text", span=(54, 59), threshold=0.15)],
                 iteration=2)
    d2 = LLMReasoner(s).decide(later)  # the embedded reasoner, taking over, would read the whole text
    assert not any(c["tool"] == s.entity_tool for c in d2.calls) and d2.done and not llm.requests

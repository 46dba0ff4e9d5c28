"""The graph's logic, driven by a scripted reasoner: validation retries, the iteration
and tool-call budgets, findings sent back, and the final repair."""

from __future__ import annotations

from muie.agent.api import Agent
from muie.domain import Entity, Mention, Relation, Schema
from muie.draft import Draft
from muie.reasoner.base import Decision
from muie.request import Request
from muie.settings import Settings
from muie.tools import REGISTRY
from muie.tools.text.recognize_entities import RecognizeEntitiesTool
from tests.support.scripted import ScriptedReasoner

TEXT = "Marie Curie was born in Warsaw."
SCHEMA = Schema(entity_types=["person", "location"], relation_types=["born_in"])


def run(reasoner, **settings):
    agent = Agent(reasoner=reasoner, settings=Settings(**settings))
    return agent.run(Request(text=TEXT, schema=SCHEMA))


def ner_call(**over):
    args = {"input": "text", "start": 0, "end": len(TEXT), "entity_types": ["person", "location"]}
    args.update(over)
    return {"tool": "recognize_entities.v1", "arguments": args}


def nodes(result):
    return [s.node for s in result.trace]


def test_invalid_call_goes_back_to_the_reasoner_with_the_error():
    bad = {"tool": "recognize_entities.v1", "arguments": {"input": "text", "start": 0}}  # no end, no types
    script = ScriptedReasoner([Decision(calls=[bad]), Decision(calls=[ner_call()]), Decision(done=True)])
    result = run(script)
    assert script.views[1].call_errors, "the second decision must see why the first call was invalid"
    err = script.views[1].call_errors[0]
    assert "end" in err and "entity_types" in err
    assert nodes(result)[:4] == ["perceive", "reason", "validate", "reason"]
    assert "act" in nodes(result)  # the corrected call ran
    assert [e.text for e in script.views[2].observations[0].result.entities] == ["Marie Curie", "Warsaw"]


def test_unknown_tool_and_out_of_range_span_are_invalid():
    unknown = {"tool": "segment_everything.v9", "arguments": {}}
    past_end = ner_call(end=len(TEXT) + 50)
    script = ScriptedReasoner([Decision(calls=[unknown, past_end]), Decision(done=True)])
    run(script)
    errors = script.views[1].call_errors
    assert len(errors) == 2
    assert "recognize_entities.v1" in errors[0]  # the error lists the known tools
    assert "runs past the end" in errors[1]


def test_retries_are_bounded_and_the_run_ends_cleanly():
    bad = {"tool": "nope", "arguments": {}}
    script = ScriptedReasoner([Decision(calls=[bad])], repeat_last=True)
    result = run(script, max_call_retries=2, max_iterations=3)
    validations = [s for s in result.trace if s.node == "validate"]
    assert validations and all("invalid" in s.summary for s in validations)
    # 3 iterations, each with the first try and 2 retries
    assert len(script.views) == 3 * 3
    assert nodes(result)[-1] == "finish"
    assert result.entities == [] and result.violations(TEXT) == []


def test_iteration_budget_stops_a_reasoner_that_never_finishes():
    script = ScriptedReasoner([Decision(calls=[ner_call()], done=False)], repeat_last=True)
    result = run(script, max_iterations=2)
    assert len(script.views) == 2
    assert sum(1 for s in result.trace if s.node == "act") == 2
    finish = result.trace[-1]
    assert finish.node == "finish" and finish.model_extra["iterations"] == 2


def test_tool_call_budget_is_enforced():
    script = ScriptedReasoner([Decision(calls=[ner_call()] * 5)], repeat_last=True)
    result = run(script, max_tool_calls=3, max_call_retries=0, max_iterations=4)
    assert result.trace[-1].model_extra["tool_calls"] == 3


def test_findings_go_back_and_unresolved_ones_are_dropped_at_finish():
    # a draft whose mention does not match the text and whose relation dangles
    wrong = Draft(
        entities=[Entity(id="E1", text="Marie Curie", type="person", mentions=[Mention(start=0, end=11)]),
                  Entity(id="E2", text="Paris", type="location", mentions=[Mention(start=24, end=30)])],
        relations=[Relation(id="R1", type="born_in", head="E1", tail="E9")],
    )
    script = ScriptedReasoner([Decision(draft=wrong, done=True)], repeat_last=True)
    result = run(script, max_iterations=3)
    seen = script.views[1].findings
    assert {f.check for f in seen} == {"references_resolve", "mentions_match_text"}
    # the scripted reasoner never repairs: finish drops what does not hold
    assert [e.text for e in result.entities] == ["Marie Curie"]
    assert result.relations == []
    assert result.violations(TEXT) == []
    assert "unresolved" in result.trace[-1].summary


def test_every_step_is_traced_in_order():
    script = ScriptedReasoner([Decision(calls=[ner_call()]), Decision(done=True)])
    result = run(script)
    assert [s.step for s in result.trace] == list(range(len(result.trace)))
    act = next(s for s in result.trace if s.node == "act")
    assert act.model_extra["tool"] == "recognize_entities.v1"
    assert act.model_extra["arguments"][0]["end"] == len(TEXT)


class FailingNer(RecognizeEntitiesTool):
    """A tool whose model is missing: it raises, as a real one does then."""

    def run_batch(self, items):  # type: ignore[no-untyped-def]
        raise RuntimeError("the model is not installed")


def test_a_tool_that_fails_is_an_observation_and_marks_its_step():
    script = ScriptedReasoner([Decision(calls=[ner_call()]), Decision(done=True)])
    tools = dict(REGISTRY, **{"recognize_entities.v1": FailingNer()})
    result = Agent(script, Settings(verify=False), tools=tools).run(Request(text=TEXT, schema=SCHEMA))
    (act,) = [s for s in result.trace if s.node == "act"]
    assert act.summary.endswith("RuntimeError: the model is not installed") and act.model_extra["failed"] is True
    assert result.entities == [] and nodes(result)[-1] == "finish"

"""The verifier in the loop: critique sent back once, fixes applied, the switch that
turns it off, the budget that ends a reasoner that never stops, and the embedded
reasoner recovering from injected faults on a real picture."""

from __future__ import annotations

import pytest

from bench.perturb import perturbed
from muie.agent.api import Agent, make_request
from muie.agent.scoring.metrics import box_iou
from muie.domain import Entity, ImageInput, Mention, Region, Schema
from muie.draft import Draft
from muie.reasoner.base import Decision
from muie.reasoner.embedded import EmbeddedReasoner
from muie.request import Request
from muie.settings import Settings
from tests.support.paths import ROOT
from tests.support.scripted import ScriptedReasoner

MEDIA = ROOT / "examples" / "media"
PHOTO = str(MEDIA / "photo.png")
CAPTION = "An astronaut poses next to a coffee cup."
SCHEMA = Schema(entity_types=["person", "object"])
EMPTY_BOX = [200.0, 280.0, 360.0, 380.0]
ASTRONAUT_BOX = [26.0, 93.0, 170.0, 237.0]  # the pasted portrait
COFFEE_BOX = [412.0, 62.0, 640.0, 214.0]


def request() -> Request:
    return Request(text=CAPTION, inputs=[ImageInput(id="image0", path=PHOTO, width=640, height=480)], schema=SCHEMA)


def over_grounded() -> Draft:
    return Draft(entities=[Entity(id="E1", text="astronaut", type="person", mentions=[Mention(start=3, end=12)],
                                  groundings=[Region(input="image0", bbox=EMPTY_BOX, score=0.5)])])


def findings_sent(script: ScriptedReasoner) -> list[str]:
    return [f.check for v in script.views for f in v.findings]


def test_critique_goes_back_once_and_the_fix_holds():
    # a reasoner that never fixes anything and keeps the region on empty background
    script = ScriptedReasoner([Decision(draft=over_grounded(), done=True)], repeat_last=True)
    result = Agent(script, Settings()).run(request())
    assert findings_sent(script) == ["over_grounding"]  # sent once, not again
    assert script.views[1].findings[0].replan.goal == "reground"
    assert result.entities[0].groundings == []  # dropped: the picture shows nothing there
    verify = [s for s in result.trace if s.node == "verify"]
    assert any(f["check"] == "over_grounding" and f["action"].startswith("dropped")
               for s in verify for f in s.model_extra["findings"])
    assert result.trace[-1].node == "finish" and len(script.views) == 2


def test_verification_off_keeps_what_the_reasoner_said():
    script = ScriptedReasoner([Decision(draft=over_grounded(), done=True)], repeat_last=True)
    result = Agent(script, Settings(verify=False)).run(request())
    assert findings_sent(script) == []
    assert result.entities[0].groundings[0].bbox == EMPTY_BOX
    assert [s.summary for s in result.trace if s.node == "verify"] == ["verification off"]


def test_a_reasoner_that_keeps_making_bad_calls_ends_at_the_budget_with_a_valid_result():
    good = Draft(entities=[Entity(id="E1", text="astronaut", type="person", mentions=[Mention(start=3, end=12)])])
    bad_call = {"tool": "segment_image.v1", "arguments": {"input": "image7", "text": "astronaut"}}
    script = ScriptedReasoner([Decision(draft=good), Decision(calls=[bad_call])], repeat_last=True)
    result = Agent(script, Settings(max_iterations=3, max_call_retries=1)).run(request())
    finish = result.trace[-1]
    assert finish.node == "finish"
    budget = [f for f in finish.model_extra["findings"] if f["check"] == "budget"]
    assert budget and "3 of 3 iterations" in budget[0]["message"]
    assert [e.text for e in result.entities] == ["astronaut"]  # the last valid draft
    assert result.violations(CAPTION) == []


def _region(result, name: str) -> list[float] | None:
    e = next((e for e in result.entities if e.text == name), None)
    regions = [g for g in (e.groundings if e else []) if g.kind == "region"]
    return regions[0].bbox if regions else None


@pytest.mark.parametrize("failure", ["wrong_entity", "over_grounding"])
def test_the_verifier_undoes_an_injected_fault_on_a_real_picture(failure):
    """Caption and photo, the embedded reasoner with a fault injected, verifier off then on."""
    caption = "An astronaut poses next to a coffee cup and a dog."  # no dog in the picture
    runs = {}
    for verify in (False, True):
        reasoner, tools = perturbed(EmbeddedReasoner(), failure)
        agent = Agent(reasoner, Settings(verify=verify), tools=tools)
        runs[verify] = agent.run(make_request(text=caption, images=[PHOTO],
                                              schema={"entity_types": ["person", "object", "animal"]}))
    on, off = runs[True], runs[False]
    cup_on, cup_off = _region(on, "coffee cup"), _region(off, "coffee cup")
    assert cup_on is not None and box_iou(cup_on, COFFEE_BOX) >= 0.5
    assert _region(on, "dog") is None  # not in the picture: no region
    if failure == "wrong_entity":
        assert cup_off is None or box_iou(cup_off, COFFEE_BOX) < 0.5  # the fault took effect
    else:
        assert _region(off, "dog") is not None  # linked without a threshold: over-grounded

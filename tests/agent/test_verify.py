"""The verifier's checks, each on a draft built to fail it, with real evidence: the
example photo looked at again by the image models, a transcript with word times."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from muie.agent.verify import VerifyContext, verify_draft
from muie.agent.verify.assignment import mismatched
from muie.agent.verify.completeness import missing_arguments, missing_names, name_runs
from muie.agent.verify.duplicates import entity_duplicates, event_duplicates
from muie.agent.verify.evidence import Evidence
from muie.agent.verify.fixes import apply_fixes
from muie.agent.verify.support import unsupported
from muie.calls import CallKey
from muie.derived import DerivedText, SourceWord
from muie.domain import Argument, Entity, Event, ImageInput, Mention, Region, Relation, Schema, Segment, Trigger
from muie.draft import Draft
from muie.findings import Finding
from muie.request import Request
from muie.settings import Settings
from muie.tools.base import ToolContext
from tests.support.paths import ROOT

PHOTO = str(ROOT / "examples" / "media" / "photo.png")
CAPTION = "An astronaut poses next to a coffee cup."
ASTRONAUT_BOX = [30.0, 154.0, 130.0, 236.0]  # the person in the pasted photo (640x480)
COFFEE_BOX = [412.0, 62.0, 640.0, 214.0]
LEFT, RIGHT = [26.0, 93.0, 170.0, 237.0], [470.0, 93.0, 614.0, 237.0]  # two pasted portraits
EMPTY_BOX = [200.0, 280.0, 360.0, 380.0]  # plain background
SCHEMA = Schema(entity_types=["person", "object", "organization", "location"], relation_types=["works_for"],
                event_types={"Transport": ["Agent", "Vehicle", "Destination"]})
SETTINGS = Settings()


@pytest.fixture(scope="module")
def two_people(tmp_path_factory) -> str:
    """The same portrait pasted twice: two people nothing in the picture tells apart."""
    import numpy as np
    from PIL import Image
    from skimage import data

    canvas = np.full((480, 640, 3), (150, 170, 90), np.uint8)
    face = np.asarray(Image.fromarray(data.astronaut()).resize((144, 144)))
    for x0, y0, _, _ in (LEFT, RIGHT):
        canvas[int(y0):int(y0) + 144, int(x0):int(x0) + 144] = face
    path = tmp_path_factory.mktemp("verify") / "two_people.png"
    Image.fromarray(canvas).save(path)
    return str(path)


def context(text: str = CAPTION, derived: list[DerivedText] = (), image: bool = True, final: bool = False,
            history: Sequence[CallKey] = (), photo: str = PHOTO) -> VerifyContext:
    inputs = [ImageInput(id="image0", path=photo, width=640, height=480)] if image else []
    req = Request(text=text, inputs=inputs, schema=SCHEMA, derived=list(derived))
    ctx = ToolContext(texts=req.all_texts, settings=SETTINGS, media=req.media)
    return VerifyContext(request=req, evidence=Evidence(req, ctx), settings=SETTINGS, history=list(history),
                         final=final)


def entity(id_: str, text: str, type_: str, span: tuple[int, int] | None = None, *groundings) -> Entity:
    mentions = [Mention(start=span[0], end=span[1])] if span else []
    return Entity(id=id_, text=text, type=type_, mentions=mentions, groundings=list(groundings))


def region(box: list[float]) -> Region:
    return Region(input="image0", bbox=box, score=0.6)


def speech(text: str, times: list[tuple[float, float]]) -> DerivedText:
    words, pos = [], 0
    for w, (s, e) in zip(text.split(), times):
        start = text.index(w, pos)
        words.append(SourceWord(start=start, end=start + len(w), probability=0.9, start_s=s, end_s=e))
        pos = start + len(w)
    return DerivedText(id="audio0#speech", source="audio0", text=text, words=words)


# --------------------------------------------------------------------------- over-grounding


def test_a_region_the_image_does_not_support_is_dropped_and_found_again():
    draft = Draft(entities=[entity("E1", "coffee cup", "object", (29, 39), region(COFFEE_BOX)),
                            entity("E2", "astronaut", "person", (3, 12), region(EMPTY_BOX))])
    found = unsupported(draft, context())
    assert [f.where for f in found] == ["entity E2 region on image0"]
    f = found[0]
    assert "shows nothing like 'astronaut'" in f.message and f.fix is not None
    assert f.replan is not None and (f.replan.goal, f.replan.entity) == ("reground", "E2")
    fixed = apply_fixes(draft, found)
    assert fixed.entity("E2").groundings == [] and len(fixed.entity("E1").groundings) == 1


def test_a_speck_of_a_mask_is_over_grounding():
    import numpy as np

    from muie.tools.image.boxes import mask_rle

    m = np.zeros((480, 640), bool)
    m[100:104, 440:444] = True  # 16 pixels inside the cup's box
    speck = Region(input="image0", bbox=[440, 100, 444, 104], mask=mask_rle(m), score=0.9)
    found = unsupported(Draft(entities=[entity("E1", "coffee cup", "object", (29, 39), speck)]), context())
    assert len(found) == 1 and "16 pixels" in found[0].message


def test_a_speech_segment_must_hold_the_name_said():
    said = speech("we met Globex Bank today", [(0.0, 0.2), (0.2, 0.4), (0.5, 0.9), (0.9, 1.2), (1.3, 1.7)])
    right = Segment(input="audio0", start_s=0.5, end_s=1.2)
    wrong = Segment(input="audio0", start_s=1.3, end_s=1.7)
    draft = Draft(entities=[Entity(id="E1", text="Globex Bank", type="organization", groundings=[right, wrong])])
    found = unsupported(draft, context(derived=[said], image=False, final=True))
    assert len(found) == 1 and found[0].fix.index == 1 and "today', not 'Globex Bank'" in found[0].message
    # a name heard with a letter wrong still stands
    close = Draft(entities=[Entity(id="E1", text="Globex Bank", type="organization",
                                   groundings=[right.model_copy()])])
    said_close = speech("we met Globe Bank today", [(0.0, 0.2), (0.2, 0.4), (0.5, 0.9), (0.9, 1.2), (1.3, 1.7)])
    assert unsupported(close, context(derived=[said_close], image=False, final=True)) == []


def test_a_faint_sound_is_not_evidence_of_an_event():
    faint = Segment(input="audio0", start_s=1.0, end_s=1.5, score=0.2, label="Gunshot, gunfire")
    loud = Segment(input="audio0", start_s=3.0, end_s=3.5, score=0.9, label="Gunshot, gunfire")
    draft = Draft(events=[Event(id="V1", type="Transport", trigger=Trigger(text="gunshot", groundings=[faint, loud]))])
    found = unsupported(draft, context(image=False))
    assert [f.fix.index for f in found] == [0]


# --------------------------------------------------------------------------- grounding mismatch


def test_swapped_regions_are_moved_back_jointly():
    draft = Draft(entities=[entity("E1", "astronaut", "person", (3, 12), region(COFFEE_BOX)),
                            entity("E2", "coffee cup", "object", (29, 39), region(ASTRONAUT_BOX))])
    found = mismatched(draft, context())
    assert sorted((f.fix.owner, f.fix.to) for f in found) == [("E1", "E2"), ("E2", "E1")]
    fixed = apply_fixes(draft, found)
    assert fixed.entity("E1").groundings[0].bbox == ASTRONAUT_BOX
    assert fixed.entity("E2").groundings[0].bbox == COFFEE_BOX


def test_a_region_given_to_the_wrong_entity_goes_to_the_one_it_shows():
    # a wrong call asked for "coffee cup" on behalf of the dog: the cup's region is the cup's
    text = "A dog and a coffee cup."
    draft = Draft(entities=[entity("E1", "dog", "animal", (2, 5), region(COFFEE_BOX)),
                            entity("E2", "coffee cup", "object", (12, 22))])
    found = mismatched(draft, context(text))
    assert [(f.fix.owner, f.fix.to) for f in found] == [("E1", "E2")]
    fixed = apply_fixes(draft, found)
    assert fixed.entity("E1").groundings == [] and fixed.entity("E2").groundings[0].bbox == COFFEE_BOX


def test_two_people_the_image_cannot_tell_apart_are_flagged_not_guessed(two_people):
    text = "Ada Lovelace and Alan Turing."
    draft = Draft(entities=[entity("E1", "Ada Lovelace", "person", (0, 12), region(LEFT)),
                            entity("E2", "Alan Turing", "person", (17, 28), region(RIGHT))])
    ctx = context(text, photo=two_people)
    found = mismatched(draft, ctx)
    assert len(found) == 1 and found[0].fix is None and found[0].severity == "warning"
    assert "fit both regions equally" in found[0].message


def test_a_side_named_in_the_text_decides_which_is_which(two_people):
    text = "Ada Lovelace (right) and Alan Turing (left)."
    draft = Draft(entities=[entity("E1", "Ada Lovelace", "person", (0, 12), region(LEFT)),
                            entity("E2", "Alan Turing", "person", (25, 36), region(RIGHT))])
    fixed = apply_fixes(draft, mismatched(draft, context(text, photo=two_people)))
    assert fixed.entity("E1").groundings[0].bbox == RIGHT
    assert fixed.entity("E2").groundings[0].bbox == LEFT


# --------------------------------------------------------------------------- duplicates


def test_one_thing_found_in_several_modalities_is_one_entity():
    text = "Eileen Collins works for NASA."
    seg = Segment(input="audio0", start_s=1.0, end_s=1.6)
    draft = Draft(
        entities=[entity("E1", "Eileen Collins", "person", (0, 14)), entity("E2", "NASA", "organization", (25, 29)),
                  Entity(id="E3", text="Collins", type="person", groundings=[seg]),
                  Entity(id="E4", text="nasa", type="location", groundings=[region(COFFEE_BOX)]),
                  Entity(id="E5", text="Nasa Huston", type="organization", groundings=[region(EMPTY_BOX)])],
        relations=[Relation(id="R1", type="works_for", head="E3", tail="E4")])
    found = entity_duplicates(draft, context(text, final=True))
    assert {(f.fix.drop, f.fix.keep) for f in found} == {("E3", "E1"), ("E4", "E2"), ("E5", "E2")}
    fixed = apply_fixes(draft, found)
    assert [e.id for e in fixed.entities] == ["E1", "E2"]
    assert fixed.entity("E1").groundings == [seg] and len(fixed.entity("E2").groundings) == 2
    assert [(r.head, r.tail) for r in fixed.relations] == [("E1", "E2")]


def test_one_name_with_two_types_takes_the_type_more_places_attest():
    text = "Grace Hopper worked for the Navy."  # the text's reading: an organization
    heard = Segment(input="audio0", start_s=0.0, end_s=0.8)
    draft = Draft(entities=[entity("E1", "Grace Hopper", "organization", (0, 12)),
                            entity("E2", "Navy", "organization", (28, 32)),
                            Entity(id="E3", text="Grace Hopper", type="person", groundings=[heard, region(LEFT)])],
                  relations=[Relation(id="R1", type="works_for", head="E1", tail="E2")])
    found = entity_duplicates(draft, context(text, final=True))
    assert [(f.fix.drop, f.fix.keep) for f in found] == [("E3", "E1")]
    fixed = apply_fixes(draft, found)
    hopper = fixed.entity("E1")
    assert hopper.type == "person" and len(hopper.mentions) == 1 and len(hopper.groundings) == 2
    assert fixed.entity("E2").type == "organization" and [r.head for r in fixed.relations] == ["E1"]


def test_a_thing_only_seen_stands_on_its_own_score_and_goes_with_its_region():
    import numpy as np

    from muie.tools.image.boxes import mask_rle

    seen = Entity(id="E2", text="person", type="person", groundings=[Region(
        input="image0", bbox=EMPTY_BOX, score=0.6, label="tripod")])  # named by labels the verifier's words miss
    draft = Draft(entities=[entity("E1", "coffee cup", "object", (29, 39), region(COFFEE_BOX)), seen])
    assert unsupported(draft, context()) == []
    m = np.zeros((480, 640), bool)
    m[300:304, 250:254] = True
    speck = seen.model_copy(update={"groundings": [Region(input="image0", bbox=[250, 300, 254, 304],
                                                          mask=mask_rle(m), score=0.9)]})
    found = unsupported(Draft(entities=[draft.entities[0], speck]), context())
    assert len(found) == 1 and found[0].replan is None  # nothing to find again: it was only this region
    fixed = apply_fixes(Draft(entities=[draft.entities[0], speck]), found)
    assert [e.id for e in fixed.entities] == ["E1"]


def test_a_name_that_could_be_two_entities_is_flagged_not_merged():
    text = "Eileen Collins met Phil Collins."
    draft = Draft(entities=[entity("E1", "Eileen Collins", "person", (0, 14)),
                            entity("E2", "Phil Collins", "person", (19, 31)),
                            Entity(id="E3", text="Collins", type="person",
                                   groundings=[Segment(input="audio0", start_s=0, end_s=1)])])
    found = entity_duplicates(draft, context(text, final=True))
    assert len(found) == 1 and found[0].fix is None and "could be any of" in found[0].message


def test_two_names_in_the_users_text_are_never_merged():
    text = "Obama met Barack Obama."
    draft = Draft(entities=[entity("E1", "Obama", "person", (0, 5)), entity("E2", "Barack Obama", "person", (10, 22))])
    assert entity_duplicates(draft, context(text, final=True)) == []


def test_a_sound_joins_the_event_it_evidences():
    text = "The bus left for Paris."
    bus = Event(id="V1", type="Transport", trigger=Trigger(text="left", mentions=[Mention(start=8, end=12)],
                                                           groundings=[Segment(input="audio0", start_s=2, end_s=3)]))
    engine = Event(id="V2", type="Transport", trigger=Trigger(text="Engine", groundings=[
        Segment(input="audio0", start_s=3.5, end_s=5, score=0.8, label="Engine")]))
    found = event_duplicates(Draft(events=[bus, engine]), context(text, final=True))
    fixed = apply_fixes(Draft(events=[bus, engine]), found)
    assert [v.id for v in fixed.events] == ["V1"] and len(fixed.events[0].trigger.groundings) == 2


# --------------------------------------------------------------------------- incompleteness


def test_names_on_a_sign_or_in_speech_are_candidates():
    text = "Eileen Collins works for NASA. She flew the Space Shuttle.\nThe U.S. Army and Bank of America"
    assert [text[s:e] for s, e in name_runs(text, ocr=False)] == [
        "Eileen Collins", "NASA", "Space Shuttle", "U.S. Army", "Bank of America"]
    assert [t for t in ("Today we talked.", "He said hello.") if name_runs(t, ocr=False)] == []


def test_a_name_read_but_not_extracted_is_sent_back_once_read():
    sign = DerivedText(id="image0#ocr", source="image0", kind="ocr", text="ACME Corporation\nNASA Houston",
                       words=[SourceWord(start=s, end=e, probability=0.9, bbox=[0, 0, 10, 10])
                              for s, e in ((0, 4), (5, 16), (17, 21), (22, 29))])
    draft = Draft(entities=[Entity(id="E1", text="NASA Houston", type="organization",
                                   mentions=[Mention(input="image0#ocr", start=17, end=29)])])
    # before the entity tool read the sign, nothing is missing yet
    assert missing_names(draft, context(derived=[sign])) == []
    found = missing_names(draft, context(derived=[sign],
                                         history=[CallKey(tool="recognize_entities.v1", input="image0#ocr",
                                                          span=(0, 16))]))
    assert len(found) == 1 and found[0].replan.model_dump(exclude_none=True) == {
        "goal": "reextract", "input": "image0#ocr", "start": 0, "end": 16}


def test_an_event_with_no_argument_asks_for_a_second_look_at_its_sentence():
    text = "Storms hit. The shuttle flew Collins to the station. Then rain."
    v = Event(id="V1", type="Transport", trigger=Trigger(text="flew", mentions=[Mention(start=24, end=28)]))
    found = missing_arguments(Draft(events=[v]), context(text))
    r = found[0].replan
    assert (r.goal, text[r.start:r.end]) == ("refill", "The shuttle flew Collins to the station.")
    with_arg = v.model_copy(update={"arguments": [Argument(role="Vehicle", entity="E1")]})
    assert missing_arguments(Draft(events=[with_arg]), context(text)) == []


# --------------------------------------------------------------------------- the passes


def test_checks_run_in_order_each_on_the_draft_the_last_one_fixed():
    # swapped regions and a duplicate: moved back in the loop, merged in the final pass
    draft = Draft(entities=[entity("E1", "astronaut", "person", (3, 12), region(COFFEE_BOX)),
                            entity("E2", "coffee cup", "object", (29, 39), region(ASTRONAUT_BOX)),
                            Entity(id="E3", text="Coffee cup", type="object", groundings=[region(COFFEE_BOX)])])
    loop, found = verify_draft(draft, context())
    assert {f.check for f in found} == {"grounding_mismatch"}
    final, found = verify_draft(loop, context(final=True))
    assert [e.id for e in final.entities] == ["E1", "E2"]
    assert [len(e.groundings) for e in final.entities] == [1, 1]
    assert all(isinstance(f, Finding) for f in found)


@pytest.mark.parametrize("bad", [{"owner": "E9", "index": 0}, {"owner": "E1", "index": 5}])
def test_a_fix_naming_nothing_changes_nothing(bad):
    from muie.findings import DropGrounding

    draft = Draft(entities=[entity("E1", "coffee cup", "object", (29, 39), region(COFFEE_BOX))])
    f = Finding(check="over_grounding", message="x", fix=DropGrounding(**bad))
    assert apply_fixes(draft, [f]) == draft


def test_a_name_read_and_heard_in_another_case_is_exact_in_the_loop_and_one_entity_at_the_end():
    from muie.draft import DraftBuilder
    from muie.spans import SpanCandidate

    b = DraftBuilder(Draft())
    b.add_entities("image0#ocr", [SpanCandidate(start=0, end=5, text="PARIS", type="location", score=0.9, source="x")])
    b.add_entities("audio0#speech", [SpanCandidate(start=7, end=12, text="Paris", type="location", score=0.8,
                                                   source="x")])
    d = b.draft()
    assert [(e.text, [m.input for m in e.mentions]) for e in d.entities] == [
        ("PARIS", ["image0#ocr"]), ("Paris", ["audio0#speech"])]  # every mention reads as its entity
    # at the end the mentions are groundings, and the two are one thing
    grounded = Draft(entities=[d.entities[0].model_copy(update={"mentions": [], "groundings": [region(EMPTY_BOX)]}),
                               d.entities[1].model_copy(update={"mentions": [], "groundings": [
                                   Segment(input="audio0", start_s=1.0, end_s=1.4)]})])
    found = entity_duplicates(grounded, context(image=False, final=True))
    merged = apply_fixes(grounded, found)
    assert len(merged.entities) == 1 and len(merged.entities[0].groundings) == 2


def test_the_repaired_checks_are_the_consistency_checks():
    from muie.agent.verify.consistency import CONSISTENCY
    from muie.repair import REPAIRED

    assert REPAIRED == {c.__name__ for c in CONSISTENCY}

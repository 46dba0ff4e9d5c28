"""The scorer of ``muie eval`` (agent.scoring): gold against itself, against nothing, and
against perturbed predictions, each figure moving the right way; loading and pairing cases.

The gold is built here: a real sentence with its character offsets, real COCO RLE masks
written by pycocotools from numpy arrays, a video track, audio segments."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from muie.agent.scoring import Report, evaluate
from muie.agent.scoring.matching import hungarian
from muie.agent.scoring.metrics import box_iou, normalise, rle_iou, segment_iou, track_j
from muie.domain import RLE, Result

TEXT = "Marie Curie, who worked for the University of Paris, met Albert Einstein in Brussels."
W, H = 320, 240
VW, VH = 160, 120


def span(word: str) -> dict:
    start = TEXT.index(word)
    return {"input": "text", "start": start, "end": start + len(word)}


def rle(arr: np.ndarray) -> dict:
    """A real COCO compressed RLE of a 0/1 array, as pycocotools writes it (counts as str)."""
    enc = mask_utils.encode(np.asfortranarray(arr.astype(np.uint8)))
    return {"size": [int(s) for s in enc["size"]], "counts": enc["counts"].decode("ascii")}


def ellipse(box: tuple[int, int, int, int], shift: int = 0) -> np.ndarray:
    """An ellipse filling ``box`` (moved right by ``shift`` pixels), as a W x H mask."""
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[0:H, 0:W]
    cx, cy, rx, ry = (x0 + x1) / 2 + shift, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return (((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1).astype(np.uint8)


def region(box: tuple[int, int, int, int], masked: bool = True, input_id: str = "image0") -> dict:
    out: dict = {"kind": "region", "input": input_id, "bbox": [float(v) for v in box]}
    if masked:
        out["mask"] = rle(ellipse(box))
    return out


BOX_CURIE, BOX_EINSTEIN, BOX_ATOMIUM = (10, 10, 60, 80), (100, 20, 150, 90), (200, 100, 260, 140)


def track(frames: range) -> dict:
    return {"kind": "track", "input": "video0",
            "frames": [{"frame": f, "time_s": f / 10, "bbox": [5.0 + 4 * f, 10.0, 45.0 + 4 * f, 60.0]} for f in frames]}


def gold_result() -> dict:
    """One case in every modality: text, an image, audio, a video; NER, RE, EE; every grounding kind."""
    return {
        "version": "1",
        "inputs": [{"id": "text", "modality": "text"},
                   {"id": "image0", "modality": "image", "path": "a.png", "width": W, "height": H},
                   {"id": "audio0", "modality": "audio", "path": "b.wav", "duration_s": 5.0},
                   {"id": "video0", "modality": "video", "path": "c.mp4", "fps": 10.0, "frames": 10,
                    "width": VW, "height": VH, "duration_s": 1.0}],
        "entities": [
            {"id": "E1", "text": "Marie Curie", "type": "person", "mentions": [span("Marie Curie")],
             "groundings": [region(BOX_CURIE),
                            {"kind": "segment", "input": "audio0", "start_s": 0.5, "end_s": 1.2},
                            track(range(10))]},
            {"id": "E2", "text": "University of Paris", "type": "organization",
             "mentions": [span("University of Paris")]},
            {"id": "E3", "text": "Albert Einstein", "type": "person", "mentions": [span("Albert Einstein")],
             "groundings": [region(BOX_EINSTEIN)]},
            {"id": "E4", "text": "Brussels", "type": "location", "mentions": [span("Brussels")]},
            {"id": "E5", "text": "the Atomium", "type": "location",  # only read in the image (OCR)
             "groundings": [region(BOX_ATOMIUM, masked=False)]},
        ],
        "relations": [{"id": "R1", "type": "work_for", "head": "E1", "tail": "E2"},
                      {"id": "R2", "type": "located_in", "head": "E5", "tail": "E4"}],
        "events": [{"id": "V1", "type": "Meet",
                    "trigger": {"text": "met", "mentions": [span("met")],
                                "groundings": [{"kind": "segment", "input": "audio0", "start_s": 1.3, "end_s": 1.6}]},
                    "arguments": [{"role": "Entity", "entity": "E1"}, {"role": "Entity", "entity": "E3"},
                                  {"role": "Place", "entity": "E4"}]}],
        "trace": [],
    }


def ent(result: dict, eid: str) -> dict:
    return next(e for e in result["entities"] if e["id"] == eid)


def score(pred: dict, gold: dict | None = None) -> Report:
    return evaluate([gold or gold_result()], [pred])


# --------------------------------------------------------------------------- the two ends


def test_the_gold_follows_the_contract():
    assert Result.model_validate(gold_result()).violations(TEXT) == []


def test_gold_against_itself_scores_one_everywhere():
    s = score(gold_result()).overall
    for prf in (s.ner, s.re, s.ee_trigger, s.ee_argument):
        assert (prf.precision, prf.recall, prf.f1) == (1.0, 1.0, 1.0) and prf.tp > 0
    g = s.grounding
    assert (g.box.value, g.box.n) == (1.0, 3)
    assert (g.mask.value, g.mask.n) == (1.0, 2)
    assert (g.track.value, g.segment.value, g.segment_acc.value) == (1.0, 1.0, 1.0)
    assert g.segment.n == 2  # the entity's segment and the trigger's
    assert g.over.rate == 0.0 and g.over.predicted == 6


def test_empty_prediction_scores_zero():
    s = score({"version": "1"}).overall
    for prf in (s.ner, s.re, s.ee_trigger, s.ee_argument):
        assert prf.recall == 0.0 and prf.f1 == 0.0 and prf.fn > 0 and prf.precision is None
    g = s.grounding
    assert g.box.value == g.mask.value == g.track.value == g.segment.value == g.segment_acc.value == 0.0
    assert g.over.rate == 0.0 and g.over.predicted == 0


def test_ids_and_order_of_the_prediction_do_not_matter():
    pred = gold_result()
    names = {e["id"]: f"X{i}" for i, e in enumerate(pred["entities"])}
    for e in pred["entities"]:
        e["id"] = names[e["id"]]
    for r in pred["relations"]:
        r["head"], r["tail"] = names[r["head"]], names[r["tail"]]
    for a in pred["events"][0]["arguments"]:
        a["entity"] = names[a["entity"]]
    pred["entities"].reverse()
    s = score(pred).overall
    assert s.ner.f1 == s.re.f1 == s.ee_argument.f1 == s.grounding.box.value == 1.0


# --------------------------------------------------------------------------- text tasks


def test_a_mention_shifted_by_one_char_is_wrong():
    pred = gold_result()
    ent(pred, "E4")["mentions"][0]["start"] += 1
    ner = score(pred).overall.ner
    assert (ner.tp, ner.fp, ner.fn) == (4, 1, 1) and ner.f1 < 1.0


def test_a_changed_type_breaks_the_entity_and_its_relation():
    pred = gold_result()
    ent(pred, "E2")["type"] = "location"
    s = score(pred).overall
    assert (s.ner.tp, s.ner.fp, s.ner.fn) == (4, 1, 1)
    assert (s.re.tp, s.re.fp, s.re.fn) == (1, 1, 1)  # work_for's tail is no longer aligned


def test_a_dropped_relation_lowers_recall_only():
    pred = gold_result()
    pred["relations"].pop()
    re_ = score(pred).overall.re
    assert (re_.precision, re_.recall) == (1.0, 0.5)


def test_swapped_head_and_tail_is_wrong():
    pred = gold_result()
    r = pred["relations"][0]
    r["head"], r["tail"] = r["tail"], r["head"]
    re_ = score(pred).overall.re
    assert (re_.tp, re_.fp, re_.fn) == (1, 1, 1)


def test_a_dropped_argument_and_a_wrong_role():
    pred = gold_result()
    pred["events"][0]["arguments"].pop()
    arg = score(pred).overall.ee_argument
    assert (arg.tp, arg.fp, arg.fn) == (2, 0, 1)
    pred["events"][0]["arguments"][0]["role"] = "Place"
    arg = score(pred).overall.ee_argument
    assert (arg.tp, arg.fp, arg.fn) == (1, 1, 2)


def test_a_trigger_of_another_type_misses_the_trigger_and_its_arguments():
    pred = gold_result()
    pred["events"][0]["type"] = "Attack"
    s = score(pred).overall
    assert (s.ee_trigger.tp, s.ee_argument.tp) == (0, 0)


def test_media_only_entities_are_scored_by_normalised_text():
    assert normalise("  The   ATOMIUM. ") == "the atomium" and normalise("«Paris»") == "paris"
    pred = gold_result()
    ent(pred, "E5")["text"] = "The  Atomium!"
    s = score(pred).overall
    assert s.ner.f1 == 1.0 and s.re.f1 == 1.0 and s.grounding.box.value == 1.0
    ent(pred, "E5")["text"] = "Manneken Pis"
    s = score(pred).overall
    assert (s.ner.fp, s.ner.fn, s.re.tp) == (1, 1, 1)


# --------------------------------------------------------------------------- image


def test_a_thing_only_seen_is_found_by_its_place_and_named_by_ner():
    gold = gold_result()
    gold["entities"].append({"id": "E6", "text": "cameraman", "type": "person",
                             "groundings": [region((200, 20, 240, 60))]})
    pred = json.loads(json.dumps(gold))
    ent(pred, "E6")["text"] = "person"  # the label's word, not the gold's
    s = score(pred, gold).overall
    assert (s.grounding.box.hits, s.grounding.box.n) == (4, 4) and s.grounding.over.over == 0
    assert (s.ner.fp, s.ner.fn) == (1, 1)  # the name is still wrong
    ent(pred, "E6")["type"] = "animal"  # another type: not the same thing
    s = score(pred, gold).overall
    assert (s.grounding.box.hits, s.grounding.over.over) == (3, 1)
    ent(pred, "E6")["type"] = "person"
    ent(pred, "E6")["groundings"] = [region((250, 180, 300, 230))]  # elsewhere: not the same thing
    assert score(pred, gold).overall.grounding.box.hits == 3




def test_a_box_shifted_by_half_its_width():
    pred = gold_result()
    r = ent(pred, "E3")["groundings"][0]
    x0, y0, x1, y1 = BOX_EINSTEIN
    half = (x1 - x0) // 2
    r["bbox"] = [float(x0 + half), float(y0), float(x1 + half), float(y1)]
    r["mask"] = rle(ellipse(BOX_EINSTEIN, shift=half))
    g = score(pred).overall.grounding
    assert box_iou(r["bbox"], list(BOX_EINSTEIN)) == pytest.approx(1 / 3)
    assert (g.box.hits, g.box.n) == (2, 3)
    assert 0.5 < g.mask.value < 1.0  # one of two masks overlaps a third or so
    del r["mask"]  # no mask: its box is taken as its mask
    assert score(pred).overall.grounding.mask.value < 0.75


def test_regions_swapped_between_entities_vs_reordered_within_one():
    gold = gold_result()
    ent(gold, "E1")["groundings"].insert(1, region((200, 20, 240, 60)))  # she is in the picture twice
    swapped = json.loads(json.dumps(gold))
    a, b = ent(swapped, "E1")["groundings"], ent(swapped, "E3")["groundings"]
    a[0], b[0] = b[0], a[0]
    g = score(swapped, gold).overall.grounding
    assert (g.box.hits, g.box.n) == (2, 4) and g.mask.value == pytest.approx(1 / 3)
    reordered = json.loads(json.dumps(gold))
    rs = ent(reordered, "E1")["groundings"]
    rs[0], rs[1] = rs[1], rs[0]
    g = score(reordered, gold).overall.grounding
    assert (g.box.value, g.mask.value, g.over.rate) == (1.0, 1.0, 0.0)


def test_a_region_for_an_entity_gold_does_not_ground_is_over_grounding():
    pred = gold_result()
    ent(pred, "E4")["groundings"] = [region((0, 150, 40, 200), masked=False)]
    g = score(pred).overall.grounding
    assert (g.over.over, g.over.predicted) == (1, 7)
    assert g.box.value == 1.0


def test_groundings_of_an_unaligned_entity_are_over_grounding():
    pred = gold_result()
    ent(pred, "E3")["type"] = "organization"
    g = score(pred).overall.grounding
    assert (g.over.over, g.box.hits) == (1, 2)


def test_mask_iou_agrees_with_numpy():
    a, b = ellipse(BOX_CURIE), ellipse(BOX_CURIE, shift=10)
    expected = np.logical_and(a, b).sum() / np.logical_or(a, b).sum()
    assert rle_iou(RLE(**rle(a)), RLE(**rle(b))) == pytest.approx(expected)


# --------------------------------------------------------------------------- video, audio


def test_a_track_with_half_its_frames_has_j_one_half():
    pred = gold_result()
    ent(pred, "E1")["groundings"][2] = track(range(5))
    assert score(pred).overall.grounding.track.value == pytest.approx(0.5)


def test_a_track_that_drifts_loses_j_frame_by_frame():
    pred = gold_result()
    t = ent(pred, "E1")["groundings"][2]
    for f in t["frames"][5:]:
        x0, y0, x1, y1 = f["bbox"]
        f["bbox"] = [x0 + 100, y0, x1 + 100, y1]
    assert score(pred).overall.grounding.track.value == pytest.approx(0.5)


def test_an_audio_segment_shifted_below_half_tiou():
    pred = gold_result()
    seg = ent(pred, "E1")["groundings"][1]
    seg["start_s"], seg["end_s"] = 1.0, 1.7
    g = score(pred).overall.grounding
    assert (g.segment_acc.hits, g.segment_acc.n) == (1, 2)
    assert g.segment.value == pytest.approx((1 + 0.2 / 1.2) / 2)


def test_overlap_functions():
    from muie.domain import Segment, Track

    assert box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)
    assert box_iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0
    assert segment_iou(Segment(input="a", start_s=0, end_s=2),
                       Segment(input="a", start_s=1, end_s=3)) == pytest.approx(1 / 3)
    gold = Track.model_validate(track(range(10)))
    assert track_j(gold, gold) == 1.0
    assert track_j(gold, Track.model_validate(track(range(5, 15)))) == pytest.approx(5 / 15)


def test_hungarian_finds_the_best_assignment_not_the_greedy_one():
    sim = {("a", "x"): 0.9, ("a", "y"): 0.8, ("b", "x"): 0.7, ("b", "y"): 0.0}
    pairs = hungarian(["a", "b"], ["x", "y"], lambda g, p: sim[(g, p)])
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 1), (1, 0)]


# --------------------------------------------------------------------------- corpus, loading


def text_case(cid: str) -> dict:
    return {"id": cid, "text": TEXT, "version": "1", "inputs": [{"id": "text", "modality": "text"}],
            "entities": [{"id": "E1", "text": "Brussels", "type": "location", "mentions": [span("Brussels")]}]}


def test_micro_average_over_cases_and_the_combinations():
    gold = [dict(gold_result(), id="mm"), text_case("t1"), text_case("t2")]
    pred = [dict(gold_result(), id="mm"), text_case("t1"), dict(text_case("t2"), entities=[])]
    report = evaluate(gold, pred)
    assert (report.overall.cases, report.overall.ner.tp, report.overall.ner.fn) == (3, 6, 1)
    assert set(report.by_combination) == {"text+image+audio+video", "text"}
    assert report.by_combination["text"].ner.recall == 0.5
    assert [c.id for c in report.cases] == ["mm", "t1", "t2"]
    again = Report.model_validate_json(report.model_dump_json())
    assert again.overall.ner.f1 == report.overall.ner.f1

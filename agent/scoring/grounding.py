"""Grounding scores of one case: image regions, video tracks, audio segments, over-grounding.

Groundings are compared only between a gold thing and the predicted thing aligned to it
(entities, and event triggers of aligned events), input by input and kind by kind:

- image: Hungarian matching of gold and predicted regions on the cost 1 - box IoU;
  box accuracy counts matched pairs with box IoU >= 0.5 over all gold regions; mask
  mIoU is the mean mask IoU over gold regions with a mask (a predicted region without
  a mask is taken as its box; an unmatched gold region counts 0);
- video: Hungarian matching of tracks on the cost 1 - J, J being the mean over the
  union of frames of the per-frame box IoU; the mean J over gold tracks;
- audio (and the sound track of a video): Hungarian matching of segments on 1 - tIoU;
  mIoU over gold segments and accuracy at tIoU >= 0.5;
- over-grounding: a predicted grounding is over-grounded when its thing is not aligned,
  or the aligned gold thing has no grounding of that kind in that input.

Gold things with no aligned prediction count all their groundings as misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from muie.domain import Region, Segment, Track

from .matching import Thing, hungarian
from .metrics import Accuracy, Additive, Mean, OverGrounding, box_iou, mask_iou, segment_iou, track_j

THRESHOLD = 0.5  # IoU at which a box or a segment counts as found


class GroundingScores(Additive):
    """Grounding figures of one case or, summed, of many."""

    box: Accuracy = Field(default_factory=Accuracy, description="Box accuracy: matched box IoU >= 0.5 / gold regions.")
    mask: Mean = Field(default_factory=Mean, description="Mask mIoU over gold regions with a mask.")
    track: Mean = Field(default_factory=Mean, description="Mean J over gold video tracks.")
    segment: Mean = Field(default_factory=Mean, description="Mean tIoU over gold segments.")
    segment_acc: Accuracy = Field(default_factory=Accuracy, description="Gold segments matched at tIoU >= 0.5.")
    over: OverGrounding = Field(default_factory=OverGrounding,
                                description="Over-grounded share of predicted groundings.")


def _by_input(groundings: Sequence[Any], kind: type[Region | Track | Segment]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for g in groundings:
        if isinstance(g, kind):
            out.setdefault(g.input, []).append(g)
    return out


def _regions(gold: list[Region], pred: list[Region], s: GroundingScores) -> None:
    s.box.n += len(gold)
    s.mask.n += sum(g.mask is not None for g in gold)
    for gi, pj, iou in hungarian(gold, pred, lambda g, p: box_iou(g.bbox, p.bbox)):
        s.box.hits += iou >= THRESHOLD
        if gold[gi].mask is not None:
            s.mask.total += mask_iou(gold[gi], pred[pj])


def _tracks(gold: list[Track], pred: list[Track], s: GroundingScores) -> None:
    s.track.n += len(gold)
    s.track.total += sum(j for _, _, j in hungarian(gold, pred, track_j))


def _segments(gold: list[Segment], pred: list[Segment], s: GroundingScores) -> None:
    s.segment.n += len(gold)
    s.segment_acc.n += len(gold)
    for _, _, iou in hungarian(gold, pred, segment_iou):
        s.segment.total += iou
        s.segment_acc.hits += iou >= THRESHOLD


def score_groundings(gold: Sequence[Thing], pred: Sequence[Thing], aligned: dict[int, int]) -> GroundingScores:
    """The grounding figures of one case, given ``aligned`` = ``{pred index: gold index}``."""
    s = GroundingScores()
    partner = {gi: pj for pj, gi in aligned.items()}
    for gi, g in enumerate(gold):
        p_groundings = pred[partner[gi]].groundings if gi in partner else []
        for kind, compare in ((Region, _regions), (Track, _tracks), (Segment, _segments)):
            ours = _by_input(p_groundings, kind)
            for input_id, items in _by_input(g.groundings, kind).items():
                compare(items, ours.get(input_id, []), s)
    for pj, p in enumerate(pred):
        gold_has = {(x.kind, x.input) for x in gold[aligned[pj]].groundings} if pj in aligned else set()
        for x in p.groundings:
            s.over.predicted += 1
            s.over.over += (x.kind, x.input) not in gold_has
    return s

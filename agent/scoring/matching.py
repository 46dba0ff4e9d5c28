"""Aligning predicted things to gold things, and Hungarian matching of groundings.

A *thing* is what can be aligned and grounded: an entity (its type, text, text mentions
and groundings) or an event (its type and its trigger's text, mentions and groundings).

Alignment, per case, one-to-one, only between things of the same type:

1. a predicted thing aligns to a gold thing that shares a text mention span exactly
   (``input``, ``start``, ``end``); among several candidates the Hungarian assignment
   maximises the number of shared spans;
2. things left over align when their normalised texts are equal (ties broken by how
   well their groundings overlap, again with one Hungarian assignment);
3. for grounding scores only (``by_place``): things still left over that have no text
   mention on either side (seen or heard only) align when their groundings overlap
   (``grounding_affinity`` at least ``SAME_PLACE``). Such a thing is known by where it
   is; the name given to it ("person" for a gold "cameraman") is judged by NER, and
   relations and events keep the alignment of steps 1 and 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from muie.domain import Entity, Event, Region, Segment, Track
from muie.tools.assignment import max_assignment

from .metrics import box_iou, normalise, segment_iou, track_j

G = TypeVar("G")
P = TypeVar("P")

Span = tuple[str, int, int]

SAME_PLACE = 0.5
"""Least grounding overlap for two things without a text mention to be the same thing."""


@dataclass
class Thing:
    """An entity or an event trigger, as the scorer sees it."""

    id: str
    type: str
    text: str
    spans: list[Span]
    groundings: list[Any] = field(default_factory=list)

    @property
    def norm(self) -> str:
        return normalise(self.text)

    @classmethod
    def of_entity(cls, e: Entity) -> Thing:
        return cls(e.id, e.type, e.text, [(m.input, m.start, m.end) for m in e.mentions], list(e.groundings))

    @classmethod
    def of_event(cls, v: Event) -> Thing:
        t = v.trigger
        return cls(v.id, v.type, t.text, [(m.input, m.start, m.end) for m in t.mentions], list(t.groundings))


def hungarian(gold: Sequence[G], pred: Sequence[P],
              similarity: Callable[[G, P], float]) -> list[tuple[int, int, float]]:
    """One-to-one assignment of ``pred`` to ``gold`` maximising the summed similarity
    (``scipy.optimize.linear_sum_assignment`` on the cost 1 - similarity).

    Returns ``(gold index, pred index, similarity)`` for each assigned pair; with unequal
    numbers the surplus on the longer side stays unassigned.
    """
    if not gold or not pred:
        return []
    sim = np.array([[similarity(g, p) for p in pred] for g in gold], dtype=float)
    rows, cols = max_assignment(sim)
    return [(int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols)]


def grounding_similarity(a: Any, b: Any) -> float:
    """Overlap of two groundings of the same kind and input: box IoU, track J or tIoU; else 0."""
    if a.input != b.input or a.kind != b.kind:
        return 0.0
    if isinstance(a, Region):
        return box_iou(a.bbox, b.bbox)
    if isinstance(a, Track):
        return track_j(a, b)
    if isinstance(a, Segment):
        return segment_iou(a, b)
    return 0.0


def grounding_affinity(gold: Thing, pred: Thing) -> float:
    """How well ``pred``'s groundings cover ``gold``'s: mean over gold groundings of the best overlap, in [0, 1]."""
    if not gold.groundings or not pred.groundings:
        return 0.0
    return sum(max(grounding_similarity(g, p) for p in pred.groundings) for g in gold.groundings) / len(gold.groundings)


def align(gold: Sequence[Thing], pred: Sequence[Thing], by_place: bool = False) -> dict[int, int]:
    """Align predicted things to gold things: ``{pred index: gold index}``, one-to-one, same type only;
    with ``by_place``, things without a text mention also by where they are grounded (step 3)."""
    out: dict[int, int] = {}

    def assign(weight: Callable[[Thing, Thing], float]) -> None:
        gi = [i for i in range(len(gold)) if i not in out.values()]
        pj = [j for j in range(len(pred)) if j not in out]
        for r, c, w in hungarian([gold[i] for i in gi], [pred[j] for j in pj], weight):
            if w > 0:
                out[pj[c]] = gi[r]

    def by_span(g: Thing, p: Thing) -> float:
        if g.type != p.type:
            return 0.0
        shared = len(set(g.spans) & set(p.spans))
        return shared + 0.5 * (g.norm == p.norm) if shared else 0.0

    def by_text(g: Thing, p: Thing) -> float:
        if g.type != p.type or g.norm != p.norm:
            return 0.0
        return 1.0 + 0.5 * grounding_affinity(g, p)

    def same_place(g: Thing, p: Thing) -> float:
        if g.type != p.type or g.spans or p.spans:
            return 0.0
        a = grounding_affinity(g, p)
        return a if a >= SAME_PLACE else 0.0

    assign(by_span)
    assign(by_text)
    if by_place:
        assign(same_place)
    return out

"""Grounding mismatch: which region shows which entity is solved jointly, and a case
the image cannot decide is flagged rather than guessed.

For each image, its regions (not those around words read in it) and the entities (those
with a region there, and those without one, which a region may show) form a score
matrix: each region's support for each entity, from the image looked at again
(``Evidence.region_support``). The Hungarian algorithm gives the best assignment; when
it beats the current one by more than ``MARGIN`` the regions are moved to the entities
they show (two people swapped, a wrong meta-response that asked for the wrong target).
When two entities fit both regions equally (two people known only as people), a word
in the text beside a name ("Obama, left,") decides; without one, the pair is flagged
as ambiguous.

Things only seen (no mention: named by their labels, ``link_regions``' unnamed objects)
are left out: they stand for regions no named entity claimed, and a label's plain word
("person") would outscore every name on its own region.
"""

from __future__ import annotations

import re

import numpy as np

from muie.agent.verify.context import VerifyContext
from muie.agent.verify.evidence import said_in
from muie.derived import OCR, derived_id
from muie.domain import Entity, Region
from muie.draft import Draft, seen_only
from muie.findings import Finding, MoveGrounding
from muie.tools.assignment import max_assignment

MARGIN = 0.05
MAX_ROWS = 32
"""Most entities without a region in an image weighed for its regions."""
TIE = 0.02
SIDES = {"left": 0.0, "right": 1.0, "centre": 0.5, "center": 0.5, "middle": 0.5}
CUE_CHARS = 24
"""How far from a name a side word ("left") may be to place it."""


def _side(e: Entity, vc: VerifyContext) -> float | None:
    """Where the text places the entity, 0 (left) to 1 (right), from a word next to its name."""
    for m in e.mentions:
        text = vc.request.all_texts.get(m.input)
        if text is None:
            continue
        after = text[m.end:m.end + CUE_CHARS].lower()
        before = text[max(0, m.start - CUE_CHARS):m.start].lower()
        for window in (re.split(r"[.;]| and ", after)[0], re.split(r"[.;]| and ", before)[-1]):
            hit = re.search(r"\b(left|right|centre|center|middle)\b", window)
            if hit:
                return SIDES[hit.group(1)]
    return None


def _regions(draft: Draft, vc: VerifyContext) -> dict[str, list[tuple[Entity, int, Region]]]:
    """Image id -> (entity, grounding index, region) of the regions of things seen."""
    out: dict[str, list[tuple[Entity, int, Region]]] = {}
    for e in draft.entities:
        for k, g in enumerate(e.groundings):
            if isinstance(g, Region) and not seen_only(e, g.input) \
                    and not (g.label and said_in(vc.evidence.read(g.input, g.bbox) or "", e.text)):
                out.setdefault(g.input, []).append((e, k, g))
    return out


def mismatched(draft: Draft, vc: VerifyContext) -> list[Finding]:
    out = []
    for image, items in _regions(draft, vc).items():
        owners = {id(e) for e, _, _ in items}
        # the entities with a region here, then those without one (a region may be theirs)
        rows = list({id(e): e for e, _, _ in items}.values())
        read = derived_id(image, OCR)
        rows += [e for e in draft.entities if id(e) not in owners and not seen_only(e, image)
                 and not any(isinstance(g, Region) and g.input == image for g in e.groundings)
                 and not (e.mentions and all(m.input == read for m in e.mentions))][:MAX_ROWS]
        if len(rows) < 2:
            continue
        s = np.array([[vc.evidence.region_support(image, r.bbox, e.text, e.type) or 0.0 for _, _, r in items]
                      for e in rows])
        row_of = {id(e): k for k, e in enumerate(rows)}
        current = float(sum(s[row_of[id(e)], j] for j, (e, _, _) in enumerate(items)))
        rr, cc = max_assignment(s)
        best = dict(zip(cc.tolist(), rr.tolist()))  # region -> row
        optimal = float(sum(s[i, j] for j, i in best.items()))
        if optimal > current + MARGIN:
            for j, (e, k, r) in enumerate(items):
                i = best.get(j)
                if i is None or rows[i] is e or s[i, j] < vc.settings.region_min_score:
                    continue
                to = rows[i]
                out.append(Finding(
                    check="grounding_mismatch", where=f"entity {e.id} region on {image}", confidence=0.7,
                    message=f"the region at {[round(v) for v in r.bbox]} shows {to.text!r} better "
                            f"({s[i, j]:.2f}) than {e.text!r} ({s[row_of[id(e)], j]:.2f})",
                    action=f"moved to {to.id}", fix=MoveGrounding(owner=e.id, index=k, to=to.id)))
            continue
        if len(items) >= 2:
            out += _ties(items, s[[row_of[id(e)] for e, _, _ in items]], vc, image)
    return out


def _ties(items: list[tuple[Entity, int, Region]], s: np.ndarray, vc: VerifyContext, image: str) -> list[Finding]:
    """Pairs of the same type that fit each other's regions as well as their own."""
    out = []
    done: set[int] = set()
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            ea, eb = items[a][0], items[b][0]
            if a in done or b in done or ea.type != eb.type or min(s[a, b], s[b, a]) <= 0:
                continue
            if abs((s[a, a] + s[b, b]) - (s[a, b] + s[b, a])) > TIE:
                continue
            done |= {a, b}
            ra, rb = items[a][2], items[b][2]
            sa, sb = _side(ea, vc), _side(eb, vc)
            if sa is None and sb is None or sa == sb:
                out.append(Finding(check="grounding_mismatch", where=f"entities {ea.id}, {eb.id} on {image}",
                                   severity="warning", confidence=0.5, action="flagged: the image cannot tell",
                                   message=f"{ea.text!r} and {eb.text!r} fit both regions equally"))
                continue
            xa, xb = (ra.bbox[0] + ra.bbox[2]) / 2, (rb.bbox[0] + rb.bbox[2]) / 2
            a_left = sa < sb if sa is not None and sb is not None else (sa if sa is not None else 1 - sb) < 0.5
            if a_left == (xa <= xb):
                continue
            why = f"the text places {ea.text!r} {'left' if a_left else 'right'} of {eb.text!r}"
            out += [Finding(check="grounding_mismatch", where=f"entity {e.id} region on {image}", confidence=0.6,
                            message=why, action=f"moved to {to.id}", fix=MoveGrounding(owner=e.id, index=k, to=to.id))
                    for (e, k, _), to in ((items[a], eb), (items[b], ea))]
    return out

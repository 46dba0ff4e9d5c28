"""What a picture shows that no entity claims: whole objects, named and typed.

Used by ``link_regions`` when asked for what nobody names. The whole objects (salient
pieces, detections: ``tools.naming.whole_objects``) of enough quality that do not fill the picture,
that no linked region overlaps and that names read there do not cover (a sign is its
words) are kept, best first, one per place. Each is named by the best detection it holds
(people are found by the person tools, which know them better than the ImageNet
classifier), else by its own labels (``tools.naming``), and typed by the schema's
closest type; what no type fits is left out. A face is part of a person, never a thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from muie.shapes import SeenRegion

if TYPE_CHECKING:  # pragma: no cover
    from muie.tools.image.link_regions import LinkRegionsArgs
from muie.settings import Settings
from muie.tools.image.grounding import overlapping
from muie.tools.image.naming import name_of, seen_score, types_of, whole_objects
from muie.tools.image.proposals import Perception, Proposal
from muie.tools.image.propose_regions import as_region

HELD = 0.8
"""Share of a detection's pixels inside an object for the object to hold it."""
NAMES_IT = 0.3
"""Least share of an object's pixels a detection it holds must cover to name it."""
CLAIMED = 0.25
"""Share of an object's pixels inside claimed boxes (words read there) that makes it theirs (a sign)."""
PEOPLE = ("person",)
PERSON_SCORE = 0.5
"""Least detector score of a person for a name linked by its type alone to take the person type."""
NAMING_SCORE = {"person": 0.35}
"""Least score of a detection an object holds for it to name the object, by class: the
person tools are trusted lower down than the COCO classes (a weak "laptop" found on a
flower does not name it); a face never names a whole object (one is found on a cat)."""
NAMING_DEFAULT = 0.5


def _claimed_mask(perc: Perception, boxes: list[list[float]], size: tuple[int, int]) -> np.ndarray:
    """The boxes (pixels of the original image of ``size``) as one mask at the perception size."""
    h, w = perc.work_shape
    out = np.zeros((h, w), bool)
    sx, sy = w / size[0], h / size[1]
    for x0, y0, x1, y1 in boxes:
        out[int(np.floor(y0 * sy)):int(np.ceil(y1 * sy)), int(np.floor(x0 * sx)):int(np.ceil(x1 * sx))] = True
    return out


def _name(perc: Perception, p: Proposal) -> tuple[str, str, float]:
    """(plain name, label, score) of an object: its best detection when it holds one that
    covers enough of it, else its own labels."""
    if p.detection is None:
        n = max(1, np.count_nonzero(p.mask))
        held = [q for q in perc.proposals if q.detection is not None and q.detection.name != "face"
                and q.detection.score >= NAMING_SCORE.get(q.detection.name, NAMING_DEFAULT)
                and np.count_nonzero(q.mask & p.mask) >= HELD * max(1, np.count_nonzero(q.mask))
                and np.count_nonzero(q.mask) >= NAMES_IT * n]
        if held:
            p = max(held, key=lambda q: q.detection.score if q.detection else 0.0)
    return name_of(p)


def _near_miss(perc: Perception, p: Proposal, type_: str, unlinked: Sequence[tuple[str, np.ndarray]],
               floor: float) -> bool:
    """Whether a named entity of that type that got no region scored at least ``floor`` on
    this object (on it, or on a proposal overlapping it)."""
    rows = [row for t, row in unlinked if t == type_]
    if not rows:
        return False
    here = [j for j, q in enumerate(perc.proposals) if q is p or overlapping(p.mask, q.mask)]
    return any(float(row[here].max()) >= floor for row in rows)


def unnamed(perc: Perception, args: LinkRegionsArgs, linked: list[int], settings: Settings,
            descriptions: dict[str, str], size: tuple[int, int], unlinked: Sequence[tuple[str, np.ndarray]] = (),
            floor: float = 1.0,
            ) -> list[SeenRegion]:
    """The whole objects no link and no claimed box overlaps, named and typed, best first.

    ``unlinked``: (type, scores over the proposals) of each named entity that got no
    region. An object one of them of the same type nearly took (a score of at least
    ``floor``) is not given out as another thing: the caption's "horse" under the link
    threshold is not then a "dog" seen there."""
    claimed = _claimed_mask(perc, args.claimed, size)

    def skip(p: Proposal) -> bool:  # a face is part of a person; words read there make a sign
        return (p.detection is not None and p.detection.name == "face") or \
            np.count_nonzero(p.mask & claimed) >= CLAIMED * np.count_nonzero(p.mask)

    kept = whole_objects(perc.proposals, args.min_quality, args.max_unnamed,
                         taken=[perc.proposals[i].mask for i in linked], skip=skip)
    named = [_name(perc, p) for p in kept]
    typed = types_of([n for n, _, _ in named], args.unnamed, descriptions, settings.embedding_model,
                     args.type_threshold)
    out = []
    for p, (name, label, score), type_ in zip(kept, named, typed):
        if type_ is None or _near_miss(perc, p, type_, unlinked, floor):
            continue
        region = as_region(perc, p, seen_score(p.quality, score), size)
        if region is not None:
            out.append(SeenRegion(text=name, type=type_, label=label, region=region, score=region.score))
    return out


def person_type(perc: Perception, p: Proposal, target_type: str, args: LinkRegionsArgs, settings: Settings,
                 descriptions: dict[str, str]) -> str | None:
    """The schema type of a person, when a linked object is seen as one (it is, or holds, a
    person detection of at least ``PERSON_SCORE``) and the target has another type."""
    name, label, score = _name(perc, p)
    if name != "person" or label not in PEOPLE or score < PERSON_SCORE or not args.unnamed:
        return None
    (type_,) = types_of([name], args.unnamed, descriptions, settings.embedding_model, args.type_threshold)
    return type_ if type_ is not None and type_ != target_type else None

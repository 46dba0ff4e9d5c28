"""Picking the region(s) of a target among an image's proposals.

- Words: every proposal is scored ``factor * evidence * quality``, where the evidence
  that it shows the target is the classifier's probability mass on the classes the
  words mean, joined (noisy-or) with the detector's score when its label means them
  (``tools.label_meaning``); proposals under ``min_score`` are dropped (a target the
  picture does not show gets no region), overlapping ones give way to the best.
- A box: the proposal that fits the box best (IoU of boxes at least ``BOX_FIT``, times
  its quality, and its evidence when words are given), its mask kept inside the box; else the salient pixels
  in the box when they fill it; else GrabCut in the box.
- A point: among the proposals under the point, the best one the words mean when given;
  else the smallest whole object (a salient piece or a detection), else a segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from muie.tools.image.boxes import iou
from muie.tools.image.label_meaning import TargetMeaning
from muie.tools.image.proposals import Label, Perception, Proposal, box_crop
from muie.tools.image.regions import grabcut, mask_box
from muie.tools.models import classify

BOX_FIT = 0.5
"""Least IoU of a proposal's box with a box target for the proposal to stand for it."""
SALIENT_FILL = 0.15
"""Least share of a box target the salient pixels must fill to be its mask."""
OVERLAP = 0.5
CONTAINED = 0.8
"""A region found by words gives way to a better one it overlaps by ``OVERLAP`` IoU, or
that holds ``CONTAINED`` of it, or that it holds ``CONTAINED`` of."""
OBJECT_SOURCES = ("component", "detector", "salient")
GOOD = 0.8
"""Least quality of a whole object (a salient piece, a detection) a point target takes
without words; below it, the smallest segment under the point, else the whole image."""
RUNNER_UP = 0.5
"""Share of the best region's score a further region (another instance) must reach."""


@dataclass
class Match:
    mask: np.ndarray
    """Boolean, at the perception size."""
    score: float
    source: str
    labels: list[Label]
    by: Literal["text", "type", "box", "point"]
    """What chose the region."""


def evidence(p: Proposal, meaning: TargetMeaning) -> float:
    """How likely the proposal shows what the meaning's weights name, in [0, 1]."""
    e_cls = float(np.clip(p.probs @ meaning.imagenet, 0.0, 1.0))
    e_det = 0.0
    if p.detection is not None:
        e_det = p.detection.score * meaning.detector.get(p.detection.name, 0.0)
    return 1.0 - (1.0 - e_cls) * (1.0 - e_det)


def text_score(p: Proposal, meaning: TargetMeaning) -> float:
    """``factor * evidence * quality``; a target known only by its type is found only as a
    whole object (segments and the whole picture label too loosely for a broad type)."""
    if meaning.via == "type" and p.source not in OBJECT_SOURCES:
        return 0.0
    return meaning.factor * evidence(p, meaning) * p.quality


def overlapping(a: np.ndarray, b: np.ndarray) -> bool:
    inter = np.count_nonzero(a & b)
    if not inter:
        return False
    na, nb = np.count_nonzero(a), np.count_nonzero(b)
    return bool(inter / (na + nb - inter) >= OVERLAP or inter >= CONTAINED * min(na, nb))


def by_text(perc: Perception, meaning: TargetMeaning, min_score: float, max_regions: int) -> list[Match]:
    """The proposals the words name, best first, at most ``max_regions``, none overlapping;
    one at most when only the type says what to look for (a name denotes one thing)."""
    if not meaning.known:
        return []
    if meaning.via == "type":
        max_regions = 1
    scored = sorted(((text_score(p, meaning), i) for i, p in enumerate(perc.proposals)), reverse=True)
    kept: list[Match] = []
    for score, i in scored:
        if score < min_score or len(kept) >= max_regions or (kept and score < RUNNER_UP * kept[0].score):
            break
        p = perc.proposals[i]
        if any(overlapping(p.mask, k.mask) for k in kept):
            continue
        kept.append(Match(p.mask, score, p.source, p.labels(3), "type" if meaning.via == "type" else "text"))
    return kept


def _crop_labels(perc: Perception, box: np.ndarray) -> list[Label]:
    probs = classify.probabilities([box_crop(perc.rgb, box)])[0]
    return [Label(c.name, round(s, 4), "imagenet") for c, s in classify.top(probs, 3)]


def by_box(perc: Perception, box: list[float], meaning: TargetMeaning | None) -> Match:
    """The region inside a box target (given pixels)."""
    b = np.asarray(box, np.float64) * perc.scale
    h, w = perc.work_shape
    x0, y0 = int(max(0, np.floor(b[0]))), int(max(0, np.floor(b[1])))
    x1, y1 = int(min(w, max(x0 + 1, np.ceil(b[2])))), int(min(h, max(y0 + 1, np.ceil(b[3]))))
    inside = np.zeros((h, w), bool)
    inside[y0:y1, x0:x1] = True
    ranked = []
    for p in perc.proposals:
        if p.source == "image":
            continue
        fit = float(iou(mask_box(p.mask), b)[0, 0])
        if fit >= BOX_FIT:
            prefer = fit * p.quality
            if meaning is not None and meaning.known:
                prefer *= 0.5 + 0.5 * evidence(p, meaning)
            ranked.append((prefer, fit, p))
    if ranked:
        _, fit, p = max(ranked, key=lambda r: r[0])
        m = p.mask & inside
        return Match(m, _fit(m, b), p.source, p.labels(3), "box")
    fg = (perc.alpha > 0.5) & inside
    if fg.sum() >= SALIENT_FILL * inside.sum() and _fit(fg, b) >= 0.6:
        return Match(fg, _fit(fg, b), "salient", _crop_labels(perc, b), "box")
    m = grabcut(perc.rgb, b, prior=perc.alpha)
    return Match(m, _fit(m, b), "grabcut", _crop_labels(perc, b), "box")


def _fit(mask: np.ndarray, box: np.ndarray) -> float:
    return round(float(iou(mask_box(mask), box)[0, 0]), 4) if mask.any() else 0.0


def by_point(perc: Perception, point: list[float], meaning: TargetMeaning | None, min_score: float) -> Match | None:
    """The region under a point target (given pixels)."""
    h, w = perc.work_shape
    x = int(np.clip(point[0] * perc.scale, 0, w - 1))
    y = int(np.clip(point[1] * perc.scale, 0, h - 1))
    under = [p for p in perc.proposals if p.mask[y, x]]
    if meaning is not None and meaning.known:
        named = [(text_score(p, meaning), p) for p in under]
        named = [(s, p) for s, p in named if s >= min_score]
        if named:
            s, p = max(named, key=lambda r: r[0])
            return Match(p.mask, s, p.source, p.labels(3), "point")
    for sources in (OBJECT_SOURCES, ("segment",), ("image",)):
        tier = [p for p in under if p.source in sources and (p.quality >= GOOD or sources != OBJECT_SOURCES)]
        if tier:
            p = min(tier, key=lambda q: q.area)
            return Match(p.mask, p.quality, p.source, p.labels(3), "point")
    return None

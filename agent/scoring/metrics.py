"""The figures of the grounded MUIE scores and the overlap functions they rest on.

Every figure keeps its raw counts, so figures of several cases are summed count by
count (micro-averaging) with ``+`` and the ratios are computed once at the end:

- ``PRF``: precision = tp / (tp + fp), recall = tp / (tp + fn), F1 their harmonic mean.
- ``Mean``: the mean of per-item values (an IoU) over ``n`` gold items.
- ``Accuracy``: ``hits`` of ``n`` gold items reach a threshold.
- ``OverGrounding``: ``over`` of ``predicted`` groundings have no gold counterpart.

A ratio over nothing is ``None`` ("no gold items, nothing to measure"), except the
over-grounding rate, which is 0 when nothing is predicted.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Any

import numpy as np
from pydantic import BaseModel, computed_field

from muie.domain import RLE, Region, Segment, Track

# --------------------------------------------------------------------------- figures


class Additive(BaseModel):
    """A model whose every field is a count (or an Additive): ``a + b`` sums them field by field."""

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, type(self)):
            return NotImplemented
        return type(self)(**{k: getattr(self, k) + getattr(other, k) for k in type(self).model_fields})


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


class PRF(Additive):
    """Strict matching of items: true positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float | None:
        """tp / (tp + fp); None when nothing is predicted."""
        return _ratio(self.tp, self.tp + self.fp)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float | None:
        """tp / (tp + fn); None when gold has no item."""
        return _ratio(self.tp, self.tp + self.fn)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float | None:
        """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall; None when both sides are empty."""
        den = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / den if den else None


class Mean(Additive):
    """The mean of a per-gold-item value (an IoU): ``total`` summed over ``n`` gold items."""

    n: int = 0
    total: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return _ratio(self.total, self.n)


class Accuracy(Additive):
    """The share of ``n`` gold items whose best match reaches a threshold (``hits``)."""

    hits: int = 0
    n: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return _ratio(self.hits, self.n)


class OverGrounding(Additive):
    """Predicted groundings with no gold grounding of the aligned thing, of that kind, in that input."""

    over: int = 0
    predicted: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rate(self) -> float:
        """over / predicted; 0 when nothing is predicted."""
        return self.over / self.predicted if self.predicted else 0.0


def prf(gold: dict[Any, int], pred: dict[Any, int]) -> PRF:
    """Strict multiset matching of item keys: an item counts once per copy on each side."""
    tp = sum(min(n, pred.get(k, 0)) for k, n in gold.items())
    return PRF(tp=tp, fp=sum(pred.values()) - tp, fn=sum(gold.values()) - tp)


# --------------------------------------------------------------------------- text


def normalise(text: str) -> str:
    """Lower case, whitespace collapsed to single spaces, punctuation stripped at both ends."""
    t = " ".join(text.lower().split())
    punct = set(string.punctuation)

    def is_punct(c: str) -> bool:
        return c in punct or unicodedata.category(c).startswith("P")

    lo, hi = 0, len(t)
    while lo < hi and (is_punct(t[lo]) or t[lo].isspace()):
        lo += 1
    while hi > lo and (is_punct(t[hi - 1]) or t[hi - 1].isspace()):
        hi -= 1
    return t[lo:hi]


# --------------------------------------------------------------------------- overlaps


def box_iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two ``[x0, y0, x1, y1]`` boxes (1 for two identical empty boxes)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(iw, 0.0) * max(ih, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    if union <= 0:
        return 1.0 if list(a) == list(b) else 0.0
    return float(inter / union)


def box_rle(bbox: list[float], size: list[int]) -> dict[str, Any]:
    """The box as a COCO RLE mask of ``size`` = [height, width] (pixel edges rounded)."""
    h, w = size
    arr = np.zeros((h, w), dtype=np.uint8, order="F")
    x0, y0, x1, y1 = (int(round(v)) for v in bbox)
    arr[max(y0, 0) : max(min(y1, h), 0), max(x0, 0) : max(min(x1, w), 0)] = 1
    from pycocotools import mask as mask_utils

    enc: dict[str, Any] = mask_utils.encode(np.asfortranarray(arr))
    return enc


def rle_iou(a: RLE | dict[str, Any], b: RLE | dict[str, Any]) -> float:
    """Mask IoU of two COCO RLEs of the same size (0 when the sizes differ or both are empty)."""
    ra = a.model_dump() if isinstance(a, RLE) else a
    rb = b.model_dump() if isinstance(b, RLE) else b
    if list(ra["size"]) != list(rb["size"]):
        return 0.0
    from pycocotools import mask as mask_utils

    if mask_utils.area(ra) == 0 and mask_utils.area(rb) == 0:
        return 0.0
    return float(mask_utils.iou([ra], [rb], [0])[0][0])


def mask_iou(gold: Region, pred: Region) -> float:
    """Mask IoU of a gold region that has a mask and a predicted region (its box when it has no mask)."""
    assert gold.mask is not None
    pm: RLE | dict[str, Any] = pred.mask if pred.mask is not None else box_rle(pred.bbox, gold.mask.size)
    return rle_iou(gold.mask, pm)


def track_j(gold: Track, pred: Track) -> float:
    """Region similarity J: the mean over the union of frames of the per-frame box IoU
    (a frame in only one of the two tracks counts 0)."""
    g = {f.frame: f.bbox for f in gold.frames}
    p = {f.frame: f.bbox for f in pred.frames}
    frames = g.keys() | p.keys()
    if not frames:
        return 0.0
    return sum(box_iou(g[k], p[k]) for k in g.keys() & p.keys()) / len(frames)


def segment_iou(a: Segment, b: Segment) -> float:
    """Temporal IoU (tIoU) of two ``[start_s, end_s]`` segments (1 for two identical instants)."""
    inter = max(0.0, min(a.end_s, b.end_s) - max(a.start_s, b.start_s))
    union = max(a.end_s, b.end_s) - min(a.start_s, b.start_s)
    if union <= 0:
        return 1.0 if (a.start_s, a.end_s) == (b.start_s, b.end_s) else 0.0
    return inter / union

"""Region proposals of an image, each labelled: the expensive perception, done once per image.

``perceive(rgb, detections)`` runs every model an image needs once and keeps the result
(the last few images, keyed by their pixels), so that any number of targets on one
image cost one perception. Proposals, each with a mask, a box and labels:

- ``salient``: ISNet's salient foreground (``tools.salient``), all of it;
- ``component``: each sizeable connected piece of it, when there are several; and each
  piece in front of the backdrop (what is left when the segments spanning the picture
  are taken away: a photo pasted on a canvas, exactly);
- ``detector``: the detector's boxes (people, faces, COCO objects: ``tools.detect``, or
  the caller's); the mask is the detector's own, else the salient pixels in the box when
  they fill enough of it, else GrabCut in the box;
- ``segment``: Felzenszwalb segments of the image, for things that are not salient;
- ``image``: the whole picture (a scene, a landscape).

Every proposal is labelled by the ImageNet classifier on the crop of its box
(``tools.classify``: all 1000 probabilities are kept, target matching uses them all).
Perception runs on the image downscaled to at most ``WORK_SIDE``; masks stay at that
size, boxes are in the pixels of the image given.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from muie.domain import RLE
from muie.tools.image.regions import grabcut, mask_box, mask_iou, resize_mask
from muie.tools.models import classify, salient
from muie.tools.models.checkpoints import image_key
from muie.tools.runtime import BoundedCache

WORK_SIDE = 1024
SEGMENT_SIDE = 256
MIN_AREA = 0.004
"""Least area of a proposal, as a fraction of the image."""
MAX_COMPONENTS, MAX_SEGMENTS, MAX_DETECTIONS = 8, 12, 12
SEGMENT_MAX_AREA = 0.6
BACKDROP_MIN = 0.2
"""Least share of the picture the spanning segments must cover to count as a backdrop."""
SALIENT_CUT = 0.5
DUPLICATE_IOU = 0.9
QUALITY = {"segment": 0.7, "front": 0.85, "image": 0.6}
DETECTOR_QUALITY = (0.6, 0.3)
"""A detection's quality: base + share * detector score (a weak detection is a weak proposal)."""
GRABCUT_QUALITY = 0.85
"""Quality kept by a detection whose pixels came from GrabCut in its box."""
FULL_FILL = 0.3
"""Share of its box a mask must fill to keep its whole quality; a thin ring round a
pasted photo fills far less (its quality falls in proportion, to a third at least)."""
SOLID = 0.6
"""A segment filling this much of its box is labelled on its plain crop; a thinner one on
its own pixels, the rest grey (else a ring round a photo is labelled as the photo)."""
GREY = np.array([124, 116, 104], np.uint8)  # ImageNet's mean colour: "nothing" to the classifier
UNION_PENALTY = 0.9
"""Quality kept by the whole salient mask when it holds several pieces (they are likely
several things; each piece is its own proposal)."""
CACHED = 4


class DetectionLike(Protocol):
    """What a detector gives (``agent.calls.detect.Detection``): ``label``, ``bbox`` in the
    pixels of the image, ``score``, ``source`` and an optional ``mask`` (COCO RLE of the
    whole image)."""

    @property
    def label(self) -> str: ...
    @property
    def bbox(self) -> Sequence[float]: ...
    @property
    def score(self) -> float: ...
    @property
    def source(self) -> str: ...
    @property
    def mask(self) -> RLE | None: ...


@dataclass(frozen=True)
class Label:
    name: str
    score: float
    source: str


@dataclass
class Proposal:
    source: str
    mask: np.ndarray
    """Boolean, at the perception size (``Perception.work_shape``)."""
    box: np.ndarray
    """``[x0, y0, x1, y1]`` in the pixels of the image given to ``perceive``."""
    quality: float
    """How likely the mask is one whole thing, in [0, 1]."""
    probs: np.ndarray = field(repr=False)
    """The 1000 ImageNet class probabilities of its crop."""
    detection: Label | None = None

    @property
    def area(self) -> float:
        return float(self.mask.mean())

    def labels(self, k: int = 5) -> list[Label]:
        """The detector's label (when it has one), then the ``k`` likeliest ImageNet classes."""
        out = [self.detection] if self.detection else []
        return out + [Label(c.name, round(p, 4), "imagenet") for c, p in classify.top(self.probs, k)]


@dataclass
class Perception:
    shape: tuple[int, int]
    """Height and width of the image given."""
    scale: float
    """Perception pixels = given pixels * scale."""
    rgb: np.ndarray = field(repr=False)
    """The image at the perception size."""
    alpha: np.ndarray = field(repr=False)
    """ISNet's foreground map at the perception size."""
    proposals: list[Proposal]

    @property
    def work_shape(self) -> tuple[int, int]:
        return self.rgb.shape[:2]

    def full_mask(self, mask: np.ndarray, height: int | None = None, width: int | None = None) -> np.ndarray:
        """A perception-size mask at the size of the image given (or another size)."""
        return resize_mask(mask, height or self.shape[0], width or self.shape[1])


def _downscale(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, side / max(h, w))
    if s == 1.0:
        return np.ascontiguousarray(rgb), 1.0
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA), s


def _components(fg: np.ndarray, min_px: int) -> list[np.ndarray]:
    import cv2

    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px]
    big.sort(key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    return [lab == i for i in big[:MAX_COMPONENTS]]


def _segments(rgb: np.ndarray, min_px: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Felzenszwalb segments of a sensible size that do not run along three image edges,
    and the pieces in front of the backdrop: the connected parts of what is left when the
    segments spanning the picture (edge to opposite edge: a canvas, a wall, the sky) are
    taken away. A photo pasted on a plain canvas is one such piece, exactly."""
    import cv2
    from skimage.segmentation import felzenszwalb

    small, _ = _downscale(rgb, SEGMENT_SIDE)
    labels = felzenszwalb(small, scale=400, sigma=0.8, min_size=max(8, int(MIN_AREA * small.size / 3)))
    labels = cv2.resize(labels.astype(np.int32), (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)
    n = int(labels.max()) + 1
    area = np.bincount(labels.ravel(), minlength=n)
    sides = (labels[0], labels[-1], labels[:, 0], labels[:, -1])
    top, bottom, left, right = (set(np.unique(e).tolist()) for e in sides)
    keep = [i for i in range(n) if min_px <= area[i] <= SEGMENT_MAX_AREA * labels.size
            and (i in top) + (i in bottom) + (i in left) + (i in right) < 3]
    keep.sort(key=lambda i: -area[i])
    segments = [labels == i for i in keep[:MAX_SEGMENTS]]
    spanning = [i for i in range(n) if (i in top and i in bottom) or (i in left and i in right)]
    back = np.isin(labels, spanning)
    if back.mean() < BACKDROP_MIN:
        return segments, []
    front = [m for m in _components(~back, min_px) if m.mean() <= SEGMENT_MAX_AREA]
    return segments, front


def _detections(work: np.ndarray, given: Sequence[DetectionLike] | None,
                scale: float) -> list[tuple[Label, np.ndarray, np.ndarray | None]]:
    """(label, box, mask or None) of each detection at the perception size: the given
    ones (in the given image's pixels), or the detector's own on the perception array."""
    from muie.tools.image.boxes import rle_mask

    if given is None:
        from muie.tools.image.detect import detect_objects

        found: Sequence[DetectionLike] = detect_objects(work)
        scale = 1.0
    else:
        found = given
    h, w = work.shape[:2]
    out = []
    for d in sorted(found, key=lambda d: -d.score)[:MAX_DETECTIONS]:
        mask = None
        if d.mask is not None:
            mask = resize_mask(rle_mask(d.mask), h, w)
        out.append((Label(d.label, round(float(d.score), 4), d.source), np.asarray(d.bbox, np.float64) * scale, mask))
    return out


def _detection_mask(box: np.ndarray, mask: np.ndarray | None, fg: np.ndarray, rgb: np.ndarray,
                    alpha: np.ndarray) -> tuple[np.ndarray, str]:
    """A detection's pixels, and how they were found: the detector's own mask, else the
    salient pixels in its box when they fill enough of it, else GrabCut in the box."""
    if mask is not None and mask.any():
        return mask, "detector"
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    inside = np.zeros_like(fg)
    inside[y0:y1, x0:x1] = fg[y0:y1, x0:x1]
    if inside.sum() >= 0.25 * max(1, (x1 - x0) * (y1 - y0)):
        return inside, "detector"
    return grabcut(rgb, box, prior=alpha), "detector-grabcut"


def box_crop(rgb: np.ndarray, box: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The pixels of a box (the classifier stretches them to its square: on pasted photos
    and small objects a tight crop labels far better than a square one with margins);
    with a mask, what lies outside it is grey (a segment is labelled for itself)."""
    h, w = rgb.shape[:2]
    x0, y0 = int(np.clip(np.floor(box[0]), 0, w - 1)), int(np.clip(np.floor(box[1]), 0, h - 1))
    x1, y1 = int(np.clip(np.ceil(box[2]), x0 + 1, w)), int(np.clip(np.ceil(box[3]), y0 + 1, h))
    crop = rgb[y0:y1, x0:x1]
    if mask is not None:
        crop = np.where(mask[y0:y1, x0:x1, None], crop, GREY)
    return crop


def _fill(mask: np.ndarray, box: np.ndarray) -> float:
    """Share of its box a mask fills."""
    return np.count_nonzero(mask) / max(1.0, float((box[2] - box[0]) * (box[3] - box[1])))


def _fill_factor(mask: np.ndarray, box: np.ndarray) -> float:
    return float(np.clip(_fill(mask, box) / FULL_FILL, 1 / 3, 1.0))


def _perceive(rgb: np.ndarray, detections: Sequence[DetectionLike] | None, model: str) -> Perception:
    work, s = _downscale(rgb, WORK_SIDE)
    h, w = work.shape[:2]
    min_px = max(16, int(MIN_AREA * h * w))
    alpha = salient.alpha(work, model)
    pieces = _components(alpha > SALIENT_CUT, min_px)  # specks (noise, compression) are no pieces
    fg = np.logical_or.reduce(pieces) if pieces else np.zeros((h, w), bool)
    found: list[tuple[str, np.ndarray, float, Label | None]] = []
    if pieces:
        whole = float(alpha[fg].mean()) * (UNION_PENALTY if len(pieces) > 1 else 1.0)
        found.append(("salient", fg, whole, None))
        if len(pieces) > 1:
            found += [("component", p, float(alpha[p].mean()), None) for p in pieces]
    for label, box, det_mask in _detections(work, detections, s):
        m, how = _detection_mask(box, det_mask, fg, work, alpha)
        if m.sum() >= 16:
            q = DETECTOR_QUALITY[0] + DETECTOR_QUALITY[1] * label.score
            q *= GRABCUT_QUALITY if how != "detector" else 1.0
            found.append(("detector", m, q, label))
    segments, front = _segments(work, min_px)
    found += [("component", m, QUALITY["front"], None) for m in front]
    found += [("segment", m, QUALITY["segment"], None) for m in segments]
    found.append(("image", np.ones((h, w), bool), QUALITY["image"], None))

    kept: list[tuple[str, np.ndarray, float, Label | None, np.ndarray]] = []
    for src, m, q, det in found:  # the first of near-identical masks stays (best source first)
        b = mask_box(m)
        if det is None and any(mask_iou(m, k[1]) > DUPLICATE_IOU for k in kept):
            continue
        kept.append((src, m, q * _fill_factor(m, b), det, b))
    crops = [box_crop(work, b, m if src == "segment" and _fill(m, b) < SOLID else None) for src, m, _, _, b in kept]
    probs = classify.probabilities(crops)
    proposals = [Proposal(src, m, b / s, round(q, 4), p, det)
                 for (src, m, q, det, b), p in zip(kept, probs, strict=True)]
    return Perception((rgb.shape[0], rgb.shape[1]), s, work, alpha, proposals)


_CACHE: BoundedCache[tuple[object, ...], Perception] = BoundedCache("perceptions", CACHED)
_LOCK = threading.Lock()
_BUSY: dict[tuple, threading.Lock] = {}


def perceive(rgb: np.ndarray, detections: Sequence[DetectionLike] | None = None,
             model: str = "medium") -> Perception:
    """The labelled proposals of an ``HxWx3`` uint8 RGB image, computed once per image,
    detections and model; concurrent callers of one image wait for the first.
    ``detections``: boxes in the image's pixels (``[]`` for none); by default the
    detector (``tools.detect``) runs on the perception array."""
    sig = None if detections is None else tuple(
        (d.label, tuple(np.round(np.asarray(d.bbox, float), 1)), round(float(d.score), 4)) for d in detections)
    key = (image_key(rgb), sig, model)
    if (found := _CACHE.get(key)) is not None:
        return found
    with _LOCK:
        busy = _BUSY.setdefault(key, threading.Lock())
    with busy:
        if (found := _CACHE.get(key)) is not None:
            return found
        result = _CACHE.put(key, _perceive(rgb, detections, model))
        with _LOCK:
            _BUSY.pop(key, None)
    return result


def propose(rgb: np.ndarray, detections: Sequence[DetectionLike] | None = None,
            model: str = "medium") -> list[Proposal]:
    """The labelled region proposals of an image (see ``perceive``), for a caller that
    links entities to regions itself."""
    return perceive(rgb, detections, model).proposals

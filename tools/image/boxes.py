"""Box arithmetic the image tools share: ``[x0, y0, x1, y1]`` float boxes as ``[N, 4]`` arrays.

- ``iou``: the pairwise intersection-over-union matrix of two sets of boxes.
- ``nms``: greedy non-maximum suppression (best score first), optionally per class.
- ``to_original``: boxes found on a downscaled array mapped back to the image's own
  pixels and clipped to it.
- ``mask_rle`` / ``rle_mask``: a boolean mask to COCO compressed RLE and back (pycocotools).
"""

from __future__ import annotations

import numpy as np

from muie.domain import RLE


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[len(a), len(b)]`` IoU of two box arrays (0 where a box has no area)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, classes: np.ndarray | None = None) -> list[int]:
    """Indices kept by greedy NMS, best score first: a box is dropped when it overlaps a
    kept box (of the same class, when ``classes`` is given) by more than ``threshold`` IoU."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    if classes is not None:  # offset each class far apart: one pass does per-class NMS
        span = float(np.abs(boxes).max(initial=0.0)) + 1.0
        boxes = boxes + (np.asarray(classes, np.float64) * 2 * span)[:, None]
    keep: list[int] = []
    suppressed = np.zeros(len(boxes), bool)
    overlaps = iou(boxes, boxes) if len(boxes) <= 4096 else None
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        row = overlaps[i] if overlaps is not None else iou(boxes[i], boxes)[0]
        suppressed |= row > threshold
    return keep


def to_original(boxes: np.ndarray, scale: float, width: int, height: int) -> np.ndarray:
    """Boxes on an array made at ``scale`` (array pixels = original * scale) in original
    pixels, clipped to the ``width`` x ``height`` image."""
    out = np.asarray(boxes, np.float64).reshape(-1, 4) / scale
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
    return out


def mask_rle(mask: np.ndarray) -> RLE:
    """A boolean ``HxW`` mask as COCO compressed RLE."""
    from pycocotools import mask as mask_utils

    enc = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    counts = enc["counts"]
    return RLE(size=[int(enc["size"][0]), int(enc["size"][1])],
               counts=counts.decode("ascii") if isinstance(counts, bytes) else str(counts))


def rle_mask(rle: RLE) -> np.ndarray:
    """A COCO RLE back as a boolean ``HxW`` mask."""
    from pycocotools import mask as mask_utils

    return mask_utils.decode({"size": list(rle.size), "counts": rle.counts.encode("ascii")}).astype(bool)

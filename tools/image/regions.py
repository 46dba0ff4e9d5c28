"""Mask helpers of the image segmenter: tight boxes, masks between resolutions, GrabCut.

Masks are boolean ``HxW`` arrays; boxes ``[x0, y0, x1, y1]`` floats with ``x1``, ``y1``
exclusive (the tight box of a mask covers its pixels exactly). Perception runs on a
downscaled array; ``resize_mask`` brings a mask to the original size (interpolated, so
a mask upscaled from a small array has smooth edges, not blocks).
"""

from __future__ import annotations

import numpy as np

GRABCUT_SIDE = 160
"""Longest side a box is cut at for GrabCut (its cost grows fast with the pixel count)."""
GRABCUT_ITERATIONS = 4


def mask_box(mask: np.ndarray) -> np.ndarray:
    """The tight ``[x0, y0, x1, y1]`` box of a mask's pixels (zeros for an empty mask)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return np.zeros(4)
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A mask at ``height`` x ``width``: bilinear on 0/255, cut at half."""
    import cv2

    if mask.shape == (height, width):
        return mask
    m = mask.astype(np.uint8) * 255
    inter = cv2.INTER_LINEAR if height >= mask.shape[0] else cv2.INTER_AREA
    return cv2.resize(m, (width, height), interpolation=inter) >= 128


def box_mask(box: np.ndarray, height: int, width: int) -> np.ndarray:
    """The pixels of a box as a mask."""
    x0, y0, x1, y1 = _pixels(box, height, width)
    out = np.zeros((height, width), bool)
    out[y0:y1, x0:x1] = True
    return out


def _pixels(box: np.ndarray, height: int, width: int) -> tuple[int, int, int, int]:
    x0, y0 = int(np.floor(max(0.0, box[0]))), int(np.floor(max(0.0, box[1])))
    x1, y1 = int(np.ceil(min(width, box[2]))), int(np.ceil(min(height, box[3])))
    return x0, y0, max(x0 + 1, x1), max(y0 + 1, y1)


def grabcut(rgb: np.ndarray, box: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """The object inside ``box`` (array pixels) by GrabCut, as a mask of the whole array.

    The box and a margin around it are cut out and shrunk to at most ``GRABCUT_SIDE``;
    outside the box is background for sure. With ``prior`` (a [0, 1] foreground map of
    the array, e.g. the salient map) the model starts from it, else from the box alone.
    An empty result falls back to the box itself.
    """
    import cv2

    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _pixels(box, h, w)
    mx, my = max(2, (x1 - x0) // 8), max(2, (y1 - y0) // 8)
    cx0, cy0, cx1, cy1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
    s = min(1.0, GRABCUT_SIDE / max(cx1 - cx0, cy1 - cy0))
    cw, ch = max(1, round((cx1 - cx0) * s)), max(1, round((cy1 - cy0) * s))
    crop = cv2.resize(np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1]), (cw, ch), interpolation=cv2.INTER_AREA)
    rx0, ry0 = int((x0 - cx0) * s), int((y0 - cy0) * s)
    rx1, ry1 = max(rx0 + 1, int(round((x1 - cx0) * s))), max(ry0 + 1, int(round((y1 - cy0) * s)))
    if rx1 - rx0 < 3 or ry1 - ry0 < 3:
        return box_mask(np.array([x0, y0, x1, y1], float), h, w)
    gc = np.full((ch, cw), cv2.GC_BGD, np.uint8)
    gc[ry0:ry1, rx0:rx1] = cv2.GC_PR_FGD
    mode = cv2.GC_INIT_WITH_RECT
    if prior is not None:
        p = cv2.resize(np.ascontiguousarray(prior[cy0:cy1, cx0:cx1], dtype=np.float32), (cw, ch),
                       interpolation=cv2.INTER_AREA)
        inside = gc == cv2.GC_PR_FGD
        if (p[inside] > 0.5).any() and (p[inside] <= 0.5).any():
            gc[inside & (p <= 0.5)] = cv2.GC_PR_BGD
            mode = cv2.GC_INIT_WITH_MASK
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(crop, gc, (rx0, ry0, rx1 - rx0, ry1 - ry0), bgd, fgd, GRABCUT_ITERATIONS, mode)
    except cv2.error:  # a box of one colour: nothing to model
        return box_mask(np.array([x0, y0, x1, y1], float), h, w)
    fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    if not fg.any():
        return box_mask(np.array([x0, y0, x1, y1], float), h, w)
    out = np.zeros((h, w), bool)
    out[cy0:cy1, cx0:cx1] = resize_mask(fg, cy1 - cy0, cx1 - cx0)
    out[:y0] = False
    out[y1:] = False
    out[:, :x0] = False
    out[:, x1:] = False
    return out if out.any() else box_mask(np.array([x0, y0, x1, y1], float), h, w)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 0.0

"""Finding a known thing again in a frame by its looks, even when part of it is out of view.

``locate(gray, template, ...)`` slides the template over the frame padded by the
template's size on every side, and scores each place by the normalised cross-correlation
over the pixels that lie inside the frame only. So a thing half out past the edge still
matches (on its visible half), and its box, clipped to the frame, is the visible part.
All sums come from OpenCV's ``matchTemplate`` and box filters (a few milliseconds on a
320x240 frame); a search window keeps it local when the place is roughly known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_VISIBLE = 0.2
"""Least share of the template that must lie inside the frame for a place to count."""


@dataclass(frozen=True)
class Place:
    box: tuple[float, float, float, float]
    """``[x0, y0, x1, y1]`` of the whole template at that place (may reach past the frame)."""
    score: float
    """Normalised cross-correlation over the visible pixels, in [-1, 1]."""
    visible: float
    """Share of the template inside the frame."""


def _corr(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.matchTemplate(image, kernel, cv2.TM_CCORR)


def locate(gray: np.ndarray, template: np.ndarray, window: tuple[float, float, float, float] | None = None,
           min_visible: float = MIN_VISIBLE) -> Place | None:
    """The best place of ``template`` (float32 grey) in ``gray`` (float32 grey frame).

    ``window``: ``[x0, y0, x1, y1]`` (frame pixels, may reach past the frame) that the
    template's top-left corner may take; default anywhere it keeps ``min_visible``.
    """
    import cv2

    H, W = gray.shape
    th, tw = template.shape
    py, px = th, tw
    frame = np.zeros((H + 2 * py, W + 2 * px), np.float32)
    frame[py:py + H, px:px + W] = gray
    vis = np.zeros_like(frame)
    vis[py:py + H, px:px + W] = 1.0
    ox, oy = 0, 0
    if window is not None:  # crop the padded frame to the window (plus the template)
        x0 = int(np.clip(np.floor(window[0]) + px, 0, frame.shape[1] - tw))
        y0 = int(np.clip(np.floor(window[1]) + py, 0, frame.shape[0] - th))
        x1 = int(np.clip(np.ceil(window[2]) + px + tw, x0 + tw, frame.shape[1]))
        y1 = int(np.clip(np.ceil(window[3]) + py + th, y0 + th, frame.shape[0]))
        frame, vis, ox, oy = frame[y0:y1, x0:x1], vis[y0:y1, x0:x1], x0, y0
    t, t2, ones = template, template * template, np.ones_like(template)
    n = _corr(vis, ones)
    s_t = _corr(vis, t)
    s_t2 = _corr(vis, t2)
    s_i = _corr(frame, ones)
    s_i2 = _corr(frame * frame, ones)
    s_it = _corr(frame, t)
    nn = np.maximum(n, 1.0)
    cov = s_it - s_i * s_t / nn
    var = np.maximum(s_i2 - s_i * s_i / nn, 0) * np.maximum(s_t2 - s_t * s_t / nn, 0)
    ncc = np.where(var > 1e-3, cov / np.sqrt(np.maximum(var, 1e-6)), 0.0)
    ncc[n < min_visible * th * tw] = -1.0
    _, best, _, (bx, by) = cv2.minMaxLoc(ncc)
    if best <= -1.0:
        return None
    x, y = bx + ox - px, by + oy - py
    return Place((float(x), float(y), float(x + tw), float(y + th)), float(best), float(n[by, bx] / (th * tw)))


def gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def crop(gray_frame: np.ndarray, box: tuple[float, float, float, float] | list[float]) -> np.ndarray | None:
    """The pixels of a box that lies inside the frame (None when it is empty)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    H, W = gray_frame.shape
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return np.ascontiguousarray(gray_frame[y0:y1, x0:x1])


def resized(template: np.ndarray, w: float, h: float) -> np.ndarray:
    import cv2

    w, h = max(4, int(round(w))), max(4, int(round(h)))
    if template.shape == (h, w):
        return template
    return cv2.resize(template, (w, h), interpolation=cv2.INTER_AREA)

"""One thing followed through a video's frames: CSRT between checks, its looks to verify,
to recover from drift and to find it again when it comes back.

``Follower`` takes the sampled frames in order (at the tracking size). Once acquired (a
box from a detection or from the caller), each frame:

- while the thing is well inside the frame, OpenCV's CSRT tracker moves the box; the
  box's pixels are compared with the thing's looks (``tools.locate``); a weak match, or a
  tracker that gives up, hands over to the looks search;
- near an edge (CSRT cannot follow a thing that is half out of view) and whenever the
  tracker gave up, the looks search near the last place, which scores only the visible
  pixels; so the box, clipped to the frame, is the visible part of the thing;
- at keyframes the looks search also corrects drift (a better match elsewhere nearby
  moves the box and restarts the tracker);
- a thing found nowhere near is lost: the track has a gap; then each frame it is looked
  for in the whole frame (at keyframes at three sizes), and taken up again on a strong
  match. A cut (``reset``) loses it too: a track never jumps across a cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from muie.tools.video.locate import Place, crop, locate, resized

KEEP = 0.45
"""Least looks score (visible-pixel NCC) that keeps a tracked box."""
FIND = 0.65
"""Least looks score that takes up a lost thing when it is wholly in view ..."""
FIND_PARTIAL = 0.9
"""... and when only ``MIN_VISIBLE`` of it is (in between, a straight line)."""
DRIFT = 0.1
"""A keyframe's looks match elsewhere this much better than the tracked box moves it."""
EDGE = 3.0
"""Pixels from the frame's edge at which CSRT hands over to the looks search."""
SCALES = (0.8, 1.0, 1.25)
REFRESH = 0.85
"""Looks score at which the thing's looks are refreshed (at keyframes, wholly in view)."""


def find_threshold(visible: float, base: float = FIND, min_visible: float = 0.2) -> float:
    """The looks score a place needs: ``base`` wholly in view, up to ``FIND_PARTIAL`` when
    little of the thing is (a sliver of it matches too easily)."""
    k = (1.0 - visible) / max(1e-6, 1.0 - min_visible)
    return base + (FIND_PARTIAL - base) * float(np.clip(k, 0, 1))


def _csrt(bgr: np.ndarray, box: tuple[float, float, float, float]):
    import cv2

    params = cv2.TrackerCSRT_Params()
    tracker = cv2.TrackerCSRT_create(params)
    x0, y0, x1, y1 = box
    tracker.init(bgr, (int(round(x0)), int(round(y0)), max(4, int(round(x1 - x0))), max(4, int(round(y1 - y0)))))
    return tracker


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / d) if d > 1e-6 else 0.0


@dataclass
class Follower:
    box: tuple[float, float, float, float] | None = None
    """Where the whole thing is now (tracking pixels; may reach past the frame), None when lost."""
    score: float = 0.0
    looks: np.ndarray | None = field(default=None, repr=False)
    _tracker: object = field(default=None, repr=False)
    _velocity: tuple[float, float] = (0.0, 0.0)

    @property
    def acquired(self) -> bool:
        return self.looks is not None

    def start(self, gray: np.ndarray, bgr: np.ndarray, box: tuple[float, float, float, float]) -> None:
        """Follow the thing in ``box`` of this frame (its looks are taken from here)."""
        pixels = crop(gray, box)
        if pixels is None:
            return
        self.looks, self.box, self.score, self._velocity = pixels, box, 1.0, (0.0, 0.0)
        self._tracker = _csrt(bgr, box) if self._inside(box, gray.shape) else None

    def reset(self) -> None:
        """A cut: the thing is lost (its looks are kept, to find it in the next shot)."""
        self.box, self._tracker, self.score = None, None, 0.0

    @staticmethod
    def _inside(box, shape) -> bool:
        H, W = shape
        return box[0] >= EDGE and box[1] >= EDGE and box[2] <= W - EDGE and box[3] <= H - EDGE

    def step(self, gray: np.ndarray, bgr: np.ndarray, keyframe: bool) -> tuple[float, float, float, float] | None:
        """Move to this frame; the visible box (clipped to the frame) or None."""
        if self.looks is None:
            return None
        if self.box is None:
            self._find(gray, bgr, keyframe)
        else:
            self._follow(gray, bgr, keyframe)
        if self.box is None:
            return None
        H, W = gray.shape
        x0, y0, x1, y1 = self.box
        vis = (max(0.0, x0), max(0.0, y0), min(float(W), x1), min(float(H), y1))
        return vis if vis[2] - vis[0] >= 1 and vis[3] - vis[1] >= 1 else None

    def _follow(self, gray: np.ndarray, bgr: np.ndarray, keyframe: bool) -> None:
        prev = self.box
        assert prev is not None and self.looks is not None
        w, h = prev[2] - prev[0], prev[3] - prev[1]
        cand, cand_score = None, -1.0
        if self._tracker is not None and self._inside(prev, gray.shape):
            ok, r = self._tracker.update(bgr)  # type: ignore[attr-defined]
            if ok and r[2] > 0 and r[3] > 0:
                cand = (float(r[0]), float(r[1]), float(r[0] + r[2]), float(r[1] + r[3]))
                pixels = crop(gray, cand)
                cand_score = _ncc(pixels, resized(self.looks, *pixels.shape[::-1])) if pixels is not None else -1
        if cand is None or cand_score < KEEP or keyframe or not self._inside(cand, gray.shape):
            vx, vy = self._velocity
            reach = 0.5 * max(w, h) + abs(vx) + abs(vy)
            window = (prev[0] + vx - reach, prev[1] + vy - reach, prev[0] + vx + reach, prev[1] + vy + reach)
            place = locate(gray, resized(self.looks, w, h), window)
            if place is not None and place.score >= find_threshold(place.visible, KEEP) and (
                    cand is None or cand_score < KEEP or place.score > cand_score + DRIFT
                    or not self._inside(cand, gray.shape)):
                self._move(prev, place.box, place.score, gray, bgr, restart=True)
                if keyframe and place.visible >= 0.999 and place.score >= REFRESH:
                    self.looks = crop(gray, place.box)
                return
        if cand is not None and cand_score >= KEEP:
            self._move(prev, cand, cand_score, gray, bgr, restart=False)
            return
        self.reset()

    def _move(self, prev, box, score: float, gray, bgr, restart: bool) -> None:
        self._velocity = ((box[0] - prev[0]), (box[1] - prev[1]))
        self.box, self.score = box, score
        if restart:
            self._tracker = _csrt(bgr, box) if self._inside(box, gray.shape) else None

    def _find(self, gray: np.ndarray, bgr: np.ndarray, keyframe: bool) -> None:
        assert self.looks is not None
        th, tw = self.looks.shape
        best: Place | None = None
        for s in (SCALES if keyframe else (1.0,)):
            place = locate(gray, resized(self.looks, tw * s, th * s))
            if place is not None and place.score >= find_threshold(place.visible) and (
                    best is None or place.score > best.score):
                best = place
        if best is not None:
            self.box, self.score, self._velocity = best.box, best.score, (0.0, 0.0)
            self._tracker = _csrt(bgr, best.box) if self._inside(best.box, gray.shape) else None

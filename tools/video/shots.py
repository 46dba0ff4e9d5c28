"""Shot boundaries: where a video cuts from one shot to another.

Each sampled frame is summarised by its hue-saturation histogram (HSV, 16 x 8 bins, on
a small copy of the frame); a cut is where the Bhattacharyya distance between
consecutive histograms exceeds the threshold. Gradual changes (motion, a pan, light)
move the histogram little from one frame to the next; a cut replaces it. Streaming: a
``ShotDetector`` sees one frame at a time and keeps only the last histogram.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SMALL_SIDE = 96
BINS = (16, 8)


def histogram(rgb: np.ndarray) -> np.ndarray:
    """The normalised hue-saturation histogram of a frame."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, SMALL_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(BINS), [0, 180, 0, 256])
    return cv2.normalize(hist, None).astype(np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


class ShotDetector:
    """Feed frames in order; ``is_cut`` says whether a frame starts a new shot."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._last: np.ndarray | None = None

    def is_cut(self, rgb: np.ndarray) -> bool:
        hist = histogram(rgb)
        cut = self._last is not None and distance(self._last, hist) > self.threshold
        self._last = hist
        return cut


def cuts(frames: Iterable[tuple[int, np.ndarray]], threshold: float = 0.5) -> list[int]:
    """Frame numbers that start a new shot (the first frame is not a cut)."""
    det = ShotDetector(threshold)
    return [i for i, rgb in frames if det.is_cut(rgb)]

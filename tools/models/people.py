"""People and faces: MediaPipe's legacy solutions, and OpenCV's Haar cascade as a fallback.

- Faces: MediaPipe face detection, both models (short range, for faces within about 2 m,
  and full range, for smaller ones further away), merged by NMS.
- A person: MediaPipe pose (one person, the most prominent), with its segmentation mask;
  the box is the extent of the mask's pieces that hold the visible landmarks, the score
  the mean visibility of the landmarks inside the image.
- Person pixels: MediaPipe selfie segmentation, a probability per pixel for every person
  (not told apart; a caller cuts it with each person's box). It also fires on animals and
  objects in the foreground, so it never finds a person by itself.
- Faces by Haar cascade (``cv2.data``): for when MediaPipe is not installed or finds no
  face; searched only inside the person boxes the caller gives, where its false alarms
  are few.

Each MediaPipe graph is built once per process, on first use, and run under its own lock
(a graph is not safe to run from two threads at once).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from muie.tools.image.boxes import nms
from muie.tools.runtime import native_output

FACE_NMS_IOU = 0.3
FACE_FLOOR = 0.3  # MediaPipe's own face threshold: callers filter above it
POSE_CONFIDENCE = 0.5
MASK_THRESHOLD = 0.5
HAAR_SIDE = 640  # longest side a person crop is searched at


@dataclass(frozen=True)
class Found:
    """One box on the array the model saw (its pixels), with a score and maybe a mask probability map."""

    box: np.ndarray
    score: float
    mask: np.ndarray | None = None  # HxW float32 probability, the whole array


class _Graph:
    """A MediaPipe solution built lazily and run under a lock."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build, self._graph, self._lock = build, None, threading.Lock()

    def __call__(self, rgb: np.ndarray) -> Any:
        with self._lock, native_output("mediapipe"):
            if self._graph is None:
                self._graph = self._build()
            return self._graph.process(np.ascontiguousarray(rgb))


def _solutions():
    import mediapipe as mp

    return mp.solutions


def available() -> bool:
    """Whether MediaPipe (and its models) can be imported."""
    try:
        _solutions()
        return True
    except ImportError:
        return False


_FACE_SHORT = _Graph(lambda: _solutions().face_detection.FaceDetection(FACE_FLOOR, model_selection=0))
_FACE_FULL = _Graph(lambda: _solutions().face_detection.FaceDetection(FACE_FLOOR, model_selection=1))
_POSE = _Graph(lambda: _solutions().pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True,
                                              min_detection_confidence=POSE_CONFIDENCE))
_SELFIE = _Graph(lambda: _solutions().selfie_segmentation.SelfieSegmentation(model_selection=0))


def faces(rgb: np.ndarray) -> list[Found]:
    """Faces on an ``HxWx3`` uint8 RGB array, boxes in its pixels, best first."""
    h, w = rgb.shape[:2]
    boxes, scores = [], []
    for graph in (_FACE_SHORT, _FACE_FULL):
        for d in graph(rgb).detections or []:
            r = d.location_data.relative_bounding_box
            boxes.append([r.xmin * w, r.ymin * h, (r.xmin + r.width) * w, (r.ymin + r.height) * h])
            scores.append(float(d.score[0]))
    if not boxes:
        return []
    b = np.clip(np.array(boxes, np.float64), 0, [w, h, w, h])
    ok = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    return [Found(b[i], scores[i]) for i in nms(b, np.array(scores), FACE_NMS_IOU) if ok[i]]


def _components_box(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray | None:
    """The box around the connected pieces of ``mask`` that hold a seed point (x, y)."""
    import cv2

    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    h, w = mask.shape
    xs = np.clip(seeds[:, 0].astype(int), 0, w - 1)
    ys = np.clip(seeds[:, 1].astype(int), 0, h - 1)
    keep = set(int(v) for v in labels[ys, xs]) - {0}
    if not keep:
        return None
    yy, xx = np.nonzero(np.isin(labels, list(keep)))
    return np.array([xx.min(), yy.min(), xx.max() + 1, yy.max() + 1], np.float64)


def pose_person(rgb: np.ndarray) -> Found | None:
    """The most prominent person on the array (MediaPipe pose), with its mask, or None."""
    res = _POSE(rgb)
    if res.pose_landmarks is None:
        return None
    h, w = rgb.shape[:2]
    marks = res.pose_landmarks.landmark
    xy = np.array([(m.x * w, m.y * h) for m in marks])
    vis = np.array([m.visibility for m in marks])
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    if not inside.any():
        return None
    prob = None if res.segmentation_mask is None else res.segmentation_mask.astype(np.float32)
    box = None
    if prob is not None:
        seen = inside & (vis >= 0.5)
        box = _components_box(prob > MASK_THRESHOLD, xy[seen if seen.any() else inside])
    if box is None:  # no mask around the landmarks: their own extent
        pts = xy[inside]
        box = np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return Found(box, float(np.clip(vis[inside].mean(), 0.0, 1.0)), prob)


def person_probability(rgb: np.ndarray) -> np.ndarray:
    """``HxW`` float32 probability that each pixel belongs to a person (any person)."""
    return _SELFIE(rgb).segmentation_mask.astype(np.float32)


_HAAR: list = []
_HAAR_LOCK = threading.RLock()


def _cascade():
    import cv2

    with _HAAR_LOCK:
        if not _HAAR:
            c = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
            if c.empty():
                raise RuntimeError("OpenCV's frontal-face Haar cascade is missing from cv2.data")
            _HAAR.append(c)
        return _HAAR[0]


def haar_faces(rgb: np.ndarray, regions: list[np.ndarray]) -> list[Found]:
    """Frontal faces by Haar cascade inside each region box (array pixels), best first.

    The score squashes the cascade's last-stage weight ``v`` into 0..1 as ``v / (v + 2)``
    (weights run from about 1, a doubtful face, to 8 and more, a clear one).
    """
    import cv2

    h, w = rgb.shape[:2]
    boxes, scores = [], []
    for r in regions:
        x0, y0 = int(max(0, r[0])), int(max(0, r[1]))
        x1, y1 = int(min(w, np.ceil(r[2]))), int(min(h, np.ceil(r[3])))
        if x1 - x0 < 24 or y1 - y0 < 24:
            continue
        crop = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
        s = min(1.0, HAAR_SIDE / max(crop.shape))
        if s < 1:
            crop = cv2.resize(crop, (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))),
                              interpolation=cv2.INTER_AREA)
        with _HAAR_LOCK:  # one cascade object, not safe to share between threads
            rects, _, weights = _cascade().detectMultiScale3(cv2.equalizeHist(crop), scaleFactor=1.1, minNeighbors=5,
                                                             minSize=(24, 24), outputRejectLevels=True)
        for (fx, fy, fw, fh), v in zip(rects, np.asarray(weights).reshape(-1)):
            boxes.append([x0 + fx / s, y0 + fy / s, x0 + (fx + fw) / s, y0 + (fy + fh) / s])
            scores.append(float(v) / (float(v) + 2.0) if v > 0 else 0.0)
    if not boxes:
        return []
    b = np.array(boxes, np.float64)
    return [Found(b[i], scores[i]) for i in nms(b, np.array(scores), FACE_NMS_IOU)]

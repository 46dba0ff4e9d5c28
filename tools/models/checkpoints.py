"""Loading the full image models' weights from configured checkpoint files.

The full models (SAM, ImageBind) have no offline weights: their checkpoints are files
the user names in settings. This module turns every way such a file can be wrong (not
set, missing, not a PyTorch checkpoint, weights of another model or size) into one
``InputError`` naming the setting, with what was found against what was expected, and
keeps one loaded model per file, model type and device for the whole process.

It also holds the small image helpers both models share: RGB conversion, a content key
for per-image caches, and the device choice.
"""

from __future__ import annotations

import hashlib
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from muie.errors import InputError
from muie.settings import ENV_PREFIX

if TYPE_CHECKING:  # pragma: no cover
    import torch

T = TypeVar("T")

_LOADED: dict[tuple, tuple[tuple[int, int], object]] = {}
_LOADING = threading.Lock()


def env_name(field: str) -> str:
    """The environment variable of a settings field, as users see it in errors."""
    return ENV_PREFIX + field.upper()


def checkpoint_file(path: str | None, field: str, needed_by: str) -> Path:
    """The configured checkpoint as an existing file, or an ``InputError`` naming the setting."""
    if not path:
        raise InputError(env_name(field), f"not set: {needed_by} needs a checkpoint file")
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(env_name(field), f"{path}: no such file")
    return p


def cached_model(key: tuple, path: Path, build: Callable[[], T]) -> T:
    """One model per (key, file) in the process, built once even under concurrent calls, and
    built again (the old one dropped) when the file changes."""
    st = path.stat()
    where = (*key, str(path.resolve()))
    version = (st.st_mtime_ns, st.st_size)
    with _LOADING:
        if where not in _LOADED or _LOADED[where][0] != version:
            _LOADED.pop(where, None)
            _LOADED[where] = (version, build())
        return _LOADED[where][1]  # type: ignore[return-value]


def read_state_dict(path: Path, field: str) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, read on the CPU with pickled code refused.

    Accepts a bare state dict or one wrapped under ``model`` / ``state_dict`` (as training
    scripts save them).
    """
    import pickle

    import torch

    with open(path, "rb") as f:
        head = f.read(4)
    if not (zipfile.is_zipfile(path) or head[:1] == b"\x80"):  # torch.save's zip, or a legacy pickle
        raise InputError(env_name(field), f"{path} is not a PyTorch checkpoint file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(env_name(field), f"{path} holds pickled objects, not only tensors: "
                                          "save the model's state_dict()") from None
    except Exception as e:  # a damaged file: torch raises many types
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(env_name(field), f"{path} cannot be read as a PyTorch checkpoint ({reason[:200]})") from None
    for wrapper in ("model", "state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise InputError(env_name(field), f"{path} holds no state dict of tensors")
    return obj


def load_model(build: Callable[[], torch.nn.Module], path: Path, what: str, field: str,
               type_field: str) -> torch.nn.Module:
    """``build()`` with every tensor of the checkpoint loaded exactly, or an ``InputError`` saying
    how the file differs (missing, unexpected, other shapes) from the configured model type.

    The shapes are checked first on a model built on the meta device (no memory, no random
    init), so a checkpoint of the wrong type fails at once, not after the model is built;
    for a builder that cannot run on the meta device they are checked after the real build.
    """
    import torch

    state = read_state_dict(path, field)
    try:
        with torch.device("meta"):
            _check(build().state_dict(), state, path, what, field, type_field)
        checked = True
    except (RuntimeError, NotImplementedError):  # the builder computes values as it builds
        checked = False
    model = build()
    if not checked:
        _check(model.state_dict(), state, path, what, field, type_field)
    model.load_state_dict(state, strict=True)
    return model.eval()


def _check(expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor], path: Path, what: str,
           field: str, type_field: str) -> None:
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if not (missing or unexpected or mismatched):
        return
    parts = [f"{len(v)} {name}" for name, v in
             (("missing", missing), ("unexpected", unexpected), ("of another shape", mismatched)) if v]
    if mismatched:
        k = mismatched[0]
        example = f"; e.g. {k}: {tuple(state[k].shape)} in the file, {tuple(expected[k].shape)} expected"
    else:
        example = f"; e.g. {(missing or unexpected)[0]}"
    raise InputError(env_name(field), f"{path} is not a checkpoint of {what}, tensors: {', '.join(parts)}"
                     f"{example} (is {env_name(type_field)} the checkpoint's model type?)")


def device(name: str, field: str) -> str:
    """``auto`` is CUDA when a GPU is there, else the CPU; asking for an absent GPU is an input error."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError(env_name(field), "cuda: no CUDA device on this machine")
    return name


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An ``HxWx3`` uint8 RGB array from grey, RGB or RGBA pixels (floats taken in [0, 1])."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {a.shape}")
    a = a[..., :3]
    if a.dtype != np.uint8:
        a = np.clip(a * 255.0 if np.issubdtype(a.dtype, np.floating) else a, 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(a)


def image_key(rgb: np.ndarray) -> str:
    """A content key of an image: equal pixels, equal key."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(rgb.shape).encode())
    h.update(rgb.tobytes())
    return h.hexdigest()


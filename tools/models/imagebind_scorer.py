"""Region-text scoring with ImageBind behind a configured checkpoint.

``RegionTextScorer.from_settings(settings)`` builds ``imagebind_huge`` (or ``tiny``, a
small ImageBind of the same design that tests build and save) and loads
``settings.imagebind_checkpoint`` into it; every way the file can be wrong is an
``InputError`` naming the setting. Only the vision and text branches are kept after
loading: they are all region-text scoring uses. One model per checkpoint and device is
kept for the process, loaded on first use.

Each region (a pixel box, or a boolean mask of the image's size) is cropped to its box,
pixels outside a mask painted the normalisation mean (so they read as zero to the
encoder), padded to a square with the same colour (a centre crop would cut a long region
off) and resized to 224 px. Texts go through ImageBind's own BPE tokenizer (its
vocabulary ships inside the ``imagebind`` package). ``score`` gives, per region, a
probability over the texts: the softmax of the cosine similarities times ImageBind's
learnt logit scale, as ImageBind's own zero-shot classification does.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from muie.settings import Settings
from muie.tools.models.checkpoints import as_rgb, cached_model, checkpoint_file, device, load_model
from muie.tools.runtime import BoundedCache, model_lock

if TYPE_CHECKING:  # pragma: no cover
    import torch

SIZE = 224
MEAN = (0.48145466, 0.4578275, 0.40821073)  # ImageBind's (CLIP's) pixel normalisation
STD = (0.26862954, 0.26130258, 0.27577711)
VISION, TEXT = "vision", "text"
TEXTS_KEPT = 20_000
BATCH = 64  # crops or texts through the model at once


def imagebind_module() -> Any:
    """``imagebind.models.imagebind_model``, importable with the torchvision installed here.

    The ``imagebind`` package imports pytorchvideo 0.1.5, which imports
    ``torchvision.transforms.functional_tensor``, renamed ``_functional_tensor`` in newer
    torchvision: the old name is aliased to the new module before the import. The
    package also imports ``pkg_resources`` (setuptools < 81); that and other notices about
    the packages' own code are silenced during the import.
    """
    try:
        import torchvision.transforms.functional_tensor  # noqa: F401
    except ModuleNotFoundError:
        import torchvision.transforms._functional_tensor as renamed

        sys.modules["torchvision.transforms.functional_tensor"] = renamed
    with warnings.catch_warnings():  # notices about the packages' own code, not about ours
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        warnings.filterwarnings("ignore", message=".*torch.jit.script_method. is deprecated")
        warnings.filterwarnings("ignore", category=SyntaxWarning)  # pytorchvideo's regexes, when compiled
        from imagebind.models import imagebind_model
    return imagebind_model


def imagebind_tiny() -> torch.nn.Module:
    """A small ImageBind (one block per modality, 32 wide), the same code as ``imagebind_huge``.

    It exists so that loading and scoring can be exercised end to end without the real weights.
    """
    small = {f"{m}_{k}": v for m in ("audio", "depth", "thermal", "imu")
             for k, v in (("embed_dim", 16), ("num_blocks", 1), ("num_heads", 2))}
    return imagebind_module().ImageBindModel(
        out_embed_dim=32, vision_embed_dim=32, vision_num_blocks=1, vision_num_heads=2,
        text_embed_dim=32, text_num_blocks=1, text_num_heads=2, **small,
    )


def _builders() -> dict:
    return {"huge": lambda: imagebind_module().imagebind_huge(pretrained=False), "tiny": imagebind_tiny}


def bpe_path() -> str:
    """ImageBind's BPE vocabulary, as shipped inside the ``imagebind`` package."""
    return str(resources.files("imagebind") / "bpe" / "bpe_simple_vocab_16e6.txt.gz")


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    imagebind_module()
    from imagebind.models.multimodal_preprocessors import SimpleTokenizer

    return SimpleTokenizer(bpe_path=bpe_path())


class RegionTextScorer:
    """How well each image region matches each text, by ImageBind's joint embedding."""

    def __init__(self, model: torch.nn.Module) -> None:
        for part in ("modality_preprocessors", "modality_trunks", "modality_heads", "modality_postprocessors"):
            modules = getattr(model, part)
            for name in [n for n in modules if n not in (VISION, TEXT)]:
                del modules[name]
        self.model = model.eval()
        self._texts: BoundedCache[str, np.ndarray] = BoundedCache("text embeddings (ImageBind)", TEXTS_KEPT)

    @classmethod
    def from_settings(cls, settings: Settings) -> RegionTextScorer:
        """The ImageBind of ``imagebind_checkpoint`` / ``imagebind_model``, loaded once per process."""
        path = checkpoint_file(settings.imagebind_checkpoint, "imagebind_checkpoint", "the ImageBind region scorer")
        where = device(settings.image_model_device, "image_model_device")
        variant = settings.imagebind_model

        def build() -> RegionTextScorer:
            model = load_model(_builders()[variant], path, f"ImageBind {variant}", "imagebind_checkpoint",
                               "imagebind_model")
            return cls(model.to(where))

        return cached_model(("imagebind", variant, where), path, build)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def embed_regions(self, rgb: np.ndarray, regions: Sequence[Any]) -> np.ndarray:
        """Unit vectors ``[regions, dim]`` of the crops of ``regions`` (boxes or masks)."""
        import torch

        rgb = as_rgb(rgb)
        out = [np.zeros((0, self._dim()), np.float32)]
        for start in range(0, len(regions), BATCH):
            crops = torch.stack([_to_tensor(crop(rgb, r)) for r in regions[start:start + BATCH]])
            with model_lock("imagebind"), torch.inference_mode():
                out.append(self.model({VISION: crops.to(self.device)})[VISION].float().cpu().numpy())
        return _unit(np.concatenate(out))

    def embed_texts(self, texts: Sequence[str]) -> tuple[np.ndarray, float]:
        """Unit vectors ``[texts, dim]`` (kept per string) and the model's logit scale."""
        import torch

        texts = list(texts)
        with model_lock("imagebind"), torch.inference_mode():
            vecs = {t: v for t in dict.fromkeys(texts) if (v := self._texts.get(t)) is not None}
            missing = [t for t in dict.fromkeys(texts) if t not in vecs]
            for start in range(0, len(missing), BATCH):
                batch = missing[start:start + BATCH]
                tokens = tokenizer()(batch).reshape(len(batch), -1).to(self.device)
                for t, v in zip(batch, self.model({TEXT: tokens})[TEXT].float().cpu().numpy()):
                    vecs[t] = self._texts.put(t, v)
            scaled = np.stack([vecs[t] for t in texts]) if texts else np.zeros((0, self._dim()), np.float32)
        # the text branch ends in normalise-then-scale: each vector's norm is the logit scale
        scale = float(np.linalg.norm(scaled[0])) if len(scaled) else 1.0
        return _unit(scaled), scale

    def similarity(self, rgb: np.ndarray, regions: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        """Cosine similarities ``[regions, texts]`` in [-1, 1]."""
        return self.embed_regions(rgb, regions) @ self.embed_texts(texts)[0].T

    def score(self, rgb: np.ndarray, regions: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        """Per region, a probability over ``texts`` (rows sum to 1): softmax of scaled cosines."""
        vis = self.embed_regions(rgb, regions)
        txt, scale = self.embed_texts(texts)
        logits = scale * (vis @ txt.T)
        if logits.size == 0:
            return logits.astype(np.float32)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    def _dim(self) -> int:
        return int(self.model.modality_heads[VISION][-1].out_features)


def crop(rgb: np.ndarray, region: Any) -> np.ndarray:
    """The square ``SIZE`` x ``SIZE`` uint8 view of one region the vision encoder sees."""
    from PIL import Image

    h, w = rgb.shape[:2]
    fill = np.array([round(255 * m) for m in MEAN], np.uint8)
    r = np.asarray(region)
    if r.ndim == 2:
        if r.shape != (h, w):
            raise ValueError(f"a mask must be the image's size {(h, w)}, got {r.shape}")
        mask = r.astype(bool)
        ys, xs = np.nonzero(mask)
        if not len(ys):
            raise ValueError("a region's mask is empty")
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        piece = np.where(mask[y0:y1, x0:x1, None], rgb[y0:y1, x0:x1], fill)
    elif r.shape == (4,) and np.all(np.isfinite(r.astype(float))):
        b = r.astype(float)
        if b[2] < b[0] or b[3] < b[1]:
            raise ValueError(f"a box must be [x0, y0, x1, y1] with x0 <= x1 and y0 <= y1, got {region}")
        x0, y0 = (int(np.floor(v)) for v in np.clip(b[:2], 0, [w - 1, h - 1]))
        x1, y1 = (int(np.ceil(v)) for v in np.clip(b[2:], 0, [w, h]))
        piece = rgb[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    else:
        raise ValueError(f"a region is a box [x0, y0, x1, y1] or an HxW mask, got shape {r.shape}")
    side = max(piece.shape[:2])
    square = np.empty((side, side, 3), np.uint8)
    square[:] = fill
    top, left = (side - piece.shape[0]) // 2, (side - piece.shape[1]) // 2
    square[top:top + piece.shape[0], left:left + piece.shape[1]] = piece
    return np.array(Image.fromarray(square).resize((SIZE, SIZE), Image.Resampling.BICUBIC))


def _to_tensor(square: np.ndarray) -> torch.Tensor:
    import torch

    x = torch.from_numpy(square).permute(2, 0, 1).float() / 255.0
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)).astype(np.float32)

"""SAM (Segment Anything) as the image segmenter behind a configured checkpoint.

``SamSegmenter.from_settings(settings)`` builds the architecture of
``settings.sam_model_type`` (the ``segment_anything`` registry's ``vit_h`` / ``vit_l`` /
``vit_b``, or ``tiny``, a small SAM of the same design that the tests build with random
weights and save) and loads ``settings.sam_checkpoint`` into it. Every way the file can be wrong is
an ``InputError`` naming the setting (``tools.checkpoints``). One model per checkpoint
and device is kept for the process; loading happens on first use, never at import.

Prediction follows SAM's split of the expensive step from the cheap one: the image
encoder runs once per image (embeddings of the last few images are kept, keyed by the
pixels), and each box or point prompt then costs one pass of the small mask decoder,
all prompts of a call batched. Masks come back at the original image size as boolean
``HxW`` arrays; scores are SAM's predicted IoU, clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from muie.settings import Settings
from muie.tools.models.checkpoints import as_rgb, cached_model, checkpoint_file, device, image_key, load_model
from muie.tools.runtime import BoundedCache, model_lock

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from segment_anything.modeling import Sam

MaskScore = tuple[np.ndarray, float]
EMBEDDINGS_KEPT = 4  # image embeddings kept (vit_h: 4 MB each)


def build_sam_tiny(checkpoint: str | None = None) -> Sam:
    """A small SAM (encoder 2 blocks x 32 wide at 256 px, decoder 32 wide), same code as SAM's.

    Signature as the ``segment_anything`` registry's builders; it exists so that the loading
    and prediction code can be exercised end to end without SAM's real weights.
    """
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    image_size, patch, dim = 256, 16, 32
    sam = Sam(
        image_encoder=ImageEncoderViT(
            img_size=image_size, patch_size=patch, embed_dim=dim, depth=2, num_heads=2, mlp_ratio=2,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=(1,), window_size=4, out_chans=dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=dim, image_embedding_size=(image_size // patch,) * 2,
            input_image_size=(image_size, image_size), mask_in_chans=4,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=1, embedding_dim=dim, mlp_dim=64, num_heads=2),
            transformer_dim=dim, iou_head_depth=2, iou_head_hidden_dim=dim,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    sam.eval()
    if checkpoint is not None:
        sam.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
    return sam


def _builders() -> dict:
    from segment_anything import sam_model_registry

    return {"vit_h": sam_model_registry["vit_h"], "vit_l": sam_model_registry["vit_l"],
            "vit_b": sam_model_registry["vit_b"], "tiny": build_sam_tiny}


def _predictor_class() -> type:
    """``SamPredictor`` whose ``set_image`` reuses the embeddings of images it has seen.

    SAM's automatic mask generator calls ``set_image`` itself; sharing this predictor with it
    lets proposals and prompts on one image run the encoder once.
    """
    from segment_anything import SamPredictor

    class CachedPredictor(SamPredictor):
        def __init__(self, model: Sam) -> None:
            super().__init__(model)
            self.kept: BoundedCache[str, tuple[Any, ...]] = BoundedCache("image embeddings (SAM)", EMBEDDINGS_KEPT)
            self.current: str | None = None

        def set_image(self, image: np.ndarray, image_format: str = "RGB") -> None:
            key = image_key(np.ascontiguousarray(image)) + image_format
            if key == self.current and self.is_image_set:
                return
            if (kept := self.kept.get(key)) is not None:
                self.features, self.original_size, self.input_size = kept
                self.is_image_set = True
            else:
                super().set_image(image, image_format)
                self.kept.put(key, (self.features, self.original_size, self.input_size))
            self.current = key

    return CachedPredictor


class SamSegmenter:
    """Masks for box and point prompts, and class-agnostic mask proposals, from one SAM."""

    def __init__(self, model: Sam) -> None:
        self.model = model
        self.predictor = _predictor_class()(model)

    @classmethod
    def from_settings(cls, settings: Settings) -> SamSegmenter:
        """The SAM of ``sam_checkpoint`` / ``sam_model_type``, loaded once per process."""
        path = checkpoint_file(settings.sam_checkpoint, "sam_checkpoint", "the SAM image segmenter")
        where = device(settings.image_model_device, "image_model_device")
        model_type = settings.sam_model_type

        def build() -> SamSegmenter:
            model = load_model(_builders()[model_type], path, f"SAM {model_type}", "sam_checkpoint", "sam_model_type")
            return cls(model.to(where))

        return cached_model(("sam", model_type, where), path, build)

    def segment(self, rgb: np.ndarray, boxes: Sequence[Sequence[float]] | None = None,
                points: Sequence[Sequence[float]] | None = None) -> list[MaskScore]:
        """One ``(mask, score)`` per box (``[x0, y0, x1, y1]`` pixels), then one per point (``[x, y]``).

        A box is an unambiguous prompt: SAM's single mask. A lone point is ambiguous (part,
        object, group): SAM's three candidates, the one of highest predicted IoU kept.
        """
        import torch

        rgb = as_rgb(rgb)
        h, w = rgb.shape[:2]
        box_arr = _array(boxes, 4, "boxes")
        point_arr = _array(points, 2, "points")
        if not len(box_arr) and not len(point_arr):
            return []
        if np.any(box_arr[:, 2] < box_arr[:, 0]) or np.any(box_arr[:, 3] < box_arr[:, 1]):
            raise ValueError("boxes must be [x0, y0, x1, y1] with x0 <= x1 and y0 <= y1")
        box_arr[:, [0, 2]] = box_arr[:, [0, 2]].clip(0, w)
        box_arr[:, [1, 3]] = box_arr[:, [1, 3]].clip(0, h)
        point_arr[:, 0] = point_arr[:, 0].clip(0, w - 1)
        point_arr[:, 1] = point_arr[:, 1].clip(0, h - 1)
        out: list[MaskScore] = []
        with model_lock("sam"), torch.inference_mode():
            p = self.predictor
            p.set_image(rgb)
            dev = p.device
            if len(box_arr):
                b = p.transform.apply_boxes_torch(torch.as_tensor(box_arr, device=dev), (h, w))
                masks, iou, _ = p.predict_torch(None, None, boxes=b, multimask_output=False)
                out += _best(masks, iou)
            if len(point_arr):
                c = p.transform.apply_coords_torch(torch.as_tensor(point_arr, device=dev)[:, None, :], (h, w))
                labels = torch.ones(c.shape[:2], dtype=torch.int, device=dev)
                masks, iou, _ = p.predict_torch(c, labels, multimask_output=True)
                out += _best(masks, iou)
        return out

    def automatic(self, rgb: np.ndarray, points_per_side: int = 32, pred_iou_thresh: float = 0.88,
                  stability_score_thresh: float = 0.95, min_region_area: int = 0) -> list[MaskScore]:
        """Class-agnostic mask proposals over the whole image (SAM's grid of point prompts,
        filtered by predicted IoU and stability, de-duplicated by box NMS), best first.

        The defaults are SAM's own, chosen for ViT-H.
        """
        import torch
        from segment_anything import SamAutomaticMaskGenerator

        rgb = as_rgb(rgb)
        with model_lock("sam"), torch.inference_mode():
            gen = SamAutomaticMaskGenerator(
                self.model, points_per_side=points_per_side, pred_iou_thresh=pred_iou_thresh,
                stability_score_thresh=stability_score_thresh, min_mask_region_area=min_region_area,
            )
            gen.predictor = self.predictor
            found = gen.generate(rgb)
        out = [(np.asarray(a["segmentation"], dtype=bool), _unit(a["predicted_iou"])) for a in found]
        return sorted(out, key=lambda ms: -ms[1])


def _array(values: Sequence[Sequence[float]] | None, width: int, what: str) -> np.ndarray:
    """Prompts as an ``N x width`` float array (one prompt given flat is taken as N = 1)."""
    if values is None or len(values) == 0:
        return np.zeros((0, width), np.float32)
    a = np.array(values, dtype=np.float32)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != width or not np.all(np.isfinite(a)):
        raise ValueError(f"{what} must be finite [N, {width}] numbers, got shape {np.shape(values)}")
    return a


def _best(masks: torch.Tensor, iou: torch.Tensor) -> list[MaskScore]:
    """Per prompt, the candidate of highest predicted IoU, as a CPU bool mask and a [0, 1] score."""
    import torch

    pick = iou.argmax(dim=1)
    rows = torch.arange(len(pick), device=pick.device)
    chosen = masks[rows, pick].cpu().numpy().astype(bool)
    scores = iou[rows, pick].float().cpu().numpy()
    return [(m, _unit(s)) for m, s in zip(chosen, scores)]


def _unit(x: float) -> float:
    return float(min(1.0, max(0.0, float(x))))

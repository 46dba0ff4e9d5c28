"""SAM 2's video predictor as the tracker, behind a configured checkpoint.

``Sam2Tracker.from_settings(settings)`` builds the SAM 2.1 architecture of
``settings.sam2_model`` (the ``sam2`` package's own configs: hiera_t, hiera_s, hiera_b+,
hiera_l; or ``tiny``, a small SAM 2 of the same design that the tests build with random
weights and save) and loads ``settings.sam2_checkpoint`` into it; every way the file can
be wrong is an ``InputError`` naming the setting (``tools.checkpoints``). One model per
checkpoint and device for the process; loaded on first use, never at import.

``propagate(frames, box)`` follows the thing in ``box`` on the first frame through the
frames given (a chunk of one shot, held in memory: the caller streams the video in
chunks and carries the last box into the next one): SAM 2's memory attention, one mask
per frame at the frames' size, or None where SAM 2 says the thing is not there.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from muie.settings import Settings
from muie.tools.models.checkpoints import cached_model, checkpoint_file, device, load_model
from muie.tools.runtime import model_lock

if TYPE_CHECKING:  # pragma: no cover
    pass

CONFIGS = {"hiera_t": "configs/sam2.1/sam2.1_hiera_t.yaml", "hiera_s": "configs/sam2.1/sam2.1_hiera_s.yaml",
           "hiera_b+": "configs/sam2.1/sam2.1_hiera_b+.yaml", "hiera_l": "configs/sam2.1/sam2.1_hiera_l.yaml",
           "tiny": "configs/sam2.1/sam2.1_hiera_t.yaml"}
TINY = [  # SAM 2.1's tiny config, shrunk: 256 px, Hiera of 5 blocks from 16 channels, 32 wide
    "++model.image_size=256",
    "++model.image_encoder.trunk.embed_dim=16", "++model.image_encoder.trunk.stages=[1,1,2,1]",
    "++model.image_encoder.trunk.global_att_blocks=[3]",
    "++model.image_encoder.neck.d_model=32", "++model.image_encoder.neck.backbone_channel_list=[128,64,32,16]",
    "++model.image_encoder.neck.position_encoding.num_pos_feats=32",
    "++model.memory_attention.d_model=32", "++model.memory_attention.num_layers=1",
    "++model.memory_attention.layer.d_model=32", "++model.memory_attention.layer.dim_feedforward=64",
    "++model.memory_attention.layer.self_attention.embedding_dim=32",
    "++model.memory_attention.layer.self_attention.feat_sizes=[16,16]",
    "++model.memory_attention.layer.cross_attention.embedding_dim=32",
    "++model.memory_attention.layer.cross_attention.feat_sizes=[16,16]",
    "++model.memory_attention.layer.cross_attention.kv_in_dim=16",
    "++model.memory_encoder.out_dim=16", "++model.memory_encoder.in_dim=32",
    "++model.memory_encoder.position_encoding.num_pos_feats=16",
    "++model.memory_encoder.mask_downsampler.embed_dim=32", "++model.memory_encoder.fuser.layer.dim=32",
    "++model.num_maskmem=3",
]
MEAN, STD = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)


def build_sam2(model: str, device_name: str = "cpu"):  # type: ignore[no-untyped-def]
    """The video predictor of a SAM 2.1 architecture, with random weights (a checkpoint loads next)."""
    from hydra.errors import InstantiationException
    from sam2.build_sam import build_sam2_video_predictor

    extra = (TINY if model == "tiny" else []) + ["++model.fill_hole_area=0"]  # hole filling needs SAM 2's CUDA code
    try:
        return build_sam2_video_predictor(CONFIGS[model], ckpt_path=None, device=device_name, mode="eval",
                                          hydra_overrides_extra=extra)
    except InstantiationException as e:  # hydra wraps what the modules raise (e.g. on the meta device)
        raise RuntimeError(str(e)) from e


def build_sam2_tiny():  # type: ignore[no-untyped-def]
    """A small SAM 2 of the real design, for tests (save its ``state_dict()`` as the checkpoint)."""
    return build_sam2("tiny")


class Sam2Tracker:
    """SAM 2's video predictor on chunks of frames given in memory."""

    def __init__(self, predictor) -> None:  # type: ignore[no-untyped-def]
        self.predictor = predictor

    @classmethod
    def from_settings(cls, settings: Settings) -> Sam2Tracker:
        path = checkpoint_file(settings.sam2_checkpoint, "sam2_checkpoint", "the SAM 2 video tracker")
        dev = device(settings.image_model_device, "image_model_device")
        model = settings.sam2_model

        def build():  # type: ignore[no-untyped-def]
            return load_model(lambda: build_sam2(model, "cpu"), path, f"SAM 2 ({model})", "sam2_checkpoint",
                              "sam2_model").to(dev)

        return cls(cached_model(("sam2", model, dev), path, build))

    def _state(self, frames: Sequence[np.ndarray]) -> dict:  # type: ignore[type-arg]
        """SAM 2's inference state for frames held in memory (its ``init_state`` reads a folder)."""
        import cv2
        import torch

        p = self.predictor
        size = p.image_size
        images = torch.stack([torch.from_numpy(
            ((cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255 - MEAN) / STD)
            .transpose(2, 0, 1).copy()) for f in frames]).to(p.device)
        h, w = frames[0].shape[:2]
        dev = p.device
        state: dict = {  # type: ignore[type-arg]
            "images": images, "num_frames": len(frames), "offload_video_to_cpu": False,
            "offload_state_to_cpu": False, "video_height": h, "video_width": w, "device": dev,
            "storage_device": dev, "point_inputs_per_obj": {}, "mask_inputs_per_obj": {}, "cached_features": {},
            "constants": {}, "obj_id_to_idx": OrderedDict(), "obj_idx_to_id": OrderedDict(), "obj_ids": [],
            "output_dict_per_obj": {}, "temp_output_dict_per_obj": {}, "frames_tracked_per_obj": {},
        }
        p._get_image_feature(state, frame_idx=0, batch_size=1)
        return state

    def propagate(self, frames: Sequence[np.ndarray], box: Sequence[float]) -> list[np.ndarray | None]:
        """The thing in ``box`` (pixels of the first frame) through ``frames``: a boolean mask
        per frame, None where it is not there."""
        import torch

        if not frames:
            return []
        out: list[np.ndarray | None] = [None] * len(frames)
        with model_lock("sam2"), torch.inference_mode():
            state = self._state(frames)
            self.predictor.add_new_points_or_box(state, frame_idx=0, obj_id=1, box=np.asarray(box, np.float32))
            for k, _, logits in self.predictor.propagate_in_video(state):
                m = (logits[0, 0] > 0).cpu().numpy()
                out[k] = m if m.any() else None
        return out

"""SAM 2's video predictor behind a configured checkpoint, on a small randomly initialised
SAM 2 of the real design (``build_sam2_tiny``), saved and loaded as the product loads
SAM 2's real weights. Random weights say nothing about the masks: what is checked is the
loading and its errors, the inference state built from frames in memory (against the
``sam2`` package's own ``init_state``), the sizes, and ``track_video.v1`` running on it."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from muie.errors import InputError
from muie.settings import Settings
from muie.tools.base import ToolContext
from muie.tools.media import video_io
from muie.tools.models.sam2_video import Sam2Tracker, build_sam2_tiny
from muie.tools.video.track_video import TrackVideoArgs, TrackVideoTool
from tests.support.video_clips import clip, path_line


def settings(path, **kw) -> Settings:
    return Settings(**{"sam2_checkpoint": str(path), "sam2_model": "tiny", "image_model_device": "cpu", **kw})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam2") / "sam2_tiny.pt"
    torch.save({"model": build_sam2_tiny().state_dict()}, path)  # wrapped, as SAM 2's own files are
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "line.mp4"
    return path, clip(path, n=12, route=path_line)


def test_loads_and_follows_a_box(checkpoint, video):
    path, gold = video
    sam = Sam2Tracker.from_settings(settings(checkpoint))
    assert Sam2Tracker.from_settings(settings(checkpoint)).predictor is sam.predictor  # one model per process
    frames = [f.rgb for f in video_io.frames(path)]
    masks = sam.propagate(frames, gold[0])
    assert len(masks) == len(frames)
    assert all(m is None or (m.shape == frames[0].shape[:2] and m.dtype == bool) for m in masks)


def test_state_from_frames_matches_sam2s_own(checkpoint, video, tmp_path):
    path, _ = video
    sam = Sam2Tracker.from_settings(settings(checkpoint))
    frames = [f.rgb for f in video_io.frames(path)][:3]
    for k, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / f"{k:05d}.jpg", quality=100)
    theirs = sam.predictor.init_state(str(tmp_path))
    mine = sam._state(frames)
    assert set(mine) == set(theirs)
    assert mine["images"].shape == theirs["images"].shape
    assert (mine["video_height"], mine["video_width"]) == (theirs["video_height"], theirs["video_width"])
    # the same normalisation: the frames differ only by JPEG and resampling
    assert float((mine["images"] - theirs["images"]).abs().mean()) < 0.1


def test_track_video_with_sam2(checkpoint, video):
    path, gold = video
    ctx = ToolContext(texts={}, settings=settings(checkpoint, video_tracker="sam2", video_chunk_frames=5),
                      media={"video0": str(path)})
    (r,) = TrackVideoTool().run_batch([(TrackVideoArgs(input="video0", box=gold[2], frame=2), ctx)])
    assert r.by == "box" and r.sampled == 12
    assert all(2 <= f.frame < 12 and f.mask is not None and f.mask.size == [240, 320] for f in r.frames)


def test_checkpoint_errors_name_the_setting(checkpoint, tmp_path):
    with pytest.raises(InputError, match="MUIE_SAM2_CHECKPOINT"):
        Sam2Tracker.from_settings(settings(tmp_path / "missing.pt"))
    with pytest.raises(InputError, match="MUIE_SAM2_MODEL"):  # a tiny checkpoint is not a hiera_t one
        Sam2Tracker.from_settings(settings(checkpoint, sam2_model="hiera_t"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a PyTorch checkpoint"):
        Sam2Tracker.from_settings(settings(bad))
    with pytest.raises(InputError, match="MUIE_SAM2_CHECKPOINT"):
        Settings.from_env(video_tracker="sam2")

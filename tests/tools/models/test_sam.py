"""SAM behind a configured checkpoint, on a small randomly initialised SAM of the real design.

The test builds ``build_sam_tiny()`` with a fixed seed, saves its state dict, and loads it
through ``SamSegmenter.from_settings`` exactly as the product loads SAM's real weights; then
segments real photos (scikit-image's cat and coffee cup). Random weights say nothing about
mask quality: what is checked is the loading, the prompt and size mapping (against
``segment_anything``'s own single-prompt predictor), the embedding cache, and the errors.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor
from skimage import data

from muie.errors import InputError
from muie.settings import Settings
from muie.tools.models.sam import SamSegmenter, build_sam_tiny

BOX = [60.0, 40.0, 330.0, 260.0]
POINT = [215.0, 120.0]


def settings(path, **kw) -> Settings:
    return Settings(**{"sam_checkpoint": str(path), "sam_model_type": "tiny", "image_model_device": "cpu", **kw})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam") / "sam_tiny.pth"
    torch.save(build_sam_tiny().state_dict(), path)
    return path


@pytest.fixture(scope="module")
def sam(checkpoint) -> SamSegmenter:
    return SamSegmenter.from_settings(settings(checkpoint))


@pytest.fixture(scope="module")
def cat() -> np.ndarray:
    return data.chelsea()  # 300 x 451 RGB


def test_loads_the_checkpoint_once_through_the_settings(sam, checkpoint):
    saved = torch.load(checkpoint, weights_only=True)
    loaded = sam.model.state_dict()
    assert set(saved) == set(loaded)
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert not sam.model.training and sam.predictor.device.type == "cpu"
    assert SamSegmenter.from_settings(settings(checkpoint)) is sam  # one model per process


def test_a_changed_checkpoint_file_is_loaded_again(checkpoint, tmp_path):
    path = tmp_path / "changing.pth"
    shutil.copy(checkpoint, path)
    first = SamSegmenter.from_settings(settings(path))
    state = torch.load(checkpoint, weights_only=True)
    state["mask_decoder.iou_token.weight"] += 1.0
    before = path.stat().st_mtime_ns
    torch.save(state, path)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a new version even where file times are coarse
    second = SamSegmenter.from_settings(settings(path))
    assert second is not first
    assert torch.equal(second.model.mask_decoder.iou_token.weight.cpu(), state["mask_decoder.iou_token.weight"])


def test_box_and_point_masks_at_the_original_size(sam, cat):
    out = sam.segment(cat, boxes=[BOX], points=[POINT])
    assert len(out) == 2
    for mask, score in out:
        assert mask.shape == cat.shape[:2] and mask.dtype == np.bool_
        assert isinstance(score, float) and 0.0 <= score <= 1.0
    # the same prompts through segment_anything's own predictor, one at a time, in numpy
    ref = SamPredictor(sam.model)
    ref.set_image(cat)
    masks, scores, _ = ref.predict(box=np.array(BOX), multimask_output=False)
    assert np.array_equal(out[0][0], masks[0])
    assert out[0][1] == pytest.approx(float(np.clip(scores[0], 0, 1)), abs=1e-6)
    masks, scores, _ = ref.predict(point_coords=np.array([POINT]), point_labels=np.array([1]), multimask_output=True)
    best = int(np.argmax(scores))
    assert np.array_equal(out[1][0], masks[best])
    assert out[1][1] == pytest.approx(float(np.clip(scores[best], 0, 1)), abs=1e-6)


def test_another_size_and_several_prompts_in_order(sam):
    cup = data.coffee()  # 400 x 600
    boxes = [[10, 20, 200, 390], [300, 50, 590, 300], [0, 0, 600, 400]]
    together = sam.segment(cup, boxes=boxes)
    assert len(together) == 3 and all(m.shape == (400, 600) for m, _ in together)
    for box, (mask, score) in zip(boxes, together):  # batching does not mix prompts up
        alone_mask, alone_score = sam.segment(cup, boxes=[box])[0]
        assert np.mean(alone_mask == mask) > 0.999
        assert alone_score == pytest.approx(score, abs=1e-4)
    assert not np.array_equal(together[0][0], together[1][0])  # the prompt matters


def test_deterministic_and_weights_fully_restored(sam, cat, checkpoint, tmp_path):
    first = sam.segment(cat, boxes=[BOX], points=[POINT])
    again = sam.segment(cat, boxes=[BOX], points=[POINT])
    copy = tmp_path / "copy.pth"
    shutil.copy(checkpoint, copy)
    torch.manual_seed(123)  # another random init underneath: only loaded weights can make it equal
    fresh = SamSegmenter.from_settings(settings(copy))
    assert fresh is not sam
    other = fresh.segment(cat, boxes=[BOX], points=[POINT])
    for (a, sa), (b, sb), (c, sc) in zip(first, again, other):
        assert np.array_equal(a, b) and np.array_equal(a, c)
        assert sa == sb == sc


def test_the_image_encoder_runs_once_per_image(sam, cat):
    runs = []
    hook = sam.model.image_encoder.register_forward_hook(lambda *_: runs.append(1))
    try:
        sam.segment(cat, boxes=[BOX])
        sam.segment(cat, points=[POINT])
        assert len(runs) <= 1  # the cat may be embedded already by an earlier test
        before = len(runs)
        sam.segment(data.astronaut(), points=[[100, 100]])
        assert len(runs) == before + 1
        sam.segment(cat, boxes=[BOX])  # still kept
        sam.automatic(cat, points_per_side=4, pred_iou_thresh=0, stability_score_thresh=0)
        assert len(runs) == before + 1
    finally:
        hook.remove()


def test_automatic_proposals(sam, cat):
    props = sam.automatic(cat, points_per_side=4, pred_iou_thresh=0, stability_score_thresh=0)
    assert 1 <= len(props) <= 16 * 3
    scores = [s for _, s in props]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert all(m.shape == cat.shape[:2] and m.dtype == np.bool_ for m, _ in props)
    # SAM's own filters apply: an IoU bar above every prediction leaves nothing
    assert sam.automatic(cat, points_per_side=4, pred_iou_thresh=1.01, stability_score_thresh=0) == []


def test_prompts_are_checked(sam, cat):
    assert sam.segment(cat) == []
    with pytest.raises(ValueError, match="boxes"):
        sam.segment(cat, boxes=[[1, 2, 3]])
    with pytest.raises(ValueError, match="x0 <= x1"):
        sam.segment(cat, boxes=[[50, 10, 20, 40]])
    grey = sam.segment(cat.mean(axis=2).astype(np.uint8), boxes=[BOX])  # grey images are taken as RGB
    assert grey[0][0].shape == cat.shape[:2]


def test_a_missing_or_unset_checkpoint_names_the_setting(tmp_path):
    with pytest.raises(InputError, match="MUIE_SAM_CHECKPOINT.*no such file"):
        SamSegmenter.from_settings(settings(tmp_path / "absent.pth"))
    with pytest.raises(InputError, match="MUIE_SAM_CHECKPOINT.*not set"):
        SamSegmenter.from_settings(Settings(image_model_device="cpu"))


def test_a_file_that_is_no_checkpoint_is_an_input_error(tmp_path):
    junk = tmp_path / "sam.pth"
    junk.write_text("these are not weights\n")
    with pytest.raises(InputError, match="MUIE_SAM_CHECKPOINT.*not a PyTorch checkpoint"):
        SamSegmenter.from_settings(settings(junk))
    empty = tmp_path / "empty.pth"
    torch.save({}, empty)
    with pytest.raises(InputError, match="MUIE_SAM_CHECKPOINT.*no state dict"):
        SamSegmenter.from_settings(settings(empty))
    whole = tmp_path / "module.pth"
    torch.save(torch.nn.Linear(2, 2), whole)  # a pickled module, not a state dict: never unpickled
    with pytest.raises(InputError, match="MUIE_SAM_CHECKPOINT.*pickled objects.*state_dict"):
        SamSegmenter.from_settings(settings(whole))


def test_a_checkpoint_of_another_type_is_an_input_error(checkpoint, tmp_path):
    with pytest.raises(InputError, match=r"MUIE_SAM_CHECKPOINT.*not a checkpoint of SAM vit_b.*MUIE_SAM_MODEL_TYPE"):
        SamSegmenter.from_settings(settings(checkpoint, sam_model_type="vit_b"))
    other = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(4, 4)}, other)
    with pytest.raises(InputError, match="not a checkpoint of SAM tiny.*missing.*unexpected"):
        SamSegmenter.from_settings(settings(other))


def test_the_device_setting(sam, cat, checkpoint):
    if torch.cuda.is_available():  # the same model on the GPU gives the CPU's masks
        on_gpu = SamSegmenter.from_settings(settings(checkpoint, image_model_device="auto"))
        assert on_gpu.predictor.device.type == "cuda"
        for (m, s), (g, t) in zip(sam.segment(cat, boxes=[BOX], points=[POINT]),
                                  on_gpu.segment(cat, boxes=[BOX], points=[POINT])):
            assert g.shape == m.shape and np.mean(g == m) > 0.99 and t == pytest.approx(s, abs=1e-2)
    else:
        with pytest.raises(InputError, match="MUIE_IMAGE_MODEL_DEVICE"):
            SamSegmenter.from_settings(settings(checkpoint, image_model_device="cuda"))


def test_the_segmenter_setting_is_validated(monkeypatch, checkpoint):
    assert Settings().image_segmenter == "embedded"
    monkeypatch.setenv("MUIE_IMAGE_SEGMENTER", "sam2")
    with pytest.raises(InputError, match="MUIE_IMAGE_SEGMENTER"):
        Settings.from_env()
    monkeypatch.setenv("MUIE_IMAGE_SEGMENTER", "sam")
    with pytest.raises(InputError, match="MUIE_IMAGE_SEGMENTER.*MUIE_SAM_CHECKPOINT"):
        Settings.from_env()
    monkeypatch.setenv("MUIE_SAM_CHECKPOINT", str(checkpoint))
    monkeypatch.setenv("MUIE_SAM_MODEL_TYPE", "vit_x")
    with pytest.raises(InputError, match="MUIE_SAM_MODEL_TYPE"):
        Settings.from_env()
    monkeypatch.setenv("MUIE_SAM_MODEL_TYPE", "tiny")
    s = Settings.from_env()
    assert (s.image_segmenter, s.sam_checkpoint, s.sam_model_type) == ("sam", str(checkpoint), "tiny")

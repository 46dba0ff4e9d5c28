"""ImageBind region-text scoring behind a configured checkpoint, on a small random ImageBind.

The test builds ``imagebind_tiny()`` (ImageBind's own model class, one block per modality)
with a fixed seed and a logit scale of its choosing, saves the state dict, and loads it
through ``RegionTextScorer.from_settings`` exactly as the product loads ImageBind's real
weights; then scores crops of a real photo (scikit-image's cat) against texts tokenized by
ImageBind's own BPE vocabulary. Random weights say nothing about quality: what is checked
is the loading, the crops, the shapes and probabilities, determinism, and the errors.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from muie.errors import InputError
from muie.settings import Settings
from muie.tools.models.imagebind_scorer import (
    MEAN,
    SIZE,
    RegionTextScorer,
    bpe_path,
    crop,
    imagebind_module,
    imagebind_tiny,
    tokenizer,
)

LOGIT_SCALE = 30.0
TEXTS = ["a cat", "a dog", "a cup of coffee", "a rocket"]


def settings(path, **kw) -> Settings:
    return Settings(**{"imagebind_checkpoint": str(path), "imagebind_model": "tiny", "image_model_device": "cpu",
                       **kw})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    state = imagebind_tiny().state_dict()
    state["modality_postprocessors.text.1.log_logit_scale"] = torch.tensor(math.log(LOGIT_SCALE))
    path = tmp_path_factory.mktemp("imagebind") / "imagebind_tiny.pth"
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def scorer(checkpoint) -> RegionTextScorer:
    return RegionTextScorer.from_settings(settings(checkpoint))


@pytest.fixture(scope="module")
def cat() -> np.ndarray:
    return data.chelsea()  # 300 x 451 RGB


@pytest.fixture(scope="module")
def regions(cat) -> list:
    mask = np.zeros(cat.shape[:2], bool)
    mask[60:240, 120:330] = True
    mask[100:140, 150:200] = False  # a hole: masks need not be boxes
    return [[0, 0, 200, 150], [100.5, 50.2, 451, 300], mask]


def test_loads_the_checkpoint_once_keeping_vision_and_text(scorer, checkpoint):
    saved = torch.load(checkpoint, weights_only=True)
    loaded = scorer.model.state_dict()
    assert loaded and set(loaded) <= set(saved)
    assert all(torch.equal(saved[k], loaded[k]) for k in loaded)
    assert set(scorer.model.modality_trunks) == {"vision", "text"}
    assert not scorer.model.training and scorer.device.type == "cpu"
    assert RegionTextScorer.from_settings(settings(checkpoint)) is scorer


def test_scores_are_probabilities_over_the_texts(scorer, cat, regions):
    p = scorer.score(cat, regions, TEXTS)
    assert p.shape == (3, 4) and p.dtype == np.float32
    assert np.all(p >= 0) and np.all(p <= 1)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    cos = scorer.similarity(cat, regions, TEXTS)
    assert cos.shape == (3, 4) and np.all(np.abs(cos) <= 1 + 1e-5)
    _, scale = scorer.embed_texts(TEXTS)
    assert scale == pytest.approx(LOGIT_SCALE, rel=1e-5)  # the checkpoint's logit scale
    logits = LOGIT_SCALE * cos
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.allclose(p, expected, atol=1e-5)


def test_texts_in_another_order_permute_the_columns(scorer, cat, regions):
    p = scorer.score(cat, regions, TEXTS)
    order = [2, 0, 3, 1]
    q = scorer.score(cat, regions, [TEXTS[i] for i in order])
    assert np.allclose(q, p[:, order], atol=1e-6)
    assert scorer.score(cat, regions, TEXTS[:1]).tolist() == [[1.0]] * 3
    assert scorer.score(cat, [], TEXTS).shape == (0, 4)
    assert scorer.score(cat, regions, []).shape == (3, 0)


def test_deterministic_and_weights_fully_restored(scorer, cat, regions, checkpoint, tmp_path):
    first = scorer.score(cat, regions, TEXTS)
    assert np.array_equal(first, scorer.score(cat, regions, TEXTS))
    copy = tmp_path / "copy.pth"
    shutil.copy(checkpoint, copy)
    torch.manual_seed(321)  # another random init underneath: only loaded weights can make it equal
    fresh = RegionTextScorer.from_settings(settings(copy))
    assert fresh is not scorer
    assert np.allclose(fresh.score(cat, regions, TEXTS), first, atol=1e-6)


def test_crops_are_the_regions_pixels_squared_and_resized(cat):
    square = crop(cat, [100, 50, 250, 200])
    assert square.shape == (SIZE, SIZE, 3) and square.dtype == np.uint8
    expected = np.asarray(Image.fromarray(cat[50:200, 100:250]).resize((SIZE, SIZE), Image.Resampling.BICUBIC))
    assert np.array_equal(square, expected)
    fill = [round(255 * m) for m in MEAN]
    wide = crop(cat, [0, 100, 400, 200])  # 400 x 100: padded above and below, not cut
    assert np.all(wide[:50] == fill) and np.all(wide[-50:] == fill)
    assert not np.all(wide[SIZE // 2] == fill)
    mask = np.zeros(cat.shape[:2], bool)
    mask[50:200, 100:250] = True
    mask[50:125, 175:250] = False  # the box less its top right quarter: an L
    ell = crop(cat, mask)
    q = SIZE // 2
    assert np.all(ell[:q - 3, q + 3:] == fill)  # outside the mask: the fill colour
    assert not np.all(ell[q + 3:, q + 3:] == fill) and not np.all(ell[:q - 3, :q - 3] == fill)


def test_a_region_is_seen_by_its_own_pixels_only(scorer, cat):
    box = [100, 50, 250, 200]
    canvas = np.zeros((400, 500, 3), np.uint8)
    canvas[200:350, 300:450] = cat[50:200, 100:250]  # the same pixels elsewhere in another image
    here, there = scorer.embed_regions(cat, [box]), scorer.embed_regions(canvas, [[300, 200, 450, 350]])
    assert np.allclose(here, there, atol=1e-6)
    assert np.allclose(np.linalg.norm(here, axis=1), 1.0, atol=1e-5)
    mask = np.zeros(cat.shape[:2], bool)
    mask[60:240, 120:330] = True
    outside, inside = cat.copy(), cat.copy()
    outside[:40] = 255
    inside[100:120, 150:200] = 0
    base = scorer.embed_regions(cat, [mask])
    assert np.allclose(scorer.embed_regions(outside, [mask]), base, atol=1e-6)
    assert not np.allclose(scorer.embed_regions(inside, [mask]), base, atol=1e-3)


def test_regions_are_checked(scorer, cat):
    with pytest.raises(ValueError, match="mask must be the image's size"):
        scorer.score(cat, [np.ones((10, 10), bool)], TEXTS)
    with pytest.raises(ValueError, match="empty"):
        scorer.score(cat, [np.zeros(cat.shape[:2], bool)], TEXTS)
    with pytest.raises(ValueError, match="x0 <= x1"):
        scorer.score(cat, [[300, 10, 100, 50]], TEXTS)
    with pytest.raises(ValueError, match="box"):
        scorer.score(cat, [[1, 2, 3]], TEXTS)


def test_the_tokenizer_is_imagebinds_bpe_from_its_package():
    path = Path(bpe_path())
    assert path.is_file() and path.name == "bpe_simple_vocab_16e6.txt.gz"
    assert path.parent.parent == Path(imagebind_module().__file__).parent.parent
    tokens = tokenizer()(["a cat", "a photo of a dog"])
    assert tokens.shape == (2, 77)
    assert tokens[0, :4].tolist() == [49406, 320, 2368, 49407]  # <start> a cat <end>, CLIP's ids
    assert tokens[1, :7].tolist() == [49406, 320, 1125, 539, 320, 1929, 49407]


def test_a_missing_unset_or_unreadable_checkpoint_names_the_setting(tmp_path):
    with pytest.raises(InputError, match="MUIE_IMAGEBIND_CHECKPOINT.*no such file"):
        RegionTextScorer.from_settings(settings(tmp_path / "absent.pth"))
    with pytest.raises(InputError, match="MUIE_IMAGEBIND_CHECKPOINT.*not set"):
        RegionTextScorer.from_settings(Settings(image_model_device="cpu"))
    junk = tmp_path / "imagebind.pth"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="MUIE_IMAGEBIND_CHECKPOINT.*not a PyTorch checkpoint"):
        RegionTextScorer.from_settings(settings(junk))


def test_a_checkpoint_of_another_model_is_an_input_error(tmp_path):
    other = imagebind_module().ImageBindModel(  # ImageBind, but another size
        out_embed_dim=16, vision_embed_dim=16, vision_num_blocks=1, vision_num_heads=2, text_embed_dim=16,
        text_num_blocks=1, text_num_heads=2, audio_num_blocks=1, depth_num_blocks=1, thermal_num_blocks=1,
        imu_num_blocks=1)
    path = tmp_path / "other.pth"
    torch.save(other.state_dict(), path)
    with pytest.raises(InputError, match=r"MUIE_IMAGEBIND_CHECKPOINT.*not a checkpoint of ImageBind tiny.*"
                                         r"of another shape.*MUIE_IMAGEBIND_MODEL"):
        RegionTextScorer.from_settings(settings(path))
    foreign = tmp_path / "foreign.pth"
    torch.save({"image_encoder.pos_embed": torch.zeros(1, 4, 4, 8)}, foreign)
    with pytest.raises(InputError, match="not a checkpoint of ImageBind tiny.*missing.*unexpected"):
        RegionTextScorer.from_settings(settings(foreign))


def test_the_device_setting(scorer, cat, regions, checkpoint):
    if torch.cuda.is_available():  # the same model on the GPU gives the CPU's scores
        on_gpu = RegionTextScorer.from_settings(settings(checkpoint, image_model_device="auto"))
        assert on_gpu.device.type == "cuda"
        assert np.allclose(on_gpu.score(cat, regions, TEXTS), scorer.score(cat, regions, TEXTS), atol=1e-3)
    else:
        with pytest.raises(InputError, match="MUIE_IMAGE_MODEL_DEVICE"):
            RegionTextScorer.from_settings(settings(checkpoint, image_model_device="cuda"))


def test_the_scorer_setting_is_validated(monkeypatch, checkpoint):
    assert Settings().region_scorer == "embedded"
    monkeypatch.setenv("MUIE_REGION_SCORER", "clip")
    with pytest.raises(InputError, match="MUIE_REGION_SCORER"):
        Settings.from_env()
    monkeypatch.setenv("MUIE_REGION_SCORER", "imagebind")
    with pytest.raises(InputError, match="MUIE_REGION_SCORER.*MUIE_IMAGEBIND_CHECKPOINT"):
        Settings.from_env()
    monkeypatch.setenv("MUIE_IMAGEBIND_CHECKPOINT", str(checkpoint))
    monkeypatch.setenv("MUIE_IMAGEBIND_MODEL", "giant")
    with pytest.raises(InputError, match="MUIE_IMAGEBIND_MODEL"):
        Settings.from_env()
    monkeypatch.setenv("MUIE_IMAGEBIND_MODEL", "tiny")
    s = Settings.from_env()
    assert (s.region_scorer, s.imagebind_checkpoint, s.imagebind_model) == ("imagebind", str(checkpoint), "tiny")

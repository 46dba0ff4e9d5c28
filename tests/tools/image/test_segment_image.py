"""segment_image.v1 on real photos pasted at known places, so that the true mask is exact.

Real models throughout (ISNet, EfficientNet-lite0, the detector, MiniLM). The photos are
scikit-image's chelsea (a cat) and coffee (an espresso cup), and matplotlib's Grace
Hopper; each is pasted as a rectangle on a plain or noisy canvas, so the thing to find is
that rectangle.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from muie.domain import ImageInput, Region, Result
from muie.errors import CallError
from muie.settings import Settings
from muie.tools.base import ToolContext
from muie.tools.image.boxes import iou, rle_mask
from muie.tools.image.proposals import perceive, propose
from muie.tools.image.regions import grabcut
from muie.tools.image.segment_image import SegmentImage, SegmentImageArgs, SegmentImageResult, SegmentImageTool

W, H = 640, 480
CAT_RECT = (330, 150, 600, 330)
COFFEE_RECT = (40, 60, 280, 220)
GRACE_RECT = (360, 40, 560, 290)


def _photo(name: str) -> np.ndarray:
    if name == "grace_hopper":
        import matplotlib.cbook as cbook

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB"))
    import skimage.data

    return getattr(skimage.data, name)()


def _canvas(kind: str, seed: int = 0, w: int = W, h: int = H) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "plain":
        return np.full((h, w, 3), (70, 120, 170), np.uint8)
    return np.clip(np.array([150, 140, 120]) + rng.integers(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)


def _paste(canvas: np.ndarray, name: str, rect: tuple[int, int, int, int]) -> np.ndarray:
    """Paste the photo stretched to ``rect``; returns the exact mask of what was pasted."""
    x0, y0, x1, y1 = rect
    photo = Image.fromarray(_photo(name)).resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    canvas[y0:y1, x0:x1] = np.asarray(photo)
    mask = np.zeros(canvas.shape[:2], bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _save(tmp_path_factory, name: str, rgb: np.ndarray, fmt: str = "PNG") -> str:
    path = tmp_path_factory.mktemp("images") / f"{name}.{fmt.lower()}"
    Image.fromarray(rgb).save(path, format=fmt)
    return str(path)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """Image files and their true masks: a cat on noise; a cat and a coffee cup on a plain
    canvas; Grace Hopper beside the coffee cup on noise."""
    cat = _canvas("noise", 1)
    cat_mask = _paste(cat, "chelsea", CAT_RECT)
    both = _canvas("plain")
    both_cat = _paste(both, "chelsea", CAT_RECT)
    both_coffee = _paste(both, "coffee", COFFEE_RECT)
    people = _canvas("noise", 2)
    grace = _paste(people, "grace_hopper", GRACE_RECT)
    people_coffee = _paste(people, "coffee", COFFEE_RECT)
    return {
        "cat": (_save(tmp_path_factory, "cat", cat), {"cat": cat_mask}, cat),
        "both": (_save(tmp_path_factory, "both", both), {"cat": both_cat, "coffee": both_coffee}, both),
        "people": (_save(tmp_path_factory, "people", people), {"grace": grace, "coffee": people_coffee}, people),
    }


TOOL = SegmentImageTool()


def _run(path: str, **arguments) -> SegmentImageResult:
    call = SegmentImage.model_validate({"tool": "segment_image.v1", "arguments": {"input": "image0", **arguments}})
    ctx = ToolContext(texts={}, settings=Settings(), media={"image0": path})
    TOOL.check(call.arguments, ctx)
    return TOOL.run_batch([(call.arguments, ctx)])[0]


def _mask_iou(region, truth: np.ndarray) -> float:
    m = rle_mask(region.mask)
    return float((m & truth).sum() / (m | truth).sum())


def _box_iou(region, truth: np.ndarray) -> float:
    ys, xs = np.nonzero(truth)
    return float(iou(np.array(region.bbox), np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]))[0, 0])


def test_a_cat_is_found_with_its_mask(scenes):
    path, truth, _ = scenes["cat"]
    result = _run(path, text="cat", entity_type="animal")
    assert (result.width, result.height) == (W, H)
    assert len(result.regions) == 1
    best = result.regions[0]
    assert _mask_iou(best, truth["cat"]) >= 0.65
    assert _box_iou(best, truth["cat"]) >= 0.5
    assert best.mask.size == [H, W]
    assert best.by == "text" and any("cat" in label.name for label in best.labels)
    # the box is the mask's own tight box, and the region passes the contract's checks
    m = rle_mask(best.mask)
    ys, xs = np.nonzero(m)
    assert best.bbox == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    region = Region(input="image0", bbox=best.bbox, mask=best.mask, score=best.score)
    image = ImageInput(id="image0", path=path, width=W, height=H)
    assert not Result(inputs=[image]).violations() and region.mask.size == [image.height, image.width]


@pytest.mark.parametrize("text,entity_type", [("airplane", "vehicle"), ("dog", "animal"), ("espresso", "drink")])
def test_what_the_picture_does_not_show_gets_no_region(scenes, text, entity_type):
    path, _, _ = scenes["cat"]
    assert _run(path, text=text, entity_type=entity_type).regions == []


def test_each_of_two_things_is_told_apart(scenes):
    path, truth, _ = scenes["both"]
    cup = _run(path, text="espresso", entity_type="drink").regions
    assert len(cup) == 1 and _mask_iou(cup[0], truth["coffee"]) >= 0.65
    cat = _run(path, text="cat").regions
    assert len(cat) == 1 and _mask_iou(cat[0], truth["cat"]) >= 0.65
    assert _mask_iou(cat[0], truth["coffee"]) == 0.0


def test_a_named_person_is_found_by_type_only(scenes):
    path, truth, _ = scenes["people"]
    found = _run(path, text="Grace Hopper", entity_type="person").regions
    assert len(found) == 1 and found[0].by == "type" and _box_iou(found[0], truth["grace"]) >= 0.5
    assert all(_mask_iou(r, truth["coffee"]) < 0.1 for r in found)
    assert _run(path, text="Grace Hopper").regions == []  # a name alone says nothing the models know


def test_one_perception_serves_every_target(scenes):
    _, _, rgb = scenes["both"]
    first = perceive(rgb)
    assert perceive(rgb.copy()) is first  # keyed by the pixels, not the array
    proposals = propose(rgb)
    assert proposals is first.proposals and len(proposals) >= 3
    cats = [p for p in proposals if "cat" in p.labels(1)[0].name]
    assert cats and cats[0].mask.shape == rgb.shape[:2]
    assert all(0 <= p.box[0] < p.box[2] <= W and 0 <= p.box[1] < p.box[3] <= H for p in proposals)


def test_a_box_target_is_segmented_inside_the_box(scenes):
    path, truth, _ = scenes["both"]
    x0, y0, x1, y1 = COFFEE_RECT
    found = _run(path, box=[x0 - 4, y0 - 4, x1 + 4, y1 + 4]).regions
    assert len(found) == 1
    assert _mask_iou(found[0], truth["coffee"]) >= 0.65
    m = rle_mask(found[0].mask)
    assert not m[:, : x0 - 4].any() and not m[:, x1 + 4:].any()


def _disc_scene() -> tuple[np.ndarray, np.ndarray]:
    """A green disc on noise, beside a pasted cat (the main subject); the disc's true mask."""
    import cv2

    rgb = _canvas("noise", 3)
    cv2.ellipse(rgb, (200, 300), (90, 60), 0, 0, 360, (30, 170, 40), -1)
    truth = np.zeros((H, W), np.uint8)
    cv2.ellipse(truth, (200, 300), (90, 60), 0, 0, 360, 1, -1)
    _paste(rgb, "chelsea", (380, 60, 620, 220))
    return rgb, truth.astype(bool)


def test_a_box_beside_the_main_subject_gets_what_is_in_it(tmp_path_factory):
    rgb, truth = _disc_scene()
    found = _run(_save(tmp_path_factory, "disc", rgb), box=[100, 230, 300, 370]).regions
    assert len(found) == 1 and _mask_iou(found[0], truth) >= 0.7
    assert "cat" not in found[0].labels[0].name


def test_grabcut_finds_the_thing_in_a_box_from_the_box_alone():
    rgb, truth = _disc_scene()
    mask = grabcut(rgb, np.array([100.0, 230.0, 300.0, 370.0]))
    assert mask.shape == truth.shape
    assert float((mask & truth).sum() / (mask | truth).sum()) >= 0.8
    assert not mask[:, :100].any() and not mask[:230].any()  # nothing outside the box


def test_a_point_target_picks_the_thing_under_it(scenes):
    path, truth, _ = scenes["both"]
    found = _run(path, point=[465, 240]).regions
    assert len(found) == 1 and _mask_iou(found[0], truth["cat"]) >= 0.65
    named = _run(path, point=[160, 140], text="coffee cup").regions
    assert len(named) == 1 and _mask_iou(named[0], truth["coffee"]) >= 0.65


def test_a_huge_image_gives_masks_at_its_own_size(tmp_path_factory):
    big_w, big_h = 4000, 3000
    rgb = _canvas("plain", w=big_w, h=big_h)
    rect = (1800, 900, 3600, 2100)
    truth = _paste(rgb, "chelsea", rect)
    path = _save(tmp_path_factory, "huge", rgb, "JPEG")
    result = _run(path, text="cat", entity_type="animal")
    assert (result.width, result.height) == (big_w, big_h)
    assert len(result.regions) == 1
    best = result.regions[0]
    assert best.mask.size == [big_h, big_w]
    assert _mask_iou(best, truth) >= 0.65 and _box_iou(best, truth) >= 0.5
    assert abs(best.bbox[0] - rect[0]) < 40 and abs(best.bbox[2] - rect[2]) < 40


def test_bad_calls_are_refused(scenes):
    path, _, _ = scenes["cat"]
    with pytest.raises(ValidationError, match="name a target"):
        SegmentImageArgs(input="image0")
    with pytest.raises(ValidationError):
        SegmentImageArgs(input="image0", box=[50, 50, 10, 80])
    ctx = ToolContext(texts={"text": "a cat"}, settings=Settings(), media={"image0": path})
    with pytest.raises(CallError, match="not inside"):
        TOOL.check(SegmentImageArgs(input="image0", box=[0, 0, W + 50, 100]), ctx)
    with pytest.raises(CallError, match="not inside"):
        TOOL.check(SegmentImageArgs(input="image0", point=[10, H + 1]), ctx)
    with pytest.raises(CallError, match="not an image input"):
        TOOL.check(SegmentImageArgs(input="text", text="cat"), ctx)

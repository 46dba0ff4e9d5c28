"""``link_regions.v1``: entities linked to the regions of an image jointly: each thing
shown gets its own region, a thing not shown gets none, one object is never two
entities; and the same tool with SAM masks and ImageBind scores (small models the test
builds and saves, loaded through the settings as real checkpoints are)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from bench.grounded.images import background, paste_photos, save_png
from muie.agent.scoring.metrics import box_iou
from muie.errors import CallError
from muie.settings import Settings
from muie.tools import REGISTRY, TOOL_CALL, ToolContext
from muie.tools.image.link_regions import LinkRegionsArgs

TOOL = REGISTRY["link_regions.v1"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A cat and a horse pasted at known places on a textured background."""
    rng = np.random.default_rng(3)
    canvas = background(rng)
    items = paste_photos(rng, ["chelsea", "horse"], canvas)
    path = tmp_path_factory.mktemp("scene") / "scene.png"
    save_png(canvas, path)
    boxes = {name: [float(v) for v in (r[0], r[1], r[2], r[3])] for name, r, _ in items}
    return str(path), boxes


TYPES = ["person", "organization", "location", "animal", "object", "vehicle", "plant"]


def run(path: str, targets: list[tuple[str, str, str]], settings: Settings | None = None, **more):
    ctx = ToolContext(texts={}, settings=settings or Settings(), media={"image0": path})
    call = TOOL_CALL.validate_python({"tool": "link_regions.v1", "arguments": {
        "input": "image0", "targets": [{"id": i, "text": t, "type": ty} for i, t, ty in targets], **more}})
    TOOL.check(call.arguments, ctx)
    return TOOL.run_batch([(call.arguments, ctx)])[0]


def test_each_thing_shown_gets_its_region_and_the_absent_none(scene):
    path, boxes = scene
    r = run(path, [("E1", "cat", "animal"), ("E2", "horse", "animal"), ("E3", "giraffe", "animal")])
    got = {link.id: link for link in r.links}
    assert set(got) == {"E1", "E2"}, [(k, v.region.labels) for k, v in got.items()]
    assert box_iou(got["E1"].region.bbox, boxes["chelsea"]) >= 0.5
    assert box_iou(got["E2"].region.bbox, boxes["horse"]) >= 0.5
    for link in r.links:
        m = mask_utils.decode({"size": link.region.mask.size, "counts": link.region.mask.counts.encode()})
        assert m.shape == (480, 640) and m.any()


def test_one_object_is_never_two_entities(scene):
    path, _ = scene
    r = run(path, [("E1", "cat", "animal"), ("E2", "kitten", "animal")])
    masks = [mask_utils.decode({"size": x.region.mask.size, "counts": x.region.mask.counts.encode()}).astype(bool)
             for x in r.links]
    for a in range(len(masks)):
        for b in range(a):
            inter = (masks[a] & masks[b]).sum()
            assert inter < 0.5 * min(masks[a].sum(), masks[b].sum())
    assert len(r.links) >= 1


def test_bad_calls_are_call_errors(scene):
    path, _ = scene
    ctx = ToolContext(texts={"text": "x"}, settings=Settings(), media={"image0": path})
    dup = LinkRegionsArgs(input="image0", targets=[{"id": "E1", "text": "cat", "type": "animal"}] * 2)
    with pytest.raises(CallError, match="unique"):
        TOOL.check(dup, ctx)
    with pytest.raises(CallError, match="image"):
        TOOL.check(LinkRegionsArgs(input="text", targets=[{"id": "E1", "text": "cat", "type": "animal"}]), ctx)


def test_sam_masks_and_imagebind_scores_through_the_settings(scene, tmp_path):
    from muie.tools.models.imagebind_scorer import imagebind_tiny
    from muie.tools.models.sam import build_sam_tiny

    torch.manual_seed(0)
    sam_path, ib_path = tmp_path / "sam_tiny.pth", tmp_path / "imagebind_tiny.pth"
    torch.save(build_sam_tiny().state_dict(), sam_path)
    torch.save(imagebind_tiny().state_dict(), ib_path)
    path, _ = scene
    s = Settings(image_segmenter="sam", sam_checkpoint=str(sam_path), sam_model_type="tiny",
                 region_scorer="imagebind", imagebind_checkpoint=str(ib_path), imagebind_model="tiny",
                 image_model_device="cpu", region_min_score=0.0)
    r = run(path, [("E1", "cat", "animal"), ("E2", "horse", "animal")], s)
    assert {x.id for x in r.links} == {"E1", "E2"}  # threshold 0: both assigned, to different objects
    for x in r.links:
        assert 0.0 <= x.score <= 1.0 and x.region.mask.size == [480, 640]


def test_propose_regions_perceives_the_image_once_for_all_calls(scene):
    path, boxes = scene
    ctx = ToolContext(texts={}, settings=Settings(), media={"image0": path})
    call = TOOL_CALL.validate_python({"tool": "propose_regions.v1",
                                      "arguments": {"input": "image0", "max_regions": 20}})
    r = REGISTRY["propose_regions.v1"].run_batch([(call.arguments, ctx)])[0]
    assert (r.width, r.height) == (640, 480) and 0 < len(r.regions) <= 20
    assert [x.score for x in r.regions] == sorted((x.score for x in r.regions), reverse=True)
    assert all(x.mask.size == [480, 640] and x.labels for x in r.regions)
    cat = max(r.regions, key=lambda x: box_iou(x.bbox, boxes["chelsea"]))
    assert box_iou(cat.bbox, boxes["chelsea"]) >= 0.5 and any("cat" in lb.name for lb in cat.labels)


def test_what_no_entity_claims_comes_back_named_and_typed(scene):
    path, boxes = scene
    r = run(path, [("E1", "cat", "animal")], unnamed=TYPES)
    (cat,) = r.links
    assert box_iou(cat.region.bbox, boxes["chelsea"]) >= 0.5
    horse = [t for t in r.seen if box_iou(t.region.bbox, boxes["horse"]) >= 0.5]
    assert len(horse) == 1 and horse[0].type == "animal", [(t.text, t.type, t.label) for t in r.seen]
    assert horse[0].region.mask.size == [480, 640] and 0 < horse[0].score <= 1
    assert all(box_iou(t.region.bbox, boxes["chelsea"]) < 0.5 for t in r.seen)  # the cat is the entity's
    assert all(box_iou(t.region.bbox, [0, 0, 640, 480]) < 0.6 for t in r.seen)  # the backdrop is no thing
    # nothing named: both are seen; a region claimed by words read there is not
    both = run(path, [], unnamed=TYPES)
    assert {max(boxes, key=lambda n: box_iou(t.region.bbox, boxes[n])) for t in both.seen} >= {"chelsea", "horse"}
    claimed = run(path, [], unnamed=TYPES, claimed=[boxes["horse"]])
    assert all(box_iou(t.region.bbox, boxes["horse"]) < 0.5 for t in claimed.seen)
    assert not run(path, [("E1", "cat", "animal")]).seen  # only when asked
    with pytest.raises(ValueError, match="targets"):
        LinkRegionsArgs(input="image0")


def test_a_name_linked_to_a_person_takes_the_person_type(tmp_path):
    rng = np.random.default_rng(5)
    canvas = background(rng)
    (_, rect, _), = paste_photos(rng, ["grace_hopper"], canvas)
    path = tmp_path / "hopper.png"
    save_png(canvas, path)
    # the text read the name as an organization; linked at any score, the region is a person
    r = run(str(path), [("E1", "Grace Hopper", "organization")], Settings(region_min_score=0.0), unnamed=TYPES)
    (link,) = r.links
    assert box_iou(link.region.bbox, [float(v) for v in rect]) >= 0.5
    assert link.seen_as == "person"
    (same,) = run(str(path), [("E1", "Grace Hopper", "person")], unnamed=TYPES).links
    assert same.seen_as is None and box_iou(same.region.bbox, [float(v) for v in rect]) >= 0.5


def test_a_named_thing_just_under_the_threshold_is_not_seen_as_another(scene):
    path, boxes = scene
    (horse,) = run(path, [("E1", "horse", "animal")], Settings(region_min_score=0.0)).links
    assert box_iou(horse.region.bbox, boxes["horse"]) >= 0.5 and horse.score > 0.05
    # the caption's horse scores under the threshold: the object is not given out as a "dog" seen there
    strict = run(path, [("E1", "horse", "animal")], unnamed=TYPES, min_score=min(1.0, horse.score + 0.01))
    assert not strict.links
    assert all(box_iou(t.region.bbox, boxes["horse"]) < 0.5 for t in strict.seen), [
        (t.text, t.type) for t in strict.seen]
    # a named thing nowhere near it (a giraffe) keeps nothing from being seen
    other = run(path, [("E1", "giraffe", "animal")], unnamed=TYPES)
    assert any(box_iou(t.region.bbox, boxes["horse"]) >= 0.5 for t in other.seen)

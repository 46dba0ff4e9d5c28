"""The agent on images: things named in a caption grounded to their region when they
are shown and not when they are not, names read in the image (OCR) become entities
grounded to their words, image-only input works, bad image files are bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.grounded import KINDS
from bench.grounded.cases import image_negative, image_ocr, image_paste
from bench.grounded.common import SCHEMA, rng_for
from muie.agent.api import extract
from muie.agent.scoring.metrics import box_iou
from muie.domain import Region
from tests.support.cli import MUIE, assert_bad_input, muie

PER_KIND = 3


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, list[tuple[dict, object]]]:
    out = tmp_path_factory.mktemp("images")
    (out / "media").mkdir()
    got: dict[str, list] = {}
    for make in (image_paste, image_ocr, image_negative):
        kind = make.__name__
        for i in range(PER_KIND):
            case = make(rng_for(11, KINDS.index(kind), i), f"{kind}-{i}", out, i)
            path = str(out / case["inputs"][-1]["path"])
            got.setdefault(kind, []).append((case, extract(text=case.get("text"), images=[path], schema=SCHEMA)))
    return got


def _regions(entity) -> list[Region]:  # type: ignore[no-untyped-def]
    return [g for g in entity.groundings if isinstance(g, Region) and g.input == "image0"]


def _found(case: dict, result, only_named: bool) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    hits = total = 0
    named = {e["text"].lower() for e in case["entities"] if e["mentions"]} if only_named else None
    for gold in case["entities"]:
        for g in gold["groundings"]:
            if named is not None and gold["text"].lower() not in named:
                continue
            total += 1
            hits += any(box_iou(r.bbox, g["bbox"]) >= 0.5 for e in result.entities
                        if e.text.lower() == gold["text"].lower() for r in _regions(e))
    return hits, total


def test_results_follow_the_contract(runs):
    for kind in runs.values():
        for case, r in kind:
            assert r.violations(case.get("text")) == [], case["id"]
            assert r.inputs[-1].modality == "image" and (r.inputs[-1].width, r.inputs[-1].height) == (640, 480)


def test_named_things_in_the_picture_get_their_box(runs):
    hits = total = 0
    for case, r in runs["image_paste"]:
        h, t = _found(case, r, only_named=True)
        hits, total = hits + h, total + t
    assert total >= PER_KIND and hits >= total - 1, f"{hits}/{total}"  # 3/3 (box IoU 1.0) when measured
    masks = [g for _, r in runs["image_paste"] for e in r.entities for g in _regions(e) if g.mask is not None]
    assert masks and all(g.mask.size == [480, 640] for g in masks)


def test_words_read_in_the_image_become_entities_with_their_word_boxes(runs):
    hits = total = 0
    for case, r in runs["image_ocr"]:
        for gold in case["entities"]:
            if gold["mentions"] or "mask" in gold["groundings"][0]:
                continue  # a pasted photo, not a sign
            total += 1
            hits += any(e.text == gold["text"] and e.type == gold["type"] and not e.mentions
                        and any(box_iou(g.bbox, gold["groundings"][0]["bbox"]) >= 0.5 for g in _regions(e))
                        for e in r.entities)
    assert total >= PER_KIND and hits >= total - 1, f"{hits}/{total}"  # 4/4 when measured


def test_a_thing_named_but_not_shown_gets_no_region(runs):
    absent = 0
    for case, r in runs["image_negative"]:
        for neg in case["negatives"]:
            absent += 1
            for e in r.entities:
                if e.text.lower() == neg["text"].lower():
                    assert not _regions(e), (case["id"], e.text, e.groundings)
    assert absent >= PER_KIND


def test_image_only_command_line_with_render(tmp_path):
    from bench.grounded.images import draw_sign

    img = Image.new("RGB", (480, 240), (250, 250, 250))
    box = draw_sign(img, "Marie Curie", 40, [30, 80, 450, 150], 10, (255, 255, 255), (0, 0, 0))
    path = tmp_path / "sign.png"
    img.save(path)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    proc = subprocess.run([str(MUIE), "extract", "--image", str(path), "--schema", str(schema),
                           "--render", str(tmp_path / "pics")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [i["modality"] for i in data["inputs"]] == ["image"]
    curie = [e for e in data["entities"] if e["text"] == "Marie Curie"]
    assert len(curie) == 1 and curie[0]["type"] == "person" and curie[0]["mentions"] == []
    assert box_iou(curie[0]["groundings"][0]["bbox"], box) >= 0.5
    png = tmp_path / "pics" / "image0.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _bad(tmp_path: Path, kind: str) -> Path:
    p = tmp_path / "bad.jpg"
    if kind == "text":
        p.write_text("not a picture\n")
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "corrupt":
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    elif kind == "zero":
        p = tmp_path / "zero.gif"
        p.write_bytes(b"GIF89a\x00\x00\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00;")
    return p


@pytest.mark.parametrize("kind", ["text", "empty", "corrupt", "zero"])
def test_unreadable_images_are_bad_input(tmp_path, kind):
    path = _bad(tmp_path, kind)
    out = tmp_path / "r.json"
    assert_bad_input(muie("extract", "--image", str(path), "--out", str(out), cwd=tmp_path), str(path))
    assert not out.exists()


def test_odd_but_valid_images_give_a_result(tmp_path):
    rgb = (np.random.default_rng(0).random((120, 160, 3)) * 255).astype(np.uint8)
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(cmyk)
    deep = tmp_path / "deep.png"
    Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257).save(deep)
    gif = tmp_path / "anim.gif"
    frames = [Image.fromarray(np.full((60, 80, 3), v, np.uint8)) for v in (0, 128, 255)]
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    r = extract(text="A cat.", images=[str(cmyk), str(deep), str(gif)], schema=SCHEMA)
    assert [(i.id, i.width, i.height) for i in r.inputs[1:]] == [("image0", 160, 120), ("image1", 160, 120),
                                                                ("image2", 80, 60)]
    assert r.violations("A cat.") == []


def test_an_event_is_seen_only_on_strong_evidence(runs):
    """A schema with Attack has each image looked at for weapons (segment_image.v1 with the
    words of prompts/visual_events.yaml); pictures of cats and cups show none."""
    case, _ = runs["image_paste"][0]
    path = [i for i in case["inputs"] if i["modality"] == "image"][0]["path"]
    root = Path(runs["image_paste"][0][1].inputs[-1].path).parent.parent
    schema = dict(SCHEMA, event_types={"Attack": ["Attacker", "Target", "Instrument"]})
    r = extract(text=case.get("text"), images=[str(root / path)], schema=schema)
    looked = [a["text"] for t in r.trace if getattr(t, "tool", None) == "segment_image.v1" for a in t.arguments]
    assert {"rifle", "army tank", "missile"} <= set(looked)
    assert [v for v in r.events if v.type == "Attack"] == []

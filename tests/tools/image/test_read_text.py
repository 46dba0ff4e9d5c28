"""``read_text.v1`` on real rendered images, with the real engines (Tesseract, RapidOCR).

Known words are drawn with DejaVu Sans (shipped by matplotlib) at known places, on white
and on photos (scikit-image's coffee, cat, astronaut, rocket); each word must be read
exactly, with a box of IoU >= 0.5 against the box PIL drew it in, in the image's own pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydantic import ValidationError
from skimage import data

from muie.calls import Args
from muie.errors import CallError
from muie.settings import Settings
from muie.tools.base import ToolContext
from muie.tools.image.boxes import iou
from muie.tools.image.read_text import ReadText, ReadTextArgs, ReadTextResult, ReadTextTool, Word, merge, read_image

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
Truth = list[tuple[str, tuple[int, int, int, int]]]


def render(background: np.ndarray, words: list[tuple[str, tuple[int, int], tuple[int, int, int]]],
           size: int = 44, bold: bool = True) -> tuple[Image.Image, Truth]:
    im = Image.fromarray(background.copy())
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)
    truth = []
    for text, xy, fill in words:
        draw.text(xy, text, font=font, fill=fill)
        truth.append((text, draw.textbbox(xy, text, font=font)))
    return im, truth


WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, tuple[Path, Truth]]:
    d = tmp_path_factory.mktemp("ocr")
    made = {
        "plain": render(np.full((300, 820, 3), 255, np.uint8),
                        [("Invoice", (40, 40), BLACK), ("Total", (420, 40), BLACK),
                         ("Paris", (40, 170), BLACK), ("2024", (420, 170), BLACK)], size=40, bold=False),
        "coffee": render(data.coffee(), [("COFFEE", (40, 30), WHITE), ("Morning", (330, 330), WHITE)], size=48),
        "cat": render(data.chelsea(), [("Cat", (20, 20), WHITE), ("Garden", (250, 240), BLACK)], size=40),
        "astronaut": render(data.astronaut(), [("NASA", (20, 20), (255, 255, 0))]),
        "rocket": render(data.rocket(), [("Launch", (10, 10), WHITE)], size=40),
    }
    out = {}
    for name, (im, truth) in made.items():
        path = d / f"{name}.png"
        im.save(path)
        out[name] = (path, truth)
    return out


def assert_reads(result: ReadTextResult, truth: Truth) -> None:
    """Every true word read exactly, in a box of IoU >= 0.5 with where it was drawn."""
    for text, box in truth:
        found = [w for w in result.words if w.text == text]
        assert found, f"{text!r} not read; read {[w.text for w in result.words]}"
        best = max(iou(np.array([w.bbox for w in found]), np.array([box]))[:, 0])
        assert best >= 0.5, (text, best, [w.bbox for w in found], box)


def _structure_ok(r: ReadTextResult) -> None:
    for i, line in enumerate(r.lines):
        assert line.text == " ".join(r.words[j].text for j in line.words)
        assert all(r.words[j].line == i for j in line.words)
    assert sorted(j for line in r.lines for j in line.words) == list(range(len(r.words)))


@pytest.mark.parametrize("engine", ["tesseract", "rapidocr", "auto"])
def test_plain_page(images, engine: str) -> None:
    path, truth = images["plain"]
    r = read_image(str(path), "image0", engine)
    assert (r.input, r.width, r.height, r.engine) == ("image0", 820, 300, engine)
    assert_reads(r, truth)
    assert len(r.words) == 4 and all(w.confidence >= 0.5 for w in r.words)
    _structure_ok(r)
    assert [w.text for w in r.words] == ["Invoice", "Total", "Paris", "2024"]  # reading order
    if engine == "auto":  # Tesseract read everything confidently: its reading is kept
        assert {line.engine for line in r.lines} == {"tesseract"}


@pytest.mark.parametrize("name", ["coffee", "cat", "astronaut"])
def test_text_on_photos_rapidocr(images, name: str) -> None:
    path, truth = images[name]
    r = read_image(str(path), name, "rapidocr")
    assert_reads(r, truth)
    assert {line.engine for line in r.lines} == {"rapidocr"}


def test_text_on_a_photo_tesseract(images) -> None:
    path, truth = images["rocket"]  # white on the evening sky: plain enough for Tesseract's layout analysis
    assert_reads(read_image(str(path), "rocket", "tesseract"), truth)


def test_auto_fills_in_what_tesseract_missed(images) -> None:
    path, truth = images["coffee"]  # on wood grain Tesseract finds no text; RapidOCR does
    r = read_image(str(path), "coffee", "auto")
    assert_reads(r, truth)
    assert all(line.engine == "rapidocr" for line in r.lines)
    _structure_ok(r)


def test_merge_word_by_word() -> None:
    tess = [[Word("Total", (10, 10, 60, 30), 0.95), Word("l0w", (70, 10, 100, 30), 0.2)],
            [Word("inter", (14, 50, 60, 70), 0.80), Word("Exit", (80, 50, 120, 70), 0.96)],
            [Word("Date", (10, 300, 60, 330), 0.9)]]
    rapid = [[Word("Total", (9, 8, 62, 31), 0.99), Word("low", (69, 9, 101, 31), 0.98)],
             [Word("Winter", (8, 49, 61, 71), 0.99), Word("Exlt", (79, 49, 121, 71), 0.7)],
             [Word("Sign", (10, 200, 60, 230), 0.97)]]
    merged = merge(tess, rapid, 0.5)
    assert [(e, [w.text for w in line]) for e, line in merged] == [
        ("tesseract", ["Total"]),  # same letters: Tesseract's word (tighter box)
        ("tesseract", ["Exit"]),  # different letters: the more confident reading
        ("tesseract", ["Date"]),  # only Tesseract read it
        ("rapidocr", ["low"]),  # Tesseract's reading was under min_confidence
        ("rapidocr", ["Winter"]),  # different letters, RapidOCR more confident
        ("rapidocr", ["Sign"]),  # only RapidOCR read it
    ]


@pytest.mark.parametrize("engine", ["tesseract", "rapidocr"])
def test_blank_images_have_no_words(tmp_path: Path, engine: str) -> None:
    for name, im in (("white.png", Image.new("RGB", (640, 480), WHITE)), ("grey.jpg", Image.new("L", (300, 200), 90)),
                     ("cat.png", Image.fromarray(data.chelsea()))):
        im.save(tmp_path / name)
        r = read_image(str(tmp_path / name), "image0", engine)
        assert r.words == [] and r.lines == [], (name, [w.text for w in r.words])


def test_huge_image_boxes_in_original_pixels(tmp_path: Path) -> None:
    bg = np.full((4000, 6000, 3), 255, np.uint8)
    im, truth = render(bg, [("Harbour", (400, 600), BLACK), ("Station", (3600, 3000), BLACK)], size=180, bold=False)
    path = tmp_path / "huge.jpg"
    im.save(path, quality=90)
    r = read_image(str(path), "image0", "tesseract")  # read at 3000x2000, boxes mapped back
    assert (r.width, r.height) == (6000, 4000)
    assert_reads(r, truth)
    assert r.words[1].bbox[0] > 3000  # in original pixels, not the downscaled copy's
    # a 4000 px wide box: cut from the full-size decode, brought down to 3000 px, mapped back
    part = read_image(str(path), "image0", "tesseract", box=[2000, 2500, 6000, 3900])
    assert [w.text for w in part.words] == ["Station"]
    assert_reads(part, truth[1:])


def test_box_reads_only_inside_it(images) -> None:
    path, truth = images["plain"]
    box = [380, 20, 800, 110]  # around "Total" only
    r = read_image(str(path), "image0", "tesseract", box=box)
    assert [w.text for w in r.words] == ["Total"]
    assert_reads(r, [t for t in truth if t[0] == "Total"])
    x0, y0, x1, y1 = r.words[0].bbox
    assert x0 >= box[0] and y0 >= box[1] and x1 <= box[2] and y1 <= box[3]


def test_box_reads_small_text_of_a_big_image_at_full_size(tmp_path: Path) -> None:
    bg = np.full((5000, 7000, 3), 255, np.uint8)
    im, truth = render(bg, [("Receipt", (5200, 4200), BLACK)], size=26, bold=False)
    path = tmp_path / "big.png"
    im.save(path, compress_level=1)
    r = read_image(str(path), "image0", "tesseract", box=[5100, 4100, 5600, 4300])
    assert_reads(r, truth)


# --------------------------------------------------------------------------- the tool and its call


def test_call_model_and_tool(images) -> None:
    path, truth = images["plain"]
    call = ReadText.model_validate({"tool": "read_text.v1", "arguments": {"input": "image0", "engine": "tesseract"}})
    assert isinstance(call.arguments, ReadTextArgs) and isinstance(call.arguments, Args)
    assert call.arguments.min_confidence == 0.5 and call.arguments.box is None
    for bad in ({"input": "image0", "engine": "paddle"}, {"input": "image0", "box": [10, 10, 5, 20]},
                {"input": "image0", "min_confidence": 1.5}, {"input": "image0", "extra": 1}):
        with pytest.raises(ValidationError):
            ReadTextArgs.model_validate(bad)
    tool = ReadTextTool()
    assert tool.name == "read_text.v1" and tool.result_model is ReadTextResult
    assert tool.describe()["parameters"]["properties"]["engine"]["default"] == "auto"
    ctx = ToolContext(texts={"text": "x"}, settings=Settings(), media={"image0": str(path)})
    tool.check(call.arguments, ctx)
    with pytest.raises(CallError, match=r"not inside input 'image0' \(820x300 pixels\)"):
        tool.check(ReadTextArgs(input="image0", box=[0, 0, 900, 100]), ctx)
    with pytest.raises(CallError, match=r"image inputs: \['image0'\]"):
        tool.check(ReadTextArgs(input="photo"), ctx)
    [result] = tool.run_batch([(call.arguments, ctx)])
    assert isinstance(result, ReadTextResult)
    assert_reads(result, truth)
    assert os.path.exists(path)

"""``read_text.v1``: OCR, the words and lines written in an image, with boxes in original pixels.

Two engines, both offline:

- **Tesseract** (Debian ``tesseract-ocr`` + ``tesseract-ocr-eng``, through pytesseract): its
  own page layout analysis and LSTM recogniser. Exact and tight on documents, screenshots,
  captions and text on plain ground; on textured photo backgrounds its layout analysis
  usually finds no text at all.
- **RapidOCR** (``rapidocr-onnxruntime``: PP-OCRv4 text detection and recognition, ONNX):
  finds text lines anywhere, photos included; its word boxes are built from the
  recogniser's character positions, so they are looser than Tesseract's.

``auto`` (the default) runs both and merges their words of at least ``min_confidence``:
where only one engine read something, its words are kept (RapidOCR fills in the text in
photos that Tesseract does not see); where both read the same place, Tesseract's words
are kept if they spell the same letters (its boxes are tighter), else the more confident
reading wins. A line comes wholly from one engine and says which.

The image is read downscaled when its longer side exceeds ``OCR_MAX_SIDE``; a ``box`` is
read at up to that size for the box itself (so small text in a big image stays legible;
the whole image is then decoded at up to ``REGION_MAX_SIDE``). Boxes are mapped back to
the image's own pixels. Engines load once, lazily; RapidOCR's calls are serialised by a lock
(Tesseract runs as its own process per call).
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from muie.calls import Args
from muie.domain import BBox
from muie.errors import CallError
from muie.shapes import OcrLine, OcrWord
from muie.tools.base import Tool, ToolContext
from muie.tools.media.image_io import ImageInfo, check_box, image_input, load_cached, probe, target_scale

"""Tesseract (layout analysis and LSTM recognition: documents, screenshots, text on
plain ground) or RapidOCR (PP-OCRv4 detection and recognition: text in photos)."""


class ReadTextArgs(Args):
    input: str = Field(description="Id of an image input of this run.")
    box: BBox | None = Field(
        default=None, description="[x0, y0, x1, y1] in original pixels: read only inside it (default: everywhere)."
    )
    engine: Literal["auto", "tesseract", "rapidocr"] = Field(
        default="auto",
        description="auto: Tesseract, with RapidOCR's reading wherever Tesseract read nothing confident.",
    )
    min_confidence: float = Field(default=0.5, ge=0, le=1, description="Least confidence of a word kept.")

    @model_validator(mode="after")
    def _box_ordered(self) -> ReadTextArgs:
        if self.box is not None and (self.box[2] <= self.box[0] or self.box[3] <= self.box[1]):
            raise ValueError(f"box {self.box} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        return self






class ReadTextResult(BaseModel):
    input: str
    width: int = Field(gt=0, description="Image width in pixels, as shown.")
    height: int = Field(gt=0)
    words: list[OcrWord] = Field(default_factory=list, description="In reading order: line by line, left to right.")
    lines: list[OcrLine] = Field(default_factory=list, description="Top to bottom, then left to right.")
    engine: Literal["auto", "tesseract", "rapidocr"] = Field(description="The engine asked for.")


class ReadText(Args):
    """Read the text written in an image input (OCR): words and lines with their boxes and confidences,
    optionally only inside a box."""

    tool: Literal["read_text.v1"] = "read_text.v1"
    arguments: ReadTextArgs


OCR_MAX_SIDE = 3000
"""Longest side of the image (or of the box) an engine reads; a bigger one is read downscaled."""
REGION_MAX_SIDE = 8000
"""Longest side the whole image is decoded at to read a small box of a big image."""
PAD = 16  # replicated border around what Tesseract reads: it misses text touching the edge
TESSERACT_CONFIG = "--oem 1 --psm 3"  # LSTM recogniser, automatic page segmentation
OVERLAP = 0.5  # intersection over the smaller box from which two engines' words are the same place

TESSERACT_MISSING = ("Tesseract is not installed (Debian packages tesseract-ocr and tesseract-ocr-eng, and "
                     "pytesseract; `make setup` installs them)")
RAPIDOCR_MISSING = "RapidOCR is not installed (rapidocr-onnxruntime==1.4.4; `make setup` installs it)"


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the pixels the engine read
    conf: float


Line = list[Word]

# --------------------------------------------------------------------------- engines


@lru_cache(maxsize=1)
def tesseract_problem() -> str | None:
    """Why Tesseract cannot run here, or None when it can (English included)."""
    if shutil.which("tesseract") is None or importlib.util.find_spec("pytesseract") is None:
        return TESSERACT_MISSING
    import pytesseract

    try:
        languages = pytesseract.get_languages(config="")
    except Exception as e:  # noqa: BLE001  (a broken install: say so, as for a missing one)
        return f"{TESSERACT_MISSING}: {e}"
    return None if "eng" in languages else "Tesseract has no English model (Debian package tesseract-ocr-eng)"


def rapidocr_problem() -> str | None:
    return None if importlib.util.find_spec("rapidocr_onnxruntime") is not None else RAPIDOCR_MISSING


def _padded(rgb: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The image with a replicated border, at least 32 px each way; and the border's size."""
    h, w = rgb.shape[:2]
    py, px = max(PAD, (33 - h) // 2), max(PAD, (33 - w) // 2)
    return np.pad(rgb, ((py, py), (px, px), (0, 0)), mode="edge"), px, py


def tesseract_lines(rgb: np.ndarray) -> list[Line]:
    """Tesseract's lines of words (every word, whatever its confidence), in reading order."""
    import pytesseract
    from PIL import Image

    padded, px, py = _padded(rgb)
    d = pytesseract.image_to_data(Image.fromarray(padded), lang="eng", config=TESSERACT_CONFIG,
                                  output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], Line] = {}
    for i, text in enumerate(d["text"]):
        text, conf = str(text).strip(), float(d["conf"][i])
        if d["level"][i] != 5 or not text or conf < 0:
            continue
        x0, y0 = d["left"][i] - px, d["top"][i] - py
        box = (x0, y0, x0 + d["width"][i], y0 + d["height"][i])
        key = (d["block_num"][i], d["par_num"][i], d["line_num"][i])
        lines.setdefault(key, []).append(Word(text, box, min(1.0, conf / 100)))
    return list(lines.values())


_RAPID = None
_RAPID_LOCK = threading.Lock()


def _rapidocr():
    global _RAPID
    with _RAPID_LOCK:
        if _RAPID is None:
            from rapidocr_onnxruntime import RapidOCR

            _RAPID = RapidOCR()
        return _RAPID


def rapidocr_lines(rgb: np.ndarray) -> list[Line]:
    """RapidOCR's lines, split into words at spaces; a word's box is the envelope of its
    characters' boxes (the recogniser's character positions mapped back through the
    line's quadrilateral), or an even share of the line's box when those are missing."""
    engine = _rapidocr()
    with _RAPID_LOCK:  # the engine keeps per-call thresholds on itself
        found, _ = engine(np.ascontiguousarray(rgb[..., ::-1]), return_word_box=True, text_score=0.0)
    lines = []
    for item in found or []:
        quad, text, score = np.asarray(item[0], np.float64), str(item[1]), float(item[2])
        char_boxes, chars, confs = (item[3], item[4], item[5]) if len(item) >= 6 else ([], [], [])
        if len(chars) == len(char_boxes) == len(confs) and "".join(chars) == text and chars:
            words = _words_from_chars(chars, char_boxes, confs)
        else:
            words = _words_by_share(text, quad, score)
        if words:
            lines.append(words)
    return lines


def _words_from_chars(chars: list[str], boxes: list, confs: list[float]) -> Line:
    words, cur = [], []
    for c, b, p in list(zip(chars, boxes, confs)) + [(" ", None, 0.0)]:
        if c.strip():
            cur.append((c, np.asarray(b, np.float64).reshape(-1, 2), float(p)))
        elif cur:
            pts = np.concatenate([b for _, b, _ in cur])
            words.append(Word("".join(c for c, _, _ in cur),
                              (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()),
                              float(np.mean([p for _, _, p in cur]))))
            cur = []
    return words


def _words_by_share(text: str, quad: np.ndarray, score: float) -> Line:
    x0, y0, x1, y1 = quad[:, 0].min(), quad[:, 1].min(), quad[:, 0].max(), quad[:, 1].max()
    n = max(1, len(text))
    words, pos = [], 0
    for token in text.split(" "):
        if token:
            a, b = x0 + (x1 - x0) * pos / n, x0 + (x1 - x0) * (pos + len(token)) / n
            words.append(Word(token, (a, y0, b, y1), score))
        pos += len(token) + 1
    return words


# --------------------------------------------------------------------------- merging and layout


def _overlap_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the smaller box, for every pair of boxes of ``a`` and ``b``."""
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    area = lambda x: np.maximum((x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1]), 1e-9)  # noqa: E731
    return iw * ih / np.minimum(area(a)[:, None], area(b)[None, :])


def _tesseract_wins(ts: list[Word], rs: list[Word]) -> bool:
    """Where both engines read the same place: Tesseract's words when they spell the same
    letters (its boxes are tighter: RapidOCR's come from character cells, loose on short
    words); otherwise the more confident reading."""
    joined = lambda ws: "".join(w.text for w in sorted(ws, key=lambda w: w.box[0]))  # noqa: E731
    if joined(ts) == joined(rs):
        return True
    return float(np.mean([w.conf for w in ts])) >= float(np.mean([w.conf for w in rs]))


def merge(tesseract: list[Line], rapid: list[Line], min_confidence: float) -> list[tuple[str, Line]]:
    """The two engines' confident words as one reading, each line labelled with its engine.

    Words of the two engines that overlap (half the smaller box or more), directly or
    through others, form a group read by both; ``_tesseract_wins`` picks one engine's
    words for each such group. A word only one engine read is kept as it is.
    """
    t = [(i, w) for i, line in enumerate(tesseract) for w in line if w.conf >= min_confidence]
    r = [(i, w) for i, line in enumerate(rapid) for w in line if w.conf >= min_confidence]
    parent = list(range(len(t) + len(r)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    if t and r:
        hits = _overlap_matrix(np.array([w.box for _, w in t], np.float64),
                               np.array([w.box for _, w in r], np.float64)) >= OVERLAP
        for i, j in zip(*np.nonzero(hits)):
            parent[find(int(i))] = find(len(t) + int(j))
    groups: dict[int, list[int]] = {}
    for k in range(len(t) + len(r)):
        groups.setdefault(find(k), []).append(k)
    keep: set[int] = set()
    for members in groups.values():
        ts = [k for k in members if k < len(t)]
        rs = [k for k in members if k >= len(t)]
        if ts and rs:
            won = ts if _tesseract_wins([t[k][1] for k in ts], [r[k - len(t)][1] for k in rs]) else rs
            keep.update(won)
        else:
            keep.update(members)
    out: list[tuple[str, Line]] = []
    for engine, items, base, n in (("tesseract", t, 0, len(tesseract)), ("rapidocr", r, len(t), len(rapid))):
        lines: list[Line] = [[] for _ in range(n)]
        for k, (i, w) in enumerate(items):
            if base + k in keep:
                lines[i].append(w)
        out.extend((engine, line) for line in lines if line)
    return out


def _reading_order(lines: list[tuple[str, Line, list[float]]]) -> list[tuple[str, Line, list[float]]]:
    """Top to bottom; lines whose vertical centres lie within half a line height of each
    other form one row, read left to right."""
    by_y = sorted(lines, key=lambda t: (t[2][1] + t[2][3]) / 2)
    rows: list[list] = []
    for item in by_y:
        cy, h = (item[2][1] + item[2][3]) / 2, item[2][3] - item[2][1]
        if rows:
            last = rows[-1][-1][2]
            if abs(cy - (last[1] + last[3]) / 2) < 0.5 * min(h, last[3] - last[1]):
                rows[-1].append(item)
                continue
        rows.append([item])
    return [item for row in rows for item in sorted(row, key=lambda t: t[2][0])]


def _r(v: float) -> float:
    return round(float(v), 1)


def build_result(input_id: str, info: ImageInfo, engine: str, lines: list[tuple[str, Line]],
                 offset: tuple[float, float], scale: float, clip: tuple[float, float, float, float]) -> ReadTextResult:
    """Lines read on an array (``offset`` into it, made at ``scale``) as a result in the
    image's own pixels, clipped to ``clip``."""
    ox, oy = offset
    cx0, cy0, cx1, cy1 = clip

    def orig(box: tuple[float, ...]) -> list[float]:
        x0, y0, x1, y1 = ((box[0] + ox) / scale, (box[1] + oy) / scale, (box[2] + ox) / scale, (box[3] + oy) / scale)
        x0, x1 = min(max(x0, cx0), cx1), min(max(x1, cx0), cx1)
        y0, y1 = min(max(y0, cy0), cy1), min(max(y1, cy0), cy1)
        return [_r(x0), _r(y0), _r(max(x0, x1)), _r(max(y0, y1))]

    placed = []
    for eng, line in lines:
        words = sorted(((w, orig(w.box)) for w in line), key=lambda t: t[1][0])
        union = [min(b[0] for _, b in words), min(b[1] for _, b in words),
                 max(b[2] for _, b in words), max(b[3] for _, b in words)]
        placed.append((eng, words, union))
    out_words: list[OcrWord] = []
    out_lines: list[OcrLine] = []
    for eng, words, union in _reading_order(placed):
        idx = list(range(len(out_words), len(out_words) + len(words)))
        for w, b in words:
            out_words.append(OcrWord(text=w.text, bbox=b, confidence=round(min(1.0, max(0.0, w.conf)), 4),
                                     line=len(out_lines)))
        out_lines.append(OcrLine(text=" ".join(w.text for w, _ in words), bbox=union, words=idx, engine=eng,
                                 confidence=round(float(np.mean([min(1.0, max(0.0, w.conf)) for w, _ in words])), 4)))
    return ReadTextResult(input=input_id, width=info.width, height=info.height, words=out_words, lines=out_lines,
                          engine=engine)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the tool


def read_array(rgb: np.ndarray, engine: str, min_confidence: float) -> list[tuple[str, Line]]:
    """What the engine(s) read on an RGB array, words under ``min_confidence`` dropped."""
    if engine == "tesseract":
        return merge(tesseract_lines(rgb), [], min_confidence)
    if engine == "rapidocr":
        return merge([], rapidocr_lines(rgb), min_confidence)
    tess = tesseract_lines(rgb) if tesseract_problem() is None else []
    rapid = rapidocr_lines(rgb) if rapidocr_problem() is None else []
    return merge(tess, rapid, min_confidence)


def read_image(path: str, input_id: str, engine: str = "auto", box: list[float] | None = None,
               min_confidence: float = 0.5) -> ReadTextResult:
    """Read an image file, or the ``box`` of it; boxes in the image's own pixels.

    The image is decoded with its longer side at most ``OCR_MAX_SIDE`` (one decode shared
    by every call on it). A box that this decode shrinks more than reading the box alone
    at ``OCR_MAX_SIDE`` would is cut from a decode of up to ``REGION_MAX_SIDE`` instead;
    a cut longer than ``OCR_MAX_SIDE`` is brought down to it.
    """
    import cv2

    info = probe(path)
    x0, y0, x1, y1 = box if box is not None else (0.0, 0.0, float(info.width), float(info.height))
    side = max(x1 - x0, y1 - y0)
    max_side = OCR_MAX_SIDE
    if box is not None and target_scale(info.width, info.height, OCR_MAX_SIDE) < min(1.0, OCR_MAX_SIDE / side):
        max_side = REGION_MAX_SIDE
    rgb, scale = load_cached(path, max_side)
    h, w = rgb.shape[:2]
    a0, b0 = min(w - 1, int(math.floor(x0 * scale))), min(h - 1, int(math.floor(y0 * scale)))
    a1, b1 = max(a0 + 1, min(w, int(math.ceil(x1 * scale)))), max(b0 + 1, min(h, int(math.ceil(y1 * scale))))
    crop = rgb[b0:b1, a0:a1]
    f = min(1.0, OCR_MAX_SIDE / max(crop.shape[:2]))
    if f < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    lines = read_array(crop, engine, min_confidence)
    return build_result(input_id, info, engine, lines, (a0 * f, b0 * f), scale * f, (x0, y0, x1, y1))


class ReadTextTool(Tool[ReadTextArgs, ReadTextResult]):
    name = "read_text.v1"
    modality = "image"
    call_model = ReadText
    result_model = ReadTextResult

    def check(self, args: ReadTextArgs, ctx: ToolContext) -> None:
        check_box(image_input(ctx, args.input), args.box, args.input)
        tess, rapid = tesseract_problem(), rapidocr_problem()
        if args.engine == "tesseract" and tess:
            raise CallError(tess)
        if args.engine == "rapidocr" and rapid:
            raise CallError(rapid)
        if args.engine == "auto" and tess and rapid:
            raise CallError(f"no OCR engine is installed: {tess}; {rapid}")

    def run_batch(self, items: list[tuple[ReadTextArgs, ToolContext]]) -> list[ReadTextResult]:
        return [read_image(ctx.media[a.input], a.input, a.engine, a.box, a.min_confidence) for a, ctx in items]

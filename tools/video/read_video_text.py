"""``read_video_text.v1``: OCR on a video's keyframes, each line once.

The keyframes are decoded in one streamed pass (``tools.video_io``, one frame a second
looked at); each is read by ``tools.read_text``'s engines at the video's own size (at
most ``OCR_MAX_SIDE``), lines already read on an earlier keyframe dropped (compared by
their letters and digits, so that the same words read with other spacing are one line).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from muie.calls import Args
from muie.domain import BBox
from muie.errors import CallError
from muie.shapes import OcrLine, OcrWord
from muie.tools.base import Tool, ToolContext
from muie.tools.image.read_text import (
    OCR_MAX_SIDE,
    ReadTextResult,
    build_result,
    rapidocr_problem,
    read_array,
    tesseract_problem,
)
from muie.tools.media.video_io import VideoInfo, frames, probe, video_input


class ReadVideoTextArgs(Args):
    input: str = Field(description="Id of a video input of this run.")
    frames: int = Field(default=3, ge=1, le=64, description="Keyframes read, spread over the video.")
    box: BBox | None = Field(default=None, description="[x0, y0, x1, y1] in the video's pixels: read only inside it.")
    engine: Literal["auto", "tesseract", "rapidocr"] = Field(default="auto", description="As read_text.v1's.")
    min_confidence: float = Field(default=0.5, ge=0, le=1, description="Least confidence of a word kept.")


class VideoOcrWord(OcrWord):
    frame: int = Field(ge=0, description="The frame it was read on.")
    time_s: float = Field(ge=0, description="That frame's time, in seconds.")


class ReadVideoTextResult(ReadTextResult):
    words: list[VideoOcrWord] = Field(default_factory=list,  # type: ignore[assignment]
                                      description="In order of appearance, then line by line, left to right.")
    keyframes: list[int] = Field(default_factory=list, description="The frames read.")


class ReadVideoText(Args):
    """Read the words on screen in a video input (OCR on keyframes spread over it): words and lines with their
    boxes, the frame each was read on; a line shown on several keyframes comes once."""

    tool: Literal["read_video_text.v1"] = "read_video_text.v1"
    arguments: ReadVideoTextArgs


def keyframe_times(duration_s: float, n: int) -> list[float]:
    """The start of each of ``n`` equal stretches of the video."""
    return [duration_s * k / n for k in range(n)]


def read_video(path: str, input_id: str, n: int, engine: str, box: list[float] | None,
               min_confidence: float) -> ReadVideoTextResult:
    info: VideoInfo = probe(path)
    wanted = keyframe_times(info.duration_s, n)
    words: list[VideoOcrWord] = []
    lines: list[OcrLine] = []
    seen: set[str] = set()
    read: list[int] = []
    for f in frames(path, max_side=OCR_MAX_SIDE):
        if not wanted or f.time_s + 1e-6 < wanted[0]:
            if not wanted:
                break
            continue
        while wanted and f.time_s + 1e-6 >= wanted[0]:
            wanted.pop(0)
        read.append(f.index)
        rgb = f.rgb
        scale = rgb.shape[1] / info.width
        x0, y0, x1, y1 = box if box is not None else (0.0, 0.0, float(info.width), float(info.height))
        a0, b0 = int(x0 * scale), int(y0 * scale)
        crop = rgb[b0:max(b0 + 1, int(round(y1 * scale))), a0:max(a0 + 1, int(round(x1 * scale)))]
        one = build_result(input_id, info, engine, read_array(crop, engine, min_confidence),  # type: ignore[arg-type]
                           (a0, b0), scale, (x0, y0, x1, y1))
        for line in one.lines:
            key = "".join(ch for ch in line.text.lower() if ch.isalnum())  # the same words, however spaced
            if not key or key in seen:
                continue
            seen.add(key)
            idx = list(range(len(words), len(words) + len(line.words)))
            for i in line.words:
                w = one.words[i]
                words.append(VideoOcrWord(text=w.text, bbox=w.bbox, confidence=w.confidence, line=len(lines),
                                          frame=f.index, time_s=f.time_s))
            lines.append(line.model_copy(update={"words": idx}))
    return ReadVideoTextResult(input=input_id, width=info.width, height=info.height, words=words, lines=lines,
                               engine=engine, keyframes=read)  # type: ignore[arg-type]


class ReadVideoTextTool(Tool[ReadVideoTextArgs, ReadVideoTextResult]):
    name = "read_video_text.v1"
    modality = "video"
    call_model = ReadVideoText
    result_model = ReadVideoTextResult

    def check(self, args: ReadVideoTextArgs, ctx: ToolContext) -> None:
        info = video_input(ctx, args.input)
        if args.box is not None:
            x0, y0, x1, y1 = args.box
            if x1 <= x0 or y1 <= y0 or x0 < 0 or y0 < 0 or x1 > info.width or y1 > info.height:
                raise CallError(f"box {list(args.box)} is not a box inside input {args.input!r} "
                                f"({info.width}x{info.height} pixels)")
        if tesseract_problem() and rapidocr_problem():
            raise CallError(f"no OCR engine is installed: {tesseract_problem()}; {rapidocr_problem()}")

    def run_batch(self, items: list[tuple[ReadVideoTextArgs, ToolContext]]) -> list[ReadVideoTextResult]:
        return [read_video(ctx.media[a.input], a.input, a.frames, a.engine, a.box, a.min_confidence)
                for a, ctx in items]

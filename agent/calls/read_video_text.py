"""The ``read_video_text.v1`` call: the words on screen in a video input, read on keyframes.

Keyframes are spread over the video (the first frame of each stretch of
``1 / frames`` of its length); each is read like an image (``read_text.v1``'s engines).
A line already read on an earlier keyframe is not read again (a title that stays on
screen is one line), so the result is the words of the video once each, in the order
they first appear, each with the frame it was read on and its box there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.calls import _Args
from agent.calls.read_text import OcrWord, ReadTextResult
from agent.domain import BBox


class ReadVideoTextArgs(_Args):
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


class ReadVideoText(_Args):
    """Read the words on screen in a video input (OCR on keyframes spread over it): words and lines with their
    boxes, the frame each was read on; a line shown on several keyframes comes once."""

    tool: Literal["read_video_text.v1"] = "read_video_text.v1"
    arguments: ReadVideoTextArgs

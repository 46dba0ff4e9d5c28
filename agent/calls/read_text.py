"""The ``read_text.v1`` call: the words and lines written in an image input, with boxes.

Boxes are ``[x0, y0, x1, y1]`` in the original image's pixels (as shown, after EXIF
orientation), whatever size the engine read the image at. Imports only the domain model
and the shared argument base.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from agent.calls import _Args
from agent.domain import BBox

OcrEngine = Literal["tesseract", "rapidocr"]
"""Tesseract (layout analysis and LSTM recognition: documents, screenshots, text on
plain ground) or RapidOCR (PP-OCRv4 detection and recognition: text in photos)."""


class ReadTextArgs(_Args):
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
    def _box_ordered(self) -> "ReadTextArgs":
        if self.box is not None and (self.box[2] <= self.box[0] or self.box[3] <= self.box[1]):
            raise ValueError(f"box {self.box} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        return self


class OcrWord(BaseModel):
    text: str = Field(min_length=1)
    bbox: BBox = Field(description="[x0, y0, x1, y1] in original pixels.")
    confidence: float = Field(ge=0, le=1)
    line: int = Field(ge=0, description="Index of its line in the result's lines.")


class OcrLine(BaseModel):
    text: str = Field(description="Its words joined by single spaces.")
    bbox: BBox = Field(description="[x0, y0, x1, y1] in original pixels: the union of its words' boxes.")
    confidence: float = Field(ge=0, le=1, description="Mean confidence of its words.")
    words: list[int] = Field(default_factory=list, description="Indexes of its words in the result's words.")
    engine: OcrEngine = Field(description="The engine that read it.")


class ReadTextResult(BaseModel):
    input: str
    width: int = Field(gt=0, description="Image width in pixels, as shown.")
    height: int = Field(gt=0)
    words: list[OcrWord] = Field(default_factory=list, description="In reading order: line by line, left to right.")
    lines: list[OcrLine] = Field(default_factory=list, description="Top to bottom, then left to right.")
    engine: Literal["auto", "tesseract", "rapidocr"] = Field(description="The engine asked for.")


class ReadText(_Args):
    """Read the text written in an image input (OCR): words and lines with their boxes and confidences,
    optionally only inside a box."""

    tool: Literal["read_text.v1"] = "read_text.v1"
    arguments: ReadTextArgs

"""``detect.v1``: people, faces and the 80 COCO object classes in an image, as boxes.

Boxes are ``[x0, y0, x1, y1]`` in the original image's pixels (as shown, after EXIF
orientation); person masks are COCO RLE over the whole image. Imports only the domain
model and the shared argument base.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.calls import _Args
from agent.domain import RLE, BBox

DetectionSource = Literal["nanodet", "mediapipe", "haar"]
"""Which model found a detection: NanoDet (COCO objects and people), MediaPipe (faces,
a person's pose and mask), OpenCV's Haar cascade (faces, when MediaPipe finds none)."""


class DetectArgs(_Args):
    input: str = Field(description="Id of an image input of this run.")
    classes: list[str] | None = Field(
        default=None, min_length=1,
        description="Labels to keep: COCO class names (person, car, dog, cup, ...) and 'face'; default: all.",
    )
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Least score kept, for every source (default: each source's own)."
    )
    max_detections: int = Field(default=100, ge=1, le=1000, description="Most detections returned, best first.")
    masks: bool = Field(default=True, description="Give person masks where the person model has them.")


class Detection(BaseModel):
    label: str = Field(description="A COCO class name, or 'face'.")
    bbox: BBox = Field(description="[x0, y0, x1, y1] in original image pixels.")
    score: float = Field(ge=0, le=1)
    source: DetectionSource = Field(description="The model whose box this is.")
    sources: list[DetectionSource] = Field(
        default_factory=list, description="Every model that found this object (duplicates merged into one)."
    )
    mask: RLE | None = Field(default=None, description="The object's pixels, COCO RLE over the whole image.")


class DetectResult(BaseModel):
    input: str
    width: int = Field(gt=0, description="Image width in pixels, as shown.")
    height: int = Field(gt=0)
    detections: list[Detection] = Field(default_factory=list, description="Best score first.")


class Detect(_Args):
    """Find people, faces and COCO objects (car, dog, cup, chair, ...) in an image input: labelled boxes
    with scores, and person masks."""

    tool: Literal["detect.v1"] = "detect.v1"
    arguments: DetectArgs

"""What the image tools speak: a region with its labels, a link between an entity and a
region, a thing seen that nobody names (in a
picture or a video), a word and a line read; shared by the tools and
their helpers (each tool's own arguments and result stay beside it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from muie.domain import RLE, BBox

OcrEngine = Literal["tesseract", "rapidocr"]


class ProposalLabel(BaseModel):
    """What a classifier or detector saw in a region, with its probability."""

    name: str
    score: float = Field(ge=0, le=1)
    source: str = Field(description="imagenet (the EfficientNet classifier) or the detector that gave it.")


class ImageRegion(BaseModel):
    bbox: BBox = Field(description="[x0, y0, x1, y1] in original pixels, the tight box of the mask.")
    mask: RLE
    score: float = Field(ge=0, le=1)
    source: str = Field(description="Which proposal it is: salient, component, detector, segment, image, grabcut.")
    by: Literal["text", "type", "box", "point"] | None = Field(
        default=None,
        description="What chose it: the target's words; its type only (the words name nothing the models know, "
        "e.g. a person's name: any thing of the type fits); the box; the point.",
    )
    labels: list[ProposalLabel] = Field(default_factory=list, description="Best labels of the region, best first.")


class LinkTarget(BaseModel):
    id: str = Field(description="The entity's id in the draft.")
    text: str = Field(min_length=1)
    type: str = Field(min_length=1)


class RegionLink(BaseModel):
    id: str = Field(description="The target's id.")
    region: ImageRegion
    score: float = Field(ge=0, le=1)
    seen_as: str | None = Field(default=None, description=(
        "What the person tools see the region as (\"person\"), when the target was linked by its type alone (a "
        "name) and that is another of the schema's types than the target's: the type the picture gives it."))


class SeenRegion(BaseModel):
    text: str = Field(min_length=1, description="The thing's name, from its label in plain words.")
    type: str = Field(min_length=1)
    label: str = Field(description="The label it was named from.")
    region: ImageRegion
    score: float = Field(ge=0, le=1)


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


class SeenThing(BaseModel):
    text: str = Field(description="The thing's name, from its label in plain words.")
    type: str
    score: float = Field(ge=0, le=1)
    label: str = Field(description="The label it was named from.")
    frame: int = Field(ge=0)
    time_s: float = Field(ge=0)
    bbox: BBox = Field(description="Its box on that frame, in the video's pixels.")

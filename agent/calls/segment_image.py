"""The ``segment_image.v1`` call: find the region(s) of a target in an image input.

A target is named by words (an entity's text and, optionally, its type), or placed by a
box or a point, or both: the words say what, the box or point says where. The result
holds every region found, best first, each with its box ``[x0, y0, x1, y1]`` and COCO
RLE mask in the image's original pixels; a target the picture does not show gets no
region at all (the score threshold keeps weak matches out).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from agent.calls import _Args
from agent.domain import RLE, BBox

Point = Annotated[list[float], Field(min_length=2, max_length=2)]


class SegmentImageArgs(_Args):
    """What to segment in which image: words, a box, a point, or words with a place."""

    input: str = Field(description="Id of an image input of this run.")
    text: str | None = Field(default=None, min_length=1, description="The target's words, e.g. 'cat', 'espresso'.")
    entity_type: str | None = Field(default=None, min_length=1, description="The target's type, e.g. 'animal'.")
    box: BBox | None = Field(default=None, description="[x0, y0, x1, y1] in original pixels: segment what is in it.")
    point: Point | None = Field(
        default=None, description="[x, y] in original pixels: segment what is under it (a box, when given, wins)."
    )
    max_regions: int = Field(default=5, ge=1, le=100, description="Most regions returned (several instances).")
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Least score of a region found by words; default: the setting."
    )
    entity: str | None = Field(default=None, description="The draft entity this call grounds, if any.")

    @model_validator(mode="after")
    def _has_target(self) -> "SegmentImageArgs":
        if self.text is None and self.box is None and self.point is None:
            raise ValueError("name a target: text (with an optional entity_type), a box, or a point")
        if self.box is not None and (self.box[2] <= self.box[0] or self.box[3] <= self.box[1]):
            raise ValueError(f"box {self.box} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        return self


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


class SegmentImageResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    regions: list[ImageRegion] = Field(default_factory=list, description="Best first; empty when the target is absent.")


class SegmentImage(_Args):
    """Segment a target in an image input, named by words (entity text and type), a box or a point; returns masks
    and boxes, or no region when the picture does not show it."""

    tool: Literal["segment_image.v1"] = "segment_image.v1"
    arguments: SegmentImageArgs

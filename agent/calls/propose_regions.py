"""The ``propose_regions.v1`` call: perceive an image: its labelled region proposals.

What the image shows before anything is asked of it: salient objects and their pieces,
detections, segments, each with a mask, a box, how likely it is one whole thing, and its
best labels (detector class, ImageNet classes). Later calls on the same image
(``link_regions``, ``segment_image``) reuse this perception.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.calls import _Args
from agent.calls.segment_image import ImageRegion


class ProposeRegionsArgs(_Args):
    input: str = Field(description="Id of an image input of this run.")
    max_regions: int = Field(default=50, ge=1, le=500, description="Most proposals returned, best quality first.")


class ProposeRegionsResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    regions: list[ImageRegion] = Field(default_factory=list, description="Best quality first; score = quality.")


class ProposeRegions(_Args):
    """Perceive an image input: its region proposals (salient objects, detections, segments) with masks, boxes,
    quality and labels. Other image calls on the same input reuse this perception."""

    tool: Literal["propose_regions.v1"] = "propose_regions.v1"
    arguments: ProposeRegionsArgs

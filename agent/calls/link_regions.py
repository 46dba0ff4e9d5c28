"""The ``link_regions.v1`` call: the entities of a run linked to the regions of an image,
all at once.

Each target (an entity's id, text and type) is scored against every labelled region
proposal of the image; the assignment is solved jointly (one object in the picture is
never two different entities), and a target whose best score is under the threshold
gets no region: a caption may name what the picture does not show.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.calls import _Args
from agent.calls.segment_image import ImageRegion


class LinkTarget(BaseModel):
    id: str = Field(description="The entity's id in the draft.")
    text: str = Field(min_length=1)
    type: str = Field(min_length=1)


class LinkRegionsArgs(_Args):
    input: str = Field(description="Id of an image input of this run.")
    targets: list[LinkTarget] = Field(min_length=1, max_length=256)
    min_score: float | None = Field(default=None, ge=0, le=1, description="Least score of a link; default: the setting.")


class RegionLink(BaseModel):
    id: str = Field(description="The target's id.")
    region: ImageRegion
    score: float = Field(ge=0, le=1)


class LinkRegionsResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    links: list[RegionLink] = Field(default_factory=list, description="One per target that is seen; none for the rest.")


class LinkRegions(_Args):
    """Link entities (id, text, type) to the regions of an image input that show them, solved jointly over all
    entities and regions; an entity the picture does not show gets no region."""

    tool: Literal["link_regions.v1"] = "link_regions.v1"
    arguments: LinkRegionsArgs

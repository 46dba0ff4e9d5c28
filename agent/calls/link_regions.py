"""The ``link_regions.v1`` call: the entities of a run linked to the regions of an image,
all at once.

Each target (an entity's id, text and type) is scored against every labelled region
proposal of the image; the assignment is solved jointly (one object in the picture is
never two different entities), and a target whose best score is under the threshold
gets no region: a caption may name what the picture does not show.

Given the schema's entity types (``unnamed``), the call also returns what the picture
shows that no target claims: whole objects of enough quality, named in plain words by
their labels and typed by meaning (``seen``): an entity only seen is still extracted.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from agent.calls import _Args
from agent.domain import BBox
from agent.calls.segment_image import ImageRegion


class LinkTarget(BaseModel):
    id: str = Field(description="The entity's id in the draft.")
    text: str = Field(min_length=1)
    type: str = Field(min_length=1)


class LinkRegionsArgs(_Args):
    input: str = Field(description="Id of an image input of this run.")
    targets: list[LinkTarget] = Field(default_factory=list, max_length=256)
    min_score: float | None = Field(default=None, ge=0, le=1, description="Least score of a link; default: the setting.")
    unnamed: list[str] = Field(default_factory=list, max_length=256, description=(
        "The schema's entity types: when given, the whole objects no target claims are returned too, "
        "named by their labels and typed by these."))
    claimed: list[BBox] = Field(default_factory=list, max_length=1024, description=(
        "Boxes already grounded in this image otherwise (words read there): objects they cover are not unnamed."))
    min_quality: float = Field(default=0.8, ge=0, le=1, description="Least quality of an unnamed object.")
    type_threshold: float = Field(default=0.4, ge=0, le=1,
                                  description="Least similarity of an unnamed object's name to its type.")
    max_unnamed: int = Field(default=4, ge=0, le=32, description="Most unnamed objects, best first.")

    @model_validator(mode="after")
    def _something_to_do(self) -> "LinkRegionsArgs":
        if not self.targets and not self.unnamed:
            raise ValueError("give targets, or the entity types to name what is seen (unnamed), or both")
        return self


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


class LinkRegionsResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    links: list[RegionLink] = Field(default_factory=list, description="One per target that is seen; none for the rest.")
    seen: list[SeenRegion] = Field(default_factory=list, description="What no target claims (when asked: unnamed).")


class LinkRegions(_Args):
    """Link entities (id, text, type) to the regions of an image input that show them, solved jointly over all
    entities and regions; an entity the picture does not show gets no region. With the schema's entity types
    (unnamed), also return the things the picture shows that no entity claims, named and typed."""

    tool: Literal["link_regions.v1"] = "link_regions.v1"
    arguments: LinkRegionsArgs

"""The ``find_video_things.v1`` call: what a video shows that nobody names.

On the first frame of each of its first shots, the image tools' labelled region proposals
(whole objects only: salient pieces, detections) are named by their labels in plain
words (the detector's class, or the narrowest group of the ImageNet class: "cat" for a
tabby) and typed by the schema's entity types by meaning; a thing no type fits is left
out. Each thing comes with its box on that frame, ready to be tracked from there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.calls import _Args
from agent.domain import BBox


class FindVideoThingsArgs(_Args):
    input: str = Field(description="Id of a video input of this run.")
    entity_types: list[str] = Field(min_length=1, description="The schema's entity types, to type what is seen.")
    shots: int = Field(default=3, ge=1, le=64, description="Shots whose first frame is looked at, from the start.")
    max_things: int = Field(default=3, ge=1, le=32, description="Most things per frame, best first.")
    min_quality: float = Field(default=0.75, ge=0, le=1, description="Least quality of a proposal (a whole thing).")
    threshold: float = Field(default=0.3, ge=0, le=1, description="Least similarity of a thing's name to its type.")


class SeenThing(BaseModel):
    text: str = Field(description="The thing's name, from its label in plain words.")
    type: str
    score: float = Field(ge=0, le=1)
    label: str = Field(description="The label it was named from.")
    frame: int = Field(ge=0)
    time_s: float = Field(ge=0)
    bbox: BBox = Field(description="Its box on that frame, in the video's pixels.")


class FindVideoThingsResult(BaseModel):
    input: str
    frames: list[int] = Field(default_factory=list, description="The frames looked at.")
    things: list[SeenThing] = Field(default_factory=list)


class FindVideoThings(_Args):
    """Find the things a video input shows (labelled whole objects on the first frame of its shots), named in plain
    words and typed by the schema, each with its box on a frame to track it from."""

    tool: Literal["find_video_things.v1"] = "find_video_things.v1"
    arguments: FindVideoThingsArgs

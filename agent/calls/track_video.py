"""The ``track_video.v1`` call: follow a target through a video input's frames.

A target is named by words (an entity's text and, optionally, its type), found by the
image tools on keyframes, or placed by a box on one frame. The result is one track: a
box per sampled frame where the target is visible (and its mask on the frames where the
image tools gave one), in the video's pixels, with the frame number and its time; the
shot cuts found on the way; no frame at all when the target never shows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from agent.calls import _Args
from agent.domain import BBox, TrackFrame


class TrackVideoArgs(_Args):
    """What to follow in which video: words (text and type), or a box on a frame."""

    input: str = Field(description="Id of a video input of this run.")
    text: str | None = Field(default=None, min_length=1, description="The target's words, e.g. 'cat'.")
    entity_type: str | None = Field(default=None, min_length=1, description="The target's type, e.g. 'animal'.")
    box: BBox | None = Field(default=None, description="[x0, y0, x1, y1] in the video's pixels on frame `frame`.")
    frame: int | None = Field(default=None, ge=0, description="The frame the box is on (default 0).")
    start_s: float | None = Field(default=None, ge=0, description="Window start (default: the beginning).")
    end_s: float | None = Field(default=None, gt=0, description="Window end (default: the end).")
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Least score of a detection by words; default: the setting.")

    @model_validator(mode="after")
    def _has_target(self) -> "TrackVideoArgs":
        if self.text is None and self.box is None:
            raise ValueError("name a target: text (with an optional entity_type), or a box on a frame")
        if self.box is not None and (self.box[2] <= self.box[0] or self.box[3] <= self.box[1]):
            raise ValueError(f"box {self.box} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        if self.frame is not None and self.box is None:
            raise ValueError("frame places a box: give box too")
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s {self.end_s} must be after start_s {self.start_s}")
        return self


class TrackVideoResult(BaseModel):
    input: str
    fps: float = Field(gt=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    sampled: int = Field(ge=0, description="Frames looked at (sampled at the setting's rate).")
    cuts: list[int] = Field(default_factory=list, description="Frame numbers that start a new shot.")
    frames: list[TrackFrame] = Field(default_factory=list, description="The track: frames where the target shows.")
    score: float = Field(default=0.0, ge=0, le=1, description="Mean score of the track's frames.")
    label: str | None = Field(default=None, description="What the detection saw (its best label).")
    by: Literal["text", "type", "box"] | None = None


class TrackVideo(_Args):
    """Track a target through a video input: named by words (entity text and type), or a box on a frame; returns its
    box per frame where it is visible (masks where the image tools give them), across shot cuts without jumping."""

    tool: Literal["track_video.v1"] = "track_video.v1"
    arguments: TrackVideoArgs

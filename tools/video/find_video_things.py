"""``find_video_things.v1``: things a video shows, named and typed, each with a box to track.

The first frame of each of the first ``shots`` shots is perceived by the image tools
(``tools.proposals``); whole objects of enough quality that do not fill the frame are
kept, one per place (overlapping ones give way to the best), at most ``max_things`` a
frame. Each is named and typed as ``tools.naming`` says (the detector's class or the
plain word of its ImageNet class; the schema's closest type, if close enough).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from muie.calls import Args
from muie.shapes import SeenThing
from muie.tools.base import Tool, ToolContext
from muie.tools.image.naming import name_of, seen_score, types_of, whole_objects
from muie.tools.media.video_io import frames, probe, video_input
from muie.tools.video.shots import ShotDetector


class FindVideoThingsArgs(Args):
    input: str = Field(description="Id of a video input of this run.")
    entity_types: list[str] = Field(min_length=1, description="The schema's entity types, to type what is seen.")
    shots: int = Field(default=3, ge=1, le=64, description="Shots whose first frame is looked at, from the start.")
    max_things: int = Field(default=3, ge=1, le=32, description="Most things per frame, best first.")
    min_quality: float = Field(default=0.75, ge=0, le=1, description="Least quality of a proposal (a whole thing).")
    threshold: float = Field(default=0.3, ge=0, le=1, description="Least similarity of a thing's name to its type.")


class FindVideoThingsResult(BaseModel):
    input: str
    frames: list[int] = Field(default_factory=list, description="The frames looked at.")
    things: list[SeenThing] = Field(default_factory=list)


class FindVideoThings(Args):
    """Find the things a video input shows (labelled whole objects on the first frame of its shots), named in plain
    words and typed by the schema, each with its box on a frame to track it from."""

    tool: Literal["find_video_things.v1"] = "find_video_things.v1"
    arguments: FindVideoThingsArgs


LOOK_SIDE = 640
"""Longest side of a frame given to the image tools."""


def find(path: str, args: FindVideoThingsArgs, ctx: ToolContext) -> FindVideoThingsResult:
    from muie.tools.image.proposals import perceive

    info = probe(path)
    shots = ShotDetector(ctx.settings.video_cut_threshold)
    looked: list[int] = []
    things: list[SeenThing] = []
    for f in frames(path, ctx.settings.video_sample_fps, ctx.settings.video_track_side):
        cut = shots.is_cut(f.rgb)
        if looked and not cut:
            continue
        if len(looked) >= args.shots:
            break
        looked.append(f.index)
        pic = f.picture(LOOK_SIDE)
        perc = perceive(pic, model=ctx.settings.salient_model)
        s = info.width / pic.shape[1]
        kept = whole_objects(perc.proposals, args.min_quality, args.max_things)
        if not kept:
            continue
        named = [name_of(p) for p in kept]
        typed = types_of([n for n, _, _ in named], args.entity_types, ctx.descriptions,
                         ctx.settings.embedding_model, args.threshold)
        for p, (name, label, score), type_ in zip(kept, named, typed):
            if type_ is None:
                continue
            box = [round(float(v) * s, 2) for v in p.box]
            box = [min(max(box[0], 0), info.width), min(max(box[1], 0), info.height),
                   min(max(box[2], 0), info.width), min(max(box[3], 0), info.height)]
            things.append(SeenThing(text=name, type=type_, label=label, frame=f.index,
                                    time_s=f.time_s, bbox=box,
                                    score=round(seen_score(p.quality, score), 4)))
    return FindVideoThingsResult(input=args.input, frames=looked, things=things)


class FindVideoThingsTool(Tool[FindVideoThingsArgs, FindVideoThingsResult]):
    name = "find_video_things.v1"
    modality = "video"
    call_model = FindVideoThings
    result_model = FindVideoThingsResult

    def check(self, args: FindVideoThingsArgs, ctx: ToolContext) -> None:
        video_input(ctx, args.input)

    def run_batch(self, items: list[tuple[FindVideoThingsArgs, ToolContext]]) -> list[FindVideoThingsResult]:
        return [find(ctx.media[a.input], a, ctx) for a, ctx in items]

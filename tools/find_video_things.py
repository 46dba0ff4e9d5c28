"""``find_video_things.v1``: things a video shows, named and typed, each with a box to track.

The first frame of each of the first ``shots`` shots is perceived by the image tools
(``tools.proposals``); whole objects of enough quality that do not fill the frame are
kept, one per place (overlapping ones give way to the best), at most ``max_things`` a
frame. Each is named and typed as ``tools.naming`` says (the detector's class or the
plain word of its ImageNet class; the schema's closest type, if close enough).
"""

from __future__ import annotations

from agent.calls.find_video_things import FindVideoThings, FindVideoThingsArgs, FindVideoThingsResult, SeenThing
from tools.base import Tool, ToolContext
from tools.naming import name_of, seen_score, types_of, whole_objects
from tools.shots import ShotDetector
from tools.video_io import frames, probe, video_input

LOOK_SIDE = 640
"""Longest side of a frame given to the image tools."""


def find(path: str, args: FindVideoThingsArgs, ctx: ToolContext) -> FindVideoThingsResult:
    from tools.proposals import perceive

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
    call_model = FindVideoThings
    result_model = FindVideoThingsResult

    def check(self, args: FindVideoThingsArgs, ctx: ToolContext) -> None:
        video_input(ctx, args.input)

    def run_batch(self, items: list[tuple[FindVideoThingsArgs, ToolContext]]) -> list[FindVideoThingsResult]:
        return [find(ctx.media[a.input], a, ctx) for a, ctx in items]

"""``track_video.v1``: a target followed through a video, one box per frame where it shows.

The video is decoded once for all the targets asked of it in one batch (streamed,
sampled at ``video_sample_fps``, at ``video_track_side`` pixels for tracking). On the
way, shot cuts are found (``tools.shots``): at each cut every target is lost, so no
track jumps from one shot into the next, and a target named by words is looked for
again in the new shot.

- A target named by words is detected with the image tools (``tools.segment_image``:
  labelled region proposals matched to the words, a mask and a box) on the first frame
  of each shot, then, while it is not found (or lost and not found again by its looks),
  every ``video_detect_s`` seconds, the wait doubling after each miss. The frames where
  it is detected carry its mask.
- A target placed by a box starts on the box's frame.
- From there ``tools.tracker.Follower`` follows it (CSRT, checked against its looks at
  keyframes, which also find it again when it comes back into view).

With ``video_tracker = sam2`` SAM 2's video predictor follows the targets instead, chunk
by chunk (``tools.track_sam2``), a mask on every frame.

Boxes and masks come back in the video's own pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from muie.calls import Args, CallKey
from muie.domain import BBox, TrackFrame
from muie.errors import CallError
from muie.settings import Settings
from muie.tools.audio.windows import window_key
from muie.tools.base import Tool, ToolContext
from muie.tools.image.segment_image import SegmentImageArgs
from muie.tools.media.video_io import VideoInfo, frames, probe, video_input
from muie.tools.video.locate import gray
from muie.tools.video.shots import ShotDetector
from muie.tools.video.tracker import Follower


class TrackVideoArgs(Args):
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
    def _has_target(self) -> TrackVideoArgs:
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


class TrackVideo(Args):
    """Track a target through a video input: named by words (entity text and type), or a box on a frame; returns its
    box per frame where it is visible (masks where the image tools give them), across shot cuts without jumping."""

    tool: Literal["track_video.v1"] = "track_video.v1"
    arguments: TrackVideoArgs


DETECT_SIDE = 640
"""Longest side of a frame given to the image tools."""
MAX_BACKOFF = 16


@dataclass
class _Target:
    args: TrackVideoArgs
    settings: Settings
    follower: Follower = field(default_factory=Follower)
    out: list[TrackFrame] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    next_detect: float = 0.0
    gap: float = 0.0
    label: str | None = None
    by: str | None = None

    def found(self, region, now_s: float) -> None:  # type: ignore[no-untyped-def]
        """Detected at ``now_s``: its label and how it was found kept, the next look a detection period on."""
        self.label = self.label or (region.labels[0].name if region.labels else None)
        self.by = self.by or region.by
        self.gap = self.settings.video_detect_s
        self.next_detect = now_s + self.gap

    def missed(self, now_s: float) -> None:
        """Not found at ``now_s``: look again after the wait, which doubles, up to ``MAX_BACKOFF`` periods."""
        self.next_detect = now_s + self.gap
        self.gap = min(self.gap * 2, self.settings.video_detect_s * MAX_BACKOFF)


def _scale_box(box, sx: float, sy: float, width: int, height: int) -> list[float]:
    x0, y0, x1, y1 = box
    return [round(float(np.clip(x0 * sx, 0, width)), 2), round(float(np.clip(y0 * sy, 0, height)), 2),
            round(float(np.clip(x1 * sx, 0, width)), 2), round(float(np.clip(y1 * sy, 0, height)), 2)]


def _detect(t: _Target, picture: np.ndarray, info: VideoInfo):  # type: ignore[no-untyped-def]
    """The target's best region on a frame by the image tools, or None."""
    from muie.tools.image.segment_image import segment

    a = t.args
    scale = picture.shape[1] / info.width
    args = SegmentImageArgs(input=a.input, text=a.text, entity_type=a.entity_type, max_regions=1,
                            min_score=a.min_score)
    regions = segment(picture, args, t.settings, scale, (info.width, info.height))
    return regions[0] if regions else None


def track(path: str, targets: list[_Target], info: VideoInfo, settings: Settings,
          start_s: float | None, end_s: float | None) -> tuple[int, list[int]]:
    """Follow every target through one pass over the frames; returns (frames sampled, cuts)."""
    import cv2

    shots = ShotDetector(settings.video_cut_threshold)
    cuts: list[int] = []
    sampled, next_key = 0, start_s or 0.0
    for t in targets:
        t.next_detect, t.gap = start_s or 0.0, settings.video_detect_s
    for f in frames(path, settings.video_sample_fps, settings.video_track_side, start_s or 0.0, end_s):
        sampled += 1
        th, tw = f.rgb.shape[:2]
        sx, sy = info.width / tw, info.height / th
        g, bgr = gray(f.rgb), cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR)
        cut = shots.is_cut(f.rgb)
        if cut:
            cuts.append(f.index)
        keyframe = cut or f.time_s + 1e-6 >= next_key
        if keyframe:
            next_key = f.time_s + settings.video_keyframe_s
        for t in targets:
            if cut:
                t.follower.reset()
                t.next_detect, t.gap = f.time_s, settings.video_detect_s
            box, score, mask = None, 0.0, None
            a = t.args
            if a.box is not None and not t.follower.acquired and f.index >= (a.frame or 0):
                t.follower.start(g, bgr, (a.box[0] / sx, a.box[1] / sy, a.box[2] / sx, a.box[3] / sy))
                t.by, box, score = "box", t.follower.box, 1.0
            elif t.follower.acquired:  # follows it, or looks for it by its looks
                was_seen = t.follower.box is not None
                box, score = t.follower.step(g, bgr, keyframe), t.follower.score
                if was_seen and box is None:  # just lost: words again only if its looks do not find it soon
                    t.next_detect = f.time_s + t.gap
            if box is None and a.text is not None and f.time_s + 1e-6 >= t.next_detect:
                region = _detect(t, f.picture(DETECT_SIDE), info)
                if region is not None:
                    b = region.bbox
                    box = (b[0] / sx, b[1] / sy, b[2] / sx, b[3] / sy)
                    t.follower.start(g, bgr, box)
                    score, mask = region.score, region.mask
                    t.found(region, f.time_s)
                else:
                    t.missed(f.time_s)
            if box is not None:
                bb = _scale_box(box, sx, sy, info.width, info.height)
                if bb[2] - bb[0] >= 1 and bb[3] - bb[1] >= 1:
                    t.out.append(TrackFrame(frame=f.index, time_s=f.time_s, bbox=bb, mask=mask))
                    t.scores.append(float(np.clip(score, 0, 1)))
    return sampled, cuts


class TrackVideoTool(Tool[TrackVideoArgs, TrackVideoResult]):
    name = "track_video.v1"
    modality = "video"
    call_model = TrackVideo
    result_model = TrackVideoResult

    def key(self, args: TrackVideoArgs) -> CallKey:
        return window_key(self.name, args)

    def check(self, args: TrackVideoArgs, ctx: ToolContext) -> None:
        info = video_input(ctx, args.input)
        if args.box is not None:
            x0, y0, x1, y1 = args.box
            if x0 < 0 or y0 < 0 or x1 > info.width or y1 > info.height:
                raise CallError(f"box {list(args.box)} is not inside input {args.input!r} "
                                f"({info.width}x{info.height} pixels)")
        if args.frame is not None and info.frames and args.frame >= info.frames:
            raise CallError(f"frame {args.frame} is past the last frame of input {args.input!r} "
                            f"({info.frames} frames)")
        if args.start_s is not None and args.start_s >= info.duration_s:
            raise CallError(f"start_s {args.start_s} is not before the end of input {args.input!r} "
                            f"({info.duration_s:.3f} s long)")

    def run_batch(self, items: list[tuple[TrackVideoArgs, ToolContext]]) -> list[TrackVideoResult]:
        groups: dict[tuple, list[int]] = {}
        for k, (args, ctx) in enumerate(items):
            groups.setdefault((ctx.media[args.input], args.start_s, args.end_s, id(ctx.settings)), []).append(k)
        out: list[TrackVideoResult | None] = [None] * len(items)
        for (path, start_s, end_s, _), idx in groups.items():
            settings = items[idx[0]][1].settings
            info = probe(path)
            targets = [_Target(items[k][0], settings) for k in idx]
            follow = track
            if settings.video_tracker == "sam2":
                from muie.tools.video.track_sam2 import track_sam2 as follow
            sampled, cuts = follow(path, targets, info, settings, start_s, end_s)
            for k, t in zip(idx, targets):
                score = round(float(np.mean(t.scores)), 4) if t.scores else 0.0
                out[k] = TrackVideoResult(input=t.args.input, fps=info.fps, width=info.width, height=info.height,
                                          sampled=sampled, cuts=cuts, frames=t.out, score=score, label=t.label,
                                          by=t.by)  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

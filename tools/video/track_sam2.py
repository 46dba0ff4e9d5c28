"""``track_video.v1`` with SAM 2 as the tracker (``video_tracker = sam2``).

The video is streamed in chunks of at most ``video_chunk_frames`` sampled frames; a chunk
never spans a cut. At a chunk's first frame each target has a box: carried from the
last frame of the chunk before (where SAM 2 still saw it), placed by the caller, or
detected by the image tools (a target named by words; on the schedule of
``tools.track_video``). SAM 2 then follows each target through the chunk from that box,
a mask per frame, none where it says the thing is not there. Only one chunk of frames is
held at a time, so memory stays flat with the video's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from muie.domain import TrackFrame
from muie.settings import Settings
from muie.tools.image.boxes import mask_rle
from muie.tools.image.regions import mask_box, resize_mask
from muie.tools.media.video_io import VideoInfo, frames
from muie.tools.video.shots import ShotDetector


@dataclass
class _Held:
    index: int
    time_s: float
    rgb: np.ndarray


def track_sam2(path: str, targets: list, info: VideoInfo, settings: Settings,  # type: ignore[type-arg]
               start_s: float | None, end_s: float | None) -> tuple[int, list[int]]:
    """Follow every target with SAM 2, chunk by chunk; returns (frames sampled, cuts)."""
    from muie.tools.models.sam2_video import Sam2Tracker
    from muie.tools.video.track_video import _detect

    sam = Sam2Tracker.from_settings(settings)
    shots = ShotDetector(settings.video_cut_threshold)
    cuts: list[int] = []
    chunk: list[_Held] = []
    start: dict[int, tuple[float, ...] | None] = {}  # target -> box on the chunk's first frame (tracking px)
    for t in targets:
        t.next_detect, t.gap = start_s or 0.0, settings.video_detect_s
    sampled = 0

    def flush() -> None:
        if not chunk:
            return
        h, w = chunk[0].rgb.shape[:2]
        sx, sy = info.width / w, info.height / h
        for k, t in enumerate(targets):
            box = start.get(k)
            if box is None:
                continue
            masks = sam.propagate([c.rgb for c in chunk], box)
            last = None
            for c, m in zip(chunk, masks):
                if m is None:
                    last = None
                    continue
                b = mask_box(m)
                last = tuple(float(v) for v in b)
                full = resize_mask(m, info.height, info.width)
                t.out.append(TrackFrame(frame=c.index, time_s=c.time_s, mask=mask_rle(full),
                                        bbox=[float(b[0] * sx), float(b[1] * sy), float(b[2] * sx), float(b[3] * sy)]))
                t.scores.append(1.0)
            start[k] = last
        chunk.clear()

    for f in frames(path, settings.video_sample_fps, settings.video_track_side, start_s or 0.0, end_s):
        sampled += 1
        h, w = f.rgb.shape[:2]
        sx, sy = info.width / w, info.height / h
        cut = shots.is_cut(f.rgb)
        placed = [k for k, t in enumerate(targets) if t.args.box is not None and t.by is None
                  and f.index >= (t.args.frame or 0)]
        if cut or placed or len(chunk) >= settings.video_chunk_frames:
            flush()
        if cut:
            cuts.append(f.index)
            for k, t in enumerate(targets):
                start[k] = None
                t.next_detect, t.gap = f.time_s, settings.video_detect_s
        if not chunk:  # a chunk starts here: place, carry or detect each target
            for k, t in enumerate(targets):
                a = t.args
                if k in placed:
                    start[k], t.by = (a.box[0] / sx, a.box[1] / sy, a.box[2] / sx, a.box[3] / sy), "box"
                elif start.get(k) is None and a.text is not None and f.time_s + 1e-6 >= t.next_detect:
                    region = _detect(t, f.picture(640), info)
                    if region is not None:
                        b = region.bbox
                        start[k] = (b[0] / sx, b[1] / sy, b[2] / sx, b[3] / sy)
                        t.found(region, f.time_s)
                    else:
                        t.missed(f.time_s)
        chunk.append(_Held(f.index, f.time_s, f.rgb))
    flush()
    return sampled, cuts

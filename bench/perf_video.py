"""Video performance: tracking throughput against real time, and memory against length.

    .venv/bin/python bench/perf_video.py [--seconds 60] [--long-seconds 600]

Clips are 320x240 at 12 fps (OpenCV mp4v): a real photo (scikit-image's cat) moving
over a textured backdrop on a path that bounces off the frame's edges, so the thing is
always in view and tracked on every frame. Each measurement is the whole agent
(``extract`` with a caption naming the cat and the clip: the text tools, then
``track_video.v1``), in a fresh process with the models loaded on another clip before
the clock. Throughput is video seconds per processing second ("x real time"; the target
is at least 1x on 2 cores). Memory: the peak RSS of the short clip's process against the
long clip's; a decoder that streams keeps them about equal.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import without_memory  # noqa: E402
from bench.processes import in_fresh_process, peak_rss_mb  # noqa: E402

W, H, FPS = 320, 240, 12.0
CAPTION = "A cat walks past."
TARGET_X = 1.0


def write_clip(path: Path, seconds: float, seed: int = 0) -> Path:
    import cv2
    from skimage import data

    rng = np.random.default_rng(seed)
    cat = cv2.resize(data.chelsea(), (90, 60), interpolation=cv2.INTER_AREA)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (H, W, 3)), (0, 0), 3)
    back = np.clip(rng.integers(60, 180, 3) + noise, 0, 255).astype(np.uint8)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    x, y, vx, vy = 20.0, 30.0, 3.1, 1.7
    for _ in range(int(round(seconds * FPS))):
        frame = back.copy()
        xi, yi = int(x), int(y)
        frame[yi:yi + 60, xi:xi + 90] = cat
        out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        x, y = x + vx, y + vy
        if not 0 <= x <= W - 90:
            vx, x = -vx, min(max(x, 0), W - 90)
        if not 0 <= y <= H - 60:
            vy, y = -vy, min(max(y, 0), H - 60)
    out.release()
    return path


def video_row(path: str, warm: str, seconds: float) -> dict:
    import os

    from muie.agent.api import extract

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))
    t0 = time.perf_counter()
    extract(text=CAPTION, video=[warm])
    load_s = time.perf_counter() - t0
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    r = extract(text=CAPTION, video=[path])
    dt = time.perf_counter() - t0
    tracks = [g for e in r.entities for g in e.groundings if g.kind == "track"]
    frames = max((len(t.frames) for t in tracks), default=0)
    track_s = sum(s.model_extra.get("seconds", 0.0) for s in r.trace if s.model_extra.get("tool") == "track_video.v1")
    return {"modality": f"video {seconds:.0f} s", "video_s": seconds, "seconds": round(dt, 2),
            "x_real_time": round(seconds / dt, 2), "track_s": round(track_s, 2), "tracked_frames": frames,
            "frames": int(round(seconds * FPS)), "load_s": round(load_s, 1), "rss_before_mb": round(rss_before),
            "peak_rss_mb": round(peak_rss_mb())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--long-seconds", type=float, default=600.0)
    ap.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    a = ap.parse_args()
    without_memory()
    rows = run(a.seconds, a.long_seconds)
    print_rows(rows)
    if a.out is not None:
        a.out.write_text(json.dumps(rows, indent=2))
    return 0


def run(seconds: float, long_seconds: float) -> list[dict]:
    with tempfile.TemporaryDirectory() as d:
        warm = str(write_clip(Path(d) / "warm.mp4", 2.0, seed=1))
        rows = [in_fresh_process(video_row, str(write_clip(Path(d) / "short.mp4", seconds)), warm, seconds)]
        if long_seconds:
            rows.append(in_fresh_process(video_row, str(write_clip(Path(d) / "long.mp4", long_seconds)), warm,
                                         long_seconds))
    return rows


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        print(f"{r['modality']}: 320x240 at 12 fps, whole agent with tracking: {r['seconds']:.1f} s "
              f"= {r['x_real_time']:.2f}x real time (target >= {TARGET_X:g}x on 2 cores: "
              f"{'met' if r['x_real_time'] >= TARGET_X else 'not met'}); track_video {r['track_s']:.1f} s; "
              f"tracked {r['tracked_frames']}/{r['frames']} frames; peak RSS {r['peak_rss_mb']} MB "
              f"({r['rss_before_mb']} MB with the models loaded)")
    if len(rows) == 2:
        a, b = rows
        print(f"memory against length: {a['video_s']:.0f} s -> {a['peak_rss_mb']} MB, {b['video_s']:.0f} s -> "
              f"{b['peak_rss_mb']} MB ({b['peak_rss_mb'] - a['peak_rss_mb']:+d} MB for "
              f"{b['video_s'] / a['video_s']:.0f}x the length)")


if __name__ == "__main__":
    sys.exit(main())

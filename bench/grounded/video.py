"""Clips where one photo moves on a known path: OpenCV mp4v, 320x240, 12 fps; optional speech muxed in."""

from __future__ import annotations

import hashlib
import math
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

from .common import encode_mask, mask_bbox
from .images import background, scaled_source, size_for
from .speech import need, write_wav

VW, VH, FPS = 320, 240, 12.0


def positions(rng: np.random.Generator, style: str, n: int, w: int, h: int) -> list[tuple[float, float]]:
    """Top-left corner of the object for every frame, on a linear, sinusoidal or leave-and-return path."""
    t = np.arange(n) / max(1, n - 1)
    if style == "leave_return":
        # A horizontal swing wide enough to carry the object fully out of the frame on
        # both sides, and back: the track has gaps.
        cx = VW / 2 - w / 2
        amp = VW / 2 + w / 2 + rng.uniform(25, 45)
        y0 = rng.uniform(10, VH - h - 10)
        xs = cx + amp * np.sin(2 * np.pi * t)
        ys = y0 + rng.uniform(-15, 15) * t
    elif style == "sine":
        x0, x1 = rng.uniform(-w / 2, 40), rng.uniform(VW - w - 40, VW - w / 2)
        if rng.random() < 0.5:
            x0, x1 = x1, x0
        cy = rng.uniform(30, VH - h - 30)
        amp = rng.uniform(15, 40)
        xs = x0 + (x1 - x0) * t
        ys = cy + amp * np.sin(2 * np.pi * rng.uniform(0.8, 2.0) * t + rng.uniform(0, 2 * np.pi))
    else:  # linear, may start or end partly outside the frame
        x0, y0 = rng.uniform(-w / 3, VW - 2 * w / 3), rng.uniform(-h / 3, VH - 2 * h / 3)
        x1, y1 = rng.uniform(-w / 3, VW - 2 * w / 3), rng.uniform(-h / 3, VH - 2 * h / 3)
        xs, ys = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


def render(rng: np.random.Generator, name: str, style: str, n: int, path: Path,
           speech: np.ndarray | None = None) -> list[dict]:
    """Write the clip; return the gold track frames (only frames where the object is visible)."""
    w, h = size_for(name, int(rng.integers(60, 111)))
    rgb, m = scaled_source(name, w, h)
    bg = background(rng, VW, VH)
    track = []
    with tempfile.TemporaryDirectory() as tmp:
        silent = Path(tmp) / "silent.mp4"
        out = cv2.VideoWriter(str(silent if speech is not None else path), cv2.VideoWriter_fourcc(*"mp4v"), FPS,
                              (VW, VH))
        if not out.isOpened():
            raise RuntimeError("OpenCV cannot write mp4v video")
        for i, (xf, yf) in enumerate(positions(rng, style, n, w, h)):
            x, y = int(math.floor(xf + 0.5)), int(math.floor(yf + 0.5))
            frame = bg.copy()
            full = np.zeros((VH, VW), bool)
            fx0, fy0, fx1, fy1 = max(0, x), max(0, y), min(VW, x + w), min(VH, y + h)
            if fx0 < fx1 and fy0 < fy1:
                sub_m = m[fy0 - y:fy1 - y, fx0 - x:fx1 - x]
                sub = frame[fy0:fy1, fx0:fx1]
                sub[sub_m] = rgb[fy0 - y:fy1 - y, fx0 - x:fx1 - x][sub_m]
                full[fy0:fy1, fx0:fx1] = sub_m
            if full.any():
                track.append({"frame": i, "time_s": i / FPS, "bbox": mask_bbox(full), "mask": encode_mask(full)})
            out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        out.release()
        if speech is not None:
            wav = Path(tmp) / "speech.wav"
            write_wav(wav, speech)
            subprocess.run([need("ffmpeg"), "-nostdin", "-loglevel", "error", "-y", "-i", str(silent), "-i", str(wav),
                            "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "64k",
                            "-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1", str(path)],
                           check=True, capture_output=True)
    return track


def decoded_sha256(path) -> tuple[str, int]:
    """sha256 of the decoded frames (BGR bytes) and their count."""
    cap = cv2.VideoCapture(str(path))
    h, n = hashlib.sha256(), 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        h.update(frame.tobytes())
        n += 1
    cap.release()
    return h.hexdigest(), n

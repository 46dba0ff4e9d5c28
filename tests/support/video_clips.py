"""Real video files for the tests: a real photo moving on a known path, exact boxes per frame.

``clip(path, ...)`` writes the clip with OpenCV (mp4v in .mp4, MJPG in .avi) or, for
.mkv/.webm, re-encodes it with ffmpeg; it returns the gold: frame number -> the tight
box of the photo's visible pixels (absent while it is out of the frame). ``cut_at``
switches to another background and photo from that frame on (a shot cut); ``speech``
muxes an espeak-ng sentence as the sound track; ``title`` writes words on a plate at the
bottom of every frame (drawn over the photo where they meet).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
from skimage import data

W, H, FPS = 320, 240, 12.0


def photo(name: str, w: int) -> np.ndarray:
    src = getattr(data, name)()
    h = round(src.shape[0] * w / src.shape[1])
    return cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA)


def backdrop(seed: int, w: int = W, h: int = H) -> np.ndarray:
    """A textured, smooth backdrop (a real scene would be busier; this is plainer than most)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    grad = (xx / w * 40 + yy / h * 30)[..., None]
    noise = cv2.GaussianBlur(rng.normal(0, 25, (h, w, 3)), (0, 0), 3)
    return np.clip(base + grad + noise, 0, 255).astype(np.uint8)


def path_swing(n: int, w: int, h: int) -> list[tuple[float, float]]:
    """Leaves the frame past the right edge, comes back, leaves past the left, comes back."""
    t = np.arange(n) / max(1, n - 1)
    amp = W / 2 + w / 2 + 30
    return [(W / 2 - w / 2 + amp * math.sin(2 * math.pi * k), H / 2 - h / 2 + 10 * k) for k in t]


def path_line(n: int, w: int, h: int) -> list[tuple[float, float]]:
    t = np.arange(n) / max(1, n - 1)
    return [(10 + (W - w - 20) * k, 20 + (H - h - 40) * k) for k in t]


def clip(path: Path, n: int = 48, photo_name: str = "chelsea", width: int = 90, route=path_line,
         cut_at: int | None = None, second: str = "coffee", speech: str | None = None,
         title: str | None = None, seed: int = 0) -> dict[int, list[float]]:
    """Write the clip; return {frame: [x0, y0, x1, y1]} of the first photo where it shows."""
    path = Path(path)
    shots = [(photo(photo_name, width), backdrop(seed))]
    if cut_at is not None:
        shots.append((photo(second, width), backdrop(seed + 7)))
    gold: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        direct = path.suffix in (".mp4", ".avi")
        target = path if direct and speech is None else Path(tmp) / ("raw" + (path.suffix if direct else ".avi"))
        fourcc = cv2.VideoWriter_fourcc(*("mp4v" if target.suffix == ".mp4" else "MJPG"))
        out = cv2.VideoWriter(str(target), fourcc, FPS, (W, H))
        assert out.isOpened()
        for i in range(n):
            second_shot = cut_at is not None and i >= cut_at
            img, bg = shots[1 if second_shot else 0]
            h, w = img.shape[:2]
            x, y = (int(math.floor(v + 0.5)) for v in route(n, w, h)[i])
            frame = bg.copy()
            x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
            if x0 < x1 and y0 < y1:
                frame[y0:y1, x0:x1] = img[y0 - y:y1 - y, x0 - x:x1 - x]
                if not second_shot:
                    gold[i] = [float(x0), float(y0), float(x1), float(y1)]
            if title is not None:  # a white plate with black words, at the bottom
                cv2.rectangle(frame, (8, H - 34), (W - 8, H - 6), (255, 255, 255), -1)
                cv2.putText(frame, title, (14, H - 13), cv2.FONT_HERSHEY_DUPLEX, 0.7, (0, 0, 0), 1, cv2.LINE_AA)
            out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        out.release()
        if target != path:
            cmd = [shutil.which("ffmpeg") or "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(target)]
            if speech is not None:
                wav = Path(tmp) / "speech.wav"
                subprocess.run(["espeak-ng", "-w", str(wav), speech], check=True, capture_output=True)
                cmd += ["-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:a", "aac" if path.suffix != ".webm"
                        else "libopus"]
            codec = {".webm": ["-c:v", "libvpx", "-b:v", "1M"], ".mkv": ["-c:v", "libx264", "-preset", "ultrafast"],
                     ".mp4": ["-c:v", "copy"] if direct else ["-c:v", "mpeg4"], ".avi": ["-c:v", "copy"]}
            subprocess.run(cmd + codec[path.suffix] + [str(path)], check=True, capture_output=True)
    return gold


def box_iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def mean_iou(gold: dict[int, list[float]], pred: dict[int, list[float]], frames: list[int]) -> float:
    """Mean per-frame IoU over the union of frames where either shows the object (J)."""
    keys = sorted((set(gold) | set(pred)) & set(frames))
    return sum(box_iou(gold[k], pred[k]) if k in gold and k in pred else 0.0 for k in keys) / max(1, len(keys))

"""``--render``: a video input as a strip of frames with every track drawn on it.

``<input id>.png``: up to ``STRIP`` frames spread over the video (the frames where
tracks are, when there are any), each with the boxes of the tracks that show on it,
the masks tinted where the track carries one, a label (entity text and type) above each
box, and the frame number and time beneath. Frames are decoded by streaming the video
once; OpenCV draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from muie.agent.render.image import PALETTE
from muie.domain import Result, Track, VideoInput

STRIP = 8
"""Most frames in a strip."""
COLUMNS = 4
TILE_SIDE = 320


def _tracks(result: Result, input_id: str) -> list[tuple[Track, str]]:
    return [(g, f"{e.text} [{e.type}]") for e in result.entities
            for g in e.groundings if isinstance(g, Track) and g.input == input_id]


def _pick(frames: list[int], total: int) -> list[int]:
    """``STRIP`` frame numbers spread evenly over the tracked frames (else over the video)."""
    pool = sorted(set(frames)) or list(range(max(1, total)))
    if len(pool) <= STRIP:
        return pool
    return [pool[round(k * (len(pool) - 1) / (STRIP - 1))] for k in range(STRIP)]


def render_video(result: Result, inp: VideoInput, path: Path) -> Path:
    import cv2
    from pycocotools import mask as mask_utils

    from muie.tools.media.video_io import frames

    tracks = _tracks(result, inp.id)
    chosen = set(_pick([f.frame for t, _ in tracks for f in t.frames], inp.frames))
    s = min(1.0, TILE_SIDE / max(inp.width, inp.height))
    tiles = []
    for f in frames(inp.path, max_side=TILE_SIDE):
        if f.index not in chosen:
            continue
        img = f.rgb.copy()
        for k, (track, label) in enumerate(tracks):
            colour = PALETTE[k % len(PALETTE)]
            tf = next((x for x in track.frames if x.frame == f.index), None)
            if tf is None:
                continue
            if tf.mask is not None:
                m = mask_utils.decode({"size": tf.mask.size, "counts": tf.mask.counts.encode("ascii")}).astype(bool)
                m = cv2.resize(m.astype(np.uint8), (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
                img[m] = (0.55 * img[m] + 0.45 * np.array(colour)).astype(np.uint8)
            x0, y0, x1, y1 = (int(round(v * s)) for v in tf.bbox)
            cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), colour, 2)
            cv2.putText(img, label, (x0 + 2, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
        caption = np.full((18, img.shape[1], 3), 255, np.uint8)
        cv2.putText(caption, f"frame {f.index}  {f.time_s:.2f} s", (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.vstack([img, caption]))
        if len(tiles) == len(chosen):
            break
    if not tiles:
        tiles = [np.full((120, 160, 3), 255, np.uint8)]
    h, w = max(t.shape[0] for t in tiles), max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, h - t.shape[0]), (0, w - t.shape[1]), (0, 0)), constant_values=255) for t in tiles]
    cols = min(COLUMNS, len(tiles))
    rows = [np.hstack(tiles[r:r + cols] + [np.full((h, w, 3), 255, np.uint8)] * (cols - len(tiles[r:r + cols])))
            for r in range(0, len(tiles), cols)]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return path

"""``--render``: an image input with every region grounding drawn on it: the mask tinted,
the box outlined, the label (entity text and type, or event trigger) written above it.
OpenCV draws; masks are decoded with pycocotools."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from muie.domain import ImageInput, Region, Result

PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128)]
MAX_SIDE = 1600


def _regions(result: Result, input_id: str) -> list[tuple[Region, str]]:
    out = [(g, f"{e.text} [{e.type}]") for e in result.entities
           for g in e.groundings if isinstance(g, Region) and g.input == input_id]
    out += [(g, f"{v.type}: {v.trigger.text}") for v in result.events
            for g in v.trigger.groundings if isinstance(g, Region) and g.input == input_id]
    return out


def render_image(result: Result, inp: ImageInput, path: Path) -> Path:
    import cv2
    from pycocotools import mask as mask_utils

    from muie.tools.media.image_io import load_rgb

    rgb, scale = load_rgb(inp.path, MAX_SIDE)
    canvas = rgb.astype(np.float32)
    h, w = rgb.shape[:2]
    drawn = []
    for k, (g, label) in enumerate(_regions(result, inp.id)):
        color = np.array(PALETTE[k % len(PALETTE)], np.float32)
        if g.mask is not None:
            m = mask_utils.decode({"size": g.mask.size, "counts": g.mask.counts.encode()}).astype(bool)
            if m.shape != (h, w):
                m = cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
            canvas[m] = 0.55 * canvas[m] + 0.45 * color
        drawn.append((g, label, tuple(int(c) for c in color)))
    out = np.ascontiguousarray(np.clip(canvas, 0, 255).astype(np.uint8)[:, :, ::-1])  # BGR for OpenCV
    for g, label, color in drawn:
        x0, y0, x1, y1 = (int(round(v * scale)) for v in g.bbox)
        bgr = color[::-1]
        cv2.rectangle(out, (x0, y0), (x1, y1), bgr, 2)
        text = f"{label} {g.score:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        ty = y0 - 4 if y0 - th - 6 >= 0 else y0 + th + 4
        cv2.rectangle(out, (x0, ty - th - 3), (x0 + tw + 4, ty + base - 1), bgr, -1)
        cv2.putText(out, text, (x0 + 2, ty - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    if not cv2.imwrite(str(path), out):
        raise OSError(f"could not write {path}")
    return path

"""What any image's pixels become before a model sees them: 8-bit grey, grey with alpha,
RGB or RGBA first (``normalise_mode``: palettes, bilevel, CMYK, YCbCr, LAB, 16-bit,
32-bit integer and float images), then RGB with transparency composited on white
(``on_white``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

WHITE = 255


def _image():  # type: ignore[no-untyped-def]
    from PIL import Image

    return Image


def _high_depth_to_l(im: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit integer or float grey image as 8-bit grey."""
    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        out = (a.astype(np.uint32) * 255 + 32767) // 65535
    elif im.mode == "I":
        hi = int(a.max())
        lo = int(a.min())
        if lo >= 0 and hi <= 255:
            out = a
        elif lo >= 0 and hi <= 65535:
            out = (a.astype(np.int64) * 255 + 32767) // 65535
        else:
            out = (a.astype(np.float64) - lo) * (255.0 / max(1, hi - lo))
    else:  # "F"
        a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(a.min()), float(a.max())
        if lo >= 0 and hi <= 1:
            out = a * 255.0
        elif lo >= 0 and hi <= 255:
            out = a
        else:
            out = (a - lo) * (255.0 / max(1e-12, hi - lo))
    return _image().fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "L")


def normalise_mode(im: Image.Image) -> Image.Image:
    """Any mode as one of L, LA, RGB, RGBA (alpha kept for compositing after the resize)."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return im
    if mode.startswith("I") or mode == "F":
        return _high_depth_to_l(im)
    if mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if mode == "PA":
        return im.convert("RGBA")
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L")
    if mode == "LAB":
        from PIL import ImageCms

        return ImageCms.applyTransform(im, ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"))
    return im.convert("RGB")  # CMYK, YCbCr, HSV, RGBX


def on_white(im: Image.Image) -> Image.Image:
    """L, LA, RGB or RGBA as RGB, transparency composited on white."""
    if im.mode in ("LA", "RGBA"):
        base = _image().new("RGB", im.size, (WHITE, WHITE, WHITE))
        base.paste(im.convert("RGBA"), mask=im.getchannel("A"))
        return base
    return im.convert("RGB") if im.mode != "RGB" else im

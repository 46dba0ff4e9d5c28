"""Real sample photos, scaled and pasted exactly; words rendered with DejaVuSans."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

W, H = 640, 480


@dataclass(frozen=True)
class Source:
    name: str  # loader key
    text: str  # the entity's words
    type: str
    det: str  # determiner for captions ("a", "an", "some", "" for names)

    def np(self) -> str:
        return f"{self.det} {self.text}".strip()


SOURCES: dict[str, Source] = {s.name: s for s in [
    Source("astronaut", "astronaut", "person", "an"),
    Source("chelsea", "cat", "animal", "a"),
    Source("coffee", "coffee cup", "object", "a"),
    Source("rocket", "rocket", "vehicle", "a"),
    Source("camera", "cameraman", "person", "a"),
    Source("horse", "horse", "animal", "a"),
    Source("coins", "coins", "object", "some"),
    Source("china", "pagoda", "location", "a"),
    Source("flower", "flower", "plant", "a"),
    Source("grace_hopper", "Grace Hopper", "person", ""),
]}


@cache
def load_source(name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB uint8 HxWx3, shape mask or None for a full rectangle) of a sample photo."""
    if name == "horse":
        import skimage.data

        horse = ~skimage.data.horse()  # the silhouette: True on the horse
        ys, xs = np.nonzero(horse)
        horse = horse[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        rgb = np.zeros(horse.shape + (3,), np.uint8)  # a black horse; only its pixels are pasted
        return rgb, horse
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg"), None
    if name == "grace_hopper":
        import matplotlib.cbook as cbook

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB")), None
    import skimage.data

    a = getattr(skimage.data, name)()
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    return np.ascontiguousarray(a[..., :3]), None


def scaled_source(name: str, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo resized to w x h (Lanczos) and its mask (nearest); all-True for rectangles."""
    rgb, m = load_source(name)
    out = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.LANCZOS))
    if m is None:
        mask = np.ones((h, w), bool)
    else:
        mask = np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize((w, h), Image.Resampling.NEAREST)) > 127
    return out, mask


def size_for(name: str, longer: int) -> tuple[int, int]:
    rgb, _ = load_source(name)
    h, w = rgb.shape[:2]
    s = longer / max(h, w)
    return max(8, round(w * s)), max(8, round(h * s))


def background(rng: np.random.Generator, w: int = W, h: int = H) -> np.ndarray:
    """A plain, noisy or gradient canvas."""
    base = rng.integers(30, 226, 3)
    style = rng.integers(0, 3)
    if style == 0:
        return np.broadcast_to(base.astype(np.uint8), (h, w, 3)).copy()
    if style == 1:
        noise = rng.integers(-40, 41, (h, w, 3))
        return np.clip(base + noise, 0, 255).astype(np.uint8)
    other = rng.integers(30, 226, 3)
    t = np.linspace(0.0, 1.0, w)[None, :, None]
    return np.broadcast_to(np.round(base * (1 - t) + other * t), (h, w, 3)).astype(np.uint8).copy()


def place(rng: np.random.Generator, sizes: list[tuple[int, int]], taken: list[list[int]] | None = None,
          w: int = W, h: int = H, gap: int = 6) -> list[list[int]] | None:
    """Random non-overlapping [x0, y0, x1, y1] rectangles inside the canvas, or None."""
    boxes = list(taken or [])
    out = []
    for bw, bh in sizes:
        for _ in range(300):
            x, y = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
            b = [x, y, x + bw, y + bh]
            if all(b[2] + gap <= o[0] or o[2] + gap <= b[0] or b[3] + gap <= o[1] or o[3] + gap <= b[1] for o in boxes):
                boxes.append(b)
                out.append(b)
                break
        else:
            return None
    return out


def paste(canvas: np.ndarray, name: str, rect: list[int]) -> np.ndarray:
    """Paste the scaled photo into rect (exactly: only its mask pixels); the full-canvas mask."""
    x0, y0, x1, y1 = rect
    rgb, m = scaled_source(name, x1 - x0, y1 - y0)
    region = canvas[y0:y1, x0:x1]
    region[m] = rgb[m]
    full = np.zeros(canvas.shape[:2], bool)
    full[y0:y1, x0:x1] = m
    return full


def paste_photos(rng: np.random.Generator, names: list[str], canvas: np.ndarray,
                 lo: int = 110, hi: int = 230, taken: list[list[int]] | None = None):
    """Scale each photo (longer side in [lo, hi]) and paste it at a free place: [(name, rect, mask)]."""
    for _ in range(20):
        sizes = [size_for(n, int(rng.integers(lo, hi + 1))) for n in names]
        rects = place(rng, sizes, taken, canvas.shape[1], canvas.shape[0])
        if rects is not None:
            return [(n, r, paste(canvas, n, r)) for n, r in zip(names, rects)]
        hi = max(lo, hi - 20)
    raise RuntimeError(f"no room for {names}")


def font_path() -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(), size)


def sign_size(words: str, size: int, pad: int) -> tuple[int, int]:
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), words, font=font(size))
    return x1 - x0 + 2 * pad, y1 - y0 + 2 * pad


def draw_sign(img: Image.Image, words: str, size: int, plate: list[int], pad: int,
              plate_rgb: tuple[int, int, int], ink_rgb: tuple[int, int, int]) -> list[int]:
    """A plain plate with the words on it; returns the words' bbox from Pillow's textbbox."""
    d = ImageDraw.Draw(img)
    d.rectangle([plate[0], plate[1], plate[2] - 1, plate[3] - 1], fill=plate_rgb)
    x0, y0, _, _ = d.textbbox((0, 0), words, font=font(size))
    xy = (plate[0] + pad - x0, plate[1] + pad - y0)
    d.text(xy, words, font=font(size), fill=ink_rgb)
    return [int(v) for v in d.textbbox(xy, words, font=font(size))]


def save_png(arr_or_img, path) -> None:
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
    img.save(path, format="PNG", optimize=False)

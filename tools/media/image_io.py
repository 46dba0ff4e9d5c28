"""Image files in, RGB uint8 arrays out: one place for every bad-image case (Pillow).

- ``probe(path)``: size, mode, format and frame count from the header only (cached).
- ``load_rgb(path, max_side)``: the image as an ``HxWx3`` uint8 RGB array, downscaled so
  that its longer side is at most ``max_side``, and the scale applied (model pixels =
  original pixels * scale; a box found on the array maps back by dividing by it).
- ``load_cached``: the same, read-only, kept for the next tool that asks (several tools
  on one image decode it once).

What an image becomes:

- EXIF orientation is applied: width, height and pixels are the image as it is shown.
  Every coordinate a tool reports is in these "original" pixels.
- Palette, grey, bilevel, CMYK, YCbCr and LAB images become RGB; transparency (RGBA,
  LA, PA, a palette's transparent index) is composited on white.
- 16-bit images (``I;16``, 48/64-bit PNG) are scaled to 8 bits (``v * 255 / 65535``);
  32-bit integer images likewise when they exceed 8-bit values; float images: values
  in 0..1 are scaled by 255, values in 0..255 kept, others stretched over their range.
- Animated or multi-page files (GIF, APNG, WebP, TIFF): the first frame only; ``frames``
  says how many there are.

Size policy (memory stays bounded for any file):

- JPEG is decoded reduced (libjpeg's 1/2, 1/4, 1/8 scaling, Pillow's ``draft``), so a
  20000x20000 JPEG costs a few tens of MB; then resized exactly.
- Every other format (and progressive JPEG, whose decoder holds every coefficient of the
  full image) must decode at full size first: one over ``MAX_PIXELS`` pixels is refused
  with an ``InputError`` saying so. Pillow's own decompression-bomb limit is replaced by
  this one (it would refuse even the JPEGs this module decodes cheaply).
- Without ``max_side`` an image is returned at full size, unless it has more than
  ``MAX_PIXELS`` pixels (a big JPEG): then it is scaled down to that many.

Bad files: missing, a directory, empty (0 bytes), not an image (a text file named
``.jpg``), no pixels (0x0), corrupt, truncated with nothing decodable, too large:
each is ``InputError(path, reason)``. A truncated or damaged file whose start decodes is
kept (Pillow's ``LOAD_TRUNCATED_IMAGES``: the missing part is grey or black), and what
it lacks is noted (``damage_of``, ``tools.damage``).

Also here: how a tool resolves its ``input`` against the run's media (``image_input``)
and checks a box (``check_box``); both raise ``CallError``.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from muie.errors import CallError, InputError
from muie.files import input_file_key
from muie.tools.base import readable_inputs
from muie.tools.media import damage
from muie.tools.media.image_modes import normalise_mode, on_white
from muie.tools.runtime import BoundedCache

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from muie.tools.base import ToolContext

MAX_PIXELS = 100_000_000
"""Most pixels decoded at full size (about 10000x10000); 400 MB as RGBA."""


NOT_IMAGE = "not an image file (no image format recognised)"

def _pil():  # type: ignore[no-untyped-def]
    """``PIL.Image``, imported when an image is first read (importing muie's tools reads none)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # MAX_PIXELS above is the limit, applied to what is really decoded
    return Image


def _orient(value: int):  # type: ignore[no-untyped-def]
    """The transpose that shows an image of EXIF orientation ``value`` upright (None: as stored)."""
    t = _pil().Transpose
    return {2: t.FLIP_LEFT_RIGHT, 3: t.ROTATE_180, 4: t.FLIP_TOP_BOTTOM, 5: t.TRANSPOSE, 6: t.ROTATE_270,
            7: t.TRANSVERSE, 8: t.ROTATE_90}.get(value)



@dataclass(frozen=True)
class ImageInfo:
    path: str
    width: int
    """As shown: after the EXIF orientation."""
    height: int
    mode: str
    """Pillow's mode of the file: RGB, L, P, RGBA, CMYK, I;16..."""
    format: str
    """JPEG, PNG, GIF, WEBP, TIFF..."""
    frames: int
    """Frames or pages in the file; only the first is read."""


def file_key(path: str) -> tuple[str, int, int]:
    """The file as a cache key; ``InputError`` when there is no image file to read."""
    return input_file_key(path, "image")


def _why(e: BaseException) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def _open(path: str) -> Image.Image:
    """The file opened (header read, nothing decoded), or an ``InputError`` saying why not."""
    file_key(path)
    Image = _pil()
    from PIL import UnidentifiedImageError

    try:
        im = Image.open(path)
    except UnidentifiedImageError:
        raise InputError(path, _unidentified(path)) from None
    except PermissionError as e:
        raise InputError(path, f"cannot be read ({_why(e)})") from None
    except Exception as e:  # any failure parsing a header is the file's  # noqa: BLE001
        raise InputError(path, f"corrupt image header ({_why(e)})") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise InputError(path, f"has no pixels ({w}x{h})")
    return im


_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF", b"GIF89a": "GIF",
               b"BM": "BMP", b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}


def _unidentified(path: str) -> str:
    """Why Pillow recognised no format: not an image at all, or an image header that is
    damaged or declares no pixels (Pillow refuses a 0x0 PNG or GIF as unidentified)."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError as e:
        return f"cannot be read ({_why(e)})"
    fmt = next((v for k, v in _SIGNATURES.items() if head.startswith(k)), None)
    if fmt is None:
        return NOT_IMAGE
    size = None
    if fmt == "PNG" and head[12:16] == b"IHDR":
        size = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    elif fmt == "GIF" and len(head) >= 10:
        size = int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if size is not None and 0 in size:
        return f"has no pixels ({size[0]}x{size[1]})"
    return f"corrupt {fmt} header (not readable as an image)"


def _orientation(im: Image.Image) -> int:
    """EXIF orientation (1-8) from the header; the base method, because PNG's own decodes
    the whole image to look for EXIF after the pixels."""
    try:
        value = int(_pil().Image.getexif(im).get(0x0112, 1))
    except Exception:  # damaged EXIF: shown as stored  # noqa: BLE001
        return 1
    return value if _orient(value) is not None else 1


def _shown_size(im: Image.Image, orientation: int) -> tuple[int, int]:
    w, h = im.size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


_PROBES: BoundedCache[tuple[str, int, int], ImageInfo] = BoundedCache("image probes", 256)


def probe(path: str | os.PathLike) -> ImageInfo:
    """Width and height (as shown), mode, format and frame count, from the header only."""
    path = os.fspath(path)
    key = file_key(path)
    if (found := _PROBES.get(key)) is not None:
        return found
    im = _open(path)
    try:
        w, h = _shown_size(im, _orientation(im))
        info = ImageInfo(path, w, h, im.mode, im.format or "unknown", int(getattr(im, "n_frames", 1) or 1))
    except Exception as e:  # counting frames reads the file  # noqa: BLE001
        raise InputError(path, f"corrupt image ({_why(e)})") from None
    finally:
        im.close()
    return _PROBES.put(key, info)


# --------------------------------------------------------------------------- decoding


def target_scale(width: int, height: int, max_side: int | None) -> float:
    """The scale ``load_rgb`` applies to an image of this size: at most 1, the longer side
    at most ``max_side``, and at most ``MAX_PIXELS`` pixels."""
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    s = 1.0
    if max_side is not None and max(width, height) > max_side:
        s = max_side / max(width, height)
    if width * height * s * s > MAX_PIXELS:
        s = math.sqrt(MAX_PIXELS / (width * height))
    return s


def _reducible(im: Image.Image) -> bool:
    """Whether the decoder can produce the image reduced without holding it at full size:
    baseline JPEG only (progressive JPEG buffers the whole image's coefficients)."""
    return im.format in ("JPEG", "MPO") and not (im.info.get("progressive") or im.info.get("progression"))


def _decode(path: str, scale: float, lenient: bool) -> tuple[Image.Image, int, tuple[int, int]]:
    """The first frame decoded (reduced by the JPEG decoder when that gets it nearer to
    the target size), its EXIF orientation, and the target size of the stored image."""
    im = _open(path)
    orientation = _orientation(im)
    w, h = im.size
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if _reducible(im):
        if size != (w, h):
            im.draft(None, size)
    elif w * h > MAX_PIXELS:
        im.close()
        fmt = "progressive JPEG" if im.format in ("JPEG", "MPO") else im.format or "this format"
        raise InputError(path, f"too large: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the limit of "
                               f"{MAX_PIXELS / 1e6:.0f} for {fmt}, which cannot be decoded at reduced size")
    try:
        if lenient:
            from PIL import ImageFile

            with _LENIENT:
                ImageFile.LOAD_TRUNCATED_IMAGES = True
                try:
                    im.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = False
        else:
            im.load()
    except BaseException:
        im.close()
        raise
    return im, orientation, size


_LENIENT = threading.Lock()
"""Pillow's truncated-image flag is global: it is set only under this lock, for one
lenient decode. A strict decode in another thread at that moment is lenient too, which
only means it keeps what decodes of a damaged file, as the retry would."""


def _decode_checked(path: str, scale: float) -> tuple[Image.Image, int, tuple[int, int]]:
    """Decode strictly; a damaged file is decoded again keeping what decodes, and refused
    only when (almost) nothing does: the lenient decode fills what is missing with one
    colour (grey for JPEG, black for PNG), so 99% of one grey level means nothing was there."""
    try:
        return _decode(path, scale, lenient=False)
    except InputError:
        raise
    except MemoryError:
        raise InputError(path, "too large to decode in the memory there is") from None
    except Exception as e:  # noqa: BLE001  (what the decoders raise on damaged data varies)
        first = _why(e)
    try:
        im, orientation, size = _decode(path, scale, lenient=True)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001
        raise InputError(path, f"corrupt image, nothing could be decoded ({_why(e)})") from None
    if _nearly_blank(im):
        im.close()
        raise InputError(path, f"truncated or corrupt image, nothing could be decoded ({first})")
    damage.note(file_key(path), _missing(im, first))
    return im, orientation, size


def _missing(im: Image.Image, why_first: str) -> str:
    """What a damaged image lacks, in words: the share of rows at its bottom that did not
    decode (filled with one colour), else that its data decoded with errors."""
    try:
        a = np.asarray(normalise_mode(im).convert("L"))
    except Exception:  # noqa: BLE001  (a mode that will not convert: load_rgb says so)
        return f"damaged image data, decoded with errors ({why_first})"
    blank = (a == a[-1, -1]).all(axis=1)
    lost = len(blank) - int(np.argmin(blank[::-1])) if not blank.all() else len(blank)
    if lost < 2:
        return f"damaged image data, decoded with errors ({why_first})"
    return (f"truncated: the bottom {100 * lost / len(blank):.0f}% of the picture did not decode "
            f"({lost} of {len(blank)} rows, filled with one colour; {why_first})")


def damage_of(path: str | os.PathLike) -> str | None:
    """The damage decoding met in this file (None: it decoded cleanly, or was not decoded yet)."""
    return damage.of(file_key(os.fspath(path)))


def _nearly_blank(im: Image.Image) -> bool:
    try:
        hist = normalise_mode(im).convert("L").histogram()
    except Exception:  # noqa: BLE001  (a mode that will not convert: load_rgb says so)
        return False
    return max(hist) >= 0.99 * sum(hist)


def load_rgb(path: str | os.PathLike, max_side: int | None = None) -> tuple[np.ndarray, float]:
    """The image as an ``HxWx3`` uint8 RGB array (EXIF orientation applied, transparency
    on white), its longer side at most ``max_side``, and the scale applied (<= 1):
    array pixels = original pixels * scale."""
    path = os.fspath(path)
    info = probe(path)
    s = target_scale(info.width, info.height, max_side)
    im, orientation, size = _decode_checked(path, s)
    try:
        try:
            im2 = normalise_mode(im)
            if im2.size != size:
                im2 = im2.resize(size, _pil().Resampling.LANCZOS, reducing_gap=3.0)
            rgb = on_white(im2)
        except MemoryError:
            raise InputError(path, "too large to decode in the memory there is") from None
        except Exception as e:  # noqa: BLE001  (a mode Pillow cannot convert: the file's, not ours)
            raise InputError(path, f"unsupported image ({im.mode}: {_why(e)})") from None
        if (turn := _orient(orientation)) is not None:
            rgb = rgb.transpose(turn)
        return np.array(rgb, dtype=np.uint8), s
    finally:
        im.close()


_DECODED: BoundedCache[tuple[object, ...], tuple[np.ndarray, float]] = BoundedCache(
    "decoded images", 4, max_bytes=512 * 1024 * 1024, sizeof=lambda v: v[0].nbytes)


def load_cached(path: str | os.PathLike, max_side: int | None = None) -> tuple[np.ndarray, float]:
    """``load_rgb`` (read-only array), kept for the tools that work on the same image;
    the last few decodes stay, up to 512 MB."""
    path = os.fspath(path)
    key = (file_key(path), max_side)
    if (found := _DECODED.get(key)) is not None:
        return found
    x, s = load_rgb(path, max_side)
    x.setflags(write=False)
    return _DECODED.put(key, (x, s))


# --------------------------------------------------------------------------- for tools' check()


def image_input(ctx: ToolContext, input_id: str) -> ImageInfo:
    """The image file behind ``input_id``, or a ``CallError`` naming the image inputs there are."""
    media = getattr(ctx, "media", None) or {}
    path = media.get(input_id)
    if path is None:
        kind = "a text input" if input_id in ctx.texts else "not an input of this run"
        raise CallError(f"input {input_id!r} is {kind}, not an image input; image inputs: {_images(media) or 'none'}")
    try:
        return probe(path)
    except InputError as e:
        if e.reason == NOT_IMAGE:
            raise CallError(f"input {input_id!r} is not an image; image inputs: {_images(media) or 'none'}") from None
        raise


def _images(media: dict[str, str]) -> list[str]:
    return readable_inputs(media, probe)


def check_box(info: ImageInfo, box: Sequence[float] | None, input_id: str) -> None:
    """A box ``[x0, y0, x1, y1]`` (original pixels) must be non-empty and inside the image."""
    if box is None:
        return
    if len(box) != 4:
        raise CallError(f"box must be [x0, y0, x1, y1], not {list(box)}")
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise CallError(f"box {list(box)} is empty: x1 must exceed x0 and y1 must exceed y0")
    if x0 < 0 or y0 < 0 or x1 > info.width or y1 > info.height:
        raise CallError(f"box {list(box)} is not inside input {input_id!r} ({info.width}x{info.height} pixels)")

"""Image files in, RGB arrays out: every bad case as a real file, and the exact outcome
(huge images: ``test_image_size.py``)."""

from __future__ import annotations

import os
import struct
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from muie.errors import CallError, InputError
from muie.settings import Settings
from muie.tools.base import ToolContext
from muie.tools.media import image_io
from muie.tools.media.image_io import ImageInfo, check_box, image_input, load_cached, load_rgb, probe
from tests.support.images import PNG_SIG, photo, png_chunk, refused

# --------------------------------------------------------------------------- files that are not images


def test_missing_directory_empty_text(tmp_path: Path) -> None:
    refused(tmp_path / "nope.png", "no such file")
    refused(tmp_path, "is a directory")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    refused(empty, "empty (0 bytes)")
    text = tmp_path / "notes.jpg"
    text.write_text("this is text, not a picture\n" * 20)
    e = refused(text, "not an image file")
    assert str(e) == f"{text}: {image_io.NOT_IMAGE}"
    with pytest.raises(InputError, match="not an image file"):
        probe(text)


def test_zero_by_zero(tmp_path: Path) -> None:
    png = tmp_path / "zero.png"
    png.write_bytes(PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 0, 0, 0, 0))
                    + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))
    refused(png, "has no pixels (0x0)")
    gif = tmp_path / "zero.gif"
    gif.write_bytes(b"GIF89a" + b"\0\0\0\0" + b"\0\0\0" + b";")
    refused(gif, "has no pixels (0x0)")
    wide = tmp_path / "wide.png"  # 7x0: no rows
    wide.write_bytes(PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 0, 8, 0, 0, 0, 0))
                     + png_chunk(b"IEND", b""))
    refused(wide, "has no pixels (7x0)")


def test_corrupt_header_and_data(tmp_path: Path) -> None:
    Image.fromarray(photo()).save(tmp_path / "ok.png")
    head = tmp_path / "head.png"
    head.write_bytes((tmp_path / "ok.png").read_bytes()[:40])  # signature and a cut IHDR
    refused(head, "corrupt PNG header")
    garbage = tmp_path / "garbage.png"  # a valid header, pixel data that is not zlib
    garbage.write_bytes(PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 10, 8, 0, 0, 0, 0))
                        + png_chunk(b"IDAT", b"not deflate data at all") + png_chunk(b"IEND", b""))
    assert probe(garbage).width == 10  # the header alone is fine
    refused(garbage, "nothing could be decoded", "broken data stream")


# --------------------------------------------------------------------------- truncated


def test_truncated_jpeg_keeps_what_decodes(tmp_path: Path) -> None:
    a = photo()
    full = tmp_path / "full.jpg"
    Image.fromarray(a).save(full, quality=95)
    data = full.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 6 // 10])
    x, s = load_rgb(cut)
    assert x.shape == (512, 512, 3) and x.dtype == np.uint8 and s == 1.0
    assert np.abs(x[:150].astype(int) - a[:150]).mean() < 4  # the top decoded as the photo
    assert np.abs(x[-20:].astype(int) - 128).max() <= 1  # the missing bottom is the decoder's grey
    sos = data.index(b"\xff\xda")
    header_only = tmp_path / "header_only.jpg"  # every marker up to the scan, no scan data
    header_only.write_bytes(data[: sos + 2 + int.from_bytes(data[sos + 2: sos + 4], "big")])
    refused(header_only, "truncated or corrupt image, nothing could be decoded", "truncated")


def test_truncated_png(tmp_path: Path) -> None:
    a = photo()
    full = tmp_path / "full.png"
    Image.fromarray(a).save(full)
    data = full.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    x, _ = load_rgb(cut)
    assert np.array_equal(x[:100], a[:100])  # PNG is lossless: the decoded rows are exact
    assert x[-10:].max() == 0  # rows never decoded stay black
    stub = tmp_path / "stub.png"
    stub.write_bytes(data[:120])  # header and the start of the first IDAT chunk
    refused(stub, "nothing could be decoded")






# --------------------------------------------------------------------------- colour modes


def test_cmyk_jpeg(tmp_path: Path) -> None:
    a = np.zeros((64, 96, 3), np.uint8)
    a[:, :32] = (200, 30, 30)
    a[:, 32:64] = (30, 160, 60)
    a[:, 64:] = (250, 250, 250)
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(a).convert("CMYK").save(p, quality=95)
    assert probe(p).mode == "CMYK"
    x, _ = load_rgb(p)
    for x0, colour in ((0, (200, 30, 30)), (32, (30, 160, 60)), (64, (250, 250, 250))):
        assert np.abs(x[20:40, x0 + 8:x0 + 24].reshape(-1, 3).mean(0) - colour).max() < 6


def test_16_bit_grey_and_48_bit_rgb(tmp_path: Path) -> None:
    import cv2

    g = (np.arange(256 * 16, dtype=np.uint32).reshape(16, 256) * 16).astype(np.uint16)  # 0..65520
    p16 = tmp_path / "grey16.png"
    Image.fromarray(g).save(p16)
    assert probe(p16).mode == "I;16"
    x, _ = load_rgb(p16)
    want = np.rint(g.astype(float) * 255 / 65535)
    assert np.abs(x[..., 0] - want).max() == 0 and (x[..., 0] == x[..., 2]).all()
    assert len(np.unique(x)) == 256  # scaled over the full range, not clipped at 255
    rgb16 = np.stack([g, 65535 - g, np.full_like(g, 32768)], -1)
    p48 = tmp_path / "rgb48.png"
    cv2.imwrite(str(p48), rgb16[..., ::-1])  # OpenCV writes BGR
    y, _ = load_rgb(p48)
    assert np.abs(y.astype(int) - rgb16.astype(int) * 255 // 65535).max() <= 1
    f = tmp_path / "float.tif"
    Image.fromarray((g / 65535.0).astype(np.float32), "F").save(f)
    z, _ = load_rgb(f)
    assert np.abs(z[..., 0].astype(int) - want).max() <= 1


def test_palette_alpha_and_bilevel(tmp_path: Path) -> None:
    pal = Image.new("P", (30, 10))
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    pal.paste(0, (0, 0, 10, 10))
    pal.paste(1, (10, 0, 20, 10))
    pal.paste(2, (20, 0, 30, 10))
    pal.save(tmp_path / "p.png")
    x, _ = load_rgb(tmp_path / "p.png")
    assert tuple(x[5, 5]) == (255, 0, 0) and tuple(x[5, 15]) == (0, 255, 0) and tuple(x[5, 25]) == (0, 0, 255)
    pal.save(tmp_path / "pt.png", transparency=1)  # green is the transparent index
    x, _ = load_rgb(tmp_path / "pt.png")
    assert tuple(x[5, 15]) == (255, 255, 255) and tuple(x[5, 5]) == (255, 0, 0)

    la = np.zeros((10, 30, 2), np.uint8)
    la[..., 0] = 40
    la[:, :10, 1], la[:, 10:20, 1], la[:, 20:, 1] = 0, 128, 255
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    x, _ = load_rgb(tmp_path / "la.png")
    assert tuple(x[5, 5]) == (255,) * 3 and tuple(x[5, 25]) == (40,) * 3
    assert abs(int(x[5, 15, 0]) - round(40 * 128 / 255 + 255 * 127 / 255)) <= 1

    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[..., :3] = (0, 0, 200)
    rgba[:, 10:, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    x, _ = load_rgb(tmp_path / "rgba.png")
    assert tuple(x[5, 2]) == (255, 255, 255) and tuple(x[5, 15]) == (0, 0, 200)

    bw = Image.new("1", (16, 8), 0)
    bw.paste(1, (8, 0, 16, 8))
    bw.save(tmp_path / "bw.png")
    x, _ = load_rgb(tmp_path / "bw.png")
    assert x[:, :8].max() == 0 and x[:, 8:].min() == 255


def test_animated_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (24, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100, loop=0)
    info = probe(p)
    assert (info.format, info.frames, info.width, info.height) == ("GIF", 3, 24, 16)
    x, _ = load_rgb(p)
    assert (x.reshape(-1, 3) == (255, 0, 0)).all()


def test_exif_orientation(tmp_path: Path) -> None:
    a = np.full((20, 40, 3), 255, np.uint8)
    a[:5, :5] = (255, 0, 0)  # stored: red at top-left of a wide image
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # shown rotated a quarter turn clockwise
    p = tmp_path / "rot.jpg"
    im.save(p, exif=exif, quality=98)
    info = probe(p)
    assert (info.width, info.height) == (20, 40)
    x, _ = load_rgb(p)
    assert x.shape == (40, 20, 3)
    red = (x[..., 0] > 200) & (x[..., 1] < 80)
    ys, xs = np.where(red)
    assert ys.max() < 6 and xs.min() >= 14  # now at the top-right
    png = tmp_path / "rot.png"
    im.save(png, exif=exif)
    assert (probe(png).width, probe(png).height) == (20, 40)
    assert np.array_equal(load_rgb(png)[0], np.rot90(a, -1))


# --------------------------------------------------------------------------- cache and tool inputs


def test_cache_decodes_once(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    Image.fromarray(photo()).save(p)
    x1, s1 = load_cached(p, 256)
    x2, s2 = load_cached(p, 256)
    assert x1 is x2 and s1 == s2 == 0.5 and not x1.flags.writeable
    assert load_cached(p)[0].shape == (512, 512, 3)
    Image.fromarray(photo()[::-1].copy()).save(p)  # rewritten in place: a new file
    os.utime(p, ns=(1, 1))
    assert not np.array_equal(load_cached(p, 256)[0], x1)


def _wav(path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * 1600)


def test_image_input_and_box(tmp_path: Path) -> None:
    img = tmp_path / "a.png"
    Image.new("RGB", (64, 48)).save(img)
    _wav(tmp_path / "a.wav")
    ctx = ToolContext(texts={"text": "hi"}, settings=Settings(),
                      media={"image0": str(img), "audio0": str(tmp_path / "a.wav")})
    info = image_input(ctx, "image0")
    assert isinstance(info, ImageInfo) and (info.width, info.height, info.format) == (64, 48, "PNG")
    with pytest.raises(CallError,
                       match=r"'image9' is not an input of this run, not an image input; image inputs: \['image0'\]"):
        image_input(ctx, "image9")
    with pytest.raises(CallError, match="'text' is a text input"):
        image_input(ctx, "text")
    with pytest.raises(CallError, match=r"'audio0' is not an image; image inputs: \['image0'\]"):
        image_input(ctx, "audio0")
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):  # the user's file is bad, not the call
        image_input(ctx, "image0")
    check_box(info, [0, 0, 64, 48], "image0")
    check_box(info, None, "image0")
    with pytest.raises(CallError, match=r"not inside input 'image0' \(64x48 pixels\)"):
        check_box(info, [10, 10, 65, 20], "image0")
    with pytest.raises(CallError, match="is empty"):
        check_box(info, [10, 10, 10, 20], "image0")

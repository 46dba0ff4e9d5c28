"""Image files in, RGB arrays out: every bad case as a real file, and the exact outcome.

Huge images are written without holding their pixels: a baseline JPEG's entropy-coded
data is composed bit by bit (two flat halves compress to a few MB), a PNG's rows are
streamed through zlib; the peak memory of decoding them is measured in a child process.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from muie.errors import CallError, InputError
from muie.settings import Settings
from muie.tools.media import image_io
from muie.tools.base import ToolContext
from muie.tools.media.image_io import ImageInfo, check_box, image_input, load_cached, load_rgb, probe

ROOT = Path(__file__).resolve().parents[1]


def _err(path, *words: str) -> InputError:
    with pytest.raises(InputError) as e:
        load_rgb(path)
    assert e.value.what == str(path), e.value
    for w in words:
        assert w in e.value.reason, e.value.reason
    return e.value


def _photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()  # 512x512x3


# --------------------------------------------------------------------------- files that are not images


def test_missing_directory_empty_text(tmp_path: Path) -> None:
    _err(tmp_path / "nope.png", "no such file")
    _err(tmp_path, "is a directory")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    _err(empty, "empty (0 bytes)")
    text = tmp_path / "notes.jpg"
    text.write_text("this is text, not a picture\n" * 20)
    e = _err(text, "not an image file")
    assert str(e) == f"{text}: {image_io.NOT_IMAGE}"
    with pytest.raises(InputError, match="not an image file"):
        probe(text)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_SIG = b"\x89PNG\r\n\x1a\n"


def test_zero_by_zero(tmp_path: Path) -> None:
    png = tmp_path / "zero.png"
    png.write_bytes(PNG_SIG + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 0, 0, 0, 0))
                    + _png_chunk(b"IDAT", zlib.compress(b"")) + _png_chunk(b"IEND", b""))
    _err(png, "has no pixels (0x0)")
    gif = tmp_path / "zero.gif"
    gif.write_bytes(b"GIF89a" + b"\0\0\0\0" + b"\0\0\0" + b";")
    _err(gif, "has no pixels (0x0)")
    wide = tmp_path / "wide.png"  # 7x0: no rows
    wide.write_bytes(PNG_SIG + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 0, 8, 0, 0, 0, 0))
                     + _png_chunk(b"IEND", b""))
    _err(wide, "has no pixels (7x0)")


def test_corrupt_header_and_data(tmp_path: Path) -> None:
    Image.fromarray(_photo()).save(tmp_path / "ok.png")
    head = tmp_path / "head.png"
    head.write_bytes((tmp_path / "ok.png").read_bytes()[:40])  # signature and a cut IHDR
    _err(head, "corrupt PNG header")
    garbage = tmp_path / "garbage.png"  # a valid header, pixel data that is not zlib
    garbage.write_bytes(PNG_SIG + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 10, 8, 0, 0, 0, 0))
                        + _png_chunk(b"IDAT", b"not deflate data at all") + _png_chunk(b"IEND", b""))
    assert probe(garbage).width == 10  # the header alone is fine
    _err(garbage, "nothing could be decoded", "broken data stream")


# --------------------------------------------------------------------------- truncated


def test_truncated_jpeg_keeps_what_decodes(tmp_path: Path) -> None:
    a = _photo()
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
    _err(header_only, "truncated or corrupt image, nothing could be decoded", "truncated")


def test_truncated_png(tmp_path: Path) -> None:
    a = _photo()
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
    _err(stub, "nothing could be decoded")


# --------------------------------------------------------------------------- huge


def _dc_bits(diff: int) -> str:
    """A DC difference in the standard luminance DC table: category code, then the bits."""
    codes = ["00", "010", "011", "100", "101", "110", "1110", "11110", "111110", "1111110", "11111110", "111111110"]
    cat = abs(diff).bit_length()
    extra = "" if cat == 0 else format(diff if diff > 0 else diff + (1 << cat) - 1, f"0{cat}b")
    return codes[cat] + extra


def write_huge_jpeg(path: Path, width: int, height: int, left: int, right: int) -> None:
    """A baseline greyscale JPEG, left half grey level ``left`` and right half ``right``,
    written without its pixels: per 8x8 block, a DC difference and an end-of-block code."""
    assert width % 16 == 0 and height % 8 == 0
    bw, bh = width // 8, height // 8
    dc = lambda level: (level - 128) * 8  # noqa: E731  (quantiser 1: DC is 8x the mean level shift)
    eob = "0"  # the AC table holds one code, end of block
    zero = _dc_bits(0) + eob

    def row(first_diff: int) -> str:
        return (_dc_bits(first_diff) + eob + zero * (bw // 2 - 1)
                + _dc_bits(dc(right) - dc(left)) + eob + zero * (bw // 2 - 1))

    first = np.frombuffer(row(dc(left)).encode(), np.uint8) - 48
    rest = np.frombuffer(row(dc(left) - dc(right)).encode(), np.uint8) - 48
    bits = np.concatenate([first, np.tile(rest, bh - 1)])
    bits = np.concatenate([bits, np.ones(-len(bits) % 8, np.uint8)])  # pad with 1 bits
    scan = np.packbits(bits).tobytes().replace(b"\xff", b"\xff\x00")
    dc_counts = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    seg = lambda marker, body: marker + struct.pack(">H", len(body) + 2) + body  # noqa: E731
    path.write_bytes(
        b"\xff\xd8"
        + seg(b"\xff\xdb", b"\x00" + b"\x01" * 64)
        + seg(b"\xff\xc0", struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + seg(b"\xff\xc4", b"\x00" + dc_counts + bytes(range(12)))
        + seg(b"\xff\xc4", b"\x10" + bytes([1] + [0] * 15) + b"\x00")
        + seg(b"\xff\xda", b"\x01\x01\x00\x00\x3f\x00")
        + scan + b"\xff\xd9")


def _child_peak_mb(code: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter; what it prints (JSON) and its peak RSS in MB."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-2]), float(lines[-1])


# VmHWM, the peak RSS of the process's own memory map: ru_maxrss would carry over the
# parent's peak across fork and exec
PEAK = ("import json, re\nprint(json.dumps(result))\n"
        "print(int(re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read())[1]) / 1024)")


def test_huge_jpeg_decodes_reduced_in_little_memory(tmp_path: Path) -> None:
    big = tmp_path / "huge.jpg"
    write_huge_jpeg(big, 20000, 20000, left=40, right=200)
    assert big.stat().st_size < 5_000_000
    info = probe(big)
    assert (info.width, info.height, info.format, info.mode) == (20000, 20000, "JPEG", "L")
    code = (f"from muie.tools.media.image_io import load_rgb\nx, s = load_rgb({str(big)!r}, max_side=1000)\n"
            "result = dict(shape=list(x.shape), scale=s, left=float(x[:, :480].mean()), right=float(x[:, 520:].mean()),"
            " spread=int(x[:, :480].max()) - int(x[:, :480].min()))\n" + PEAK)
    result, peak_mb = _child_peak_mb(code)
    assert result["shape"] == [1000, 1000, 3] and result["scale"] == pytest.approx(0.05)
    assert abs(result["left"] - 40) <= 1 and abs(result["right"] - 200) <= 1 and result["spread"] <= 2
    # a full decode would hold 400 MB (grey) or 1.2 GB (RGB); reduced, it stays near the interpreter's own size
    baseline, base_mb = _child_peak_mb("import muie.tools.media.image_io\nresult = {}\n" + PEAK)
    print(f"peak RSS decoding a 20000x20000 JPEG to 1000x1000: {peak_mb:.0f} MB (interpreter alone {base_mb:.0f} MB)")
    assert peak_mb - base_mb < 150, (peak_mb, base_mb)


def test_no_max_side_caps_pixels() -> None:
    assert image_io.target_scale(20000, 20000, None) == pytest.approx((image_io.MAX_PIXELS / 4e8) ** 0.5)
    assert image_io.target_scale(4000, 3000, None) == 1.0
    assert image_io.target_scale(4000, 3000, 1000) == 0.25
    assert image_io.target_scale(300, 200, 1000) == 1.0


def test_huge_png_is_refused_before_decoding(tmp_path: Path) -> None:
    w = h = 20000
    big = tmp_path / "huge.png"
    z = zlib.compressobj(1)
    row = b"\x00" * (w + 1)
    body = b"".join(z.compress(row * 1000) for _ in range(h // 1000)) + z.flush()
    big.write_bytes(PNG_SIG + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                    + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b""))
    assert probe(big).width == 20000
    code = (f"from muie.tools.media.image_io import load_rgb\nfrom muie.errors import InputError\n"
            f"try:\n    load_rgb({str(big)!r}, max_side=1000)\n    result = 'decoded'\n"
            "except InputError as e:\n    result = [e.what, e.reason]\n" + PEAK)
    result, peak_mb = _child_peak_mb(code)
    assert result[0] == str(big)
    assert result[1].startswith("too large: 20000x20000 is 400 megapixels, over the limit of 100 for PNG")
    assert peak_mb < 300


def test_progressive_jpeg_counts_as_full_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.repeat(np.repeat(_photo(), 2, 0), 2, 1)  # 1024x1024
    Image.fromarray(a).save(tmp_path / "baseline.jpg", quality=90)
    Image.fromarray(a).save(tmp_path / "progressive.jpg", quality=90, progressive=True)
    monkeypatch.setattr(image_io, "MAX_PIXELS", 1_000_000)  # a limit this image exceeds
    x, s = load_rgb(tmp_path / "baseline.jpg", max_side=256)  # decoded reduced: allowed
    assert x.shape == (256, 256, 3) and s == 0.25
    _err(tmp_path / "progressive.jpg", "too large: 1024x1024", "progressive JPEG")


def test_large_image_downscaled(tmp_path: Path) -> None:
    a = np.zeros((3000, 4000, 3), np.uint8)
    a[:, 2000:] = (0, 0, 255)
    a[1000:1400, 400:800] = (255, 0, 0)  # a red square
    p = tmp_path / "big.png"
    Image.fromarray(a).save(p, compress_level=1)
    x, s = load_rgb(p, max_side=1000)
    assert x.shape == (750, 1000, 3) and s == 0.25
    ys, xs = np.where((x[..., 0] > 200) & (x[..., 1] < 50))
    assert (xs.min() / s, ys.min() / s, (xs.max() + 1) / s, (ys.max() + 1) / s) == pytest.approx(
        (400, 1000, 800, 1400), abs=8)
    small, s1 = load_rgb(p, max_side=5000)
    assert small.shape == (3000, 4000, 3) and s1 == 1.0 and np.array_equal(small, a)


def test_jpeg_downscaled_through_draft(tmp_path: Path) -> None:
    a = np.repeat(np.repeat(_photo(), 8, 0), 8, 1)  # 4096x4096
    p = tmp_path / "big.jpg"
    Image.fromarray(a).save(p, quality=92)
    x, s = load_rgb(p, max_side=512)
    assert x.shape == (512, 512, 3) and s == 0.125
    assert np.abs(x.astype(int) - _photo()).mean() < 6


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
    pal.paste(0, (0, 0, 10, 10)); pal.paste(1, (10, 0, 20, 10)); pal.paste(2, (20, 0, 30, 10))
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
    Image.fromarray(_photo()).save(p)
    x1, s1 = load_cached(p, 256)
    x2, s2 = load_cached(p, 256)
    assert x1 is x2 and s1 == s2 == 0.5 and not x1.flags.writeable
    assert load_cached(p)[0].shape == (512, 512, 3)
    Image.fromarray(_photo()[::-1].copy()).save(p)  # rewritten in place: a new file
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
    with pytest.raises(CallError, match=r"'image9' is not an input of this run, not an image input; image inputs: \['image0'\]"):
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

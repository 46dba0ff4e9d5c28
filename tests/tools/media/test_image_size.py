"""The size policy of image decoding: a huge baseline JPEG decodes reduced in little memory,
a huge PNG is refused before decoding, progressive JPEG counts at full size, downscaling
is exact.

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
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from muie.tools.media import image_io
from muie.tools.media.image_io import load_rgb, probe
from tests.support.images import PNG_SIG, photo, png_chunk, refused
from tests.support.paths import ROOT

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
    code = (f"from muie.tools.media.image_io import load_rgb, probe\nx, s = load_rgb({str(big)!r}, max_side=1000)\n"
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
    big.write_bytes(PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                    + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b""))
    assert probe(big).width == 20000
    code = (f"from muie.tools.media.image_io import load_rgb, probe\nfrom muie.errors import InputError\n"
            f"try:\n    load_rgb({str(big)!r}, max_side=1000)\n    result = 'decoded'\n"
            "except InputError as e:\n    result = [e.what, e.reason]\n" + PEAK)
    result, peak_mb = _child_peak_mb(code)
    assert result[0] == str(big)
    assert result[1].startswith("too large: 20000x20000 is 400 megapixels, over the limit of 100 for PNG")
    assert peak_mb < 300


def test_progressive_jpeg_counts_as_full_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.repeat(np.repeat(photo(), 2, 0), 2, 1)  # 1024x1024
    Image.fromarray(a).save(tmp_path / "baseline.jpg", quality=90)
    Image.fromarray(a).save(tmp_path / "progressive.jpg", quality=90, progressive=True)
    monkeypatch.setattr(image_io, "MAX_PIXELS", 1_000_000)  # a limit this image exceeds
    x, s = load_rgb(tmp_path / "baseline.jpg", max_side=256)  # decoded reduced: allowed
    assert x.shape == (256, 256, 3) and s == 0.25
    refused(tmp_path / "progressive.jpg", "too large: 1024x1024", "progressive JPEG")


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
    a = np.repeat(np.repeat(photo(), 8, 0), 8, 1)  # 4096x4096
    p = tmp_path / "big.jpg"
    Image.fromarray(a).save(p, quality=92)
    x, s = load_rgb(p, max_side=512)
    assert x.shape == (512, 512, 3) and s == 0.125
    assert np.abs(x.astype(int) - photo()).mean() < 6

"""Audio files in, mono float32 samples at 16 kHz out: one decoder (PyAV) for every format.

- ``probe(path)``: duration, sample rate and channels from the container's header.
- ``stream(path)``: decoded, downmixed, resampled blocks, one at a time.
- ``load(path, start_s, end_s)``: the samples of a window, written into one buffer sized
  from the header, so that a long file is never held twice (no list of blocks joined at
  the end); ``load_cached`` keeps the last few decodes for the tools that share an input.

Every problem with the file itself is an ``InputError`` naming the path: missing, empty,
not audio, corrupt with nothing decodable, no samples at all. A corrupt tail is cut off
(what decodes is kept). Silence is valid audio.

Also here: how a tool resolves its ``input`` against the run's media (``audio_input``)
and checks a time window (``check_window``); both raise ``CallError``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from muie.errors import CallError, InputError
from muie.files import input_file_key
from muie.tools.media import damage
from muie.tools.media.av_decode import Decoded, open_container, why
from muie.tools.runtime import BoundedCache

if TYPE_CHECKING:  # pragma: no cover
    from muie.tools.base import ToolContext

SR = 16000
"""The one sample rate every audio tool works at."""



@dataclass(frozen=True)
class AudioInfo:
    path: str
    duration_s: float
    sample_rate: int
    channels: int
    codec: str


def file_key(path: str) -> tuple[str, int, int]:
    """The file as a cache key; ``InputError`` when there is no audio file to read."""
    return input_file_key(path, "audio")


def package_dir(name: str) -> Path | None:
    """Where an installed package's files lie, found without importing it (the model
    packages' own code imports torch or torchaudio; only their data files are used)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _open(path: str):
    """The container and its first audio stream, or an ``InputError`` saying why not."""
    file_key(path)
    container = open_container(path, "audio")
    if not container.streams.audio:
        container.close()
        raise InputError(path, "has no audio stream")
    return container, container.streams.audio[0]


def _channels(stream) -> int:
    ctx = stream.codec_context
    layout = getattr(ctx, "layout", None)
    n = getattr(layout, "nb_channels", None) or getattr(ctx, "channels", None)
    return int(n or 1)


def _header_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


_PROBES: BoundedCache[tuple[str, int, int], AudioInfo] = BoundedCache("audio probes", 256)


def probe(path: str | os.PathLike) -> AudioInfo:
    """Duration (seconds), native sample rate and channel count of an audio file.

    The duration comes from the header; a file whose header has none is decoded once
    to count its samples.
    """
    path = os.fspath(path)
    key = file_key(path)
    if (found := _PROBES.get(key)) is not None:
        return found
    container, stream = _open(path)
    try:
        duration = _header_duration(container, stream)
        info = AudioInfo(path, 0.0, int(stream.codec_context.sample_rate or 0), _channels(stream),
                         stream.codec_context.name)
    finally:
        container.close()
    if not duration or duration <= 0:
        duration = sum(len(b) for b in stream_blocks(path)) / SR
    info = AudioInfo(info.path, round(duration, 6), info.sample_rate, info.channels, info.codec)
    return _PROBES.put(key, info)


def stream_blocks(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Mono float32 blocks at 16 kHz, in order, as the decoder hands them out.

    Stereo is averaged to mono by the resampler. Packets that fail to decode are
    skipped; after too many, or when the demuxer fails (a truncated file), the stream
    ends with what decoded. Raises ``InputError`` if nothing at all decodes.
    """
    import av

    path = os.fspath(path)
    container, stream = _open(path)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SR)
    produced = 0
    header_s = _wav_declared_s(path) or (_header_duration(container, stream) if _exact_header(stream) else None)
    decoded = Decoded(container, stream)
    try:
        for frame in decoded:
            frame.pts = None  # timing comes from the sample count, not damaged stamps
            for out in resampler.resample(frame):
                x = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                produced += len(x)
                yield x
        for out in resampler.resample(None):
            x = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            produced += len(x)
            yield x
    finally:
        container.close()
    if produced == 0:
        if decoded.error is not None:
            raise InputError(path, f"corrupt audio: nothing could be decoded ({why(decoded.error)})")
        raise InputError(path, "contains no audio samples (zero length)")
    reason = decoded.damage("audio")
    if header_s and produced / SR < header_s - 0.1:
        cut = f"truncated: {produced / SR:.2f} s of the {header_s:.2f} s its header gives decoded"
        reason = f"{cut}; {reason}" if reason else cut
    if reason:
        damage.note(file_key(path), reason)


def _wav_declared_s(path: str) -> float | None:
    """The seconds a WAV file's ``data`` chunk declares (FFmpeg reports what the file holds
    instead, so a cut WAV would look whole); None for other files, or a size left open."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, rate, block = 12, 0, 0
    while pos + 8 <= len(head):
        tag, size = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if tag == b"fmt " and pos + 22 <= len(head):
            rate = struct.unpack("<I", head[pos + 12:pos + 16])[0]
            block = struct.unpack("<H", head[pos + 20:pos + 22])[0]
        if tag == b"data":
            open_size = size in (0, 0xFFFFFFFF, 0x7FFFF000) or not rate or not block
            return None if open_size else size / block / rate
        pos += 8 + size + (size & 1)
    return None


def _exact_header(stream) -> bool:
    """Whether the header's duration is exact (PCM and FLAC count their samples; a
    compressed stream's duration may be an estimate from its bit rate)."""
    name = stream.codec_context.name or ""
    return name.startswith("pcm_") or name == "flac"


def damage_of(path: str | os.PathLike) -> str | None:
    """The damage decoding met in this file (None: it decoded cleanly, or was not decoded
    to its end yet)."""
    return damage.of(file_key(os.fspath(path)))


def load(path: str | os.PathLike, start_s: float | None = None, end_s: float | None = None) -> np.ndarray:
    """The samples of ``[start_s, end_s)`` (default: all), mono float32 at 16 kHz.

    Decodes from the start (exact sample positions for every codec) but keeps only the
    window, in a buffer sized from the header; it grows only if the header was short.
    """
    path = os.fspath(path)
    info = probe(path)
    lo = int(round((start_s or 0.0) * SR))
    hi = int(round(end_s * SR)) if end_s is not None else None
    expect = (hi if hi is not None else int(info.duration_s * SR) + SR // 10) - lo
    buf = np.zeros(max(expect, SR // 10), dtype=np.float32)
    n = pos = 0
    for block in stream_blocks(path):
        b0, b1 = pos, pos + len(block)
        pos = b1
        if b1 <= lo:
            continue
        a, b = max(lo, b0), b1 if hi is None else min(hi, b1)
        if b > a:
            need = n + (b - a)
            if need > len(buf):  # header under-reported: grow once, generously
                grown = np.zeros(max(need, int(len(buf) * 1.5)), dtype=np.float32)
                grown[:n] = buf[:n]
                buf = grown
            buf[n:need] = block[a - b0:b - b0]
            n = need
        if hi is not None and b1 >= hi:
            break
    return buf[:n]


_DECODED: BoundedCache[tuple[str, int, int], np.ndarray] = BoundedCache("decoded audio", 2)


def load_cached(path: str | os.PathLike) -> np.ndarray:
    """The whole file (read-only), shared by the tools that work on the same input."""
    path = os.fspath(path)
    key = file_key(path)
    if (found := _DECODED.get(key)) is not None:
        return found
    x = load(path)
    x.setflags(write=False)
    _DECODED.put(key, x)
    info = _PROBES.get(key)
    if info is not None:  # the decoded length is the truth (a cut file's header over-reports)
        _PROBES.put(key, AudioInfo(info.path, len(x) / SR, info.sample_rate, info.channels, info.codec))
    return x


def window(path: str, start_s: float | None, end_s: float | None) -> tuple[np.ndarray, float]:
    """The samples of a window of an input and the window's start in the input's time."""
    x = load_cached(path)
    lo = int(round((start_s or 0.0) * SR))
    hi = len(x) if end_s is None else min(len(x), int(round(end_s * SR)))
    return x[lo:max(lo, hi)], lo / SR


# --------------------------------------------------------------------------- for tools' check()


def audio_input(ctx: ToolContext, input_id: str) -> AudioInfo:
    """The audio file behind ``input_id``, or a ``CallError`` naming the audio inputs there are."""
    media = getattr(ctx, "media", None) or {}
    path = media.get(input_id)
    if path is None:
        audio = [k for k, p in media.items() if _is_audio(p)]
        kind = "a text input" if input_id in ctx.texts else "not an input of this run"
        raise CallError(f"input {input_id!r} is {kind}, not an audio input; audio inputs: {audio or 'none'}")
    try:
        return probe(path)
    except InputError as e:
        if e.reason == "has no audio stream":
            raise CallError(f"input {input_id!r} has no sound (it is not an audio input)") from None
        raise


def _is_audio(path: str) -> bool:
    try:
        probe(path)
        return True
    except InputError:
        return False


def check_window(info: AudioInfo, start_s: float | None, end_s: float | None, input_id: str) -> None:
    """A window must lie inside the input (with 50 ms of slack for the header's rounding)."""
    d = info.duration_s
    if start_s is not None and start_s >= d:
        raise CallError(f"start_s {start_s} is not before the end of input {input_id!r} ({d:.3f} s long)")
    if end_s is not None and end_s > d + 0.05:
        raise CallError(f"end_s {end_s} is past the end of input {input_id!r} ({d:.3f} s long)")
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise CallError(f"end_s {end_s} must be after start_s {start_s}")

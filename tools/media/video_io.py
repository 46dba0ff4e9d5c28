"""Video files in, RGB frames out, streamed: one decoder (PyAV) for mp4, avi, mkv, webm...

- ``probe(path)``: frame rate, frame count, size, duration and whether there is a sound
  track, from the container's header (the frame count by demuxing, without decoding,
  when the header has none); the first frame is decoded too, so that a file whose
  pictures cannot be decoded is bad input before any work.
- ``frames(path, sample_fps, max_side)``: the frames, decoded one at a time and dropped
  as soon as the caller moves on (a long video is never held in memory), sampled at
  ``sample_fps`` (every frame by default), downscaled so that the longer side is at
  most ``max_side``; each comes with its frame number and its time in seconds.

The sound track needs nothing of its own: ``tools.audio_io`` decodes the first audio
stream of any container, so the audio tools (``transcribe``, ``detect_sounds``) take a
video input's file as it is.

Every problem with the file itself is an ``InputError`` naming the path: missing, empty,
not a video (a text file named ``.mp4``), no video stream (a sound-only container),
corrupt or truncated with no decodable frame, no frames at all. A corrupt tail is cut
off (what decodes is kept).

Also here: how a tool resolves its ``input`` against the run's media (``video_input``);
it raises ``CallError``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from muie.errors import CallError, InputError
from muie.files import input_file_key
from muie.tools.base import readable_inputs
from muie.tools.media import damage
from muie.tools.media.av_decode import Decoded, decoder_errors, open_container, why
from muie.tools.runtime import BoundedCache

if TYPE_CHECKING:  # pragma: no cover
    from muie.tools.base import ToolContext

NO_VIDEO = "has no video stream"


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    frames: int
    width: int
    height: int
    duration_s: float
    has_audio: bool
    codec: str


@dataclass(frozen=True)
class Frame:
    index: int
    """Frame number in the file, from 0, counting every frame decoded (sampled or not)."""
    time_s: float
    rgb: np.ndarray
    """``HxWx3`` uint8, at the sampled size."""
    source: object = None
    """The decoded frame, while the iteration stays on it (for ``picture``)."""

    def picture(self, max_side: int | None = None) -> np.ndarray:
        """This frame at another size (longer side at most ``max_side``; the file's own size
        by default), while the iteration stays on it."""
        if self.source is None:
            return self.rgb
        w, h = self.source.width, self.source.height  # type: ignore[attr-defined]
        s = 1.0 if not max_side or max(w, h) <= max_side else max_side / max(w, h)
        return self.source.to_ndarray(width=max(2, round(w * s)), height=max(2, round(h * s)),  # type: ignore
                                      format="rgb24")


def file_key(path: str) -> tuple[str, int, int]:
    return input_file_key(path, "video")


def _open(path: str):
    """The container and its first video stream, or an ``InputError`` saying why not."""
    file_key(path)
    container = open_container(path, "video")
    if not container.streams.video:
        container.close()
        what = "a sound-only file: give it as audio" if _has_audio(path) else "no pictures"
        raise InputError(path, f"{NO_VIDEO} ({what})")
    stream = container.streams.video[0]
    # decoded on the calling thread: FFmpeg's worker threads log through PyAV's callback,
    # which muie turns on to read damage (decoder_errors), and a worker waiting for the
    # interpreter while the caller waits for the worker hangs the process (PyAV #909, #751)
    stream.thread_type = "NONE"
    stream.codec_context.thread_count = 1
    return container, stream


def _has_audio(path: str) -> bool:
    import av

    try:
        with av.open(path, metadata_errors="ignore") as c:
            return bool(c.streams.audio)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        return False


def _rate(stream) -> float:
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r is not None and float(r) > 0:
            return float(r)
    return 25.0


_PROBES: BoundedCache[tuple[str, int, int], VideoInfo] = BoundedCache("video probes", 64)


def probe(path: str | os.PathLike) -> VideoInfo:
    """Frame rate, frame count, size, duration and sound track of a video file (cached)."""
    path = os.fspath(path)
    key = file_key(path)
    if (found := _PROBES.get(key)) is not None:
        return found
    container, stream = _open(path)
    try:
        fps = _rate(stream)
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        has_audio = bool(container.streams.audio)
        codec = stream.codec_context.name
        header = int(stream.frames or 0)
        n, cut = _count_packets(container, stream)
        if header > 0 and (n >= header or not cut and n >= header - 1):
            n = header  # the header's count stands unless the file holds fewer frames
        elif header > 0:
            damage.note(key, f"truncated: {n} of the {header} frames its header gives are in the file"
                             + (f" ({cut})" if cut else ""))
        elif cut:
            damage.note(key, f"the file ends early after {n} frames ({cut})")
    finally:
        container.close()
    first = next(frames(path, max_side=64), None)  # the pictures decode, or this is bad input
    if first is None:
        raise InputError(path, "has no frames (zero-length video)")
    if width <= 0 or height <= 0:
        raise InputError(path, f"has no pixels ({width}x{height})")
    info = VideoInfo(path, round(fps, 6), n, width, height, round(n / fps, 6), has_audio, codec)
    return _PROBES.put(key, info)


def _count_packets(container, stream) -> tuple[int, str]:
    """The stream's packets, read without decoding, and the demuxer's error when the file
    ends in one (a cut or damaged container; empty when it ends cleanly)."""
    import av

    n = 0
    with decoder_errors() as logs:
        try:
            for packet in container.demux(stream):
                if packet.size:
                    n += 1
        except av.error.FFmpegError as e:
            return n, why(e)
    said = [f"{name}: {message.strip()}" for level, name, message in logs if level <= av.logging.ERROR]
    return n, said[0] if said else ""


def damage_of(path: str | os.PathLike) -> str | None:
    """The damage met in this file: a cut container (found by ``probe``) or packets that
    failed to decode (found by ``frames``, once it has read the file to its end)."""
    return damage.of(file_key(os.fspath(path)))


def frames(path: str | os.PathLike, sample_fps: float | None = None, max_side: int | None = None,
           start_s: float = 0.0, end_s: float | None = None) -> Iterator[Frame]:
    """The frames of ``[start_s, end_s)``, one at a time, at most ``sample_fps`` a second.

    A frame is kept when its time reaches the next sampling instant (so 30 fps sampled at
    12 keeps 12 evenly spread frames a second). Packets that fail to decode are skipped;
    after too many, or when the demuxer fails (a truncated file), the stream ends with
    what decoded. Raises ``InputError`` if the file holds frames but none decodes.
    """

    path = os.fspath(path)
    container, stream = _open(path)
    fps = _rate(stream)
    w0, h0 = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
    s = 1.0 if not max_side or max(w0, h0) <= max_side else max_side / max(w0, h0)
    size = (max(2, round(w0 * s)), max(2, round(h0 * s))) if w0 and h0 else None
    step = 1.0 / sample_fps if sample_fps else 0.0
    next_t, index, produced = start_s, 0, 0
    decoded = Decoded(container, stream)
    try:
        for frame in decoded:
            t = index / fps
            k, index = index, index + 1
            if end_s is not None and t >= end_s:
                return
            if t + 1e-6 < next_t:
                continue
            next_t = max(next_t + step, t) if step else t
            if size is None:
                size = (frame.width, frame.height)
            rgb = frame.to_ndarray(width=size[0], height=size[1], format="rgb24")
            produced += 1
            yield Frame(k, round(t, 6), rgb, frame)
    finally:
        container.close()
        if (reason := decoded.damage("video")) and index:  # what was met, however far the caller read
            damage.note(file_key(path), reason)
    if produced == 0 and index == 0 and decoded.error is not None:
        raise InputError(path, f"corrupt video: no frame could be decoded ({why(decoded.error)})")


def read_frame(path: str | os.PathLike, index: int, max_side: int | None = None) -> np.ndarray | None:
    """The RGB pixels of frame ``index`` (decoded from the start; for a few frames only)."""
    for f in frames(path, max_side=max_side):
        if f.index == index:
            return f.rgb
        if f.index > index:
            break
    return None


# --------------------------------------------------------------------------- for tools' check()


def video_input(ctx: ToolContext, input_id: str) -> VideoInfo:
    """The video file behind ``input_id``, or a ``CallError`` naming the video inputs there are."""
    media = getattr(ctx, "media", None) or {}
    path = media.get(input_id)
    if path is None:
        kind = "a text input" if input_id in ctx.texts else "not an input of this run"
        raise CallError(f"input {input_id!r} is {kind}, not a video input; video inputs: {_videos(media) or 'none'}")
    try:
        return probe(path)
    except InputError as e:
        if e.reason.startswith(NO_VIDEO) or e.reason.startswith("not a readable video"):
            raise CallError(f"input {input_id!r} is not a video; video inputs: {_videos(media) or 'none'}") from None
        raise


def _videos(media: dict[str, str]) -> list[str]:
    return readable_inputs(media, probe)

"""Decoding a PyAV stream past damaged packets: what audio and video decoding share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def why(e: BaseException) -> str:
    """An error's reason in a few words, for a message naming the file."""
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def open_container(path: str, what: str) -> Any:
    """The file opened by PyAV, or an ``InputError``: not a readable ``what`` file (and why)."""
    import av

    from muie.errors import InputError

    try:
        return av.open(path, metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"not a readable {what} file ({why(e)})") from None


MAX_BAD_PACKETS = 64
"""Decode errors tolerated before the rest of a file counts as corrupt."""


class Decoded:
    """The frames of one stream of an open container, in order, past up to
    ``MAX_BAD_PACKETS`` packets that fail to decode; a container cut or damaged ends them.
    ``error`` holds the last error met (None when all went well), ``bad`` the packets
    that failed and ``cut`` whether the container ended in an error."""

    def __init__(self, container: Any, stream: Any) -> None:
        self.container, self.stream = container, stream
        self.error: Exception | None = None
        self.bad = 0
        self.cut = False
        self.concealed: list[str] = []
        """What the decoder reported while it concealed damage itself (no packet failed)."""

    def damage(self, what: str) -> str | None:
        """The damage met so far in words ("3 damaged packets skipped"), or None."""
        parts = []
        if self.bad:
            parts.append(f"{self.bad} damaged {what} packet(s) skipped" +
                         (f", the rest after {MAX_BAD_PACKETS} not read" if self.bad > MAX_BAD_PACKETS else ""))
        if self.cut:
            parts.append("the file ends early (cut or damaged container)")
        if self.concealed:
            parts.append(f"{len(self.concealed)} error(s) reported while decoding ({self.concealed[0]})")
        if not parts:
            return None
        return "; ".join(parts) + (f" ({why(self.error)})" if self.error is not None else "")

    def __iter__(self) -> Iterator[Any]:
        import av

        with decoder_errors() as logs:
            try:
                yield from self._frames(av)
            finally:
                self.concealed += [f"{name}: {message.strip()}" for level, name, message in logs
                                   if level <= av.logging.ERROR and message.strip()]

    def _frames(self, av: Any) -> Iterator[Any]:
        packets = self.container.demux(self.stream)
        bad = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as e:  # the container itself is cut or damaged
                self.error, self.cut = e, True
                return
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                bad, self.error = bad + 1, e
                self.bad = bad
                if bad > MAX_BAD_PACKETS:
                    return
                continue
            yield from frames


_LISTENING: list[bool] = []


def decoder_errors() -> Any:
    """A context that collects FFmpeg's error messages of this thread (``av.logging.Capture``).
    FFmpeg's log is turned on at the error level once; its messages never reach stderr
    (the ``libav`` logger keeps them), they are read here as evidence of damage."""
    import logging

    import av.logging

    if not _LISTENING:
        quiet = logging.getLogger("libav")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        av.logging.set_level(av.logging.ERROR)
        _LISTENING.append(True)
    return av.logging.Capture(local=True)

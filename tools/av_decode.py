"""Decoding a PyAV stream past damaged packets: what audio and video decoding share."""

from __future__ import annotations

from typing import Any, Iterator

def why(e: BaseException) -> str:
    """An error's reason in a few words, for a message naming the file."""
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def open_container(path: str, what: str) -> Any:
    """The file opened by PyAV, or an ``InputError``: not a readable ``what`` file (and why)."""
    import av

    from agent.errors import InputError

    try:
        return av.open(path, metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"not a readable {what} file ({why(e)})") from None


MAX_BAD_PACKETS = 64
"""Decode errors tolerated before the rest of a file counts as corrupt."""


class Decoded:
    """The frames of one stream of an open container, in order, past up to
    ``MAX_BAD_PACKETS`` packets that fail to decode; a container cut or damaged ends them.
    ``error`` holds the last error met (None when all went well)."""

    def __init__(self, container: Any, stream: Any) -> None:
        self.container, self.stream = container, stream
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[Any]:
        import av

        packets = self.container.demux(self.stream)
        bad = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as e:  # the container itself is cut or damaged
                self.error = e
                return
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                bad, self.error = bad + 1, e
                if bad > MAX_BAD_PACKETS:
                    return
                continue
            yield from frames

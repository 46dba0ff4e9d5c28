"""What decoding found damaged in a media file, one note per file.

The rule (the README's contract section): a file from which nothing decodes is bad
input (``InputError``, exit 2); a file that decodes only in part (a truncated download,
damaged packets) is accepted with what decodes, and the damage is said three ways: a
warning line on stderr, a finding in the trace, and ``damage`` on the result's input.

The decoders (``image_io``, ``audio_io``, ``video_io``) note what they meet here, keyed
by the file's identity (path, size, modification time), so a file rewritten in place
starts clean; the agent reads the notes when it builds the inputs and when it finishes.
"""

from __future__ import annotations

from muie.tools.runtime import BoundedCache

_NOTES: BoundedCache[tuple[str, int, int], str] = BoundedCache("damage notes", 4096)


def note(key: tuple[str, int, int], reason: str) -> None:
    """Record ``reason`` for the file ``key``; the first (and most telling) note stays."""
    _NOTES.setdefault(key, reason)


def of(key: tuple[str, int, int]) -> str | None:
    """The damage noted for the file ``key``, or None when it decoded cleanly (so far)."""
    return _NOTES.get(key)

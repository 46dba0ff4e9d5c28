"""Split long text into chunks a text model can take, at the best boundary in reach.

Boundaries, best first: a blank line, a line break, the end of a sentence, a space.
Chunks never cut a word (unless a single "word" is longer than a chunk), cover the
text without gaps or overlaps except for the whitespace between them, and carry their
offsets, so every span found in a chunk maps back to the whole text exactly.
"""

from __future__ import annotations

import re

_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"[.!?][\"')\]]*\s+"), re.compile(r"\s+"))


def chunk_text(text: str, max_chars: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of non-blank chunks of at most ``max_chars`` characters."""
    chunks: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        while start < n and (text[start].isspace() or text[start] == "\ufeff"):  # BOM: not text
            start += 1
        if start >= n:
            break
        end = min(n, start + max_chars)
        if end < n:
            end = _cut(text, start, end)
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop > start:
            chunks.append((start, stop))
        start = end
    return chunks


def _cut(text: str, start: int, end: int) -> int:
    """The best place to end a chunk in ``(start, end]``: after the last boundary found
    in its second half, trying the strongest kind of boundary first; else after the last
    space anywhere in it; else (one word longer than a chunk) at ``end``."""
    window = text[start : end + 1]
    half = (end - start) // 2
    for pattern in _BOUNDARIES:
        last = None
        for m in pattern.finditer(window):
            if half < m.end() <= end - start:
                last = m
        if last is not None:
            return start + last.end()
    spaces = [m.end() for m in _BOUNDARIES[-1].finditer(window) if 0 < m.end() <= end - start]
    return start + spaces[-1] if spaces else end

"""Word boundaries moved onto the sound: Whisper's word times drift by a tenth or two of a
second; where a word has a pause next to it, the pause's edge is the word's true edge.

The signal's short-time energy (10 ms hops) is compared with a silence level set from
the recording itself. A word's start that falls in silence moves forward to the first
sound; a start that falls in sound moves back to the silence before it, if there is one
within ``REACH_S`` (words run together in fluent speech: then the start stays). Ends
mirror this. Words never cross their neighbours.
"""

from __future__ import annotations

import numpy as np

HOP_S = 0.01
REACH_S = 0.3
MIN_GAP_FRAMES = 3  # 30 ms of quiet counts as a pause


def energy(x: np.ndarray, sr: int) -> np.ndarray:
    """RMS per 10 ms frame (20 ms windows)."""
    hop = int(sr * HOP_S)
    if len(x) < 2 * hop:
        return np.zeros(0, np.float32)
    n = len(x) // hop
    sq = np.square(x[: n * hop].astype(np.float32)).reshape(n, hop).mean(axis=1)
    win = np.convolve(sq, np.ones(2, np.float32) / 2, mode="same")
    return np.sqrt(win)


def silence_level(e: np.ndarray) -> float:
    """A level between the recording's quiet floor and its speech."""
    if not e.size:
        return 0.0
    loud = float(np.percentile(e, 95))
    floor = float(np.percentile(e, 10))
    return max(floor * 3.0, loud * 0.06, 1e-4)


def _quiet(e: np.ndarray, level: float, i: int) -> bool:
    return 0 <= i < len(e) and e[i] < level


def _start(e: np.ndarray, level: float, i: int, lo: int, hi: int) -> int:
    reach = int(REACH_S / HOP_S)
    if _quiet(e, level, i):  # in silence: forward to the first sound
        j = i
        while j < min(hi, i + reach) and _quiet(e, level, j):
            j += 1
        return j if j < min(hi, i + reach) else i
    j = i  # in sound: back to the pause before it, if near
    while j > max(lo, i - reach) and not _quiet(e, level, j - 1):
        j -= 1
    if j > max(lo, i - reach) and all(_quiet(e, level, k) for k in range(j - MIN_GAP_FRAMES, j)):
        return j
    return i


def _end(e: np.ndarray, level: float, i: int, lo: int, hi: int) -> int:
    reach = int(REACH_S / HOP_S)
    if _quiet(e, level, i - 1):  # ends in silence: back to the last sound
        j = i
        while j > max(lo, i - reach) and _quiet(e, level, j - 1):
            j -= 1
        return j if j > max(lo, i - reach) else i
    j = i  # ends in sound: on to the pause after it, if near
    while j < min(hi, i + reach) and not _quiet(e, level, j):
        j += 1
    if j < min(hi, i + reach) and all(_quiet(e, level, k) for k in range(j, j + MIN_GAP_FRAMES)):
        return j
    return i


def refine(spans: list[tuple[float, float]], x: np.ndarray, sr: int) -> list[tuple[float, float]]:
    """Each ``(start_s, end_s)`` (in order, not overlapping) moved onto the sound's edges."""
    e = energy(x, sr)
    if not e.size or not spans:
        return spans
    level = silence_level(e)
    frames = [(int(round(a / HOP_S)), int(round(b / HOP_S))) for a, b in spans]
    out: list[tuple[int, int]] = []
    for k, (a, b) in enumerate(frames):
        prev_end = out[-1][1] if out else 0
        next_start = frames[k + 1][0] if k + 1 < len(frames) else len(e)
        s = _start(e, level, a, prev_end, max(a + 1, b))
        t = _end(e, level, b, max(s + 1, a), max(next_start, b))
        if t <= s:
            s, t = a, b
        out.append((max(s, prev_end), max(t, s + 1)))
    return [(round(a * HOP_S, 3), round(b * HOP_S, 3)) for a, b in out]

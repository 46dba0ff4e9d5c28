"""Long audio transcribed in pieces, and the pieces' words stitched back into one transcript.

Where pieces are cut (by ``tools.speech_segments``):

- at a pause, no word crosses the cut: each piece's audio reaches at most to the middle of
  the pause (1 s of it at most), and a word belongs to the piece its middle falls in;
- inside speech (a "hard" cut, where speech ran on longer than a piece may be), each piece's
  audio goes on past the cut to the quietest 10 ms 0.5 to 1.5 s beyond it (a boundary
  between words, so Whisper hears whole words there), and the word that straddles the
  cut is heard whole by both pieces. The two transcripts are joined at a word both heard
  (the same normalised word, within 0.6 s), the one nearest the cut: words before it come
  from the first piece, words after it from the second, and the anchor itself from the
  piece that heard it further from its audio's edge. No word is lost or doubled, and the
  one kept has the times it was heard with. With no common word, each side keeps the
  words whose middle is on its side and a last pair that still overlaps in time is one
  word, kept once.

Also the word normalisation that phrase matching uses (``tokens``, ``edits``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

SR = 16000
HARD_GAP_S = 0.02  # pieces closer than this were cut inside speech
ZONE_S = 1.5  # how far from a hard cut an anchor word may lie
ANCHOR_S = 0.6  # the two copies of an anchor word are at most this far apart


@dataclass
class Word:
    text: str
    start: float
    end: float
    prob: float
    piece: int
    seg: int
    margin: float = float("inf")  # distance to the nearer edge of its piece's audio inside speech

    @property
    def mid(self) -> float:
        return (self.start + self.end) / 2


def tokens(text: str) -> list[str]:
    """Lower-case ASCII word tokens: accents dropped, possessives and apostrophes folded."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"'s\b", "", t).replace("'", "")
    return re.findall(r"[a-z0-9]+", t)


def edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def quietest(x: np.ndarray, lo: float, hi: float) -> float:
    """The middle of the quietest 30 ms (10 ms steps) of ``[lo, hi]`` seconds of samples."""
    lo, hi = max(0.0, lo), min(len(x) / SR, hi)
    seg = x[int(lo * SR):int(hi * SR)]
    n = len(seg) // 160
    if n < 3:
        return (lo + hi) / 2
    e = np.square(seg[:n * 160].astype(np.float64)).reshape(n, 160).sum(axis=1)
    e = np.convolve(e, np.ones(3), mode="same")
    return lo + (int(np.argmin(e[1:-1])) + 1.5) * 0.01


def cuts_of(pieces: list[tuple[float, float]]) -> list[tuple[float, bool]]:
    """(time, hard) of the cut between each two pieces."""
    return [((b + a2) / 2, a2 - b < HARD_GAP_S) for (_, b), (a2, _) in zip(pieces[:-1], pieces[1:])]


def windows(x: np.ndarray, pieces: list[tuple[float, float]], overlap: float) -> list[tuple[float, float]]:
    """The audio each piece is transcribed from (see the module's docstring)."""
    duration = len(x) / SR
    cuts = cuts_of(pieces)
    out = []
    for i, (a, b) in enumerate(pieces):
        if i == 0:
            w0 = max(0.0, a - overlap)
        else:
            c, hard = cuts[i - 1]
            w0 = quietest(x, c - overlap - 0.5, c - 0.5) if hard else max(c, a - overlap)
        if i == len(pieces) - 1:
            w1 = min(duration, b + overlap)
        else:
            c, hard = cuts[i]
            w1 = quietest(x, c + 0.5, c + overlap + 0.5) if hard else min(c, b + overlap)
        out.append((w0, w1))
    return out


def same_word(a: Word, b: Word) -> bool:
    ta, tb = "".join(tokens(a.text)), "".join(tokens(b.text))
    if not ta or not tb:
        return False
    return ta == tb or (min(len(ta), len(tb)) >= 4 and edits(ta, tb) <= 1)


def _overlap(a: Word, b: Word) -> bool:
    inter = min(a.end, b.end) - max(a.start, b.start)
    shorter = min(a.end - a.start, b.end - b.start)
    return inter > 0.5 * shorter if shorter > 0 else max(a.start, b.start) <= min(a.end, b.end)


def stitch(per_piece: list[list[Word]], pieces: list[tuple[float, float]]) -> list[Word]:
    """One transcript from the words of each piece (each list in time order)."""
    if not per_piece:
        return []
    out = list(per_piece[0])
    for (c, hard), words in zip(cuts_of(pieces), per_piece[1:]):
        if hard:
            near_a = [k for k in range(len(out)) if out[k].end > c - ZONE_S]
            near_b = [k for k in range(len(words)) if words[k].start < c + ZONE_S]
            pairs = [(ka, kb) for ka in near_a for kb in near_b
                     if abs(out[ka].mid - words[kb].mid) <= ANCHOR_S and same_word(out[ka], words[kb])]
            if pairs:
                ka, kb = min(pairs, key=lambda p: abs((out[p[0]].mid + words[p[1]].mid) / 2 - c))
                anchor = out[ka] if out[ka].margin >= words[kb].margin else words[kb]
                out = out[:ka] + [anchor] + words[kb + 1:]
                continue
        left = [w for w in out if w.mid < c]
        right = [w for w in words if w.mid >= c]
        if left and right and _overlap(left[-1], right[0]):  # one word heard by both
            if left[-1].margin >= right[0].margin:
                right = right[1:]
            else:
                left = left[:-1]
        out = left + right
    return sorted(out, key=lambda w: (w.start, w.end))

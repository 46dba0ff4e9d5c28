"""Fine types read off the names themselves: the head noun of a multi-word name.

"the Labour Party", "the 1992 general election", "the Hugo Award", "Stanford University":
the last word of many names says what they are. Each such span of the training data is
also labelled with its head noun as a type phrase ("party", "election", "award"), which
gives the type scorer hundreds of fine type phrases beside the 152 of the sets, and
teaches it to read a type phrase against the words of a span, so that a schema's
"political party" or "election" is found although no set annotates them.

The labels are partial: a span of the same set type without the head word ("Labour"
beside "the Labour Party") may be one too, so it is neither a positive nor a negative of
that head type; spans of other set types and spans that are no entity are negatives.
"""

from __future__ import annotations

import random
from collections import Counter

from muie.tools.text.type_names import _vocabulary, singular

MIN_HEADS = 8  # spans a head noun must end to become a type
MIN_COMMON = 5  # times it must occur in lower case outside names (a common noun, not a surname)
ABSENT = 3  # head types absent from a sentence, drawn as negatives
ABSENT_ALONE = 0.2  # share of sentences without a head type that still get absent ones
# words that end names without saying what they are
STOP = frozenset("""
a an the of and or for to in on at by with from one two three me you my your his her our their it its
i ii iii iv v vi vii viii ix x jr sr inc ltd co corp llc plc st mr mrs dr no
new old great little big good best first last north south east west northern southern eastern western
man men woman women love life time times day days year years world world's people night live home way
united american english british french german national international general royal
now down out ago later here well least off met up back end head half thing name word
minute min hour week month second percent cent million billion rpm
alpha beta gamma delta
""".split())
CAP = 400  # a head's spans beyond this many are used in proportion, so that "cell" does not drown "party"


def vocabulary(rows: list[dict]) -> dict[str, int]:
    """Head nouns that end at least ``MIN_HEADS`` names and occur as common nouns (in lower
    case in a sentence that has capitals: a lower-cased set says nothing of proper names),
    with how many names they end."""
    heads: Counter[str] = Counter()
    common: Counter[str] = Counter()
    for r in rows:
        toks, inside = r["tokens"], set()
        for s, e, _ in r["spans"]:
            inside.update(range(s, e))
            h = head(toks, s, e)
            if h:
                heads[h] += 1
        if not any(w[:1].isupper() for w in toks):
            continue
        for i, w in enumerate(toks):
            if i not in inside and w.isalpha() and w.islower():
                common[_noun(w)] += 1
    return {h: n for h, n in sorted(heads.items()) if n >= MIN_HEADS and common[h] >= MIN_COMMON}


def _noun(word: str) -> str:
    """``word`` lower-cased and made singular where the singular is a word ("movies" stays)."""
    low = word.lower()
    one = singular(low)
    return one if one == low or one in _vocabulary() else low


def head(tokens: list[str], s: int, e: int) -> str | None:
    """The head noun of the name ``tokens[s:e]``, when it has two words or more and ends in a word."""
    if e - s < 2:
        return None
    w = tokens[e - 1]
    if not (w.isalpha() and w.isascii() and len(w) >= 3):
        return None
    h = _noun(w)
    return None if h in STOP else h


def labels(row: dict, vocab: dict[str, int], rng: random.Random) -> tuple[list[tuple[int, int, str]],
                                                                          list[tuple[int, int, str]], list[str]]:
    """(positives, ignored, types) of ``row``'s head types: positive spans, the spans left out of
    each head type's loss, and the head types the sentence is trained against (those present,
    and ``ABSENT`` drawn from the rest)."""
    toks, pos = row["tokens"], []
    for s, e, t in row["spans"]:
        h = head(toks, s, e)
        if h in vocab and rng.random() < CAP / max(CAP, vocab[h]):
            pos.append((s, e, h, t))
    present = sorted({h for *_, h, _ in pos})
    ignored = [(s, e, h) for h in present for s, e, t in row["spans"]
               if t in {t2 for *_, h2, t2 in pos if h2 == h} and (s, e, h) not in {(a, b, c) for a, b, c, _ in pos}]
    pool = sorted(set(vocab) - set(present))
    absent = rng.sample(pool, min(ABSENT, len(pool))) if present or rng.random() < ABSENT_ALONE else []
    return [(s, e, h) for s, e, h, _ in pos], ignored, present + absent

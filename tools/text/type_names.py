"""A type name as users write it, read as the phrase the entity model understands.

``PER``, ``Peop``, ``person``, ``persons`` and ``Person`` are one type; ``musical_artist``,
``musicalArtist`` and ``musicalartist`` are "musical artist"; ``programlang`` is
"programming language". The spelled-out names and words are data
(``prompts/type_names.yaml``); run-together words are split against the encoder's own
word list, preferring the fewest pieces.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import numpy as np

from muie import prompts

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_\-/.:]+")
_LINKS = frozenset({"in", "of", "by", "to", "on", "at", "or", "and"})  # short words that join run-together names
_ENDINGS = ("ing", "ness", "er", "ers", "ee", "ees", "ed")
_KEEP_S = ("ss", "us", "is", "ics", "ous", "news", "series", "species", "physics", "gas")


@cache
def _table() -> tuple[dict[str, str], dict[str, str]]:
    data = prompts.load("type_names.yaml")
    return ({k.lower(): v for k, v in data["names"].items()}, {k.lower(): v for k, v in data["words"].items()})


@cache
def _vocabulary() -> frozenset[str]:
    """Whole English words of two letters or more from the sentence encoder's vocabulary."""
    from pathlib import Path

    from muie.tools.models.sentence_onnx import default_model_path

    words = (Path(default_model_path()) / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in words if len(w) >= 2 and w.isalpha() and w.isascii())


def singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _inflected(word: str, vocab: frozenset[str]) -> bool:
    """A word of the vocabulary with an ending: "sender", "addressee", "openness", "damager"."""
    for end in _ENDINGS:
        stem = word[:-len(end)]
        if word.endswith(end) and len(stem) >= 3 and (stem in vocab or stem + "e" in vocab and end[0] in "ie"):
            return True
    return word.endswith(("r", "d")) and word[:-1].endswith("e") and word[:-1] in vocab


def split_run_together(word: str) -> list[str]:
    """``musicalartist`` -> ``[musical, artist]``; a word of the vocabulary stays whole."""
    vocab = _vocabulary()
    _, words = _table()
    if word in vocab or word in words or len(word) < 6 or _inflected(word, vocab):
        return [word]
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            piece = word[start:end]
            prev = best[start]
            link = piece in _LINKS and 0 < start and end < n  # "placeofemployment"; never "ingest or"
            known = (piece in vocab and len(piece) >= 3 and piece not in _ENDINGS or piece in words
                     or len(piece) >= 6 and _inflected(piece, vocab))
            if prev is None or not (known or link):
                continue
            cand = [*prev, piece]
            cur = best[end]
            if cur is None or len(cand) < len(cur):
                best[end] = cand
    return best[n] or [word]


@cache
def _broad_anchors() -> tuple[np.ndarray, float]:
    from muie.tools.models.sentence_onnx import encoder

    spec = prompts.load("type_names.yaml")["broad"]
    return encoder().encode(list(spec["phrases"])), float(spec["similarity"])


def broad_types(phrase_vecs: np.ndarray) -> np.ndarray:
    """Which of the unit vectors of type phrases name a broad class (person, location, ...)."""
    if len(phrase_vecs) == 0:
        return np.zeros(0, bool)
    anchors, similarity = _broad_anchors()
    return np.asarray((phrase_vecs @ anchors.T).max(1) >= similarity)


@lru_cache(maxsize=4096)
def type_phrase(name: str) -> str:
    """The phrase for the type ``name``: what the entity model embeds and matches spans to."""
    names, words = _table()
    raw = name.strip()
    if raw.lower() in names:
        return names[raw.lower()]
    parts = [p for p in _SEPARATORS.split(_CAMEL.sub(" ", raw)) if p]
    if not parts:
        return raw
    low = [p.lower() for p in parts]
    joined = "_".join(low)
    if joined in names:
        return names[joined]
    if len(low) == 1 and low[0] in names:
        return names[low[0]]
    out: list[str] = []
    for p in low:
        out.extend(split_run_together(p) if p.isalpha() else [p])
    out[-1] = singular(out[-1])
    return " ".join(words.get(w, w) for w in out)


_NO_NAME = {"n/a", "unspecified", "na", "other"}


@lru_cache(maxsize=4096)
def event_phrase(name: str) -> str:
    """An event type as a phrase: dotted ontology names lose their top level and placeholders,
    most specific first (``Life.Die.Unspecified`` -> "die", ``conflict.attack.airstrikemissilestrike``
    -> "air strike missile attack"); a plain name is read as ``type_phrase`` reads it."""
    parts = [p for p in name.replace("_", " ").split(".") if p.strip().lower() not in _NO_NAME]
    parts = parts[1:] if len(parts) > 1 else parts or [name]
    words = " ".join(type_phrase(p) for p in reversed(parts)).split()
    return " ".join(dict.fromkeys(words))  # "accident.crash.accidentcrash": "accident crash" once


@lru_cache(maxsize=4096)
def role_phrase(role: str) -> str:
    """An argument role as a phrase (``evt089arg01victim`` -> "victim", ``Attack-Pattern`` -> "attack pattern")."""
    if role.startswith("evt") and "arg" in role:
        role = role.split("arg", 1)[1].lstrip("0123456789") or role
    return type_phrase(role)


def argument_phrase(role: str, event_type: str) -> str:
    """What the argument model scores a (trigger, argument) pair against: the role in its event."""
    return f"{role_phrase(role)} in {event_phrase(event_type)}"

"""Typing by meaning: the user's type names as words, compared by embeddings.

Type names come in every style (``creative-work``, ``work_for``, ``TransferOwnership``,
``Conflict:Attack``, ``politicalparty``); they are turned into plain words before they
are embedded, glued words split with the embedder's own vocabulary (its tokenizer's
whole words: a type name is read without loading the parser).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from muie.tools.models.text_models import embedder, vocabulary

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ENDINGS = ("ing", "ed", "es", "s", "er", "ers", "ly")


def _known(word: str) -> bool:
    """A whole word of the vocabulary, or one with a common ending on one (``grounding``)."""
    words = vocabulary()
    if len(word) < 2:
        return False
    return word in words or any(word.endswith(e) and word[: -len(e)] in words for e in _ENDINGS)


@lru_cache(maxsize=4096)
def _split_glued(word: str) -> str:
    """``politicalparty`` -> ``political party`` when both halves are known words."""
    if len(word) < 8 or _known(word):
        return word
    best: tuple[int, str] | None = None
    for i in range(3, len(word) - 2):
        a, b = word[:i], word[i:]
        if _known(a) and _known(b):
            score = min(len(a), len(b))
            if best is None or score > best[0]:
                best = (score, f"{a} {b}")
    return best[1] if best else word


@lru_cache(maxsize=4096)
def humanize(name: str) -> str:
    """A type name as plain lower-case words."""
    text = _CAMEL.sub(" ", name)
    text = re.sub(r"[_\-.:/]+", " ", text).strip().lower()
    return " ".join(_split_glued(w) for w in text.split())


def describe(name: str, descriptions: dict[str, str]) -> str:
    words = humanize(name)
    extra = descriptions.get(name)
    return f"{words}: {extra}" if extra else words


def type_phrases(name: str, descriptions: dict[str, str]) -> list[str]:
    """The name in words, then each comma- or semicolon-separated item of its description."""
    items = [humanize(name)]
    extra = descriptions.get(name, "")
    items += [p.strip() for p in re.split(r"[,;]", extra) if p.strip()]
    return list(dict.fromkeys(items))


@lru_cache(maxsize=256)
def _type_table(names: tuple[str, ...], descriptions: tuple[tuple[str, str], ...]) -> tuple[np.ndarray, np.ndarray]:
    desc = dict(descriptions)
    owners, flat = [], []
    for i, n in enumerate(names):
        for p in type_phrases(n, desc):
            owners.append(i)
            flat.append(p)
    return embed(flat), np.asarray(owners)


def type_similarity(vecs: np.ndarray, names: list[str], descriptions: dict[str, str]) -> np.ndarray:
    """Rows of ``vecs`` against each type name: the best similarity to any of its phrases."""
    table, owners = _type_table(tuple(names), tuple(sorted((k, v) for k, v in descriptions.items() if k in names)))
    sims = cosine(vecs, table)
    out = np.full((len(vecs), len(names)), -1.0, dtype=np.float32)
    for i in range(len(names)):
        cols = owners == i
        if len(vecs):
            out[:, i] = sims[:, cols].max(axis=1)
    return out


def embed(texts: list[str]) -> np.ndarray:
    return embedder().encode(texts)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of unit vectors: rows of ``a`` against rows of ``b``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    return a @ b.T


def phrase_similarity(phrases: dict[str, list[str]], names: list[str], descriptions: dict[str, str]) -> np.ndarray:
    """For each key of ``phrases`` (rows) and each type name (columns): the best
    similarity of any of its phrases to the type's words."""
    keys = list(phrases)
    flat = [p for k in keys for p in phrases[k]]
    sims = cosine(embed(flat), embed([describe(n, descriptions) for n in names]))
    out = np.zeros((len(keys), len(names)), dtype=np.float32)
    i = 0
    for r, k in enumerate(keys):
        n = len(phrases[k])
        out[r] = sims[i : i + n].max(axis=0)
        i += n
    return out

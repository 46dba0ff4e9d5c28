"""Which classifier and detector labels a target's words mean, by MiniLM embeddings.

A target ("cat", "espresso", "vehicle") is compared with every ImageNet class's words:
its own names and the words of the groups it belongs to (``prompts/imagenet_groups.yaml``:
"dog" for the 118 breeds, "drink" for espresso); likewise with the detector's labels
(the 80 COCO classes and "face", grouped in ``prompts/coco_groups.yaml``). Short words sit
close to unrelated short words in embedding space ("dog" and "cat" are not far apart),
so a label counts in proportion to how near it comes to the *best* match, not by an
absolute similarity:

    weight(c) = clip((sim(c) - (best - MARGIN)) / MARGIN, 0, 1)

and all weights of a vocabulary are 0 when even its best match is weaker than ``KNOWN``:
it has no word for the target, so its labels cannot tell whether the target is there.
When neither vocabulary knows the words (a name: "Grace Hopper"), the entity type stands
in for them, discounted (``TYPE_ONLY``).

The phrases' embeddings (about 2000) are computed once per embedding model and kept on
disk under ``CACHE_DIR``; a new process reads them in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from muie import prompts
from muie.tools.models.classify import classes
from muie.tools.models.nanodet import COCO_LABELS
from muie.tools.models.text_models import Embedder

DETECTOR_LABELS: tuple[str, ...] = COCO_LABELS + ("face",)
CACHE_DIR = Path.home() / ".cache" / "muie" / "label-vectors"

MARGIN = 0.15
"""How far below the best match a class still counts, fading to nothing."""
KNOWN = 0.75
"""Least similarity of the best match for a vocabulary to know the target at all (near
misses sit below it: "astronaut" and "spacecraft" 0.63, "cameraman" and "camera" 0.69)."""

_DETERMINERS = re.compile(r"^(a|an|the|some|this|that|these|those|two|three|several|many)\s+", re.I)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def words(text: str) -> str:
    """A target or type name as plain words: ``"the Coffee_Cup"`` -> ``"coffee cup"``."""
    t = re.sub(r"[_\-.:/]+", " ", _CAMEL.sub(" ", text)).strip()
    return _DETERMINERS.sub("", t).strip().lower() or t.lower()


def _spec(text: str | int) -> list[int]:
    out: list[int] = []
    for part in str(text).split(","):
        a, _, b = part.strip().partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


@lru_cache(maxsize=1)
def class_words() -> tuple[tuple[str, ...], ...]:
    """Per ImageNet class, every phrase that names it: its lemmas, then its groups' words."""
    extra: list[list[str]] = [[] for _ in range(1000)]
    for group in prompts.load("imagenet_groups.yaml"):
        for i in _spec(group["classes"]):
            extra[i].extend(group["words"])
    return tuple(tuple(dict.fromkeys([n.lower() for n in c.names] + extra[c.index])) for c in classes())


@lru_cache(maxsize=1)
def detector_words() -> dict[str, tuple[str, ...]]:
    """Per detector label, every phrase that names it: the label, then its groups' words."""
    extra: dict[str, list[str]] = {n: [] for n in DETECTOR_LABELS}
    for group in prompts.load("coco_groups.yaml"):
        for n in group["classes"]:
            extra[n].extend(group["words"])
    return {n: tuple(dict.fromkeys([n] + extra[n])) for n in DETECTOR_LABELS}


@dataclass(frozen=True)
class _Vocabulary:
    phrases: tuple[str, ...]
    """Every phrase once."""
    row: np.ndarray  # (label, phrase) pair -> phrase index
    owner: np.ndarray  # (label, phrase) pair -> label index
    size: int


@lru_cache(maxsize=8)
def _vocabulary(labels: tuple[tuple[str, ...], ...]) -> _Vocabulary:
    unique: dict[str, int] = {}
    row, owner = [], []
    for i, names in enumerate(labels):
        for n in names:
            row.append(unique.setdefault(n, len(unique)))
            owner.append(i)
    return _Vocabulary(tuple(unique), np.asarray(row), np.asarray(owner), len(labels))


_VECTORS: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
_VECTORS_LOCK = threading.Lock()


def _phrase_vectors(embed: Embedder, phrases: tuple[str, ...]) -> np.ndarray:
    """Embeddings of a vocabulary's phrases: computed once per embedding model and kept on
    disk (``CACHE_DIR``), so that a new process reads them instead of encoding thousands
    of phrases again."""
    key = (embed.path, phrases)
    with _VECTORS_LOCK:
        if key in _VECTORS:
            return _VECTORS[key]
        digest = hashlib.sha256("\n".join((embed.path,) + phrases).encode("utf-8")).hexdigest()[:20]
        path = CACHE_DIR / f"{digest}.npy"
        vecs = None
        if path.is_file():
            try:
                vecs = np.load(path)
            except (OSError, ValueError):  # a damaged file is written again
                vecs = None
        if vecs is None or vecs.shape != (len(phrases), embed.dim):
            vecs = embed.encode(list(phrases))
            try:
                CACHE_DIR.mkdir(parents=True, exist_ok=True)
                tmp = CACHE_DIR / f"{digest}.{os.getpid()}.tmp.npy"
                np.save(tmp, vecs)
                tmp.replace(path)
            except OSError:  # a read-only home: the vectors just are not kept
                pass
        _VECTORS[key] = vecs
        return vecs


def weights(embed: Embedder, target: str, labels: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """``[len(labels)]`` in [0, 1]: how much each label (given as its phrases) means the target."""
    vocab = _vocabulary(labels)
    sims = _phrase_vectors(embed, vocab.phrases) @ embed.encode([words(target)])[0]
    best_per = np.full(vocab.size, -1.0, np.float32)
    np.maximum.at(best_per, vocab.owner, sims[vocab.row])
    best = float(best_per.max(initial=-1.0))
    if best < KNOWN:
        return np.zeros(vocab.size, np.float32)
    return np.clip((best_per - (best - MARGIN)) / MARGIN, 0.0, 1.0).astype(np.float32)


TYPE_ONLY = 0.8
"""Evidence kept when only the entity type says what to look for (the words name nothing
either vocabulary knows: "Grace Hopper", "astronaut"): the region is of that type, but
nothing tells that it is this one."""


@dataclass(frozen=True)
class TargetMeaning:
    """What a target means to the labellers: weights of the ImageNet classes and detector labels."""

    imagenet: np.ndarray
    detector: dict[str, float]
    factor: float
    """1 when the target's own words were understood; ``TYPE_ONLY`` when its type stands in."""
    via: str
    """"text", "type", or "none" (nothing the labellers know)."""

    @property
    def known(self) -> bool:
        return self.via != "none"


def target_meaning(embed: Embedder, text: str, entity_type: str | None = None) -> TargetMeaning:
    """The weights for a target's words; when they name nothing either vocabulary knows,
    the weights of its type, discounted."""
    for phrase, factor, via in ((text, 1.0, "text"), (entity_type, TYPE_ONLY, "type")):
        if not phrase:
            continue
        w_in, w_det = imagenet_weights(embed, phrase), detector_weights(embed, phrase)
        if w_in.any() or any(w_det.values()):
            return TargetMeaning(w_in, w_det, factor, via)
    return TargetMeaning(np.zeros(1000, np.float32), {}, 0.0, "none")


def imagenet_weights(embed: Embedder, target: str) -> np.ndarray:
    """``[1000]`` weights of the ImageNet classes for the target."""
    return weights(embed, target, class_words())


def detector_weights(embed: Embedder, target: str) -> dict[str, float]:
    """Weight of each detector label (``DETECTOR_LABELS``) for the target."""
    table = detector_words()
    w = weights(embed, target, tuple(table[n] for n in DETECTOR_LABELS))
    return {n: float(v) for n, v in zip(DETECTOR_LABELS, w, strict=True)}

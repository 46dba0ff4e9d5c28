"""muie's own entity model at run time: spans of words scored against any type phrases.

The weights are one ONNX file inside the package (``weights/entities.onnx``, made by
``make model``; its metadata holds the threshold and the widest span). Input: the word
vectors and shapes of ``word_features``, and the unit embeddings of the type phrases from
the sentence encoder. Output per sentence: non-overlapping ``(start word, end word, type
index, score)``, best first when two overlap. Sentences longer than ``WINDOW`` words are
read in overlapping windows, each span kept from the window whose middle holds its start.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from muie.tools.models import word_features
from muie.tools.models.onnx_session import open_session, write_onnx

WEIGHTS = Path(__file__).resolve().parent / "weights" / "entities.onnx"
WINDOW = 128
OVERLAP = 32
BATCH = 8  # windows per scorer run, sorted by length: each run is padded to its longest

Span = tuple[int, int, int, float]
# lower-case articles that open a span are left out of it: names are annotated without them
# ("the 2009 European Parliament election" -> "2009 European Parliament election"), while a
# capitalised one ("The Beatles") stays
ARTICLES = frozenset({"the", "a", "an"})
# a span that passes for a broad type and scores at least this for a narrower type of the
# schema is taken as the narrower type: the model ranks a politician's name as person over
# politician, yet it does see the politician. Chosen with the weights (``narrow_takes`` in
# their metadata, training/choose.py); this is the value of weights that do not say
NARROW_TAKES = 0.1
# a span that passes and holds one span that scores higher ("2001 United Kingdom general
# election" over "United Kingdom") replaces it when it scores at least this share of it:
# names are annotated whole, outermost. A span over two names ("Amazon bought Whole
# Foods") never does. Chosen with the weights (``outer_takes``); weights that do not say
# keep the best-scoring span (1.0 and more: never)
OUTER_TAKES = 1.01
Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _windows(n: int) -> list[tuple[int, int, int, int]]:
    """(start, end, owned start, owned end) of each window over ``n`` words."""
    if n <= WINDOW:
        return [(0, n, 0, n)]
    step, out, a = WINDOW - OVERLAP, [], 0
    while True:
        b = min(n, a + WINDOW)
        out.append((a, b, a + (OVERLAP // 2 if a else 0), b if b == n else b - OVERLAP // 2))
        if b == n:
            return out
        a += step


def decode(cands: list[Span], outer_takes: float = OUTER_TAKES) -> list[Span]:
    """Best-first, non-overlapping; ties go to the longer span. A span whose only overlap
    with the kept spans is one span it holds replaces it when it scores ``outer_takes`` of it."""
    kept: list[Span] = []
    for c in sorted(cands, key=lambda c: (-c[3], -(c[1] - c[0]))):
        over = [k for k in kept if not (c[1] <= k[0] or c[0] >= k[1])]
        if not over:
            kept.append(c)
        elif len(over) == 1 and c[0] <= over[0][0] and over[0][1] <= c[1] and c[3] >= outer_takes * over[0][3]:
            kept = [k for k in kept if k is not over[0]] + [c]
    return sorted(kept)


def predict_with(scorer: Scorer, vectors: list[np.ndarray], tokens: list[list[str]], type_vecs: np.ndarray,
                 max_width: int, threshold: float, broad: np.ndarray | None = None,
                 narrow_takes: float = NARROW_TAKES, outer_takes: float = OUTER_TAKES) -> list[list[Span]]:
    """Spans of each sentence scoring ``threshold`` or more for some type; ``scorer`` maps
    (words, shapes, mask, types) to logits ``[B, W, K, T]``. Where ``broad`` marks types
    (person, location, ...), a span that also passes for a type not marked is not given
    a broad one: a schema that names both person and politician means by person the
    persons who are no politicians; and a span that passes only for a broad type but
    leans to a narrow one (``narrow_takes``) is given the narrow one, at the broad score.
    Overlapping spans are decoded by ``decode`` with ``outer_takes``."""
    pieces = [(si, *w) for si, t in enumerate(tokens) for w in _windows(len(t)) if len(t)]
    cands: list[list[Span]] = [[] for _ in tokens]
    order = sorted(range(len(pieces)), key=lambda k: pieces[k][2] - pieces[k][1])
    types = type_vecs.astype(np.float32)
    for k in range(0, len(order), BATCH):
        batch = [pieces[j] for j in order[k:k + BATCH]]
        w = max(b - a for _, a, b, _, _ in batch)
        x = np.zeros((len(batch), w, vectors[0].shape[1] if vectors else 1), np.float32)
        shapes = np.zeros((len(batch), w), np.int64)
        mask = np.zeros((len(batch), w), bool)
        for r, (si, a, b, _, _) in enumerate(batch):
            x[r, :b - a] = vectors[si][a:b]
            shapes[r, :b - a] = word_features.sentence_shapes(tokens[si])[a:b]
            mask[r, :b - a] = True
        logits = scorer(x, shapes, mask, np.broadcast_to(types, (len(batch), *types.shape)).copy())
        probs = 1.0 / (1.0 + np.exp(-logits))
        if broad is not None and broad.any() and not broad.all():
            narrow = np.flatnonzero(~broad)
            best_broad, best_narrow = probs[..., broad].max(-1), probs[..., narrow].max(-1)
            take = (best_broad >= threshold) & (best_narrow >= min(narrow_takes, threshold)) & (best_narrow < threshold)
            b_, s_, w_ = np.nonzero(take)
            probs[b_, s_, w_, narrow[probs[b_, s_, w_][:, narrow].argmax(-1)]] = best_broad[b_, s_, w_]
            narrow_hit = (probs[..., ~broad] >= threshold).any(-1)  # [B, W, K]
            probs[..., broad] = np.where(narrow_hit[..., None], 0.0, probs[..., broad])
        for r, (si, a, b, own_a, own_b) in enumerate(batch):
            hits = np.argwhere(probs[r] >= threshold)
            for s, width, t in hits:
                start, end = a + int(s), a + int(s) + int(width) + 1
                if end <= b and own_a <= start < own_b:
                    if end - start > 1 and tokens[si][start] in ARTICLES:
                        start += 1
                    cands[si].append((start, end, int(t), float(probs[r, s, width, t])))
    return [decode(c, outer_takes) for c in cands]


def export_onnx(model: Any, meta: dict[str, Any], out: Path) -> Path:
    """Write ``model`` (a ``training.model.SpanTypeScorer``) as ONNX with ``meta`` in its metadata."""
    import torch

    dims = (2, 5, model.inp[1].in_features), (2, 3, model.kind[0].in_features)
    dummy = (torch.zeros(dims[0]), torch.ones(2, 5, dtype=torch.long), torch.ones(2, 5, dtype=torch.bool),
             torch.zeros(dims[1]))
    axes = {"words": {0: "batch", 1: "words"}, "shapes": {0: "batch", 1: "words"}, "mask": {0: "batch", 1: "words"},
            "types": {0: "batch", 1: "types"}, "logits": {0: "batch", 1: "words", 3: "types"}}
    return write_onnx(model, dummy, ["words", "shapes", "mask", "types"], axes, meta, out)


class EntityModel:
    def __init__(self, path: Path = WEIGHTS, threads: int = 2) -> None:
        if not path.is_file():
            raise RuntimeError(f"the entity model's weights are missing ({path.name}): run make model")
        self.session = open_session(path, threads)
        self.meta: dict[str, Any] = json.loads(self.session.get_modelmeta().custom_metadata_map["muie"])
        self.threshold = float(self.meta["threshold"])
        self.broad_give_way = bool(self.meta.get("broad_give_way", False))
        self.narrow_takes = float(self.meta.get("narrow_takes", NARROW_TAKES))
        self.outer_takes = float(self.meta.get("outer_takes", OUTER_TAKES))
        self.max_width = int(self.meta["max_width"])
        if tuple(self.meta["layers"]) != word_features.LAYERS:
            raise RuntimeError(f"{path.name} was trained on encoder layers {self.meta['layers']}, "
                               f"not {word_features.LAYERS}: run make model")

    def _score(self, words: np.ndarray, shapes: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        return self.session.run(["logits"], {"words": words, "shapes": shapes, "mask": mask, "types": types})[0]

    def predict(self, tokens: list[list[str]], type_vecs: np.ndarray, threshold: float | None = None,
                broad: np.ndarray | None = None) -> list[list[Span]]:
        """Spans of each sentence of words against the types' unit phrase vectors; ``broad``
        marks the broad types (used only where the model's ``broad_give_way`` is set)."""
        broad = broad if self.broad_give_way else None
        vectors = word_features.word_encoder().encode_cached(tokens)
        return predict_with(self._score, vectors, tokens, type_vecs, self.max_width,
                            self.threshold if threshold is None else threshold, broad, self.narrow_takes,
                            self.outer_takes)


_LOAD = threading.Lock()


@lru_cache(maxsize=2)
def _load(path: Path) -> EntityModel:
    return EntityModel(path)


def entity_model(path: Path | None = None) -> EntityModel:
    """The shipped model (or the one at ``path``), loaded once per process."""
    with _LOAD:
        return _load(path or WEIGHTS)

"""muie's own pair model at run time: (head span, tail span) pairs scored against any type phrases.

One ONNX file per use inside the package (``weights/relations.onnx``: relation types;
made by ``make model``); its metadata holds the threshold. Input: the word vectors and
shapes of ``word_features`` (shared with the entity model, computed once per sentence),
the word spans of ordered pairs, and the unit embeddings of the type phrases. Sentences
longer than ``WINDOW`` words are read in overlapping windows; a pair is scored in the
first window that holds both of its spans, so two spans further apart than a window
(over ``WINDOW - OVERLAP`` words) are never paired.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from muie.tools.models import word_features
from muie.tools.models.entity_model import _windows
from muie.tools.models.onnx_session import open_session, write_onnx

WEIGHTS = Path(__file__).resolve().parent / "weights" / "relations.onnx"
BATCH = 32

Pair = tuple[tuple[int, int], tuple[int, int]]  # (head [start, end), tail [start, end)) in words


def export_onnx(model: Any, meta: dict[str, Any], out: Path) -> Path:
    """Write ``model`` (a ``training.pair_model.PairTypeScorer``) as ONNX with ``meta`` in its metadata."""
    import torch

    dw, dt = model.inp[1].in_features, model.kind[0].in_features
    spans = torch.tensor([[[0, 1], [2, 4], [1, 2]]] * 2)
    dummy = (torch.zeros(2, 5, dw), torch.ones(2, 5, dtype=torch.long), torch.ones(2, 5, dtype=torch.bool),
             spans, spans.flip(1), torch.zeros(2, 3, dt))
    names = ["words", "shapes", "mask", "heads", "tails", "types"]
    axes = {"words": {0: "batch", 1: "words"}, "shapes": {0: "batch", 1: "words"}, "mask": {0: "batch", 1: "words"},
            "heads": {0: "batch", 1: "pairs"}, "tails": {0: "batch", 1: "pairs"}, "types": {0: "batch", 1: "types"},
            "logits": {0: "batch", 1: "pairs", 2: "types"}}
    return write_onnx(model, dummy, names, axes, meta, out)


def _place(n: int, pairs: list[Pair]) -> list[tuple[int, int, list[int]]]:
    """(window start, window end, indices of its pairs): each pair in the first window holding it."""
    out, left = [], list(range(len(pairs)))
    for a, b, _, _ in _windows(n):
        inside = [i for i in left
                  if a <= min(pairs[i][0][0], pairs[i][1][0]) and max(pairs[i][0][1], pairs[i][1][1]) <= b]
        if inside:
            out.append((a, b, inside))
            left = [i for i in left if i not in set(inside)]
    return out


def score_with(scorer: Any, vectors: list[np.ndarray], tokens: list[list[str]], pairs: list[list[Pair]],
               type_vecs: np.ndarray) -> list[np.ndarray]:
    """Probabilities ``[len(pairs[i]), T]`` per sentence (NaN for a pair no window holds);
    ``scorer`` maps (words, shapes, mask, heads, tails, types) to logits ``[B, P, T]``."""
    out = [np.full((len(p), len(type_vecs)), np.nan, np.float32) for p in pairs]
    pieces = [(si, a, b, idx) for si, t in enumerate(tokens) if pairs[si] for a, b, idx in _place(len(t), pairs[si])]
    pieces.sort(key=lambda p: (p[2] - p[1], len(p[3])))
    types = type_vecs.astype(np.float32)
    for k in range(0, len(pieces), BATCH):
        batch = pieces[k:k + BATCH]
        w = max(b - a for _, a, b, _ in batch)
        p = max(len(idx) for *_, idx in batch)
        x = np.zeros((len(batch), w, vectors[batch[0][0]].shape[1]), np.float32)
        shapes = np.zeros((len(batch), w), np.int64)
        mask = np.zeros((len(batch), w), bool)
        heads = np.zeros((len(batch), p, 2), np.int64)
        tails = np.zeros((len(batch), p, 2), np.int64)
        heads[..., 1] = tails[..., 1] = 1
        for r, (si, a, b, idx) in enumerate(batch):
            x[r, :b - a] = vectors[si][a:b]
            shapes[r, :b - a] = word_features.sentence_shapes(tokens[si])[a:b]
            mask[r, :b - a] = True
            for j, i in enumerate(idx):
                (hs, he), (ts, te) = pairs[si][i]
                heads[r, j], tails[r, j] = (hs - a, he - a), (ts - a, te - a)
        logits = scorer(x, shapes, mask, heads, tails, np.broadcast_to(types, (len(batch), *types.shape)).copy())
        probs = 1.0 / (1.0 + np.exp(-logits))
        for r, (si, _, _, idx) in enumerate(batch):
            out[si][idx] = probs[r, :len(idx)]
    return out


class PairModel:
    def __init__(self, path: Path = WEIGHTS, threads: int = 2) -> None:
        if not path.is_file():
            raise RuntimeError(f"the pair model's weights are missing ({path.name}): run make model")
        self.session = open_session(path, threads)
        self.meta: dict[str, Any] = json.loads(self.session.get_modelmeta().custom_metadata_map["muie"])
        self.threshold = float(self.meta["threshold"])
        if tuple(self.meta["layers"]) != word_features.LAYERS:
            raise RuntimeError(f"{path.name} was trained on encoder layers {self.meta['layers']}, "
                               f"not {word_features.LAYERS}: run make model")

    def _score(self, words: np.ndarray, shapes: np.ndarray, mask: np.ndarray, heads: np.ndarray, tails: np.ndarray,
               types: np.ndarray) -> np.ndarray:
        return self.session.run(["logits"], {"words": words, "shapes": shapes, "mask": mask, "heads": heads,
                                             "tails": tails, "types": types})[0]

    def score(self, tokens: list[list[str]], pairs: list[list[Pair]], type_vecs: np.ndarray) -> list[np.ndarray]:
        """Probabilities ``[pairs, types]`` for each sentence of words."""
        vectors = word_features.word_encoder().encode_cached(tokens)
        return score_with(self._score, vectors, tokens, pairs, type_vecs)


_LOAD = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: Path) -> PairModel:
    return PairModel(path)


def pair_model(path: Path | None = None) -> PairModel:
    """The shipped relation model (or the one at ``path``), loaded once per process."""
    with _LOAD:
        return _load(path or WEIGHTS)

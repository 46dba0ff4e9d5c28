"""Word vectors of the training sentences, computed once by the run-time encoder and kept
on disk (float16, one flat array and the offsets of each sentence) so that training and
inference read words through exactly the same code."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from muie.tools.models import word_features


def cache_key_rows(rows: list[dict]) -> str:
    """A key of the sentences' words and the encoder's layers."""
    h = hashlib.sha1(f"{word_features.LAYERS}|{word_features.VERSION}".encode())
    for r in rows:
        h.update("\x1f".join(r["tokens"]).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def compute(sentences: list[list[str]], cache_dir: Path, key: str, log=print) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(vectors [total words, dim] float16, offsets [n + 1]) for ``sentences``, from the cache when there."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    vec_file, off_file = cache_dir / f"words-{key}.f16", cache_dir / f"offsets-{key}.npy"
    offsets = np.zeros(len(sentences) + 1, np.int64)
    offsets[1:] = np.cumsum([len(s) for s in sentences])
    enc = word_features.word_encoder()
    if vec_file.is_file() and off_file.is_file() and np.array_equal(np.load(off_file), offsets):
        return np.memmap(vec_file, np.float16, "r", shape=(int(offsets[-1]), enc.dim)), offsets
    tmp = vec_file.with_suffix(".tmp")
    out = np.memmap(tmp, np.float16, "w+", shape=(int(offsets[-1]), enc.dim))
    t0, step = time.perf_counter(), 2048
    for k in range(0, len(sentences), step):
        for i, v in enumerate(enc.encode(sentences[k:k + step], batch_size=64), start=k):
            out[offsets[i]:offsets[i + 1]] = v
        if (k // step) % 10 == 0:
            log(f"  words of {min(k + step, len(sentences))}/{len(sentences)} sentences, "
                f"{time.perf_counter() - t0:.0f} s")
    out.flush()
    del out
    tmp.replace(vec_file)
    np.save(off_file, offsets)
    (cache_dir / f"words-{key}.json").write_text(json.dumps({"sentences": len(sentences), "dim": enc.dim}))
    return np.memmap(vec_file, np.float16, "r", shape=(int(offsets[-1]), enc.dim)), offsets

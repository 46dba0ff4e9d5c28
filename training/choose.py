"""Choose how the entity model decodes, on the choosing dev sets: the threshold, whether
broad types (person, location, ...) give way to a narrower type of the same schema, and
how overlapping spans are decided (``entity_model.predict_with``).

    python -m muie.training.choose [FILE]

``make model`` runs this at the end of training; run alone, it chooses for the weights in
FILE (default: the shipped ones) and writes the choice into their metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from muie.tools.models import entity_model, word_features
from muie.tools.models.sentence_onnx import encoder as sentence_encoder
from muie.tools.text.type_names import broad_types, type_phrase
from muie.training.devsets import DevSet, read_dev_sets, score

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def _remembered(scorer: entity_model.Scorer) -> entity_model.Scorer:
    """``scorer``, computed once per distinct input: every decoding of the grid reads the same batches."""
    seen: dict[bytes, np.ndarray] = {}

    def score(words: np.ndarray, shapes: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        key = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in (words, shapes, mask, types))).digest()
        if key not in seen:
            seen[key] = scorer(words, shapes, mask, types)
        return seen[key].copy()

    return score


NARROW = (0.1, 0.2, 0.3)
OUTER = (entity_model.OUTER_TAKES, 0.8, 0.6, 0.4)


class _Dev:
    """The choosing sets, encoded once, and the F1 of each set for a decoding."""

    def __init__(self, scorer: entity_model.Scorer, max_width: int, dev: list[DevSet]) -> None:
        enc_words, enc_sent = word_features.word_encoder(), sentence_encoder()
        self.scorer, self.max_width, self.sets = _remembered(scorer), max_width, []
        for d in dev:
            tv = enc_sent.encode([type_phrase(t) for t in d.types])
            tokens = [s.tokens for s in d.sentences]
            self.sets.append((d, tv, broad_types(tv), tokens, enc_words.encode(tokens)))

    def f1(self, threshold: float, give_way: bool, narrow: float, outer: float) -> list[float]:
        return [score(d, entity_model.predict_with(self.scorer, vecs, tokens, tv, self.max_width, threshold,
                                                   broad if give_way else None, narrow, outer))
                for d, tv, broad, tokens, vecs in self.sets]


def choose(scorer: entity_model.Scorer, max_width: int, dev: list[DevSet]) -> dict:
    """The decoding with the best mean F1 over ``dev``, and its F1 per set: the threshold and
    whether broad types give way first, then how readily a narrow type takes a broad type's
    span (``narrow_takes``) and an outer span the spans it holds (``outer_takes``), then the
    threshold again. One setting at a time, so that the choice costs a few dozen decodings."""
    sets = _Dev(scorer, max_width, dev)
    best: dict = {"narrow_takes": entity_model.NARROW_TAKES, "outer_takes": entity_model.OUTER_TAKES}
    table: dict[tuple, list[float]] = {}

    def pick(options: list[dict]) -> None:
        for o in options:
            key = _key(best | o)
            if key not in table:
                table[key] = sets.f1(*key)
        top = max(options, key=lambda o: (float(np.mean(table[_key(best | o)])), -(best | o)["threshold"]))
        best.update(top)

    pick([{"threshold": th, "broad_give_way": gw} for gw in (False, True) for th in THRESHOLDS])
    if best["broad_give_way"]:
        pick([{"narrow_takes": v} for v in NARROW])
    pick([{"outer_takes": v} for v in OUTER])
    pick([{"threshold": th} for th in THRESHOLDS])
    f1 = table[_key(best)]
    return best | {"dev_f1": {d.name: round(f, 4) for d, f in zip(dev, f1)}}


def _key(c: dict) -> tuple:
    return c["threshold"], c["broad_give_way"], c["narrow_takes"], c["outer_takes"]


def write_meta(path: Path, updates: dict) -> dict:
    """Merge ``updates`` into the metadata of the ONNX file at ``path`` (written atomically)."""
    import onnx

    proto = onnx.load(str(path))
    entry = next(p for p in proto.metadata_props if p.key == "muie")
    meta = json.loads(entry.value) | updates
    entry.value = json.dumps(meta)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(proto, str(tmp))
    tmp.replace(path)
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m muie.training.choose", description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", type=Path, default=entity_model.WEIGHTS)
    a = ap.parse_args(argv)
    if not a.file.is_file():
        print(f"error: {a.file}: no such weights file", file=sys.stderr)
        return 2
    model = entity_model.EntityModel(a.file)
    chosen = choose(model._score, model.max_width, read_dev_sets())
    print(json.dumps(write_meta(a.file, chosen)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

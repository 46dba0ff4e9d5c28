"""Choose how the entity model decodes, on the choosing dev sets: the threshold, and
whether broad types (person, location, ...) give way to a narrower type of the same schema.

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


def grid(scorer: entity_model.Scorer, max_width: int, dev: list[DevSet]) -> dict[tuple[bool, float], list[float]]:
    """Dev F1 of each set for each (broad types give way, threshold)."""
    enc_words, enc_sent = word_features.word_encoder(), sentence_encoder()
    scorer = _remembered(scorer)
    out: dict[tuple[bool, float], list[float]] = {}
    for d in dev:
        tv = enc_sent.encode([type_phrase(t) for t in d.types])
        broad = broad_types(tv)
        tokens = [s.tokens for s in d.sentences]
        vecs = enc_words.encode(tokens)
        for give_way in (False, True):
            for th in THRESHOLDS:
                preds = entity_model.predict_with(scorer, vecs, tokens, tv, max_width, th, broad if give_way else None)
                out.setdefault((give_way, th), []).append(score(d, preds))
    return out


def choose(scorer: entity_model.Scorer, max_width: int, dev: list[DevSet]) -> dict:
    """The decoding with the best mean F1 over ``dev``, and its F1 per set."""
    table = grid(scorer, max_width, dev)
    (give_way, th), f1 = max(table.items(), key=lambda kv: (float(np.mean(kv[1])), -kv[0][1]))
    return {"threshold": th, "broad_give_way": give_way, "dev_f1": {d.name: round(f, 4) for d, f in zip(dev, f1)}}


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

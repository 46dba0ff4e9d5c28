"""``make model``: train the entity model and write its one weights file.

    python -m muie.training.train [--epochs N] [--out FILE] [--limit N] [--dim D]

Reads ``training/data/entities.jsonl.gz``; each set's type names become phrases
(``training/sources.yaml``, else the run-time reader of type names), embedded by the
sentence encoder. Each sentence is trained against the types of its own set (up to
``MAX_TYPES``, its own always among them unless dropped at random) so that a type is
never marked absent in a set that does not annotate it. After each epoch the dev sets of
``bench/data/ner-dev`` choose the epoch, and then the decoding (``training/choose.py``:
threshold, broad types giving way); they are never trained on. Everything is seeded; the
result is an ONNX file holding the weights and, in its metadata, the decoding, the widest
span and the encoder's layers.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from muie.tools.models import entity_model, word_features
from muie.tools.models.sentence_onnx import encoder as sentence_encoder
from muie.tools.text.type_names import type_phrase
from muie.training import choose, features, heads
from muie.training.devsets import DevSet, read_dev_sets, score
from muie.training.model import SpanTypeScorer, span_mask

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "entities.jsonl.gz"
TYPED = HERE / "data" / "entities-typed.jsonl.gz"  # partial labels: types read off relations (collect_typed.py)
CACHE = HERE / ".cache"
SEED = 7
MAX_TYPES = 25
DROP_TYPE = 0.1
TYPE_NOISE = 0.5  # norm of the random vector added to a type's unit phrase vector (then renormalised)
BATCH = 32
THRESHOLDS = choose.THRESHOLDS
HEAD = "\x00head:"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def type_phrases(rows: list[dict]) -> dict[tuple[str, str], str]:
    spec = yaml.safe_load((HERE / "sources.yaml").read_text())
    fixed = {name: s.get("phrases", {}) for name, s in spec["sets"].items()} | {"silver": spec["silver"]["phrases"]}
    out: dict[tuple[str, str], str] = {}
    for r in rows:
        for _, _, t in r["spans"]:
            if (r["set"], t) not in out:
                out[(r["set"], t)] = fixed.get(r["set"], {}).get(t) or type_phrase(t)
    return out


class Updater:
    """AdamW with a linear warm-up and decay over ``steps``; gradients clipped."""

    def __init__(self, model: torch.nn.Module, steps: int) -> None:
        self.model = model
        self.opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        warm = min(500, steps // 10 + 1)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min(1.0, (s + 1) / warm) * max(0.02, 1 - s / steps))

    def __call__(self, loss: torch.Tensor) -> None:
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.opt.step()
        self.sched.step()


def length_batches(rows: list[dict], rng: random.Random, size: int = BATCH) -> list[list[int]]:
    """Indices of ``rows`` in batches of sentences of similar length, the batches in random order."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i]["tokens"]), rng.random()))
    batches = [order[k:k + size] for k in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


class Batches:
    """Sentences of similar length together, each with its own list of types and their gold."""

    def __init__(self, rows: list[dict], vecs: np.ndarray, offsets: np.ndarray, phrases: dict[tuple[str, str], str],
                 phrase_vecs: dict[str, np.ndarray], max_width: int, rng: random.Random,
                 head_vocab: dict[str, int] | None = None) -> None:
        self.rows, self.vecs, self.offsets, self.rng, self.k = rows, vecs, offsets, rng, max_width
        self.head_vocab = head_vocab or {}
        self.noise = np.random.default_rng(rng.randrange(2**32))
        self.inventory: dict[str, list[str]] = {}
        for (s, t) in phrases:
            self.inventory.setdefault(s, []).append(t)
        self.phrases, self.phrase_vecs = phrases, phrase_vecs
        self.shapes = [np.array(word_features.sentence_shapes(r["tokens"]), np.int64) for r in rows]

    def epoch(self) -> list[list[int]]:
        return length_batches(self.rows, self.rng)

    def tensors(self, idx: list[int]) -> tuple[torch.Tensor, ...]:
        rows = [self.rows[i] for i in idx]
        w = max(len(r["tokens"]) for r in rows)
        kinds, extra = [], []
        for r in rows:
            inv = self.inventory.get(r["set"], [])
            present = sorted({t for _, _, t in r["spans"]})
            # a row of partial labels is trained against its own types only: another type of its
            # set may be in the sentence unmarked
            others = [] if r.get("partial") else [t for t in inv if t not in present]
            chosen = present + self.rng.sample(others, min(len(others), max(0, MAX_TYPES - len(present))))
            kept = [t for t in chosen if self.rng.random() >= DROP_TYPE] or chosen[:1]
            # head types are keyed HEAD + noun: a set's own type names never start so
            pos, ignored, head_types = heads.labels(r, self.head_vocab, self.rng) if self.head_vocab else ([], [], [])
            kept += [HEAD + h for h in head_types]
            kinds.append(kept)
            extra.append(([(s, e, HEAD + h) for s, e, h in pos], [(s, e, HEAD + h) for s, e, h in ignored]))
        n_types = max(1, max(len(k) for k in kinds))
        dim_w, dim_t = self.vecs.shape[1], next(iter(self.phrase_vecs.values())).shape[0]
        x = torch.zeros(len(rows), w, dim_w)
        shapes = torch.zeros(len(rows), w, dtype=torch.long)
        mask = torch.zeros(len(rows), w, dtype=torch.bool)
        types = torch.zeros(len(rows), n_types, dim_t)
        type_mask = torch.zeros(len(rows), n_types, dtype=torch.bool)
        gold = torch.zeros(len(rows), w, self.k, n_types)
        ignore = torch.zeros(len(rows), w, self.k, n_types, dtype=torch.bool)
        for b, (i, r, ks, (pos, ignored)) in enumerate(zip(idx, rows, kinds, extra)):
            n = len(r["tokens"])
            start = self.offsets[i]
            x[b, :n] = torch.from_numpy(np.asarray(self.vecs[start:start + n], np.float32))
            shapes[b, :n] = torch.from_numpy(self.shapes[i])
            mask[b, :n] = True
            for j, t in enumerate(ks):
                phrase = t[len(HEAD):] if t.startswith(HEAD) else self.phrases[(r["set"], t)]
                types[b, j] = torch.from_numpy(self.phrase_vecs[phrase])
                type_mask[b, j] = True
            col = {t: j for j, t in enumerate(ks)}
            for s, e, t in [*r["spans"], *pos]:
                if t in col and 0 < e - s <= self.k:
                    gold[b, s, e - s - 1, col[t]] = 1.0
            for s, e, t in ignored:
                if t in col and 0 < e - s <= self.k:
                    ignore[b, s, e - s - 1, col[t]] = True
            if r.get("partial"):
                maybe = torch.from_numpy(unmarked_names(r, self.k))
                for t in {t for _, _, t in r["spans"]}:
                    if t in col:
                        ignore[b, :n, :, col[t]] |= maybe
        # a type is learned as a neighbourhood of its phrase, not as one point: a new phrase
        # near it is then read as related instead of as nothing seen before
        noise = torch.from_numpy(self.noise.standard_normal(types.shape).astype(np.float32))
        types = types + TYPE_NOISE * noise / noise.norm(dim=-1, keepdim=True)
        types = types / types.norm(dim=-1, keepdim=True)
        return x, shapes, mask, types, type_mask, gold, ignore


def unmarked_names(row: dict, max_width: int) -> np.ndarray:
    """[words, max_width] spans of a row of partial labels that may be unmarked names: they touch no
    marked span and hold a capitalised word or a digit (any such span, in a sentence with no capital).
    They are left out of the loss of the row's types; the rest (common words, and the wrong
    boundaries of a marked name) stay negatives."""
    toks = row["tokens"]
    n = len(toks)
    cased = any(t[:1].isupper() for t in toks)
    cue = np.array([(not cased) or t[:1].isupper() or any(c.isdigit() for c in t) for t in toks], bool)
    marked = np.zeros(n, bool)
    for s, e, _ in row["spans"]:
        marked[s:e] = True
    # counts of cue and marked words before each word, so that a span's counts are one subtraction
    cues, marks = np.concatenate([[0], np.cumsum(cue)]), np.concatenate([[0], np.cumsum(marked)])
    starts = np.arange(n)[:, None]
    ends = starts + np.arange(1, max_width + 1)[None, :]  # [n, max_width], exclusive
    inside = ends <= n
    ends = np.minimum(ends, n)
    return inside & (cues[ends] > cues[starts]) & (marks[ends] == marks[starts])


def evaluate(model: SpanTypeScorer, dev: list[DevSet], enc_words, enc_sent) -> dict[float, list[float]]:  # type: ignore[no-untyped-def]
    """Dev F1 of each set at each threshold."""
    model.eval()
    out: dict[float, list[float]] = {th: [] for th in THRESHOLDS}
    with torch.no_grad():
        for d in dev:
            tv = enc_sent.encode([type_phrase(t) for t in d.types])
            preds = entity_model.predict_with(lambda *a: model(*[torch.from_numpy(v) for v in a]).numpy(),
                                             enc_words.encode([s.tokens for s in d.sentences]),
                                             [s.tokens for s in d.sentences], tv, model.max_width, min(THRESHOLDS))
            for th in THRESHOLDS:
                out[th].append(score(d, [[p for p in ps if p[3] >= th] for ps in preds]))
    model.train()
    return out


def train(rows: list[dict], dev: list[DevSet], epochs: int, dim: int, out: Path, seed: int = SEED,
          cache: Path = CACHE, max_width: int = 12, use_heads: bool = True, sims: bool = True,
          limit: int | None = None) -> dict:
    """Train on ``rows`` (or a seeded draw of ``limit`` of them: the word vectors are still those of
    all rows, computed once and cached) and write the weights to ``out``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    t0 = time.perf_counter()
    key = features.cache_key_rows(rows)
    vecs, offsets = features.compute([r["tokens"] for r in rows], cache, key, log=log)
    log(f"word vectors: {time.perf_counter() - t0:.0f} s")
    if limit is not None and limit < len(rows):
        keep = sorted(random.Random(seed).sample(range(len(rows)), limit))
        rows, offsets = [rows[i] for i in keep], offsets[keep]
    phrases = type_phrases(rows)
    head_vocab = heads.vocabulary(rows) if use_heads else {}
    log(f"head types: {len(head_vocab)}")
    enc_sent = sentence_encoder()
    names = sorted(set(phrases.values()) | set(head_vocab))
    phrase_vecs = dict(zip(names, enc_sent.encode(names)))
    batches = Batches(rows, vecs, offsets, phrases, phrase_vecs, max_width, random.Random(seed), head_vocab)
    model = SpanTypeScorer(vecs.shape[1], enc_sent.dim, dim=dim, max_width=max_width, sims=sims)
    steps = epochs * ((len(rows) + BATCH - 1) // BATCH)
    update = Updater(model, steps)
    enc_words = word_features.word_encoder()
    best: dict = {"avg": -1.0}
    step, losses = 0, []
    for ep in range(epochs):
        total, seen = 0.0, 0
        for idx in batches.epoch():
            x, shapes, mask, types, type_mask, gold, ignore = batches.tensors(idx)
            logits = model(x, shapes, mask, types)
            valid = span_mask(mask, max_width)[..., None] & type_mask[:, None, None, :] & ~ignore
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[valid], gold[valid],
                                                                        reduction="sum") / len(idx)
            update(loss)
            total, seen, step = total + loss.item(), seen + 1, step + 1
            if step % 500 == 0:
                log(f"  epoch {ep + 1} step {step}/{steps} loss {total / seen:.3f} {time.perf_counter() - t0:.0f} s")
        losses.append(round(total / max(1, seen), 4))
        if dev:
            res = evaluate(model, dev, enc_words, enc_sent)
            th = max(THRESHOLDS, key=lambda t: sum(res[t]))
            avg = sum(res[th]) / len(res[th])
            log(f"epoch {ep + 1}: loss {total / max(1, seen):.3f}, dev F1 at {th}: "
                + ", ".join(f"{d.name} {f:.3f}" for d, f in zip(dev, res[th])) + f", mean {avg:.3f}")
        else:
            th, avg, res = 0.5, 0.0, {}
        if avg > best["avg"] or not dev:
            best = {"avg": avg, "epoch": ep + 1, "threshold": th, "state": {k: v.clone() for k, v in
                                                                            model.state_dict().items()},
                    "dev": {d.name: round(f, 4) for d, f in zip(dev, res.get(th, []))}}
    model.load_state_dict(best["state"])
    model.eval()
    with torch.no_grad():
        decoding = (choose.choose(lambda *a: model(*[torch.from_numpy(v) for v in a]).numpy(), max_width, dev)
                    if dev else {"threshold": 0.5, "broad_give_way": False, "dev_f1": {}})
    seconds = time.perf_counter() - t0
    meta = {**decoding, "max_width": max_width, "layers": list(word_features.LAYERS),
            "dim": dim, "epochs_run": epochs, "best_epoch": best["epoch"], "epoch_dev_f1": best["dev"],
            "sentences": len(rows), "head_types": len(head_vocab), "similarities": sims,
            "train_seconds": round(seconds), "seed": seed,
            "losses": losses}
    entity_model.export_onnx(model, meta, out)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {seconds:.0f} s: {json.dumps(meta)}")
    return meta


def read_rows(path: Path, limit: int | None = None, seed: int = SEED) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    if limit is not None and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m muie.training.train", description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--limit", type=int, default=None, help="train on this many sentences (a seeded draw)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=entity_model.WEIGHTS)
    ap.add_argument("--no-dev", action="store_true", help="skip the dev sets (keep the last epoch, threshold 0.5)")
    ap.add_argument("--no-heads", action="store_true", help="no head-noun types (for comparison)")
    ap.add_argument("--no-sims", action="store_true", help="no span/type-phrase similarities (for comparison)")
    a = ap.parse_args(argv)
    if not a.data.is_file():
        print(f"error: {a.data}: no such training data file", file=sys.stderr)
        return 2
    rows = read_rows(a.data)
    if a.data == DATA and TYPED.is_file():
        rows += read_rows(TYPED)
    dev = [] if a.no_dev else read_dev_sets()
    train(rows, dev, a.epochs, a.dim, a.out, use_heads=not a.no_heads, sims=not a.no_sims, limit=a.limit)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Train the pair model (relations between two spans) and write its one weights file.

    python -m muie.training.train_pairs [--epochs N] [--out FILE] [--limit N] [--data FILE ...] [--dev FILE]

Rows (``training/data/relations.jsonl.gz``, made by ``training/collect_pairs.py``, and
``relations-knowledgenet.jsonl.gz``, by ``training/collect_knowledgenet.py``; or an
event's arguments, ``arguments.jsonl.gz``) are sentences of words with ordered, labelled
pairs ``[head start, head end, tail start, tail end, label]`` and, where a set marks every
entity of a sentence (``exhaustive``), its ``mentions``: pairs of them with no label are
taught as no relation. Every labelled pair is also taught reversed, as no relation unless
the set says so, so that direction is learned; a row that names its ``heads`` (an
event's triggers) is taught only pairs from a head to its mentions. Each sentence is
trained against its own set's labels (up to ``MAX_TYPES``), read as phrases. The dev rows
choose the epoch and the threshold. Everything is seeded.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from muie.tools.models import pair_model, word_features
from muie.tools.models.sentence_onnx import encoder as sentence_encoder
from muie.tools.text.type_names import type_phrase
from muie.training import features
from muie.training.pair_model import PairTypeScorer
from muie.training.train import BATCH, CACHE, SEED, TYPE_NOISE, Updater, length_batches, log, read_rows

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "relations.jsonl.gz"
DEV = HERE / "data" / "relations-dev.jsonl.gz"
KNOWLEDGENET = HERE / "data" / "relations-knowledgenet.jsonl.gz"  # training/collect_knowledgenet.py
PHRASES = HERE / "data" / "relation_phrases.json"
OTHER_NAME = 0.5  # how often a label is read as one of its other names (relation_phrases.json)
MAX_TYPES = 24
MAX_NEGATIVE = 12  # unlabelled pairs of an exhaustive sentence taught per step
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
# KnowledgeNet's properties are Wikidata properties: their Wikidata labels (and so the aliases
# in relation_phrases.json) are read as their other names, "chief executive officer" among them
KNOWLEDGENET_NAMES = {
    "EMPLOYEE_OR_MEMBER_OF": ["employer", "member of"], "CEO": ["chief executive officer", "CEO", "chief executive"],
    "HEADQUARTERS": ["headquarters location"], "FOUNDED_BY": ["founded by"], "SPOUSE": ["spouse"],
    "PLACE_OF_BIRTH": ["place of birth"], "PLACE_OF_RESIDENCE": ["residence"], "EDUCATED_AT": ["educated at"],
    "DATE_OF_BIRTH": ["date of birth"], "DATE_OF_DEATH": ["date of death"], "NATIONALITY": ["country of citizenship"],
    "POLITICAL_AFFILIATION": ["member of political party"], "SUBSIDIARY_OF": ["parent organization"],
    "DATE_FOUNDED": ["inception"], "CHILD_OF": ["father", "mother"],
}
# a fact that entails another, which the set does not mark: (label, reversed); KnowledgeNet marks an
# organisation's CEO but not that the CEO is its employee, so that pair was taught as no employment
IMPLIED = {"CEO": ("EMPLOYEE_OR_MEMBER_OF", True)}

Row = dict


def with_implied(rows: list[Row]) -> list[Row]:
    """``rows`` with the facts their facts entail (``IMPLIED``) added where missing."""
    for r in rows:
        have = {tuple(p) for p in r["pairs"]}
        for hs, he, ts, te, label in list(r["pairs"]):
            if label in IMPLIED:
                other, flip = IMPLIED[label]
                new = (ts, te, hs, he, other) if flip else (hs, he, ts, te, other)
                if new not in have:
                    r["pairs"].append(list(new))
                    have.add(new)
    return rows


def other_names(phrases: dict[str, list[str]]) -> dict[str, list[str]]:
    """KnowledgeNet's labels' other names: their Wikidata labels and those labels' aliases."""
    out = {}
    for label, names in KNOWLEDGENET_NAMES.items():
        found = [n for name in names for n in (name, *phrases.get(name, []))]
        out[label] = list(dict.fromkeys(found))
    return out


def candidates(r: Row, rng: random.Random | None) -> tuple[list[tuple[int, int, int, int]], dict[tuple, set[str]]]:
    """The ordered pairs taught (or scored) for a sentence, and the labels of each."""
    gold: dict[tuple, set[str]] = {}
    for hs, he, ts, te, label in r["pairs"]:
        gold.setdefault((hs, he, ts, te), set()).add(label)
    # where a row names its heads (an event's triggers), only pairs from a head are taught
    heads = [tuple(h) for h in r["heads"]] if "heads" in r else None
    pairs = set(gold) | ({(ts, te, hs, he) for hs, he, ts, te in gold} if heads is None else set())
    if r.get("exhaustive") or heads is not None:
        spans = [tuple(m) for m in r["mentions"]]
        others = [(a[0], a[1], b[0], b[1]) for a in (spans if heads is None else heads) for b in spans
                  if a != b and (a[1] <= b[0] or b[1] <= a[0]) and (a[0], a[1], b[0], b[1]) not in pairs]
        if rng is not None:
            others = rng.sample(others, min(len(others), MAX_NEGATIVE))
        pairs |= set(others)
    return sorted(pairs), gold


class Batches:
    def __init__(self, rows: list[Row], vecs: np.ndarray, offsets: np.ndarray, phrase_vecs: dict[str, np.ndarray],
                 rng: random.Random, others: dict[str, list[str]] | None = None) -> None:
        self.rows, self.vecs, self.offsets, self.rng, self.phrase_vecs = rows, vecs, offsets, rng, phrase_vecs
        self.others = others or {}
        self.noise = np.random.default_rng(rng.randrange(2**32))
        self.inventory: dict[str, list[str]] = {}
        for r in rows:
            for *_, label in r["pairs"]:
                if label not in self.inventory.setdefault(r["set"], []):
                    self.inventory[r["set"]].append(label)
        self.shapes = [np.array(word_features.sentence_shapes(r["tokens"]), np.int64) for r in rows]

    def epoch(self) -> list[list[int]]:
        return length_batches(self.rows, self.rng)

    def tensors(self, idx: list[int]) -> tuple[torch.Tensor, ...]:
        rows = [self.rows[i] for i in idx]
        w = max(len(r["tokens"]) for r in rows)
        cands, kinds = [], []
        for r in rows:
            pairs, gold = candidates(r, self.rng)
            present = sorted({lab for labs in gold.values() for lab in labs})
            others = [t for t in self.inventory[r["set"]] if t not in present]
            kinds.append(present + self.rng.sample(others, min(len(others), max(0, MAX_TYPES - len(present)))))
            cands.append((pairs, gold))
        n_pairs, n_types = max(len(c[0]) for c in cands), max(len(k) for k in kinds)
        dim_t = next(iter(self.phrase_vecs.values())).shape[0]
        x = torch.zeros(len(rows), w, self.vecs.shape[1])
        shapes = torch.zeros(len(rows), w, dtype=torch.long)
        mask = torch.zeros(len(rows), w, dtype=torch.bool)
        heads = torch.zeros(len(rows), n_pairs, 2, dtype=torch.long)
        tails = torch.zeros(len(rows), n_pairs, 2, dtype=torch.long)
        heads[..., 1] = tails[..., 1] = 1
        pair_mask = torch.zeros(len(rows), n_pairs, dtype=torch.bool)
        types = torch.zeros(len(rows), n_types, dim_t)
        type_mask = torch.zeros(len(rows), n_types, dtype=torch.bool)
        target = torch.zeros(len(rows), n_pairs, n_types)
        for b, (i, r, (pairs, gold), ks) in enumerate(zip(idx, rows, cands, kinds)):
            n = len(r["tokens"])
            x[b, :n] = torch.from_numpy(np.asarray(self.vecs[self.offsets[i]:self.offsets[i] + n], np.float32))
            shapes[b, :n] = torch.from_numpy(self.shapes[i])
            mask[b, :n] = True
            for j, t in enumerate(ks):
                other = self.others.get(t)
                name = self.rng.choice(other) if other and self.rng.random() < OTHER_NAME else type_phrase(t)
                types[b, j] = torch.from_numpy(self.phrase_vecs[name])
                type_mask[b, j] = True
            col = {t: j for j, t in enumerate(ks)}
            for p, (hs, he, ts, te) in enumerate(pairs):
                heads[b, p] = torch.tensor([hs, he])
                tails[b, p] = torch.tensor([ts, te])
                pair_mask[b, p] = True
                for lab in gold.get((hs, he, ts, te), ()):
                    target[b, p, col[lab]] = 1.0
        noise = torch.from_numpy(self.noise.standard_normal(types.shape).astype(np.float32))
        types = types + TYPE_NOISE * noise / noise.norm(dim=-1, keepdim=True)
        types = types / types.norm(dim=-1, keepdim=True)
        return x, shapes, mask, heads, tails, types, pair_mask[..., None] & type_mask[:, None, :], target


def evaluate(scorer, rows: list[Row], enc_words, enc_sent) -> dict[float, float]:  # type: ignore[no-untyped-def]
    """Micro F1 of (pair, label) at each threshold: each candidate pair takes its best label."""
    if not rows:
        return {}
    by_set: dict[str, list[Row]] = {}
    for r in rows:
        by_set.setdefault(r["set"], []).append(r)
    counts = {th: [0, 0, 0] for th in THRESHOLDS}
    for rs in by_set.values():
        labels = sorted({p[4] for r in rs for p in r["pairs"]})
        tv = enc_sent.encode([type_phrase(t) for t in labels])
        cands = [candidates(r, None) for r in rs]
        tokens = [r["tokens"] for r in rs]
        probs = pair_model.score_with(scorer, enc_words.encode(tokens), tokens,
                                      [[((h0, h1), (t0, t1)) for h0, h1, t0, t1 in c[0]] for c in cands], tv)
        for (pairs, gold), p in zip(cands, probs):
            truth = {(pr, lab) for pr, labs in gold.items() for lab in labs}
            for th in THRESHOLDS:
                pred = {(pr, labels[int(row.argmax())]) for pr, row in zip(pairs, p) if row.max() >= th}
                c = counts[th]
                c[0], c[1], c[2] = c[0] + len(pred & truth), c[1] + len(pred - truth), c[2] + len(truth - pred)
    return {th: 2 * tp / (2 * tp + fp + fn) if tp else 0.0 for th, (tp, fp, fn) in counts.items()}


def train(rows: list[Row], dev: list[Row], epochs: int, dim: int, out: Path, seed: int = SEED,
          cache: Path = CACHE, limit: int | None = None, others: dict[str, list[str]] | None = None) -> dict:
    """Train on ``rows`` (``others``: other names of labels, read in their place at random) and
    write the weights to ``out``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    t0 = time.perf_counter()
    vecs, offsets = features.compute([r["tokens"] for r in rows], cache, features.cache_key_rows(rows), log=log)
    log(f"word vectors: {time.perf_counter() - t0:.0f} s")
    if limit is not None and limit < len(rows):
        keep = sorted(random.Random(seed).sample(range(len(rows)), limit))
        rows, offsets = [rows[i] for i in keep], offsets[keep]
    enc_sent, enc_words = sentence_encoder(), word_features.word_encoder()
    others = {k: v for k, v in (others or {}).items() if v}
    names = sorted({type_phrase(p[4]) for r in rows for p in r["pairs"]} | {n for v in others.values() for n in v})
    phrase_vecs = dict(zip(names, enc_sent.encode(names)))
    batches = Batches(rows, vecs, offsets, phrase_vecs, random.Random(seed), others)
    model = PairTypeScorer(vecs.shape[1], enc_sent.dim, dim=dim)
    steps = epochs * ((len(rows) + BATCH - 1) // BATCH)
    update = Updater(model, steps)
    best: dict = {"f1": -1.0}
    step, losses = 0, []
    scorer = lambda *a: model(*[torch.from_numpy(v) for v in a]).numpy()  # noqa: E731
    for ep in range(epochs):
        total, seen = 0.0, 0
        for idx in batches.epoch():
            x, shapes, mask, heads, tails, types, valid, target = batches.tensors(idx)
            logits = model(x, shapes, mask, heads, tails, types)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[valid], target[valid],
                                                                        reduction="sum") / len(idx)
            update(loss)
            total, seen, step = total + loss.item(), seen + 1, step + 1
            if step % 500 == 0:
                log(f"  epoch {ep + 1} step {step}/{steps} loss {total / seen:.3f} {time.perf_counter() - t0:.0f} s")
        losses.append(round(total / max(1, seen), 4))
        model.eval()
        with torch.no_grad():
            res = evaluate(scorer, dev, enc_words, enc_sent)
        model.train()
        th = max(res, key=res.get) if res else 0.5
        log(f"epoch {ep + 1}: loss {losses[-1]:.3f}" + (f", dev F1 {res[th]:.3f} at {th}" if res else ""))
        if res.get(th, 0.0) > best["f1"] or not res:
            best = {"f1": res.get(th, 0.0), "epoch": ep + 1, "threshold": th,
                    "state": {k: v.clone() for k, v in model.state_dict().items()}}
    model.load_state_dict(best["state"])
    seconds = time.perf_counter() - t0
    meta = {"threshold": best["threshold"], "dev_f1": round(best["f1"], 4), "layers": list(word_features.LAYERS),
            "dim": dim, "epochs_run": epochs, "best_epoch": best["epoch"], "sentences": len(rows),
            "phrases": len(names), "train_seconds": round(seconds), "seed": seed, "losses": losses}
    pair_model.export_onnx(model, meta, out)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {seconds:.0f} s: {json.dumps(meta)}")
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m muie.training.train_pairs", description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--limit", type=int, default=None, help="train on this many sentences (a seeded draw)")
    ap.add_argument("--data", type=Path, nargs="+", default=[DATA, KNOWLEDGENET])
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--out", type=Path, default=pair_model.WEIGHTS)
    a = ap.parse_args(argv)
    for f in (*a.data, a.dev):
        if not f.is_file():
            print(f"error: {f}: no such data file", file=sys.stderr)
            return 2
    phrases = json.loads(PHRASES.read_text(encoding="utf-8")) if PHRASES.is_file() else {}
    others = {**(phrases if DATA in a.data else {}), **(other_names(phrases) if KNOWLEDGENET in a.data else {})}
    rows = with_implied([r for f in a.data for r in read_rows(f)])
    train(rows, read_rows(a.dev), a.epochs, a.dim, a.out, limit=a.limit, others=others)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

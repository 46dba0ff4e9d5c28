"""The dev sets that choose the epoch and threshold (never trained on), read at token level."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEV = Path(__file__).resolve().parent.parent / "bench" / "data" / "ner-dev"
# the dev sets that choose; the others of bench/data/ner-dev are only ever measured
CHOOSE = {"WNUT-17": "wnut17.dev.conll", "CrossNER politics": "crossner-politics.dev.txt",
          "CrossNER science": "crossner-science.dev.txt"}


@dataclass
class DevSentence:
    tokens: list[str]
    spans: set[tuple[int, int, str]]


@dataclass
class DevSet:
    name: str
    sentences: list[DevSentence]
    types: list[str] = field(default_factory=list)


def bio_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    out, cur = set(), None
    for i, t in enumerate([*tags, "O"]):
        kind, _, label = t.partition("-")
        if kind == "B" or (kind == "I" and (cur is None or cur[2] != label)):
            if cur:
                out.add(tuple(cur))
            cur = [i, i + 1, label]
        elif kind == "I" and cur is not None:
            cur[1] = i + 1
        else:
            if cur:
                out.add(tuple(cur))
            cur = None
    return out  # type: ignore[return-value]


def read_bio(path: Path, name: str) -> DevSet:
    sents, toks, tags = [], [], []
    for line in [*path.read_text(encoding="utf-8").split("\n"), ""]:
        if not line.strip():
            if toks:
                sents.append(DevSentence(toks, bio_spans(tags)))
            toks, tags = [], []
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        toks.append(parts[0])
        tags.append(parts[-1])
    types = sorted({t for s in sents for _, _, t in s.spans})
    return DevSet(name, sents, types)


def read_dev_sets(which: dict[str, str] = CHOOSE) -> list[DevSet]:
    return [read_bio(DEV / f, n) for n, f in which.items()]


def score(dev: DevSet, preds: list[list[tuple[int, int, int, float]]]) -> float:
    """Strict span F1 (exact words and type), micro-averaged."""
    tp = fp = fn = 0
    for s, ps in zip(dev.sentences, preds):
        got = {(a, b, dev.types[t]) for a, b, t, _ in ps}
        tp, fp, fn = tp + len(got & s.spans), fp + len(got - s.spans), fn + len(s.spans - got)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

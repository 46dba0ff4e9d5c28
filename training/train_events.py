"""Train the two event models and write their weights files.

    python -m muie.training.train_events [--epochs N] [--limit N]

- **Triggers** (``weights/events.onnx``): the entity model's span x type scorer, on spans of
  up to ``TRIGGER_WIDTH`` words typed by the event type's phrase (``triggers.jsonl.gz``);
  GENEVA's validation sentences choose the epoch and threshold.
- **Arguments** (``weights/arguments.onnx``): the pair model, head the trigger, tail the
  argument, label "<role> in <event type>" (``arguments.jsonl.gz``), chosen the same way.

Both read the frozen encoder's word vectors, as the entity model does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from muie.tools.models.entity_model import WEIGHTS
from muie.training import train, train_pairs
from muie.training.devsets import DevSentence, DevSet

HERE = Path(__file__).resolve().parent
TRIGGERS, TRIGGERS_DEV = HERE / "data" / "triggers.jsonl.gz", HERE / "data" / "triggers-dev.jsonl.gz"
ARGUMENTS, ARGUMENTS_DEV = HERE / "data" / "arguments.jsonl.gz", HERE / "data" / "arguments-dev.jsonl.gz"
EVENTS_OUT, ARGUMENTS_OUT = WEIGHTS.with_name("events.onnx"), WEIGHTS.with_name("arguments.onnx")
TRIGGER_WIDTH = 4


def trigger_dev(path: Path = TRIGGERS_DEV) -> list[DevSet]:
    rows = train.read_rows(path)
    sents = [DevSentence(r["tokens"], {(s, e, t) for s, e, t in r["spans"]}) for r in rows]
    return [DevSet("GENEVA val", sents, sorted({t for s in sents for _, _, t in s.spans}))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m muie.training.train_events", description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--limit", type=int, default=None, help="train on this many sentences (a seeded draw)")
    ap.add_argument("--only", choices=["triggers", "arguments"], default=None)
    a = ap.parse_args(argv)
    for f in (TRIGGERS, TRIGGERS_DEV, ARGUMENTS, ARGUMENTS_DEV):
        if not f.is_file():
            print(f"error: {f}: no such data file", file=sys.stderr)
            return 2
    if a.only != "arguments":
        train.train(train.read_rows(TRIGGERS), trigger_dev(), a.epochs, a.dim, EVENTS_OUT, max_width=TRIGGER_WIDTH,
                    use_heads=False, limit=a.limit)
    if a.only != "triggers":
        train_pairs.train(train.read_rows(ARGUMENTS), train.read_rows(ARGUMENTS_DEV), a.epochs, a.dim,
                          ARGUMENTS_OUT, limit=a.limit)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

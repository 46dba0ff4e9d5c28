"""The two relation finders side by side, in one run: v1 (words on the dependency path
compared with the type names) and v2 (muie's learned pair model), zero-shot on dev
sentences with each set's own entity and relation types.

Two figures per set and finder, strict (exact entity spans, type and direction):

- **given entities**: the finder alone, on the gold entities of each sentence, so that
  relation F1 is the relation step's own;
- **agent**: the whole text agent (entities, then relations; ``tasks="ner,re"``), so that a
  relation counts only when both of its entities were also found; with sentences per second.

Re-DocRED's test sentences chose v2's epoch and threshold (*); CrossRE's dev splits (types
like ``part-of``, ``role``, ``win-defeat``, never trained on) chose nothing.

    .venv/bin/python bench/re_models.py [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import f1, run_workers, timed_batch, worker_agent  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "re-dev"
SETS = {"Re-DocRED test": "redocred.jsonl", "CrossRE AI": "crossre-ai.jsonl",
        "CrossRE literature": "crossre-literature.jsonl", "CrossRE music": "crossre-music.jsonl",
        "CrossRE politics": "crossre-politics.jsonl", "CrossRE science": "crossre-science.jsonl"}
CHOSE = {"Re-DocRED test"}
MODELS = {"heuristic": "v1", "learned": "v2"}


def given_entities(tool_name: str, cases: list, types: list[str]) -> float:
    """Relation F1 of the tool alone on the gold entities."""
    from muie.calls import SpanRef
    from muie.settings import default_settings
    from muie.tools import REGISTRY
    from muie.tools.base import ToolContext
    from muie.tools.text.extract_relations import ExtractRelationsArgs

    tool, settings = REGISTRY[tool_name], default_settings()
    items, golds = [], []
    for c in cases:
        refs = [SpanRef(id=e.id, type=e.type, start=m.start, end=m.end) for e in c.result.entities for m in e.mentions]
        if len(refs) < 2:
            golds.append(None)
            continue
        items.append((ExtractRelationsArgs(input="text", start=0, end=len(c.text), relation_types=types,
                                           entities=refs), ToolContext({"text": c.text}, settings)))
        golds.append({(r.head, r.tail, r.type) for r in c.result.relations})
    results = iter(tool.run_batch(items))
    tp = fp = fn = 0
    for c, gold in zip(cases, golds):
        if gold is None:
            fn += len(c.result.relations)
            continue
        pred = {(r.head, r.tail, r.type) for r in next(results).relations}
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    return f1(tp, fp, fn)


def worker(model: str, limit: int | None) -> dict:
    agent, settings = worker_agent("MUIE_RELATION_MODEL", model)
    from muie.agent.scoring.cases import load_cases
    from muie.agent.scoring.score import evaluate
    from muie.domain import Schema

    tool = settings.relation_tool
    out: dict = {"model": model, "sets": []}
    for name, f in SETS.items():
        cases = load_cases(DATA / f)[:limit]
        ent_types = sorted({e.type for c in cases for e in c.result.entities})
        rel_types = sorted({r.type for c in cases for r in c.result.relations})
        schema = Schema(entity_types=ent_types, relation_types=rel_types)
        texts = [c.text or "" for c in cases]
        t0 = time.perf_counter()
        given = given_entities(tool, cases, rel_types)
        given_s = time.perf_counter() - t0
        results, seconds = timed_batch(texts, schema, "ner,re", agent)
        re = evaluate(cases, results).overall.re
        out["sets"].append({"dataset": name, "sentences": len(cases), "relations": sum(len(c.result.relations)
                                                                                      for c in cases),
                            "types": len(rel_types), "given_F1": given, "given_s": given_s,
                            "agent_F1": f1(re.tp, re.fp, re.fn), "sent_per_s": len(cases) / seconds})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="sentences per dataset (default: all)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a.limit)))
        return 0
    from muie.tools.models.pair_model import WEIGHTS

    if not WEIGHTS.is_file():
        print(f"skipped: v2's weights ({WEIGHTS.name}) are not made yet: run make model", file=sys.stderr)
        return 0
    runs = run_workers(__file__, list(MODELS), a.limit)
    if runs is None:
        return 1
    v1, v2 = runs["heuristic"], runs["learned"]
    print(f"Relation F1, zero-shot with each set's own types ({os.cpu_count()} CPUs); * chose v2's epoch and threshold")
    print(f"{'dataset':21s} {'sents':>5s} {'rels':>5s} {'types':>5s} | given entities: {'v1':>5s} {'v2':>5s} | "
          f"agent: {'v1':>5s} {'v2':>5s} | sent/s {'v1':>6s} {'v2':>6s}")
    for r1, r2 in zip(v1["sets"], v2["sets"]):
        mark = "*" if r1["dataset"] in CHOSE else " "
        print(f"{r1['dataset'] + mark:21s} {r1['sentences']:5d} {r1['relations']:5d} {r1['types']:5d} | "
              f"{'':16s}{r1['given_F1']:5.3f} {r2['given_F1']:5.3f} | {r1['agent_F1']:12.3f} {r2['agent_F1']:5.3f} "
              f"| {r1['sent_per_s']:13.1f} {r2['sent_per_s']:6.1f}")
    for key in ("given_F1", "agent_F1"):
        m1, m2 = (statistics.mean(r[key] for r in v["sets"]) for v in (v1, v2))
        print(f"mean {key.split('_')[0]}: v1 {m1:.3f}, v2 {m2:.3f}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The two event finders side by side, in one run: v1 (verbs and nouns compared with the
type names, syntactic slots) and v2 (muie's learned trigger and argument models),
zero-shot on dev sentences with each set's own event types and roles.

Strict F1 of triggers (exact span and type) and of arguments (their event's trigger, the
role, the exact entity), per set and finder:

- **given entities**: the finder alone, on the gold argument entities of each sentence, so
  that argument F1 is the event step's own;
- **agent**: the whole text agent (entities, then events; ``tasks="ner,ee"``), so that an
  argument counts only when its entity was also found; with sentences per second.

GENEVA's validation sentences chose v2's epochs and thresholds (*); WikiEvents' dev
documents (KAIROS types such as ``Life.Die.Unspecified``, never trained on) chose nothing.

    .venv/bin/python bench/ee_models.py [--limit N] [--json OUT]
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

DATA = Path(__file__).resolve().parent / "data" / "ee-dev"
SETS = {"GENEVA val": "geneva.jsonl", "WikiEvents dev": "wikievents.jsonl"}
CHOSE = {"GENEVA val"}
MODELS = {"heuristic": "v1", "learned": "v2"}


def _count(gold: set, pred: set, c: list[int]) -> None:
    c[0], c[1], c[2] = c[0] + len(gold & pred), c[1] + len(pred - gold), c[2] + len(gold - pred)


def given_entities(tool_name: str, cases: list, schema_events: dict[str, list[str]]) -> tuple[float, float]:
    """(trigger F1, argument F1) of the tool alone on the gold argument entities."""
    from muie.calls import SpanRef
    from muie.settings import default_settings
    from muie.tools import REGISTRY
    from muie.tools.base import ToolContext
    from muie.tools.text.detect_events import DetectEventsArgs

    tool, settings = REGISTRY[tool_name], default_settings()
    items = []
    for c in cases:
        refs = [SpanRef(id=e.id, type=e.type, start=m.start, end=m.end) for e in c.result.entities for m in e.mentions]
        items.append((DetectEventsArgs(input="text", start=0, end=len(c.text), event_types=schema_events,
                                       entities=refs), ToolContext({"text": c.text}, settings)))
    trig, arg = [0, 0, 0], [0, 0, 0]
    for c, res in zip(cases, tool.run_batch(items)):
        g_t = {(m.start, m.end, v.type) for v in c.result.events for m in v.trigger.mentions[:1]}
        g_a = {(m.start, m.end, v.type, a.role, a.entity) for v in c.result.events for m in v.trigger.mentions[:1]
               for a in v.arguments}
        p_t = {(e.trigger.start, e.trigger.end, e.type) for e in res.events}
        p_a = {(e.trigger.start, e.trigger.end, e.type, a.role, a.entity) for e in res.events for a in e.arguments}
        _count(g_t, p_t, trig)
        _count(g_a, p_a, arg)
    return f1(*trig), f1(*arg)


def worker(model: str, limit: int | None) -> dict:
    agent, settings = worker_agent("MUIE_EVENT_MODEL", model)
    from muie.agent.scoring.cases import load_cases
    from muie.agent.scoring.score import evaluate
    from muie.domain import Schema

    tool = settings.event_tool
    out: dict = {"model": model, "sets": []}
    for name, f in SETS.items():
        cases = load_cases(DATA / f)[:limit]
        events: dict[str, set[str]] = {}
        for c in cases:
            for v in c.result.events:
                events.setdefault(v.type, set()).update(a.role for a in v.arguments)
        schema_events = {t: sorted(r) for t, r in sorted(events.items())}
        ent_types = sorted({e.type for c in cases for e in c.result.entities})
        schema = Schema(entity_types=ent_types, event_types=schema_events)
        texts = [c.text or "" for c in cases]
        t0 = time.perf_counter()
        g_trig, g_arg = given_entities(tool, cases, schema_events)
        given_s = time.perf_counter() - t0
        results, seconds = timed_batch(texts, schema, "ner,ee", agent)
        overall = evaluate(cases, results).overall
        t, a = overall.ee_trigger, overall.ee_argument
        n_events = sum(len(c.result.events) for c in cases)
        out["sets"].append({"dataset": name, "sentences": len(cases), "events": n_events,
                            "types": len(schema_events), "given_trigger_F1": g_trig, "given_argument_F1": g_arg,
                            "given_s": given_s, "agent_trigger_F1": f1(t.tp, t.fp, t.fn),
                            "agent_argument_F1": f1(a.tp, a.fp, a.fn), "sent_per_s": len(cases) / seconds})
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
    from muie.tools.text.detect_events_v2 import ARGUMENTS, EVENTS

    missing = [p.name for p in (EVENTS, ARGUMENTS) if not p.is_file()]
    if missing:
        print(f"skipped: v2's weights ({', '.join(missing)}) are not made yet: run make model", file=sys.stderr)
        return 0
    runs = run_workers(__file__, list(MODELS), a.limit)
    if runs is None:
        return 1
    v1, v2 = runs["heuristic"], runs["learned"]
    print(f"Event F1, zero-shot with each set's own types and roles ({os.cpu_count()} CPUs); "
          "* chose v2's epochs and thresholds")
    print(f"{'':17s} {'':5s} {'':6s} {'':5s} | {'given entities':^27s} | {'agent':^27s} |")
    print(f"{'dataset':17s} {'sents':>5s} {'events':>6s} {'types':>5s} | {'trigger':^13s} {'argument':^13s} | "
          f"{'trigger':^13s} {'argument':^13s} | {'sent/s':^13s}")
    print(f"{'':37s} | {'v1':>6s} {'v2':>6s} {'v1':>6s} {'v2':>6s} | {'v1':>6s} {'v2':>6s} {'v1':>6s} {'v2':>6s} | "
          f"{'v1':>6s} {'v2':>6s}")
    keys = ["given_trigger_F1", "given_argument_F1", "agent_trigger_F1", "agent_argument_F1"]
    for r1, r2 in zip(v1["sets"], v2["sets"]):
        mark = "*" if r1["dataset"] in CHOSE else " "
        cells = " | ".join(" ".join(f"{r1[k]:6.3f} {r2[k]:6.3f}" for k in pair) for pair in (keys[:2], keys[2:]))
        print(f"{r1['dataset'] + mark:17s} {r1['sentences']:5d} {r1['events']:6d} {r1['types']:5d} | {cells} | "
              f"{r1['sent_per_s']:6.1f} {r2['sent_per_s']:6.1f}")
    for k in keys:
        m1, m2 = (statistics.mean(r[k] for r in v["sets"]) for v in (v1, v2))
        print(f"mean {k[:-3].replace('_', ' ')}: v1 {m1:.3f}, v2 {m2:.3f}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

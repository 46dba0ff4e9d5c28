"""The verifier against the failures it is built for: each fault of ``bench.perturb``
injected into the same cases, run with the verifier on and off in one run.

Cases are drawn from the grounded benchmark (its image, audio and mixed kinds; generated
under ``--out`` if not there). For each failure (and for none), every case runs twice:
``MUIE_VERIFY`` on and off, everything else the same. The table gives, on and off:
entity F1, the over-grounding rate, duplicate entities (two entities of one case with
the same name, of one type or one of them known only from media), and grounding
accuracy (gold image regions found at box IoU >= 0.5 and gold audio segments at
tIoU >= 0.5, together).

    .venv/bin/python bench/verify_suite.py [--per-kind 2] [--failures duplicate,incomplete] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import reduce
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import without_memory  # noqa: E402
from bench.grounded_eval import benchmark, predict  # noqa: E402
from bench.perturb import FAILURES, perturbed  # noqa: E402
from muie.agent.api import Agent  # noqa: E402
from muie.agent.scoring import evaluate  # noqa: E402
from muie.agent.scoring.report import Scores  # noqa: E402
from muie.domain import Result  # noqa: E402
from muie.reasoner.embedded import EmbeddedReasoner  # noqa: E402
from muie.settings import Settings  # noqa: E402

KINDS = ("image_paste", "image_ocr", "image_negative", "audio_speech", "audio_negative", "mixed")


def duplicates(r: Result) -> int:
    """Entities beyond the first of each name (one type, or any type when one is known only from media)."""
    seen: dict[str, list[tuple[str, bool]]] = {}
    extra = 0
    for e in r.entities:
        name = " ".join(e.text.lower().split())
        mine = (e.type, bool(e.mentions))
        if any(t == e.type or not (m and mine[1]) for t, m in seen.get(name, [])):
            extra += 1
        seen.setdefault(name, []).append(mine)
    return extra


def over_found(gold: dict, r: Result) -> tuple[int, int]:
    """(over-grounded, groundings) of the predicted entities that are gold entities (same
    name and type): the over-grounding the verifier answers for, without the groundings
    of misnamed things (a name misheard in speech), which every metric counts as wrong."""
    name = lambda t: " ".join(t.lower().split())  # noqa: E731
    where = {(name(e["text"]), e["type"]): {(g["kind"], g["input"]) for g in e.get("groundings", [])}
             for e in gold["entities"]}
    over = n = 0
    for e in r.entities:
        have = where.get((name(e.text), e.type))
        if have is not None:
            n += len(e.groundings)
            over += sum((g.kind, g.input) not in have for g in e.groundings)
    return over, n


def figures(scores: Scores, dups: int, found: tuple[int, int]) -> dict[str, Any]:
    g = scores.grounding
    hits, n = g.box.hits + g.segment_acc.hits, g.box.n + g.segment_acc.n
    return {"entity_f1": scores.ner.f1, "over_grounding": g.over.rate, "over": g.over.over,
            "groundings": g.over.predicted, "over_found": found[0] / found[1] if found[1] else 0.0,
            "over_found_n": list(found), "duplicates": dups, "grounding_acc": hits / n if n else None,
            "grounding_hits": hits, "grounding_gold": n}


def run(cases: list[dict], schema: dict, root: Path, failure: str | None, verify: bool,
        out: Path) -> tuple[dict[str, Any], float]:
    """Figures and seconds per case of one failure with the verifier on or off; the
    predictions are written to ``out`` (JSONL)."""
    reasoner, tools = perturbed(EmbeddedReasoner(), failure)
    agent = Agent(reasoner, Settings.from_env(verify=verify), tools=tools)
    t0 = time.perf_counter()
    preds = [predict(c, schema, root, agent) for c in cases]
    seconds = (time.perf_counter() - t0) / len(cases)
    lines = [{"id": c["id"], **json.loads(p.to_json(indent=None))} for c, p in zip(cases, preds)]
    out.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    report = evaluate([{k: v for k, v in c.items() if k != "kind"} for c in cases], lines)
    total = reduce(lambda a, b: a + b, (c.scores for c in report.cases), Scores())
    found = [over_found(c, p) for c, p in zip(cases, preds)]
    return figures(total, sum(duplicates(p) for p in preds),
                   (sum(o for o, _ in found), sum(n for _, n in found))), seconds


def _all(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The faults together (not ``none``): counts summed, rates from the sums, F1 and accuracy averaged."""
    faults = [r for r in rows if r["failure"] != "none"] or rows
    out: dict[str, Any] = {"failure": "all faults"}
    for side in ("off", "on"):
        xs = [r[side] for r in faults]
        over, n = sum(x["over"] for x in xs), sum(x["groundings"] for x in xs)
        fo, fn = sum(x["over_found_n"][0] for x in xs), sum(x["over_found_n"][1] for x in xs)
        hits, gold = sum(x["grounding_hits"] for x in xs), sum(x["grounding_gold"] for x in xs)
        f1s = [x["entity_f1"] for x in xs if x["entity_f1"] is not None]
        out[side] = {"entity_f1": sum(f1s) / len(f1s) if f1s else None, "over_grounding": over / n if n else 0.0,
                     "over": over, "groundings": n, "over_found": fo / fn if fn else 0.0, "over_found_n": [fo, fn],
                     "duplicates": sum(x["duplicates"] for x in xs), "grounding_acc": hits / gold if gold else None,
                     "grounding_hits": hits, "grounding_gold": gold}
    for side in ("off", "on"):
        out[f"seconds_{side}"] = sum(r[f"seconds_{side}"] for r in faults) / len(faults)
    return out


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'failure':16s} {'entity F1':>15s} {'over-grounding':>15s} {'(found things)':>15s} "
            f"{'duplicates':>11s} {'grounding acc':>15s} {'s/case':>13s}")
    lines = ["verifier off -> on, same cases, same run", "", head]
    for r in rows:
        off, on = r["off"], r["on"]

        def pair(k: str, off: dict = off, on: dict = on) -> str:
            return f"{_num(off[k])} -> {_num(on[k])}"

        lines.append(f"{r['failure']:16s} {pair('entity_f1'):>15s} {pair('over_grounding'):>15s} "
                     f"{pair('over_found'):>15s} {pair('duplicates'):>11s} {pair('grounding_acc'):>15s} "
                     f"{_num(r['seconds_off'])} -> {_num(r['seconds_on']):>5s}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "verify")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-kind", type=int, default=2, help="cases of each kind")
    ap.add_argument("--failures", default=",".join(("none",) + FAILURES), help="comma-separated, 'none' = no fault")
    a = ap.parse_args()
    without_memory()
    failures = [f.strip() for f in a.failures.split(",") if f.strip()]
    unknown = [f for f in failures if f != "none" and f not in FAILURES]
    if unknown or a.per_kind < 1:
        ap.error(f"unknown failure(s): {unknown}" if unknown else "--per-kind must be at least 1")
    data = a.out / "cases"
    every, schema = benchmark(data, a.seed, a.per_kind)
    cases = [c for c in every if c["kind"] in KINDS]
    predict(cases[0], schema, data, Agent(EmbeddedReasoner()))  # models loaded before the clock
    rows = []
    for f in failures:
        fault = None if f == "none" else f
        off, s_off = run(cases, schema, data, fault, False, a.out / f"{f}.off.jsonl")
        on, s_on = run(cases, schema, data, fault, True, a.out / f"{f}.on.jsonl")
        rows.append({"failure": f, "off": off, "on": on, "seconds_off": s_off, "seconds_on": s_on})
        print(f"{f}: done", file=sys.stderr)
    rows.append(_all(rows))
    text = table(rows)
    print(f"verifier suite: {len(cases)} cases ({', '.join(KINDS)}; {a.per_kind} of each, seed {a.seed})")
    print(text)
    (a.out / "report.json").write_text(json.dumps({"cases": len(cases), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

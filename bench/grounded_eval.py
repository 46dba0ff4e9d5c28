"""The current system on the grounded benchmark, scored with ``muie eval``'s metrics.

Generates the benchmark (seeded, deterministic) if it is not there, extracts every case
with what the agent handles today (its text and its audio files), writes the predictions
as JSONL, and prints the report: overall and per modality combination, then the figures
of each case kind that has audio (NER, and the audio segments: accuracy at tIoU >= 0.5 and
mIoU). Inputs of a modality the agent does not handle yet are passed over (their
groundings are then missed, and counted as missed).

    .venv/bin/python bench/grounded_eval.py [--out bench/results/grounded] [--seed 0] [--per-kind 9]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from functools import reduce
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import without_memory  # noqa: E402
from bench.grounded.generate import DEFAULT_PER_KIND, generate  # noqa: E402
from muie.agent.api import Agent, extract  # noqa: E402
from muie.agent.scoring import evaluate, load_cases, render_text  # noqa: E402
from muie.agent.scoring.metrics import Accuracy  # noqa: E402
from muie.agent.scoring.report import Report, Scores  # noqa: E402
from muie.domain import Result  # noqa: E402

SUPPORTED = {"text", "image", "audio", "video"}  # modalities the agent extracts from today


def predict(case: dict, schema: dict, root: Path, agent=None) -> Result:  # type: ignore[no-untyped-def]
    """The agent's result on one case, naming the same inputs as the gold (ids, relative paths).

    Audio paths in a case are relative to the benchmark folder ``root``. The agent numbers
    the audio it is given ``audio0``, ``audio1``... in order; its segments are put on the
    gold's ids for those inputs, and the result lists the gold's inputs, so the scorer
    matches prediction and gold input by input.
    """
    gold_inputs = Result.model_validate({"inputs": case["inputs"]}).inputs
    text = case.get("text") if "text" in SUPPORTED else None
    audio = [i for i in gold_inputs if i.modality == "audio" and "audio" in SUPPORTED]
    images = [i for i in gold_inputs if i.modality == "image" and "image" in SUPPORTED]
    videos = [i for i in gold_inputs if i.modality == "video" and "video" in SUPPORTED]
    if text or audio or images or videos:
        r = extract(text=text or None, images=[str(root / i.path) for i in images],
                    audio=[str(root / i.path) for i in audio], video=[str(root / i.path) for i in videos],
                    schema=schema, agent=agent)
        r = on_inputs(r, {f"audio{k}": i.id for k, i in enumerate(audio)}
                      | {f"image{k}": i.id for k, i in enumerate(images)}
                      | {f"video{k}": i.id for k, i in enumerate(videos)})
    else:
        r = Result()
    return r.model_copy(update={"inputs": gold_inputs})


def on_inputs(r: Result, ids: dict[str, str]) -> Result:
    """The result with its groundings moved from the agent's media ids to the gold's."""
    if all(k == v for k, v in ids.items()):
        return r

    def moved(groundings: list) -> list:  # type: ignore[type-arg]
        return [g.model_copy(update={"input": ids.get(g.input, g.input)}) for g in groundings]

    entities = [e.model_copy(update={"groundings": moved(e.groundings)}) for e in r.entities]
    events = [v.model_copy(update={"trigger": v.trigger.model_copy(update={"groundings": moved(v.trigger.groundings)})})
              for v in r.events]
    return r.model_copy(update={"entities": entities, "events": events})


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


Column = tuple[str, int, Callable[[Scores], str]]
"""A by-kind table's column: header, width, and the cell of a kind's summed scores."""


def _acc(a: Accuracy) -> str:
    return f"{_num(a.value)} ({a.hits}/{a.n})"


AUDIO_COLUMNS: list[Column] = [
    ("NER P", 6, lambda s: _num(s.ner.precision)), ("NER R", 6, lambda s: _num(s.ner.recall)),
    ("NER F1", 6, lambda s: _num(s.ner.f1)), ("seg acc@0.5", 15, lambda s: _acc(s.grounding.segment_acc)),
    ("seg mIoU", 8, lambda s: _num(s.grounding.segment.value))]
IMAGE_COLUMNS: list[Column] = [
    ("NER F1", 6, lambda s: _num(s.ner.f1)), ("box acc@0.5", 15, lambda s: _acc(s.grounding.box)),
    ("mask mIoU", 9, lambda s: _num(s.grounding.mask.value)),
    ("over-grounding", 14, lambda s: _num(s.grounding.over.rate))]


def by_kind(report: Report, kinds: dict[str, str], modality: str, columns: list[Column]) -> str:
    """One line per case kind with that modality: its cases, then the columns over their summed scores."""
    groups: dict[str, list[Scores]] = {}
    for c in report.cases:
        if modality in c.combination.split("+"):
            groups.setdefault(kinds.get(c.id, c.combination), []).append(c.scores)
    lines = [f"{modality}, by case kind", "",
             " ".join([f"{'kind':16s} {'cases':>5s}"] + [f"{h:>{w}s}" for h, w, _ in columns])]
    for kind, scores in sorted(groups.items()):
        s = reduce(lambda a, b: a + b, scores, Scores())
        lines.append(" ".join([f"{kind:16s} {s.cases:5d}"] + [f"{cell(s):>{w}s}" for _, w, cell in columns]))
    return "\n".join(lines) + "\n"


def negatives_grounded(cases: list[dict], predicted: dict[str, dict]) -> tuple[int, int]:
    """(grounded anyway, all): things a case's text names that its media do not show
    (``negatives``), and how many of them the prediction grounds in that medium anyway
    (the predicted entity sharing the gold's mention span)."""
    hit = total = 0
    for c in cases:
        gold = {e["id"]: e for e in c.get("entities", [])}
        for neg in c.get("negatives", []):
            spans = {(m["input"], m["start"], m["end"]) for m in gold[neg["entity"]].get("mentions", [])}
            total += 1
            hit += any(g["input"] == neg["absent_from"]
                       for e in predicted.get(c["id"], {}).get("entities", [])
                       if spans & {(m["input"], m["start"], m["end"]) for m in e.get("mentions", [])}
                       for g in e.get("groundings", []))
    return hit, total


def benchmark(folder: Path, seed: int, per_kind: int) -> tuple[list[dict], dict]:
    """The benchmark's cases and schema in ``folder``, generated there first unless that
    seed and size are already there."""
    manifest = folder / "MANIFEST.json"
    made = json.loads(manifest.read_text()) if manifest.exists() else {}
    if (made.get("seed"), made.get("per_kind")) != (seed, per_kind):
        generate(folder, seed=seed, per_kind=per_kind, jobs=2)
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return cases, json.loads((folder / "schema.json").read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "grounded")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-kind", type=int, default=DEFAULT_PER_KIND, help="cases of each kind")
    ap.add_argument("--reasoner", default="embedded", choices=["embedded", "llm", "local"],
                    help="reasoner of the agent (llm: the endpoint MUIE_LLM_* names; see bench/llm_compare.py)")
    ap.add_argument("--kinds", default="", help="comma-separated case kinds to run (default: all)")
    a = ap.parse_args()
    without_memory()
    if a.per_kind < 1:
        ap.error("--per-kind must be at least 1")
    cases, schema = benchmark(a.out, a.seed, a.per_kind)
    if a.kinds:
        wanted = {k.strip() for k in a.kinds.split(",") if k.strip()}
        unknown = wanted - {c["kind"] for c in cases}
        if unknown:
            ap.error(f"--kinds: no cases of kind {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c["kind"] in wanted]
    t0 = time.perf_counter()
    lines = []
    agent = Agent(a.reasoner)
    for c in cases:
        r = predict(c, schema, a.out, agent)
        lines.append(json.dumps({"id": c["id"], **json.loads(r.to_json(indent=None))}))
    seconds = time.perf_counter() - t0
    pred_path = a.out / ("predictions.jsonl" if not a.kinds else "predictions.subset.jsonl")
    pred_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids = {c["id"] for c in cases}
    gold = [g for g in load_cases(a.out / "cases.jsonl") if g.id in ids]
    report = evaluate(gold, load_cases(pred_path))
    print(f"grounded benchmark: {len(cases)} cases (seed {a.seed}), reasoner {a.reasoner}, "
          f"{seconds / len(cases):.2f} s per case; "
          f"modalities extracted today: {', '.join(sorted(SUPPORTED))}")
    print(render_text(report, by_combination=True))
    kinds = {c["id"]: c["kind"] for c in cases}
    print(by_kind(report, kinds, "image", IMAGE_COLUMNS))
    hit, total = negatives_grounded(cases, {json.loads(ln)["id"]: json.loads(ln) for ln in lines})
    print(f"things a text names that its media do not show, grounded there anyway: {hit}/{total}\n")
    print(by_kind(report, kinds, "audio", AUDIO_COLUMNS))
    if not a.kinds:
        (a.out / "report.json").write_text(report.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

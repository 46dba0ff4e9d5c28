"""The current system on the grounded benchmark, scored with ``muie eval``'s metrics.

Generates the benchmark (seeded, deterministic) if it is not there, extracts every case
with what the agent handles today, writes the predictions as JSONL, and prints the
report: overall and per modality combination. Inputs of a modality the agent does not
handle yet are passed over (their groundings are then missed, and counted as missed).

    .venv/bin/python bench/grounded_eval.py [--out bench/results/grounded] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.api import extract  # noqa: E402
from agent.domain import Result, TextInput  # noqa: E402
from agent.scoring import evaluate, load_cases, render_text  # noqa: E402
from bench.grounded.generate import generate  # noqa: E402

SUPPORTED = {"text"}  # modalities the agent extracts from today


def predict(case: dict, schema: dict) -> Result:
    text = case.get("text")
    if text and "text" in SUPPORTED:
        r = extract(text=text, schema=schema)
    else:
        r = Result()
    # the prediction names the same inputs as the gold, as a full run would
    inputs = [i for i in Result.model_validate({"inputs": case["inputs"]}).inputs if not isinstance(i, TextInput)]
    return r.model_copy(update={"inputs": [TextInput()] * bool(text) + inputs})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "grounded")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    manifest = a.out / "MANIFEST.json"
    if not manifest.exists() or json.loads(manifest.read_text()).get("seed") != a.seed:
        generate(a.out, seed=a.seed, jobs=2)
    cases = [json.loads(line) for line in (a.out / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    schema = json.loads((a.out / "schema.json").read_text())
    t0 = time.perf_counter()
    lines = []
    for c in cases:
        r = predict(c, schema)
        lines.append(json.dumps({"id": c["id"], **json.loads(r.to_json(indent=None))}))
    seconds = time.perf_counter() - t0
    pred_path = a.out / "predictions.jsonl"
    pred_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = evaluate(load_cases(a.out / "cases.jsonl"), load_cases(pred_path))
    print(f"grounded benchmark: {len(cases)} cases (seed {a.seed}), {seconds / len(cases):.2f} s per case; "
          f"modalities extracted today: {', '.join(sorted(SUPPORTED))}")
    print(render_text(report, by_combination=True))
    (a.out / "report.json").write_text(report.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

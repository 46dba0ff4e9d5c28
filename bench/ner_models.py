"""The two entity finders side by side, in one run: v1 (parser + type similarity) and v2
(muie's learned entity model), zero-shot on the dev sets with each set's own types.

Each finder runs in a process of its own (``MUIE_NER_MODEL``), through the whole agent
(``extract_batch``, ``tasks="ner"``), so that its peak RSS is its own. Prints strict span
F1 per set (exact offsets and type, micro-averaged), sentences per second, peak RSS; and
for v2 the load time of its models and the median time per sentence in batches of 32
sentences (the tool alone).

    .venv/bin/python bench/ner_models.py [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run_workers  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "ner-dev"
SETS = {"WNUT-17": "wnut17.dev.conll", "CrossNER politics": "crossner-politics.dev.txt",
        "CrossNER science": "crossner-science.dev.txt", "CrossNER AI": "crossner-ai.dev.txt",
        "CrossNER literature": "crossner-literature.dev.txt", "CrossNER music": "crossner-music.dev.txt"}
# the sets that chose the model's epoch and threshold (training/devsets.py); the others never chose anything
CHOSE = {"WNUT-17", "CrossNER politics", "CrossNER science"}
MODELS = {"heuristic": "v1", "learned": "v2"}


def worker(model: str, limit: int | None) -> dict:
    from bench import without_memory

    without_memory()
    os.environ["MUIE_NER_MODEL"] = model
    from muie.agent.api import Agent, extract_batch
    from muie.agent.scoring.conll import dataset_types, read_conll
    from muie.domain import Schema

    agent = Agent()
    out: dict = {"model": model, "sets": []}
    for name, f in SETS.items():
        sents = read_conll(DATA / f)[:limit]
        schema = Schema(entity_types=dataset_types(sents))
        texts = [s.text for s in sents]
        extract_batch(texts[:2], schema=schema, tasks="ner", agent=agent)  # models loaded outside the timing
        t0 = time.perf_counter()
        results = extract_batch(texts, schema=schema, tasks="ner", agent=agent, batch_size=256)
        seconds = time.perf_counter() - t0
        tp = fp = fn = 0
        for s, r in zip(sents, results):
            gold = set(s.spans)
            pred = {(m.start, m.end, e.type) for e in r.entities for m in e.mentions}
            tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
        p = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        out["sets"].append({"dataset": name, "sentences": len(sents), "types": len(schema.entity_types),
                            "P": p, "R": rc, "F1": 2 * p * rc / (p + rc) if p + rc else 0.0,
                            "sent_per_s": len(sents) / seconds})
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def model_timing(limit: int | None) -> dict:
    """Load time of v2's models in a fresh process, and its median time per sentence."""
    t0 = time.perf_counter()
    from muie.tools.models.entity_model import entity_model
    from muie.tools.models.word_features import word_encoder
    from muie.tools.text.meaning import embedder

    entity_model(), word_encoder(), embedder()
    load_s = time.perf_counter() - t0
    from muie.agent.scoring.conll import dataset_types, read_conll
    from muie.settings import default_settings
    from muie.tools.base import ToolContext
    from muie.tools.text.recognize_entities import RecognizeEntitiesArgs
    from muie.tools.text.recognize_entities_v2 import RecognizeEntitiesV2Tool

    settings = default_settings()
    tool = RecognizeEntitiesV2Tool()
    out: dict = {"load_s": load_s, "sets": {}}
    for name in ("WNUT-17", "CrossNER politics"):  # short (16 words) and long (45) sentences
        sents = read_conll(DATA / SETS[name])[:limit]
        types = dataset_types(sents)
        items = [(RecognizeEntitiesArgs(input="text", start=0, end=len(s.text), entity_types=types),
                  ToolContext({"text": s.text}, settings)) for s in sents]
        tool.run_batch(items[-32:])  # warm-up on sentences the timed batches do not hold
        per = []
        for k in range(0, min(len(items) - 32, 16 * 32) - 31, 32):
            t = time.perf_counter()
            tool.run_batch(items[k:k + 32])
            per.append((time.perf_counter() - t) / 32 * 1000)
        words = statistics.mean(len(s.text.split()) for s in sents)
        out["sets"][name] = {"ms_per_sentence_median": statistics.median(per), "batches": len(per),
                             "words_per_sentence": round(words, 1)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="sentences per dataset (default: all)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--worker", choices=[*MODELS, "timing"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(model_timing(a.limit) if a.worker == "timing" else worker(a.worker, a.limit)))
        return 0
    runs = run_workers(__file__, [*MODELS, "timing"], a.limit)
    if runs is None:
        return 1
    v1, v2 = runs["heuristic"], runs["learned"]
    print(f"Entity F1, zero-shot with each dev set's own types, through the agent ({os.cpu_count()} CPUs); "
          "* chose v2's epoch and threshold")
    print(f"{'dataset':22s} {'sents':>6s} {'types':>5s} {'v1 F1':>6s} {'v2 F1':>6s} {'v2 P':>6s} {'v2 R':>6s} "
          f"{'v1 sent/s':>9s} {'v2 sent/s':>9s}")
    for r1, r2 in zip(v1["sets"], v2["sets"]):
        mark = "*" if r1["dataset"] in CHOSE else " "
        print(f"{r1['dataset'] + mark:22s} {r1['sentences']:6d} {r1['types']:5d} {r1['F1']:6.3f} {r2['F1']:6.3f} "
              f"{r2['P']:6.3f} {r2['R']:6.3f} {r1['sent_per_s']:9.1f} {r2['sent_per_s']:9.1f}")
    m1 = statistics.mean(r["F1"] for r in v1["sets"])
    m2 = statistics.mean(r["F1"] for r in v2["sets"])
    print(f"{'mean':22s} {'':6s} {'':5s} {m1:6.3f} {m2:6.3f}")
    print(f"peak RSS: v1 {v1['peak_rss_mb']:.0f} MB, v2 {v2['peak_rss_mb']:.0f} MB")
    t = runs["timing"]
    print(f"v2 models loaded in {t['load_s']:.2f} s; per sentence, median of batches of 32, the tool alone: "
          + "; ".join(f"{name} ({v['words_per_sentence']} words) {v['ms_per_sentence_median']:.1f} ms "
                      f"({v['batches']} batches)" for name, v in t["sets"].items()))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

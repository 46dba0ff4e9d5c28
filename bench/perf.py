"""Performance of the agent, per modality: latency per case (median), throughput for a
batch, peak memory (RSS), and the agent's overhead against its model time, as a table
and a chart.

    .venv/bin/python bench/perf.py [--out bench/results] [--cases N]

The overhead is read from each run's own trace: the time spent outside the tool calls
(graph, validation, checks, merging) over the whole run, so both sides of the ratio come
from the same run. Modalities the agent does not handle yet are listed as such.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.api import Agent, extract, extract_batch  # noqa: E402
from agent.domain import Result, Schema  # noqa: E402
from agent.scoring.conll import dataset_types, read_conll  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "ner-dev"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_tools_s(result: Result) -> float:
    return sum(s.model_extra.get("seconds", 0.0) for s in result.trace if s.node == "act")


def text_row(n_cases: int, agent: Agent) -> dict:
    sents = read_conll(DATA / "wnut17.dev.conll")
    schema = Schema(entity_types=dataset_types(sents), relation_types=["work_for", "located_in"],
                    event_types={"Attack": ["Attacker", "Target"], "Transport": ["Agent", "Destination"]})
    texts = [s.text for s in sents]
    extract(text=texts[0], schema=schema, agent=agent)  # load the models outside the timings
    latencies, overheads = [], []
    for t in texts[:n_cases]:
        t0 = time.perf_counter()
        r = extract(text=t, schema=schema, agent=agent)
        dt = time.perf_counter() - t0
        latencies.append(dt)
        overheads.append(max(0.0, dt - in_tools_s(r)) / dt)
    t0 = time.perf_counter()
    results = extract_batch(texts, schema=schema, agent=agent)
    batch_s = time.perf_counter() - t0
    batch_overhead = 1 - sum(in_tools_s(r) for r in results[::256]) / batch_s
    return {"modality": "text", "cases": n_cases, "latency_ms_median": 1000 * statistics.median(latencies),
            "batch_cases": len(texts), "throughput_per_s": len(texts) / batch_s,
            "overhead_single": statistics.median(overheads), "overhead_batch": batch_overhead,
            "peak_rss_mb": peak_rss_mb(), "unit": "sentences (WNUT-17 dev), tasks ner+re+ee"}


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if "latency_ms_median" in r]
    names = [r["modality"] for r in done]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, key, title in zip(axes, ("latency_ms_median", "throughput_per_s", "overhead_batch"),
                              ("latency per case, median (ms)", "throughput, batch (cases/s)",
                               "agent overhead, batch (share of time)")):
        ax.bar(names, [r[key] for r in done], color="#4c72b0")
        ax.set_title(title, fontsize=10)
        for i, r in enumerate(done):
            ax.annotate(f"{r[key]:.3g}", (i, r[key]), ha="center", va="bottom", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--cases", type=int, default=100, help="single cases timed for the latency")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    agent = Agent()
    rows = [text_row(a.cases, agent)]
    for m in ("image", "audio", "video"):
        rows.append({"modality": m, "status": "not supported yet"})
    print(f"{'modality':8s} {'latency ms':>10s} {'batch/s':>8s} {'overhead 1':>10s} {'overhead N':>10s} {'peak RSS MB':>11s}")
    for r in rows:
        if "status" in r:
            print(f"{r['modality']:8s} {r['status']}")
            continue
        print(f"{r['modality']:8s} {r['latency_ms_median']:10.1f} {r['throughput_per_s']:8.1f} "
              f"{r['overhead_single']:10.1%} {r['overhead_batch']:10.1%} {r['peak_rss_mb']:11.0f}")
    (a.out / "perf.json").write_text(json.dumps(rows, indent=2))
    chart(rows, a.out / "perf.png")
    print(f"wrote {a.out / 'perf.json'} and {a.out / 'perf.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

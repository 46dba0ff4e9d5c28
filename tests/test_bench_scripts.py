"""The benchmark scripts run and print figures (small sizes here; `make bench` runs them
in full). Figures themselves are not asserted beyond being sane: benchmarks measure,
tests check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_ner_dev_prints_f1_throughput_and_overhead(tmp_path):
    out = run("bench/ner_dev.py", "--limit", "40", "--json", str(tmp_path / "ner.json"))
    assert "WNUT-17" in out and "CrossNER politics" in out
    rows = json.loads((tmp_path / "ner.json").read_text())
    assert len(rows) == 3
    for r in rows:
        assert 0.0 < r["F1"] <= 1.0 and r["sent_per_s"] > 0 and 0.0 <= r["overhead_in_run"] < 1.0


def test_perf_writes_table_json_and_chart(tmp_path):
    out = run("bench/perf.py", "--cases", "5", "--out", str(tmp_path))
    assert "not supported yet" in out
    text = json.loads((tmp_path / "perf.json").read_text())[0]
    assert text["modality"] == "text" and text["latency_ms_median"] > 0 and text["peak_rss_mb"] > 0
    assert (tmp_path / "perf.png").read_bytes()[:4] == b"\x89PNG"


def test_grounded_eval_generates_extracts_and_scores(tmp_path):
    out = run("bench/grounded_eval.py", "--out", str(tmp_path / "g"))
    assert "all cases" in out and "over-grounding" in out
    report = json.loads((tmp_path / "g" / "report.json").read_text())
    assert report["overall"]["ner"]["tp"] > 0
    preds = (tmp_path / "g" / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == len((tmp_path / "g" / "cases.jsonl").read_text().splitlines())

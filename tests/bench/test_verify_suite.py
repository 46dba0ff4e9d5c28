"""The verifier suite runs end to end and prints its table: one fault, on and off."""

from __future__ import annotations

import json

import pytest

from tests.bench.test_bench_scripts import run


@pytest.mark.slow
def test_verify_suite_prints_on_and_off_and_merges_the_duplicates(tmp_path):
    out = run("bench/verify_suite.py", "--out", str(tmp_path), "--per-kind", "1", "--failures", "duplicate")
    assert "verifier off -> on" in out and "duplicate" in out and "all faults" in out
    report = json.loads((tmp_path / "report.json").read_text())
    row = report["rows"][0]
    assert row["failure"] == "duplicate" and report["cases"] == 6
    assert row["off"]["duplicates"] >= 1 and row["on"]["duplicates"] == 0
    assert (row["on"]["entity_f1"] or 0) >= (row["off"]["entity_f1"] or 0)
    assert (tmp_path / "duplicate.on.jsonl").exists() and (tmp_path / "duplicate.off.jsonl").exists()

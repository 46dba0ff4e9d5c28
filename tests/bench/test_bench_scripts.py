"""The benchmark scripts run and print figures (small sizes here; `make bench` runs them
in full). Figures themselves are not asserted beyond being sane: benchmarks measure,
tests check."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from muie.settings import default_settings
from tests.support.paths import ROOT


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


@pytest.mark.slow
def test_perf_writes_table_json_and_chart(tmp_path):
    out = run("bench/perf.py", "--cases", "5", "--batch-cases", "256", "--image-cases", "2", "--audio-seconds", "15",
              "--audio-runs", "1", "--video-seconds", "5", "--out", str(tmp_path))
    rows = {r["modality"]: r for r in json.loads((tmp_path / "perf.json").read_text())}
    text, image, audio = rows["text"], rows["image"], rows["audio"]
    assert text["latency_ms_median"] > 0 and text["peak_rss_mb"] > 0
    assert "status" not in image and "target RTF <= 0.15" in out
    video = rows["video 5 s"]
    assert video["x_real_time"] > 0 and video["tracked_frames"] > 0 and "x real time" in out
    assert "target <= 3 s median per 640x480 image" in out and "time per tool" in out
    assert image["cases"] == 2 and 0 < image["latency_ms_median"] <= image["latency_ms_p90"] <= image["latency_ms_max"]
    assert image["peak_rss_mb"] > 0 and 0.0 <= image["overhead_single"] < 1.0 and image["load_s"] > 0
    assert image["cpu_s_median"] > 0 and len(image["latencies_ms"]) == 2
    assert 0 < image["entities_on_regions"] <= image["entities"]
    tools = image["tools"]  # the first two images: pasted photos with a caption, then signs to read
    for name in ("read_text.v1", "link_regions.v1", default_settings().entity_tool):
        assert tools[name]["median_s"] > 0 and 1 <= tools[name]["images"] <= 2, name
    assert all(0.0 <= t["share"] <= 1.0 for t in tools.values()) and 0.0 < image["tool_rounds_share"] <= 1.0
    assert 0.0 < image["tool_rounds_s_median"] <= image["latency_ms_max"] / 1000
    assert 0.0 <= image["outside_tools_s_median"] < image["latency_ms_max"] / 1000
    assert 14 < audio["audio_s"] <= 15 and audio["whisper_model"] == "tiny.en"
    assert audio["rtf"] > 0 and abs(audio["rtf"] - audio["latency_ms_median"] / 1000 / audio["audio_s"]) < 1e-9
    assert audio["peak_rss_mb"] > 0 and 0.0 <= audio["overhead_single"] < 1.0
    assert audio["names_said"] > 0 and 0 < audio["names_found"] <= audio["names_said"] and audio["entities"] > 0
    assert (tmp_path / "perf.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_grounded_eval_extracts_text_images_and_audio_and_scores(tmp_path):
    out = run("bench/grounded_eval.py", "--out", str(tmp_path / "g"), "--per-kind", "2")
    assert "all cases" in out and "over-grounding" in out
    assert "modalities extracted today: audio, image, text, video" in out
    assert "combination audio" in out and "audio, by case kind" in out and "audio_negative" in out
    report = json.loads((tmp_path / "g" / "report.json").read_text())
    assert report["overall"]["ner"]["tp"] > 0
    audio = report["by_combination"]["audio"]  # audio_speech: audio only
    assert audio["cases"] == 2 and audio["ner"]["tp"] > 0
    seg = report["overall"]["grounding"]
    assert seg["segment_acc"]["n"] > 0 and seg["segment_acc"]["hits"] > 0 and seg["segment"]["n"] > 0
    assert seg["box"]["n"] > 0 and seg["box"]["hits"] > 0
    gold = [json.loads(line) for line in (tmp_path / "g" / "cases.jsonl").read_text().splitlines()]
    preds = [json.loads(line) for line in (tmp_path / "g" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == len(gold) == 14
    for g, p in zip(gold, preds):
        assert p["id"] == g["id"]
        assert [(i["id"], i.get("path")) for i in p["inputs"]] == [(i["id"], i.get("path")) for i in g["inputs"]]
        segments = {x["input"] for e in p["entities"] for x in e["groundings"] if x["kind"] == "segment"}
        assert segments <= {i["id"] for i in g["inputs"] if i["modality"] in ("audio", "video")}  # a sound track
        tracks = {x["input"] for e in p["entities"] for x in e["groundings"] if x["kind"] == "track"}
        assert tracks <= {i["id"] for i in g["inputs"] if i["modality"] == "video"}
    video = report["by_combination"]["video"]  # video_track: the clip alone
    assert video["cases"] == 2 and video["grounding"]["track"]["n"] == 2


@pytest.mark.slow
def test_startup_measures_processes_and_the_server(tmp_path):
    out = run("bench/startup.py", "--repeat", "1", "--only", "text,serve", "--json", str(tmp_path / "s.json"))
    report = json.loads((tmp_path / "s.json").read_text())
    text, serve = report["rows"]
    assert text["case"] == "text" and "x bare" in out and "serve: ready in" in out
    for kind in ("bare", "first", "second", "replay"):
        assert text[f"{kind}_s"] > 0 and text[f"{kind}_rss_mb"] > 0, kind
    assert text["second_rss_mb"] < text["first_rss_mb"]  # the kept run loads no model
    assert serve["load_failed"] == 0 and serve["peak_rss_mb"] >= serve["idle_rss_mb"] > 0

"""The grounded benchmark generator (bench/grounded): real files, exact gold, determinism."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# the project's install provides these (Makefile: Debian espeak-ng and ffmpeg; pyproject)
for _tool in ("espeak-ng", "ffmpeg"):
    assert shutil.which(_tool), f"{_tool} is missing: run make setup (Debian package {_tool})"

import cv2  # noqa: E402
import soundfile as sf  # noqa: E402
from PIL import Image  # noqa: E402
from pycocotools import mask as mask_utils  # noqa: E402

from bench.grounded import KINDS  # noqa: E402
from bench.grounded.generate import generate  # noqa: E402
from bench.grounded.images import scaled_source  # noqa: E402
from muie.domain import Result  # noqa: E402
from tests.support.paths import ROOT  # noqa: E402

RESULT_KEYS = ("version", "inputs", "entities", "relations", "events", "trace")
RMS_FLOOR = 0.02


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """The small set (one case per kind), made through the command line."""
    out = tmp_path_factory.mktemp("bench") / "seed0"
    subprocess.run([sys.executable, "-m", "bench.grounded.generate", str(out), "--seed", "0", "--per-kind", "1"],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def cases(bench) -> dict[str, dict]:
    lines = (bench / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    return {c["id"]: c for c in map(json.loads, lines)}


def groundings(case: dict):
    for e in case["entities"]:
        for g in e["groundings"]:
            yield e, g
    for v in case["events"]:
        for g in v["trigger"]["groundings"]:
            yield v, g


def inputs(case: dict, modality: str) -> list[dict]:
    return [i for i in case["inputs"] if i["modality"] == modality]


def test_every_case_follows_the_contract(bench, cases):
    assert sorted(c["kind"] for c in cases.values()) == sorted(KINDS)
    for c in cases.values():
        res = Result.model_validate({k: c[k] for k in RESULT_KEYS})
        assert res.violations(c.get("text")) == [], c["id"]
        assert c["trace"] == []
        assert ("text" in c) == any(i["modality"] == "text" for i in c["inputs"]), c["id"]
        for i in c["inputs"]:
            if "path" in i:
                assert not Path(i["path"]).is_absolute() and ".." not in Path(i["path"]).parts
                assert (bench / i["path"]).is_file(), i["path"]
    manifest = json.loads((bench / "MANIFEST.json").read_text())
    assert manifest["seed"] == 0 and manifest["counts"] == {k: 1 for k in KINDS}
    media = {p.relative_to(bench).as_posix() for p in (bench / "media").iterdir()}
    assert media <= set(manifest["files"]) and "cases.jsonl" in manifest["files"]


def test_masks_boxes_and_exact_paste(bench, cases):
    non_rectangular = 0
    for c in cases.values():
        for img_in in inputs(c, "image"):
            pixels = np.asarray(Image.open(bench / img_in["path"]).convert("RGB"))
            assert pixels.shape == (img_in["height"], img_in["width"], 3)
            for _, g in groundings(c):
                if g["kind"] != "region" or "mask" not in g:
                    continue
                m = mask_utils.decode({"size": g["mask"]["size"], "counts": g["mask"]["counts"].encode()}).astype(bool)
                assert m.shape == pixels.shape[:2]
                ys, xs = np.nonzero(m)
                assert g["bbox"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], c["id"]
                x0, y0, x1, y1 = (int(v) for v in g["bbox"])
                non_rectangular += int(m.sum() < (x1 - x0) * (y1 - y0))
            for p in (p for p in c.get("provenance", []) if "source" in p):
                x0, y0, x1, y1 = p["rect"]
                src, sm = scaled_source(p["source"], x1 - x0, y1 - y0)
                placed = pixels[y0:y1, x0:x1]
                assert np.array_equal(placed[sm], src[sm]), (c["id"], p["source"])
                if p["in_gold"]:
                    ent = next(e for e in c["entities"] if e["id"] == p["entity"])
                    (g,) = [g for g in ent["groundings"] if g["kind"] == "region"]
                    m = mask_utils.decode({"size": g["mask"]["size"], "counts": g["mask"]["counts"].encode()})
                    assert np.array_equal(m[y0:y1, x0:x1].astype(bool), sm) and m.sum() == sm.sum()
    assert non_rectangular >= 1  # the horse silhouette of image_paste-000


def test_ocr_box_holds_all_the_ink(bench, cases):
    c = cases["image_ocr-000"]
    pixels = np.asarray(Image.open(bench / c["inputs"][-1]["path"]).convert("RGB")).astype(int)
    signs = [p for p in c["provenance"] if "sign" in p]
    assert signs
    for s in signs:
        ent = next(e for e in c["entities"] if e["id"] == s["entity"])
        assert ent["text"] == s["sign"] and ent["type"] in ("organization", "person", "location")
        assert not ent["mentions"] or s["sign"] in c.get("text", "")
        (g,) = ent["groundings"]
        px0, py0, px1, py1 = s["plate"]
        x0, y0, x1, y1 = (int(v) for v in g["bbox"])
        assert px0 <= x0 < x1 <= px1 and py0 <= y0 < y1 <= py1
        plate = pixels[py0:py1, px0:px1]
        ink = np.any(plate != np.array(s["plate_rgb"]), axis=-1)
        ys, xs = np.nonzero(ink)
        assert ink.sum() > 20
        assert x0 <= xs.min() + px0 and xs.max() + px0 < x1 and y0 <= ys.min() + py0 and ys.max() + py0 < y1
    if "text" in c:
        assert all(s["sign"] not in c["text"] for s in signs)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def test_audio_durations_and_speech_segments(bench, cases):
    checked = 0
    for c in cases.values():
        for a in inputs(c, "audio"):
            info = sf.info(str(bench / a["path"]))
            assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
            assert info.frames / info.samplerate == a["duration_s"]
            x, sr = sf.read(str(bench / a["path"]), dtype="float32")
            for _, g in groundings(c):
                if g["input"] == a["id"]:
                    assert 0 <= g["start_s"] < g["end_s"] <= a["duration_s"]
                    seg = x[int(round(g["start_s"] * sr)):int(round(g["end_s"] * sr))]
                    assert rms(seg) > RMS_FLOOR, (c["id"], g)
                    checked += 1
            lead = x[: int(round(min(g["start_s"] for _, g in groundings(c) if g["input"] == a["id"]) * sr))]
            assert rms(lead) < RMS_FLOOR / 4  # before the first word: (near) silence
    assert checked >= 5
    speech = cases["audio_speech-000"]
    assert speech["transcript"] and not inputs(speech, "text")
    assert speech["relations"] or speech["events"]
    for e in speech["entities"]:
        assert e["text"] in speech["transcript"] and e["groundings"] and not e["mentions"]


def test_video_decodes_and_tracks_fit(bench, cases):
    c = cases["video_track-000"]
    (v,) = inputs(c, "video")
    cap = cv2.VideoCapture(str(bench / v["path"]))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == v["frames"] and (v["width"], v["height"], v["fps"]) == (320, 240, 12.0)
    assert abs(v["duration_s"] - v["frames"] / v["fps"]) < 1e-9 and 3 <= v["duration_s"] <= 6
    (track,) = [g for _, g in groundings(c) if g["kind"] == "track"]
    frames = [f["frame"] for f in track["frames"]]
    assert frames == sorted(set(frames)) and frames[-1] < v["frames"]
    for f in track["frames"]:
        x0, y0, x1, y1 = f["bbox"]
        assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 <= 240
        assert f["time_s"] == f["frame"] / v["fps"]
    # video_track-000 is the clip that leaves the frame and comes back: its track has a gap.
    assert c["provenance"]["leaves_and_returns"]
    assert any(b - a > 1 for a, b in zip(frames, frames[1:]))
    # ... and it has a spoken sound track naming the object.
    (seg,) = [g for _, g in groundings(c) if g["kind"] == "segment"]
    assert seg["input"] == "video0" and c["entities"][0]["text"] in c["transcript"]
    wav = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(bench / v["path"]), "-vn",
                          "-ac", "1", "-ar", "16000", "-f", "f32le", "-"], check=True, capture_output=True).stdout
    audio = np.frombuffer(wav, np.float32)
    assert abs(len(audio) / 16000 - v["duration_s"]) < 0.1
    assert rms(audio[int(seg["start_s"] * 16000):int(seg["end_s"] * 16000)]) > RMS_FLOOR


def test_negatives_have_no_grounding_for_the_absent_thing(cases):
    for kind in ("image_negative", "audio_negative"):
        c = cases[f"{kind}-000"]
        assert c["negatives"]
        for neg in c["negatives"]:
            ent = next(e for e in c["entities"] if e["id"] == neg["entity"])
            assert ent["mentions"] and c["text"][ent["mentions"][0]["start"]:ent["mentions"][0]["end"]] == neg["text"]
            assert not [g for g in ent["groundings"] if g["input"] == neg["absent_from"]]
    neg = cases["image_negative-000"]
    named = {e["text"] for e in neg["entities"] if e["mentions"]}
    for p in neg["provenance"]:  # every pasted photo is shown: named, or only seen (a region, no mention)
        assert p["in_gold"] and p["entity"] is not None
        (ent,) = [e for e in neg["entities"] if e["id"] == p["entity"]]
        assert [g["kind"] for g in ent["groundings"]] == ["region"]
        assert bool(ent["mentions"]) == (ent["text"] in named)


def test_mixed_is_one_entity_in_three_modalities(cases):
    c = cases["mixed-000"]
    (hopper,) = [e for e in c["entities"] if e["text"] == "Grace Hopper"]
    assert hopper["type"] == "person" and len(hopper["mentions"]) == 1
    assert sorted(g["kind"] for g in hopper["groundings"]) == ["region", "segment"]


def test_same_seed_same_bytes_other_seed_other_bytes(bench, tmp_path):
    first = json.loads((bench / "MANIFEST.json").read_text())
    again = generate(tmp_path / "again", seed=0, per_kind=1, jobs=2)
    assert again["files"] == first["files"] and again["video_frames"] == first["video_frames"]
    other = generate(tmp_path / "other", seed=1, per_kind=1, jobs=1)
    assert other["files"].keys() == first["files"].keys()
    differ = [p for p in first["files"] if other["files"][p] != first["files"][p]]
    assert "cases.jsonl" in differ and len(differ) >= len(first["files"]) - 2

"""Damaged media: a file from which nothing decodes is bad input (exit 2); one that decodes
in part is extracted from what decodes, and says so three ways: one warning line on
stderr naming the file, a ``damaged_media`` finding in the trace, and ``damage`` on the
result's input. A clean file says nothing of the kind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from bench.grounded.speech import speak, write_wav
from tests.support.cli import assert_bad_input, muie
from tests.support.video_clips import clip


def _damaged(run, path: Path, modality: str) -> dict:  # type: ignore[no-untyped-def]
    """The result of a run on a damaged file, after checking the three signs."""
    assert run.rc == 0, run.stderr
    result = json.loads(run.stdout)
    (inp,) = [i for i in result["inputs"] if i["modality"] == modality]
    assert inp["damage"], inp
    warnings = [line for line in run.stderr.splitlines() if "damaged" in line]
    assert len(warnings) == 1 and str(path) in warnings[0] and warnings[0].startswith("muie: warning:"), run.stderr
    found = [f for s in result["trace"] for f in s.get("findings", []) if f["check"] == "damaged_media"]
    assert [(f["where"], f["severity"], f["message"]) for f in found] == [(inp["id"], "warning", inp["damage"])]
    return result


def _clean(run) -> dict:  # type: ignore[no-untyped-def]
    assert run.rc == 0, run.stderr
    result = json.loads(run.stdout)
    assert all("damage" not in i for i in result["inputs"]) and "damaged" not in run.stderr
    return result


def test_an_image_cut_in_half_is_read_from_its_top_half(tmp_path):
    whole = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(whole)
    cut = tmp_path / "cat_cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = _damaged(muie("extract", "--image", str(cut), "--entity-types", "animal", cwd=tmp_path), cut, "image")
    assert "truncated" in result["inputs"][0]["damage"] and "%" in result["inputs"][0]["damage"]
    assert (result["inputs"][0]["width"], result["inputs"][0]["height"]) == (451, 300)
    _clean(muie("extract", "--image", str(whole), "--entity-types", "animal", cwd=tmp_path))


def test_an_image_of_which_nothing_decodes_is_bad_input(tmp_path):
    whole = tmp_path / "small.png"
    Image.fromarray(data.astronaut()).resize((64, 48)).save(whole)
    cut = tmp_path / "header_only.png"
    cut.write_bytes(whole.read_bytes()[:103])  # the header says 64x48; no row of pixels follows
    assert_bad_input(muie("extract", "--image", str(cut), cwd=tmp_path), str(cut))


def test_a_recording_cut_short_keeps_what_was_said_before_the_cut(tmp_path):
    whole = tmp_path / "said.wav"
    x = speak("Marie Curie was born in Warsaw. She worked in Paris for many years.", "en-us", 150, 50)
    write_wav(whole, np.concatenate([np.zeros(4000, np.float32), x]))
    cut = tmp_path / "said_cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = _damaged(muie("extract", "--audio", str(cut), "--tasks", "ner", cwd=tmp_path), cut, "audio")
    assert result["inputs"][0]["damage"].startswith("truncated")
    full = _clean(muie("extract", "--audio", str(whole), "--tasks", "ner", cwd=tmp_path))
    assert abs(result["inputs"][0]["duration_s"] - full["inputs"][0]["duration_s"] / 2) < 0.1
    assert "Marie Curie" in {e["text"] for e in result["entities"]}


def test_an_mp3_with_damaged_frames_is_decoded_past_them(tmp_path):
    wav = tmp_path / "said.wav"
    write_wav(wav, speak("Angela Merkel traveled from Berlin to Paris last week.", "en-us", 150, 50))
    mp3 = tmp_path / "said.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), str(mp3)], check=True)
    raw = bytearray(mp3.read_bytes())
    for k in range(4):
        at = int(len(raw) * (0.3 + 0.12 * k))
        raw[at:at + 300] = b"\x33" * 300
    bad = tmp_path / "said_bad.mp3"
    bad.write_bytes(bytes(raw))
    result = _damaged(muie("extract", "--audio", str(bad), "--tasks", "ner", cwd=tmp_path), bad, "audio")
    assert "packet" in result["inputs"][0]["damage"] or "decoding" in result["inputs"][0]["damage"]
    assert result["inputs"][0]["duration_s"] > 2.0
    _clean(muie("extract", "--audio", str(mp3), "--tasks", "ner", cwd=tmp_path))


@pytest.mark.slow
def test_a_cut_video_and_one_with_damaged_frames(tmp_path):
    whole = tmp_path / "walk.avi"  # MJPG in AVI: its header counts the frames
    clip(whole, n=48)
    cut = tmp_path / "walk_cut.avi"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    result = _damaged(muie("extract", "--video", str(cut), "--tasks", "ner", cwd=tmp_path), cut, "video")
    video = result["inputs"][0]
    assert video["damage"].startswith("truncated") and 20 <= video["frames"] < 48
    assert abs(video["duration_s"] - video["frames"] / video["fps"]) < 1e-6

    raw = bytearray(whole.read_bytes())
    for k in range(5):
        at = int(len(raw) * (0.3 + 0.1 * k))
        raw[at:at + 400] = b"\x5a" * 400
    bad = tmp_path / "walk_bad.avi"
    bad.write_bytes(bytes(raw))
    result = _damaged(muie("extract", "--video", str(bad), "--tasks", "ner", cwd=tmp_path), bad, "video")
    assert "decoding" in result["inputs"][0]["damage"] and result["inputs"][0]["frames"] == 48

    _clean(muie("extract", "--video", str(whole), "--tasks", "ner", cwd=tmp_path))

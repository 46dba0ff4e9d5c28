"""Video through the whole agent and the command line: the sound track heard, the thing
said followed through the frames, the strip rendered; bad video files are bad input."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import assert_bad_input, muie
from tests.support.video_clips import clip, mean_iou, path_line, path_swing

N = 60


def _tracks(entity: dict) -> list[dict]:
    return [g for g in entity["groundings"] if g["kind"] == "track"]


def test_video_alone_speech_words_on_screen_and_track(tmp_path):
    path = tmp_path / "talk.mp4"
    gold = clip(path, n=N, photo_name="coffee", route=path_swing, speech="Here is a coffee cup.",
                title="Welcome to Berlin")
    run = muie("extract", "--video", str(path), "--render", str(tmp_path / "pictures"), cwd=tmp_path)
    assert run.rc == 0, run.stderr
    result = json.loads(run.stdout)
    (inp,) = result["inputs"]
    assert inp == {"id": "video0", "modality": "video", "path": str(path), "fps": 12.0, "frames": N,
                   "width": 320, "height": 240, "duration_s": 5.0}
    cup = next(e for e in result["entities"] if "coffee cup" in e["text"].lower())
    said = [g for g in cup["groundings"] if g["kind"] == "segment"]
    assert said and said[0]["input"] == "video0" and 0.0 <= said[0]["start_s"] < said[0]["end_s"] <= 5.0
    (track,) = _tracks(cup)
    # the cup is the middle of the pasted photo (whose box is the gold): every box of the
    # track lies inside the photo's box of its frame, and most frames showing it are tracked
    pred = {f["frame"]: f["bbox"] for f in track["frames"]}
    inside = [k for k, b in pred.items() if k in gold and b[0] >= gold[k][0] - 2 and b[1] >= gold[k][1] - 2
              and b[2] <= gold[k][2] + 2 and b[3] <= gold[k][3] + 2]
    print(f"coffee cup: {len(inside)}/{len(pred)} boxes inside the photo, {len(pred)}/{len(gold)} frames tracked")
    assert len(inside) == len(pred) and len(pred) >= 0.6 * len(gold)
    berlin = next(e for e in result["entities"] if e["text"] == "Berlin")  # read on screen
    (read,) = _tracks(berlin)
    (where,) = read["frames"]
    assert where["frame"] == 0 and 200 <= where["bbox"][1] < where["bbox"][3] <= 240  # on the plate
    assert (tmp_path / "pictures" / "video0.png").stat().st_size > 10_000
    assert any(s.get("tool") == "transcribe.v1" for s in result["trace"])


def test_text_and_a_silent_video(tmp_path):
    path = tmp_path / "line.mp4"
    gold = clip(path, n=N, route=path_line)
    run = muie("extract", "--text", "A cat walks past.", "--video", str(path), cwd=tmp_path)
    assert run.rc == 0, run.stderr
    result = json.loads(run.stdout)
    cat = next(e for e in result["entities"] if e["text"].lower().endswith("cat"))
    assert cat["mentions"] and cat["mentions"][0]["start"] == 2
    (track,) = _tracks(cat)
    assert mean_iou(gold, {f["frame"]: f["bbox"] for f in track["frames"]}, list(range(N))) >= 0.7
    assert not any(s.get("tool") == "transcribe.v1" for s in result["trace"]), "no sound track to transcribe"


@pytest.mark.parametrize("name,payload", [
    ("text.mp4", b"hello, this is text\n" * 10),
    ("header_only.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),
])
def test_bad_video_files_are_bad_input(tmp_path, name, payload):
    path = tmp_path / name
    path.write_bytes(payload)
    assert_bad_input(muie("extract", "--video", str(path), cwd=tmp_path), str(path))


def test_truncated_and_sound_only_videos_are_bad_input(tmp_path):
    good = tmp_path / "good.mp4"
    clip(good, n=24)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_bad_input(muie("extract", "--text", "A cat.", "--video", str(cut), cwd=tmp_path), str(cut))
    sound = tmp_path / "talk.m4a"
    clip(tmp_path / "talk.mp4", n=24, speech="Hello.")
    import subprocess

    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(tmp_path / "talk.mp4"), "-vn", "-c:a",
                    "copy", str(sound)], check=True)
    line = assert_bad_input(muie("extract", "--video", str(sound), cwd=tmp_path), str(sound))
    assert "--audio" in line


def test_a_video_where_nothing_is_named(tmp_path):
    path = tmp_path / "swing.mp4"
    gold = clip(path, n=N, route=path_swing)
    run = muie("extract", "--video", str(path), "--entity-types", "person,animal,vehicle", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    result = json.loads(run.stdout)
    (cat,) = [e for e in result["entities"] if _tracks(e)]
    assert (cat["text"], cat["type"], cat["mentions"]) == ("cat", "animal", [])
    (track,) = _tracks(cat)
    j = mean_iou(gold, {f["frame"]: f["bbox"] for f in track["frames"]}, list(range(N)))
    print(f"seen, not named: J={j:.3f}")
    assert j >= 0.7


def test_an_event_said_gets_its_time_and_its_agent_a_track(tmp_path):
    path = tmp_path / "trip.mp4"
    gold = clip(path, n=72, photo_name="astronaut", route=path_line,
                speech="The astronaut traveled from Houston to Moscow.")
    run = muie("extract", "--video", str(path), cwd=tmp_path)
    assert run.rc == 0, run.stderr
    result = json.loads(run.stdout)
    (trip,) = [v for v in result["events"] if v["type"] == "Transport"]
    (when,) = trip["trigger"]["groundings"]
    assert when["kind"] == "segment" and when["input"] == "video0" and 0.2 < when["start_s"] < when["end_s"] < 3.0
    names = {e["id"]: e for e in result["entities"]}
    agent = names[next(a["entity"] for a in trip["arguments"] if a["role"] == "Agent")]
    assert agent["text"] == "astronaut"
    (track,) = _tracks(agent)
    pred = {f["frame"]: f["bbox"] for f in track["frames"]}
    inside = [k for k, b in pred.items() if k in gold and b[0] >= gold[k][0] - 2 and b[1] >= gold[k][1] - 2
              and b[2] <= gold[k][2] + 2 and b[3] <= gold[k][3] + 2]
    print(f"astronaut: {len(inside)}/{len(pred)} boxes inside the photo, {len(pred)}/{len(gold)} frames tracked, "
          f"J={mean_iou(gold, pred, list(range(72))):.3f}")
    assert len(inside) == len(pred) >= 0.8 * len(gold)
    assert not [e for e in result["entities"] if e["text"] in ("Houston", "Moscow") and _tracks(e)], "not shown"

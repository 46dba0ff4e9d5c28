"""Video decoding on real files: four containers, sampling, the sound track, shot cuts,
the looks search, and every kind of bad file (an ``InputError`` naming it)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from muie.errors import InputError
from muie.tools.media import audio_io, video_io
from muie.tools.video.locate import crop, gray, locate
from muie.tools.video.shots import cuts
from tests.support.video_clips import FPS, H, W, clip, path_swing


@pytest.mark.parametrize("ext,codec", [(".mp4", "mpeg4"), (".avi", "mjpeg"), (".mkv", "h264"), (".webm", "vp8")])
def test_probe_and_frames_of_each_container(tmp_path, ext, codec):
    path = tmp_path / f"clip{ext}"
    clip(path, n=24)
    info = video_io.probe(path)
    assert (info.fps, info.frames, info.width, info.height, info.codec) == (FPS, 24, W, H, codec)
    assert info.duration_s == pytest.approx(2.0)
    assert not info.has_audio
    every = list(video_io.frames(path))
    assert [f.index for f in every] == list(range(24))
    assert every[5].time_s == pytest.approx(5 / FPS)
    assert every[0].rgb.shape == (H, W, 3) and every[0].rgb.dtype == np.uint8


def test_frames_sampled_and_downscaled(tmp_path):
    path = tmp_path / "clip.mp4"
    clip(path, n=36)
    half = list(video_io.frames(path, sample_fps=6, max_side=160))
    assert [f.index for f in half] == list(range(0, 36, 2))
    assert half[0].rgb.shape == (120, 160, 3)
    assert half[0].picture().shape == (H, W, 3)  # the full frame, while on it
    window = list(video_io.frames(path, start_s=1.0, end_s=2.0))
    assert [f.index for f in window] == list(range(12, 24))


def test_the_sound_track_is_audio_for_the_audio_tools(tmp_path):
    path = tmp_path / "talk.mp4"
    clip(path, n=36, speech="Here is a coffee cup.")
    assert video_io.probe(path).has_audio
    samples = audio_io.load(path)
    assert 0.8 * audio_io.SR < len(samples) < 3.5 * audio_io.SR
    assert np.abs(samples).max() > 0.05  # speech, not silence


def _mp4(tmp_path) -> bytes:
    path = tmp_path / "good.mp4"
    clip(path, n=24)
    return path.read_bytes()


def test_bad_files_are_input_errors_naming_the_file(tmp_path):
    good = _mp4(tmp_path)
    cases = {
        "text.mp4": (b"this is not a video\n" * 20, "not a readable video file"),
        "empty.mp4": (b"", "empty"),
        "truncated.mp4": (good[: len(good) // 2], ""),
        "corrupt.mp4": (good[:48] + bytes(np.random.default_rng(0).integers(0, 256, len(good) - 48, np.uint8)), ""),
    }
    for name, (payload, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(InputError) as err:
            video_io.probe(path)
        assert err.value.what == str(path) and reason in err.value.reason, (name, err.value)


def test_zero_frames_and_sound_only_files(tmp_path):
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed"
    zero, sound = tmp_path / "zero.mp4", tmp_path / "sound.m4a"
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=64x48:d=1",
                    "-frames:v", "0", str(zero)], check=True)
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", str(sound)], check=True)
    with pytest.raises(InputError, match="no video stream"):
        video_io.probe(zero)
    with pytest.raises(InputError, match="sound-only"):
        video_io.probe(sound)


def test_a_cut_is_found_where_it_is(tmp_path):
    cut, plain = tmp_path / "cut.mp4", tmp_path / "plain.mp4"
    clip(cut, n=48, cut_at=20)
    clip(plain, n=48, route=path_swing)
    assert cuts((f.index, f.rgb) for f in video_io.frames(cut)) == [20]
    assert cuts((f.index, f.rgb) for f in video_io.frames(plain)) == []


def test_looks_search_finds_a_thing_half_out_of_view(tmp_path):
    path = tmp_path / "swing.mp4"
    gold = clip(path, n=60, route=path_swing)
    shots = {f.index: gray(f.rgb) for f in video_io.frames(path)}
    template = crop(shots[0], gold[0])
    half = next(i for i, b in gold.items() if b[0] == 0 and 30 < b[2] < 60)  # cut by the left edge
    place = locate(shots[half], template)
    assert place is not None and place.score > 0.9 and 0.3 < place.visible < 0.7
    assert max(0.0, place.box[0]) == 0 and place.box[2] == pytest.approx(gold[half][2], abs=1)
    gone = next(i for i in range(60) if i not in gold and i > 0)
    best = locate(shots[gone], template)
    assert best is None or best.visible < 0.3  # only a sliver could match where nothing is

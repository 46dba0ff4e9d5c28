"""``track_video.v1`` on real clips with exact boxes: a real photo moving on a known path.

The target is named by words (found by the real image tools) or placed by a box; the
track is scored by J, the mean per-frame box IoU over the frames where either the gold
or the track has the thing (a frame in only one counts 0), as the benchmark scores it.
"""

from __future__ import annotations

import pytest

from muie.errors import CallError
from muie.settings import Settings
from muie.tools.base import ToolContext
from muie.tools.video.track_video import TrackVideoArgs, TrackVideoTool
from tests.support.video_clips import clip, mean_iou, path_line, path_swing

N = 60
TOOL = TrackVideoTool()


def run(path, **target):
    ctx = ToolContext(texts={}, settings=Settings(), media={"video0": str(path)})
    args = TrackVideoArgs(input="video0", **target)
    TOOL.check(args, ctx)
    (result,) = TOOL.run_batch([(args, ctx)])
    return result, {f.frame: f.bbox for f in result.frames}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {name: (d / f"{name}.mp4", clip(d / f"{name}.mp4", n=N, **kw)) for name, kw in {
        "line": {"route": path_line},
        "swing": {"route": path_swing},
        "cut": {"route": path_line, "cut_at": 24},
    }.items()}


def test_a_named_thing_moving_on_a_line(clips):
    path, gold = clips["line"]
    result, pred = run(path, text="cat", entity_type="animal")
    j = mean_iou(gold, pred, list(range(N)))
    print(f"line J={j:.3f}")
    assert j >= 0.7
    assert result.by == "text" and "cat" in (result.label or "")
    assert result.frames[0].mask is not None and result.frames[0].mask.size == [240, 320]
    assert result.cuts == [] and result.sampled == N


def test_a_thing_that_leaves_the_frame_and_returns(clips):
    path, gold = clips["swing"]
    result, pred = run(path, text="cat", entity_type="animal")
    j = mean_iou(gold, pred, list(range(N)))
    print(f"leave-and-return J={j:.3f}")
    assert j >= 0.7
    gone = [i for i in range(N) if i not in gold]
    assert gone and not set(gone) & set(pred), "a track while the thing is out of the frame"
    back = [i for i in gold if i > max(gone)]
    assert sum(i in pred for i in back) >= 0.8 * len(back), "not taken up again when it came back"


def test_a_track_does_not_jump_across_a_cut(clips):
    path, gold = clips["cut"]
    result, pred = run(path, text="cat", entity_type="animal")
    assert result.cuts == [24]
    assert not [i for i in pred if i >= 24], "the cat is not in the second shot"
    j = mean_iou(gold, pred, list(range(N)))
    print(f"cut J={j:.3f}")
    assert j >= 0.7


def test_a_box_on_a_keyframe(clips):
    path, gold = clips["swing"]
    result, pred = run(path, box=gold[3], frame=3)
    assert min(pred) == 3 and result.by == "box"
    j = mean_iou({k: v for k, v in gold.items() if k >= 3}, pred, list(range(3, N)))
    print(f"box J={j:.3f}")
    assert j >= 0.7


def test_a_thing_the_video_does_not_show(clips):
    path, _ = clips["line"]
    result, pred = run(path, text="bicycle", entity_type="vehicle")
    assert pred == {} and result.score == 0.0


def test_bad_calls_go_back_to_the_reasoner(clips):
    path, _ = clips["line"]
    ctx = ToolContext(texts={"text": "x"}, settings=Settings(), media={"video0": str(path)})
    for args, words in [(TrackVideoArgs(input="text", text="cat"), "text input"),
                        (TrackVideoArgs(input="video0", box=[0, 0, 400, 100]), "not inside"),
                        (TrackVideoArgs(input="video0", box=[0, 0, 40, 40], frame=999), "past the last frame")]:
        with pytest.raises(CallError, match=words):
            TOOL.check(args, ctx)


@pytest.mark.parametrize("ext", [".avi", ".mkv", ".webm"])
def test_other_containers_track_as_well(tmp_path, ext):
    path = tmp_path / f"swing{ext}"
    gold = clip(path, n=N, route=path_swing)
    result, pred = run(path, box=gold[0], frame=0)
    j = mean_iou(gold, pred, list(range(N)))
    print(f"{ext} box J={j:.3f}")
    assert result.sampled == N and j >= 0.7


def test_a_faster_video_is_sampled(tmp_path):
    import cv2

    from muie.tools.media import video_io

    src, fast = tmp_path / "line.avi", tmp_path / "fast.avi"
    gold = clip(src, n=N, route=path_line)
    out = cv2.VideoWriter(str(fast), cv2.VideoWriter_fourcc(*"MJPG"), 24.0, (320, 240))
    for f in video_io.frames(src):  # every frame twice: the same motion at 24 fps
        for _ in range(2):
            out.write(cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR))
    out.release()
    result, pred = run(fast, box=gold[0], frame=0)
    assert result.sampled == N and sorted(pred) == list(range(0, 2 * N, 2))  # 12 of 24 a second
    doubled = {2 * k: b for k, b in gold.items()}
    assert mean_iou(doubled, pred, list(range(0, 2 * N, 2))) >= 0.7

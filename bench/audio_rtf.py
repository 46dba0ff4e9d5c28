"""Real-time factor (processing seconds / audio seconds) of the audio tools, on 2 cores.

    .venv/bin/python bench/audio_rtf.py [--seconds 60] [--repeat 3] [--json out.json] [--ten-minutes]

The audio is espeak-ng speech (sentences with names, seeded pauses) written to a WAV file;
each tool runs as the agent runs it (typed call, check, run_batch), models loaded before
the clock starts (their load time is printed apart). Median of ``--repeat`` runs, caches
cleared between runs. ``--ten-minutes`` also decodes a 10-minute FLAC and reports the
decoder's peak memory (tracemalloc) against the size of the samples it returns, and the
RTF of every tool on it; the process's peak RSS is printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import without_memory  # noqa: E402
from bench.grounded.speech import SR, speak, write_wav  # noqa: E402
from muie.settings import Settings  # noqa: E402
from muie.tools import (  # noqa: E402
    REGISTRY,
    TOOL_CALL,  # noqa: E402
    ToolContext,
)
from muie.tools.audio import detect_sounds as sounds  # noqa: E402
from muie.tools.audio import segment_speech as speech_segments
from muie.tools.audio import transcribe
from muie.tools.media import audio_io

SENTENCES = (
    "Marie Curie met Albert Einstein in Brussels", "the weather was calm and the river was quiet",
    "Isaac Newton arrived in the morning", "we talked about Charles Darwin for an hour",
    "a small boat drifted slowly past the old bridge", "everyone remembers Abraham Lincoln today",
    "the library opened its doors early that day", "Winston Churchill moved to London",
)


def speech(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out, pos, k = np.zeros(int(seconds * SR), np.float32), int(0.5 * SR), 0
    while True:
        x = speak(SENTENCES[k % len(SENTENCES)], "en-us", 160, 50)
        if pos + len(x) > len(out) - SR // 2:
            break
        out[pos:pos + len(x)] = x
        pos += len(x) + int(SR * rng.uniform(0.3, 1.2))
        k += 1
    return out * np.float32(0.7 / np.abs(out).max())


def clear() -> None:
    transcribe._TRANSCRIPTS.clear()
    audio_io._DECODED.clear()


def timed(name: str, ctx: ToolContext, repeat: int, **arguments) -> float:
    call = TOOL_CALL.validate_python({"tool": name, "arguments": arguments})
    tool = REGISTRY[name]
    times = []
    for _ in range(repeat):
        clear()
        t = time.perf_counter()
        tool.check(call.arguments, ctx)
        tool.run_batch([(call.arguments, ctx)])
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rtfs(path: str, duration: float, repeat: int) -> dict[str, float]:
    ctx = ToolContext(texts={}, settings=Settings(), media={"a": path})
    out = {}
    for name, args in (("transcribe.v1", {"model": "tiny.en"}), ("segment_speech.v1", {}), ("detect_sounds.v1", {})):
        s = timed(name, ctx, repeat, input="a", **args)
        out[name] = round(s / duration, 4)
        print(f"  {name:20s} {s:7.2f} s for {duration:.0f} s of audio: RTF {s / duration:.4f}")
    return out


def decode_memory(path: str) -> dict[str, float]:
    clear()
    tracemalloc.start()
    t = time.perf_counter()
    x = audio_io.load(path)
    dt = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    res = {"samples_mb": round(x.nbytes / 2**20, 1), "decode_peak_mb": round(peak / 2**20, 1),
           "decode_s": round(dt, 2)}
    print(f"  decode: {len(x) / SR:.0f} s in {dt:.2f} s; samples {res['samples_mb']} MB, "
          f"peak traced {res['decode_peak_mb']} MB ({peak / max(1, x.nbytes):.2f}x)")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--ten-minutes", action="store_true")
    args = ap.parse_args()
    without_memory()
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    print(f"cores: {len(os.sched_getaffinity(0))}")

    t = time.perf_counter()
    transcribe.whisper("tiny.en")
    speech_segments._vad_session()
    sounds._yamnet()
    print(f"models loaded in {time.perf_counter() - t:.2f} s (tiny.en, Silero VAD, YAMNet)")
    report: dict = {"cores": len(os.sched_getaffinity(0))}
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "speech.wav")
        duration = write_wav(path, speech(args.seconds))
        timed("transcribe.v1", ToolContext(texts={}, settings=Settings(), media={"a": path}), 1, input="a")  # warm
        print(f"{duration:.0f} s of espeak speech:")
        report["speech"] = {"seconds": duration, "rtf": rtfs(path, duration, args.repeat)}
        if args.ten_minutes:
            wav, flac = str(Path(d) / "long.wav"), str(Path(d) / "long.flac")
            minute = speech(60.0, seed=1)
            write_wav(wav, np.concatenate([minute, np.zeros(30 * SR, np.float32)] * 7)[:600 * SR])
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", wav, "-ar", "44100", "-ac", "2", flac],
                           check=True)
            print("10 minutes (FLAC, 44.1 kHz stereo; 1 min of speech, 30 s of silence, repeated):")
            report["ten_minutes"] = {**decode_memory(flac), "rtf": rtfs(flac, 600.0, 1)}
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"peak RSS of this process: {report['peak_rss_mb']} MB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

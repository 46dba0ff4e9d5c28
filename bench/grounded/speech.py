"""Speech with exact word times: espeak-ng speaks each chunk to its own wav, then we join them."""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import lru_cache

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from .common import Sentence

SR = 16000
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-x-rp", "en-us+m3", "en-gb+f2")


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} not found: install the Debian packages espeak-ng, sox and ffmpeg")
    return path


@lru_cache(maxsize=512)
def speak(words: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """float32 mono at 16 kHz, silence trimmed off both ends (so a segment is the sound itself)."""
    wav = subprocess.run([need("espeak-ng"), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", words],
                         check=True, capture_output=True).stdout
    x, sr = sf.read(io.BytesIO(wav), dtype="float64")
    if x.ndim > 1:
        x = x.mean(axis=1)
    if sr != SR:
        g = np.gcd(sr, SR)
        x = resample_poly(x, SR // g, sr // g)
    loud = np.nonzero(np.abs(x) > max(0.01, 0.04 * np.abs(x).max()))[0]
    if loud.size == 0:
        raise RuntimeError(f"espeak-ng said nothing for {words!r}")
    return x[loud[0]:loud[-1] + 1].astype(np.float32)


def voice_for(rng: np.random.Generator) -> tuple[str, int, int]:
    return VOICES[int(rng.integers(len(VOICES)))], int(rng.integers(140, 176)), int(rng.integers(35, 66))


def assemble(rng: np.random.Generator, sentences: list[Sentence], voice: tuple[str, int, int],
             lead: float | None = None, total: float | None = None, noise: bool = True):
    """Speak the sentences chunk by chunk with seeded pauses.

    Returns (samples float32 at 16 kHz, [(sentence, [(start_s, end_s) per chunk])]). Times
    are sample counts / 16000, so each one is exact for the written file. ``total`` pads
    the end with silence up to that many seconds.
    """
    pos = int(SR * (lead if lead is not None else rng.uniform(0.2, 0.6)))
    parts: list[tuple[int, np.ndarray]] = []
    spoken = []
    for si, s in enumerate(sentences):
        if si:
            pos += int(SR * rng.uniform(0.3, 0.6))
        times = []
        for ci, (w, _) in enumerate(s.chunks):
            if ci:
                pos += int(SR * rng.uniform(0.06, 0.18))
            x = speak(w, *voice)
            parts.append((pos, x))
            times.append((pos / SR, (pos + len(x)) / SR))
            pos += len(x)
        spoken.append((s, times))
    n = pos + int(SR * rng.uniform(0.2, 0.5))
    if total is not None:
        if total * SR < n:
            raise ValueError(f"speech of {n / SR:.2f} s does not fit in {total} s")
        n = int(round(total * SR))
    out = np.zeros(n, np.float32)
    for p, x in parts:
        out[p:p + len(x)] = x
    peak = np.abs(out).max()
    out *= np.float32(rng.uniform(0.5, 0.85) / peak)
    if noise and rng.random() < 0.5:
        out += rng.normal(0.0, 0.002, n).astype(np.float32)
    return np.clip(out, -1.0, 1.0), spoken


def write_wav(path, samples: np.ndarray) -> float:
    """16-bit PCM mono WAV at 16 kHz; returns its duration in seconds (samples / 16000)."""
    sf.write(str(path), samples, SR, subtype="PCM_16", format="WAV")
    return len(samples) / SR

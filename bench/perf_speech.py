"""The speech the audio rows of ``bench/perf.py`` run on: espeak-ng talk with the times of
the names said, written as a recorder would, and which of those names the agent found."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from muie.agent.scoring.metrics import normalise, segment_iou
from muie.domain import Result, Segment


def talk(seconds: float, seed: int) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """``seconds`` of espeak-ng speech at 16 kHz and the names said in it, (words, start_s, end_s).

    Blocks of sentences (the grounded benchmark's: real and made-up people, companies,
    cities) with pauses of 2 to 8 s between them. Every other block, the first included,
    is run-on: 12 to 15 sentences with gaps of 20 to 80 ms, which a voice detector does not
    hear as pauses, so a block is longer than one Whisper window and must be cut inside
    speech; the others have ordinary pauses (as the grounded benchmark's speech has). Each
    chunk is spoken on its own, so every name's time is exact.
    """
    from bench.grounded.cases_av import sentence
    from bench.grounded.speech import SR, VOICES, speak

    rng = np.random.default_rng(seed)
    end = int(seconds * SR) - SR // 2
    pos, parts, names, block = int(0.5 * SR), [], [], 0
    while pos < end:
        run_on = block % 2 == 0
        chunk_gap, sentence_gap = ((0.02, 0.05), (0.05, 0.08)) if run_on else ((0.06, 0.18), (0.3, 0.6))
        voice = (VOICES[int(rng.integers(len(VOICES)))], int(rng.integers(145, 171)), int(rng.integers(40, 61)))
        added = 0
        for _ in range(int(rng.integers(12, 16)) if run_on else int(rng.integers(4, 8))):
            s = sentence(rng)
            said = [(w, t, speak(w, *voice)) for w, t in s.chunks]
            gaps = [int(SR * rng.uniform(*chunk_gap)) for _ in said]
            if pos + sum(len(x) for _, _, x in said) + sum(gaps[:-1]) > end:
                break
            for (w, t, x), gap in zip(said, gaps):
                parts.append((pos, x))
                if t not in (None, "TRIGGER"):
                    names.append((w, pos / SR, (pos + len(x)) / SR))
                pos += len(x) + gap
            pos += int(SR * rng.uniform(*sentence_gap))
            added += 1
        if not added:
            break
        pos += int(SR * rng.uniform(2.0, 8.0))
        block += 1
    out = np.zeros(int(seconds * SR), np.float32)
    for p, x in parts:
        out[p:p + len(x)] = x
    return out * np.float32(0.7 / max(1e-6, float(np.abs(out).max()))), names


def found(result: Result, said: list[tuple[str, float, float]], input_id: str = "audio0") -> list[bool]:
    """For each name said: an entity of that name has a segment on the input with tIoU >= 0.5 against it."""
    segments: dict[str, list[Segment]] = {}
    for e in result.entities:
        segments.setdefault(normalise(e.text), []).extend(
            g for g in e.groundings if isinstance(g, Segment) and g.input == input_id)
    return [any(segment_iou(g, Segment(input=input_id, start_s=a, end_s=b)) >= 0.5
                for g in segments.get(normalise(w), [])) for w, a, b in said]


def recording(folder: Path, name: str, seconds: float, seed: int, flac: bool = False) -> tuple[str, list]:
    """``talk`` written to a 16 kHz WAV, or to a 44.1 kHz stereo FLAC (as a recorder writes
    one, so the agent decodes and resamples it); the path and the names said."""
    from bench.grounded.speech import need, write_wav

    samples, said = talk(seconds, seed)
    wav = folder / f"{name}.wav"
    write_wav(wav, samples)
    if not flac:
        return str(wav), said
    out = folder / f"{name}.flac"
    subprocess.run([need("ffmpeg"), "-loglevel", "error", "-y", "-i", str(wav), "-ar", "44100", "-ac", "2", str(out)],
                   check=True)
    wav.unlink()
    return str(out), said

"""Performance of the agent, per modality: latency per case (median), throughput for a
batch, peak memory (RSS), and the agent's overhead against its model time, as a table
and a chart; for images, the time per tool; for audio, the real-time factor.

    .venv/bin/python bench/perf.py [--out bench/results] [--cases N] [--batch-cases N]
        [--image-cases 9] [--audio-seconds 60] [--audio-runs 3] [--whisper-model tiny.en]
        [--ten-minutes] [--only text,image,audio,video]

The overhead is read from each run's own trace: the time spent outside the tool calls
(graph, validation, checks, merging) over the whole run, so both sides of the ratio come
from the same run; the tools of one round run side by side, so a round counts for its
longest tool. Modalities the agent does not handle yet are listed as such.

Images: the whole agent (``extract`` with the image and its caption when the case has
one, the grounded benchmark's schema) with all its image tools (OCR; the image's regions
from salient masks, detectors, segments and labels; entities linked to them; the text
tools on the caption and on the words read) on 640x480 PNGs of the grounded benchmark, seeded: pasted photos,
signs to read, captions naming what is not there, in turn. Every image is a different
file and every per-image cache (probes, decodes, perceptions, parsed text) is cleared
before each, so each is timed cold with the models loaded: one run on another image
loads them before the clock (its time is printed apart). It prints the median and p90
latency per image beside the issue's target (<= 3 s median per 640x480 image with all
tools on 2 cores; the image runs are held to 2 cores), the CPU seconds per image (which a
machine busy with other work does not inflate as it does the latency), and where the
time goes: for each tool, its median seconds per image (over the images it ran on, from
the trace) and its share of all the time (tools of one round run side by side, so these
shares overlap), then the time with a tool running and the time outside the tools.

Audio: the whole agent (``extract`` with the audio alone, the default schema) on
espeak-ng speech with seeded pauses, some of it run-on (longer than a Whisper window with
no pause, so the transcriber must cut inside speech, often inside a name). The real-time
factor is processing seconds / audio seconds, the median of ``--audio-runs`` runs with
every transcript, decoded-audio and text cache cleared before each run; the models are
loaded before the clock starts (their load time is printed apart). The issue's target,
RTF <= 0.15 with tiny.en on 2 cores, is printed beside the figure; the audio runs are
held to 2 cores. A name counts as found when an entity of that name has a time segment
on the audio with tIoU >= 0.5 against the name as said.

Video (``bench/perf_video.py``): the whole agent with tracking on a 320x240, 12 fps clip
of ``--video-seconds``, as a multiple of real time (target at least 1x on 2 cores); with
``--ten-minutes`` also on a 10-minute clip, whose peak RSS beside the short clip's shows
whether memory stays flat with the length.

``--ten-minutes`` also runs the whole agent on a 10-minute recording (FLAC, 44.1 kHz
stereo, speech with pauses) and prints its RTF, the peak RSS against the size of the
decoded samples, and the names found out of those said: all of them, those that a cut
between the transcriber's pieces falls inside of, and those within 1 s of a cut.

The image row and each audio measurement run in a fresh process, so that their peak RSS
is their own and not the text row's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import without_memory  # noqa: E402
from bench.perf_report import NEAR_CUT_S, RTF_TARGET, chart, print_table  # noqa: E402
from bench.perf_speech import found, recording  # noqa: E402
from bench.processes import cpu_s, in_fresh_process, peak_rss_mb  # noqa: E402
from muie.agent.api import Agent, extract, extract_batch  # noqa: E402
from muie.agent.scoring.conll import dataset_types, read_conll  # noqa: E402
from muie.domain import Region, Result, Schema  # noqa: E402
from muie.settings import Settings  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "ner-dev"
AUDIO_CORES = 2
IMAGE_TARGET_S = 3.0  # the target: median seconds per 640x480 image, all tools, on 2 cores
IMAGE_CORES = 2
IMAGE_KINDS = ("image_paste", "image_ocr", "image_negative")
IMAGE_SEED = 0


def in_tools_s(result: Result) -> float:
    """Seconds of one run spent with a tool running, from its trace: the tools of one act
    round run side by side, so each round counts for its longest tool."""
    total, longest = 0.0, 0.0
    for s in result.trace:
        if s.node == "act" and s.model_extra.get("tool"):
            longest = max(longest, s.model_extra.get("seconds", 0.0))
        else:
            total, longest = total + longest, 0.0
    return total + longest


def text_row(n_cases: int, agent: Agent, batch_cases: int = 0) -> dict:
    sents = read_conll(DATA / "wnut17.dev.conll")
    schema = Schema(entity_types=dataset_types(sents), relation_types=["work_for", "located_in"],
                    event_types={"Attack": ["Attacker", "Target"], "Transport": ["Agent", "Destination"]})
    texts = [s.text for s in sents]
    extract(text=texts[0], schema=schema, agent=agent)  # load the models outside the timings
    latencies, overheads = [], []
    for t in texts[:n_cases]:
        t0 = time.perf_counter()
        r = extract(text=t, schema=schema, agent=agent)
        dt = time.perf_counter() - t0
        latencies.append(dt)
        overheads.append(max(0.0, dt - in_tools_s(r)) / dt)
    batch = texts[:batch_cases] if batch_cases else texts
    t0 = time.perf_counter()
    results = extract_batch(batch, schema=schema, agent=agent)
    batch_s = time.perf_counter() - t0
    batch_overhead = 1 - sum(in_tools_s(r) for r in results[::256]) / batch_s
    return {"modality": "text", "cases": n_cases, "latency_ms_median": 1000 * statistics.median(latencies),
            "batch_cases": len(batch), "throughput_per_s": len(batch) / batch_s,
            "overhead_single": statistics.median(overheads), "overhead_batch": batch_overhead,
            "peak_rss_mb": peak_rss_mb(), "unit": "sentences (WNUT-17 dev), tasks ner+re+ee"}


# --------------------------------------------------------------------------- image


def image_cases(folder: Path, n: int, seed: int = IMAGE_SEED) -> list[tuple[str, str | None]]:
    """``n`` grounded-benchmark image cases written under ``folder``, the kinds in turn
    (pasted photos, signs, captions naming what is absent); each as (image path, caption or None)."""
    from bench.grounded import KINDS, cases
    from bench.grounded.common import rng_for

    (folder / "media").mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        kind, index = IMAGE_KINDS[i % len(IMAGE_KINDS)], i // len(IMAGE_KINDS)
        case = getattr(cases, kind)(rng_for(seed, KINDS.index(kind), index), f"{kind}-{index}", folder, index)
        image = next(x["path"] for x in case["inputs"] if x["modality"] == "image")
        out.append((str(folder / image), case.get("text")))
    return out


def warm_image_case(folder: Path, seed: int = IMAGE_SEED + 1) -> tuple[str, str]:
    """An image case unlike the timed ones (another seed, another file) whose caption names
    two or more things, so that one run on it loads every model the image row uses, the
    relation tools' included."""
    from bench.grounded import KINDS, cases
    from bench.grounded.common import rng_for

    (folder / "media").mkdir(parents=True, exist_ok=True)
    for index in range(50):
        case = cases.image_paste(rng_for(seed, KINDS.index("image_paste"), index), f"warm-{index}", folder, index)
        if len({e["text"] for e in case["entities"] if any(m["input"] == "text" for m in e["mentions"])}) >= 2:
            return str(folder / next(x["path"] for x in case["inputs"] if x["modality"] == "image")), case["text"]
    raise RuntimeError("no image case with a caption naming two things")


def clear_image_caches() -> None:
    """Forget image probes, decodes and perceptions, and parsed text: the next image starts cold, models loaded."""
    from muie.tools.runtime import clear_caches

    clear_caches()


def tool_seconds(result: Result) -> dict[str, float]:
    """Seconds in each tool during one run, from its trace (a tool's batched calls summed)."""
    out: dict[str, float] = {}
    for s in result.trace:
        tool = s.model_extra.get("tool")
        if s.node == "act" and tool:
            out[tool] = out.get(tool, 0.0) + s.model_extra.get("seconds", 0.0)
    return out


def image_row(images: list[tuple[str, str | None]], warm: tuple[str, str]) -> dict:
    """The whole agent on each image (caption too, when there is one): latency median and
    p90, overhead, peak RSS, and each tool's time per image."""
    from bench.grounded.common import SCHEMA

    cores = _hold_cores(IMAGE_CORES)
    t0 = time.perf_counter()
    agent = Agent()
    extract(text=warm[1], images=[warm[0]], schema=SCHEMA, agent=agent)
    load_s = time.perf_counter() - t0
    latencies, cpu, rounds, overheads, per_tool, entities, grounded = [], [], [], [], [], 0, 0
    for path, caption in images:
        clear_image_caches()
        c0, t0 = cpu_s(), time.perf_counter()
        r = extract(text=caption, images=[path], schema=SCHEMA, agent=agent)
        dt = time.perf_counter() - t0
        cpu.append(cpu_s() - c0)
        latencies.append(dt)
        rounds.append(in_tools_s(r))
        overheads.append(max(0.0, dt - rounds[-1]) / dt)
        per_tool.append(tool_seconds(r))
        entities += len(r.entities)
        grounded += sum(any(isinstance(g, Region) for g in e.groundings) for e in r.entities)
    total = sum(latencies)
    names = sorted({t for ts in per_tool for t in ts}, key=lambda t: -sum(ts.get(t, 0.0) for ts in per_tool))
    tools = {t: {"median_s": statistics.median(ts[t] for ts in per_tool if t in ts),
                 "images": sum(t in ts for ts in per_tool),
                 "share": sum(ts.get(t, 0.0) for ts in per_tool) / total} for t in names}
    captions = sum(c is not None for _, c in images)
    return {"modality": "image", "cases": len(images), "captions": captions, "cores": cores, "load_s": load_s,
            "latency_ms_median": 1000 * statistics.median(latencies),
            "latency_ms_p90": 1000 * float(np.percentile(latencies, 90)),
            "latency_ms_max": 1000 * max(latencies), "latency_s_target": IMAGE_TARGET_S,
            "latencies_ms": [round(1000 * dt, 1) for dt in latencies], "cpu_s_median": statistics.median(cpu),
            "overhead_single": statistics.median(overheads), "peak_rss_mb": peak_rss_mb(),
            "entities": entities, "entities_on_regions": grounded, "tools": tools,
            "tool_rounds_s_median": statistics.median(rounds), "tool_rounds_share": sum(rounds) / total,
            "outside_tools_s_median": statistics.median(dt - t for dt, t in zip(latencies, rounds)),
            "unit": f"640x480 PNGs of the grounded benchmark ({', '.join(IMAGE_KINDS)} in turn, {captions} with a "
                    f"caption), whole agent with all image tools, the benchmark's schema"}


# --------------------------------------------------------------------------- audio


def clear_audio_caches() -> None:
    """Forget transcripts, decoded audio, file probes and parsed text: the next run starts cold, models loaded."""
    from muie.tools.runtime import clear_caches

    clear_caches()


def _hold_cores(cores: int = AUDIO_CORES) -> int:
    """Keep this process to at most ``cores`` cores (the target's machine); how many it has."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _warm_agent(whisper_model: str, warm: str) -> tuple[Agent, float]:
    """The agent with every model it uses on speech loaded (one run on a short clip), and the time that took."""
    t0 = time.perf_counter()
    agent = Agent(settings=Settings.from_env(whisper_model=whisper_model))
    extract(audio=[warm], agent=agent)
    return agent, time.perf_counter() - t0


def audio_row(path: str, said: list, warm: str, runs: int, whisper_model: str) -> dict:
    """The whole agent on a speech file: RTF, latency, overhead, peak RSS, names found."""
    from muie.tools.media.audio_io import probe

    cores = _hold_cores()
    agent, load_s = _warm_agent(whisper_model, warm)
    duration = probe(path).duration_s
    times, overheads = [], []
    for _ in range(runs):
        clear_audio_caches()
        t0 = time.perf_counter()
        r = extract(audio=[path], agent=agent)
        dt = time.perf_counter() - t0
        times.append(dt)
        overheads.append(max(0.0, dt - in_tools_s(r)) / dt)
    hits = found(r, said)
    median = statistics.median(times)
    return {"modality": "audio", "cases": runs, "audio_s": duration, "whisper_model": whisper_model, "cores": cores,
            "load_s": load_s, "latency_ms_median": 1000 * median, "rtf": median / duration, "rtf_target": RTF_TARGET,
            "overhead_single": statistics.median(overheads), "peak_rss_mb": peak_rss_mb(),
            "entities": len(r.entities), "names_said": len(said), "names_found": sum(hits),
            "unit": f"{duration:.0f} s of espeak-ng speech (WAV), whole agent, default schema"}


def ten_minute_row(path: str, said: list, warm: str, whisper_model: str) -> dict:
    """The whole agent on a long recording: RTF, peak RSS against the samples, names found (at cuts too)."""
    from muie.tools.audio import transcribe
    from muie.tools.audio.stitch import cuts_of
    from muie.tools.media import audio_io

    cores = _hold_cores()
    agent, load_s = _warm_agent(whisper_model, warm)
    clear_audio_caches()
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    r = extract(audio=[path], agent=agent)
    dt = time.perf_counter() - t0
    rss_peak = peak_rss_mb()
    duration = r.inputs[0].duration_s
    samples_mb = audio_io.load_cached(path).nbytes / 2**20
    key = os.path.abspath(path)
    pieces = [(p.start_s, p.end_s) for k, t in transcribe._TRANSCRIPTS.items() if k[0][0] == key for p in t.pieces]
    cuts = cuts_of(sorted(pieces))
    hits = found(r, said)
    inside = [h for (_, a, b), h in zip(said, hits) if any(a < c < b for c, _ in cuts)]
    near = [h for (_, a, b), h in zip(said, hits) if any(a - NEAR_CUT_S < c < b + NEAR_CUT_S for c, _ in cuts)]
    return {"modality": "audio, 10 min", "audio_s": duration, "whisper_model": whisper_model, "cores": cores,
            "load_s": load_s, "latency_ms_median": 1000 * dt, "rtf": dt / duration, "rtf_target": RTF_TARGET,
            "overhead_single": max(0.0, dt - in_tools_s(r)) / dt, "file_mb": os.path.getsize(path) / 2**20,
            "samples_mb": samples_mb, "peak_rss_mb": rss_peak, "rss_before_mb": rss_before,
            "rss_growth_mb": rss_peak - rss_before, "entities": len(r.entities),
            "names_said": len(said), "names_found": sum(hits), "cuts": len(cuts),
            "cuts_in_speech": sum(hard for _, hard in cuts),
            "names_cut_said": len(inside), "names_cut_found": sum(inside),
            "names_near_cut_said": len(near), "names_near_cut_found": sum(near),
            "unit": f"{duration:.0f} s of espeak-ng speech with pauses (FLAC, 44.1 kHz stereo), whole agent"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--cases", type=int, default=100, help="single cases timed for the latency")
    ap.add_argument("--batch-cases", type=int, default=0, help="sentences in the timed batch (default: all 1009)")
    ap.add_argument("--image-cases", type=int, default=9, help="images timed for the image row (kinds in turn)")
    ap.add_argument("--audio-seconds", type=float, default=60.0, help="length of the speech timed for the audio row")
    ap.add_argument("--audio-runs", type=int, default=3, help="runs of the audio row (the median is reported)")
    ap.add_argument("--whisper-model", choices=("tiny.en", "base"), default="tiny.en")
    ap.add_argument("--ten-minutes", action="store_true", help="also the whole agent on a 10-minute recording "
                    "and a 10-minute video")
    ap.add_argument("--video-seconds", type=float, default=60.0, help="length of the clip timed for the video row")
    ap.add_argument("--only", default="", help="comma-separated rows to run: text, image, audio, video (default: all)")
    a = ap.parse_args()
    only = {r.strip() for r in a.only.split(",") if r.strip()} or {"text", "image", "audio", "video"}
    if only - {"text", "image", "audio", "video"}:
        ap.error(f"--only: no row {', '.join(sorted(only - {'text', 'image', 'audio', 'video'}))}")
    without_memory()
    if a.audio_seconds < 5 or min(a.audio_runs, a.cases, a.image_cases) < 1 or a.batch_cases < 0:
        ap.error("--audio-seconds must be at least 5, --audio-runs, --cases and --image-cases at least 1, "
                 "--batch-cases not negative")
    a.out.mkdir(parents=True, exist_ok=True)
    rows = [text_row(a.cases, Agent(), a.batch_cases)] if "text" in only else []
    with tempfile.TemporaryDirectory() as d:
        if "image" in only:
            rows.append(in_fresh_process(image_row, image_cases(Path(d) / "images", a.image_cases),
                                         warm_image_case(Path(d) / "warm")))
        if "audio" in only:
            warm, _ = recording(Path(d), "warm", 8.0, seed=99)
            path, said = recording(Path(d), "speech", a.audio_seconds, seed=0)
            rows.append(in_fresh_process(audio_row, path, said, warm, a.audio_runs, a.whisper_model))
            if a.ten_minutes:
                path, said = recording(Path(d), "ten-minutes", 600.0, seed=1, flac=True)
                rows.append(in_fresh_process(ten_minute_row, path, said, warm, a.whisper_model))
    from bench.perf_video import print_rows
    from bench.perf_video import run as video_rows

    videos = video_rows(a.video_seconds, 600.0 if a.ten_minutes else 0.0) if "video" in only else []
    rows += videos
    print_table(rows)
    print()
    if videos:
        print_rows(videos)
    name = "perf" if len(only) == 4 else "perf." + "-".join(sorted(only))
    (a.out / f"{name}.json").write_text(json.dumps(rows, indent=2))
    chart(rows, a.out / f"{name}.png")
    print(f"\nwrote {a.out / (name + '.json')} and {a.out / (name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

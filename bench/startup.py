"""Start-up and footprint: what one ``muie extract`` costs as a whole process, per modality.

    .venv/bin/python bench/startup.py [--repeat 3] [--json OUT] [--only text,image,audio,video,serve]

For one sentence, one image, one recording and one video, each a fresh process, all in
one run on the same machine (ratios, since these machines are noisy):

- ``bare``: a Python process that only loads the models that modality's extraction
  uses (and runs each once on a tiny input), the floor of any process that uses them;
- ``first``: ``muie extract`` with an empty store (models load, tools run);
- ``second``: the same command again: the request is answered from the kept run;
- ``replay``: the same with ``MUIE_REUSE_RUNS=false``: the graph runs, every tool call
  (and the verifier's looks) answered from the store.

Wall seconds are medians over ``--repeat`` rounds, peak RSS the largest (``wait4``'s
``ru_maxrss`` of that process alone). ``serve``: ``muie serve`` started, its resident
memory idle, then its peak after a load of 8 concurrent clients (text jobs, an image
extraction, uploads, reads) for ``LOAD_REQUESTS`` requests.

Aims: first <= 1.3x bare and under 3 s for text on a quiet machine; second at least 5x
faster than first; peak RSS text < 800 MB, image < 2.5 GB, video < 3 GB, serve idle < 1.5 GB.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEDIA = ROOT / "examples" / "media"
SENTENCE = "Apple chief executive Tim Cook met Angela Merkel in Berlin."
MUIE = str(Path(sys.executable).parent / "muie")
LOAD_REQUESTS, LOAD_CONCURRENCY = 120, 8
AIMS = {"ratio_bare": 1.3, "text_s": 3.0, "second_speedup": 5.0,
        "rss_mb": {"text": 800, "image": 2500, "audio": None, "video": 3000}, "serve_idle_mb": 1500}

TEXT_MODELS = """
from muie.tools.models.text_models import embedder, parse_many, spacy_pipeline
spacy_pipeline(); parse_many(["Tim Cook met Angela Merkel."]); embedder().encode(["person"])
"""
IMAGE_MODELS = TEXT_MODELS + """
import numpy as np
from muie.tools.models import classify, nanodet, people, salient
from muie.tools.image.read_text import _rapidocr, tesseract_problem
rgb = np.full((64, 64, 3), 128, np.uint8)
salient.alpha(rgb); nanodet.session(); classify.probabilities([rgb]); _rapidocr(); tesseract_problem()
people.faces(rgb); people.pose_person(rgb); people.person_probability(rgb)
"""
AUDIO_MODELS = TEXT_MODELS + """
import numpy as np
from muie.tools.audio.detect_sounds import _yamnet
from muie.tools.audio.segment_speech import speech_probs
from muie.tools.audio.transcribe import whisper
_yamnet(); speech_probs(np.zeros(16000, np.float32))
list(whisper("tiny.en").transcribe(np.zeros(16000, np.float32))[0])
"""
VIDEO_MODELS = IMAGE_MODELS + """
import cv2
cv2.TrackerCSRT_create(cv2.TrackerCSRT_Params())
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process, waited for by itself."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}: {err[-800:]}")
    return seconds, usage.ru_maxrss / 1024


def video_clip(folder: Path) -> Path:
    from bench.perf_video import write_clip

    return write_clip(folder / "walk.mp4", 5.0)


def cases(folder: Path) -> dict[str, tuple[list[str], str]]:
    """Modality -> (the extract command's inputs, the bare process's code)."""
    return {
        "text": (["--text", SENTENCE], TEXT_MODELS),
        "image": (["--image", str(MEDIA / "photo.png")], IMAGE_MODELS),
        "audio": (["--audio", str(MEDIA / "speech.wav")], AUDIO_MODELS),
        "video": (["--video", str(video_clip(folder))], VIDEO_MODELS),
    }


def measure(name: str, inputs: list[str], bare_code: str, repeat: int, folder: Path) -> dict:
    rows: dict[str, list[tuple[float, float]]] = {"bare": [], "first": [], "second": [], "replay": []}
    for k in range(repeat):
        data = folder / f"{name}-{k}"
        data.mkdir()
        env = {"MUIE_DATA_DIR": str(data)}
        rows["bare"].append(run_measured([sys.executable, "-c", bare_code], env))
        cmd = [MUIE, "extract", *inputs, "--out", str(data / "result.json")]
        rows["first"].append(run_measured(cmd, env))
        rows["second"].append(run_measured(cmd, env))
        rows["replay"].append(run_measured(cmd, {**env, "MUIE_REUSE_RUNS": "false"}))
    out: dict = {"case": name}
    for kind, got in rows.items():
        out[f"{kind}_s"] = round(statistics.median(s for s, _ in got), 3)
        out[f"{kind}_rss_mb"] = round(max(m for _, m in got))
    out["first_vs_bare"] = round(out["first_s"] / out["bare_s"], 2)
    out["second_speedup"] = round(out["first_s"] / out["second_s"], 1)
    out["replay_speedup"] = round(out["first_s"] / out["replay_s"], 1)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _vm(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_serve(folder: Path) -> dict:
    """``muie serve``: resident memory idle, then the peak under a load of 8 clients."""
    import httpx

    port, data = _free_port(), folder / "serve"
    data.mkdir()
    proc = subprocess.Popen([MUIE, "serve", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "MUIE_DATA_DIR": str(data)})
    url = f"http://127.0.0.1:{port}"
    try:
        t0 = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > 120:
                raise RuntimeError("muie serve did not start")
            time.sleep(0.1)
        ready_s = time.perf_counter() - t0
        time.sleep(2.0)
        idle = _vm(proc.pid, "VmRSS")
        with httpx.Client(base_url=url, timeout=300) as client:
            photo = client.post("/v1/media", files={"file": ("photo.png", (MEDIA / "photo.png").read_bytes())}).json()
            inline = "data:image/png;base64," + base64.b64encode((MEDIA / "photo.png").read_bytes()).decode()

            def one(k: int) -> int:
                if k % 10 == 0:
                    r = client.post("/v1/extract", json={"text": f"A coffee cup on table {k}.", "images": [inline]})
                elif k % 3 == 0:
                    r = client.get(f"/v1/media/{photo['hash']}")
                else:
                    r = client.post("/v1/extract", json={"text": f"Marie Curie met {k} students in Warsaw.",
                                                         "tasks": "ner"})
                return r.status_code

            t1 = time.perf_counter()
            with ThreadPoolExecutor(LOAD_CONCURRENCY) as pool:
                codes = list(pool.map(one, range(LOAD_REQUESTS)))
            load_s = time.perf_counter() - t1
        after, peak = _vm(proc.pid, "VmRSS"), _vm(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bad = [c for c in codes if c != 200]
    return {"case": "serve", "ready_s": round(ready_s, 2), "idle_rss_mb": round(idle), "load_requests": len(codes),
            "load_failed": len(bad), "load_s": round(load_s, 1), "after_load_rss_mb": round(after),
            "peak_rss_mb": round(peak)}


def print_table(rows: list[dict]) -> None:
    print(f"{'case':6} {'bare s':>7} {'first s':>8} {'x bare':>7} {'second s':>9} {'speedup':>8} {'replay s':>9} "
          f"{'speedup':>8} {'RSS bare':>9} {'RSS first':>10} {'RSS 2nd':>8} {'RSS replay':>11}")
    for r in rows:
        if r["case"] == "serve":
            continue
        print(f"{r['case']:6} {r['bare_s']:7.2f} {r['first_s']:8.2f} {r['first_vs_bare']:7.2f} {r['second_s']:9.2f} "
              f"{r['second_speedup']:7.1f}x {r['replay_s']:9.2f} {r['replay_speedup']:7.1f}x "
              f"{r['bare_rss_mb']:6d} MB {r['first_rss_mb']:7d} MB {r['second_rss_mb']:5d} MB "
              f"{r['replay_rss_mb']:8d} MB")
    for r in rows:
        if r["case"] == "serve":
            print(f"serve: ready in {r['ready_s']} s, idle {r['idle_rss_mb']} MB; {r['load_requests']} requests "
                  f"({LOAD_CONCURRENCY} at a time, {r['load_failed']} failed) in {r['load_s']} s: peak "
                  f"{r['peak_rss_mb']} MB, {r['after_load_rss_mb']} MB after")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--only", default="text,image,audio,video,serve")
    args = ap.parse_args()
    wanted = args.only.split(",")
    folder = Path(tempfile.mkdtemp(prefix="muie-startup-"))
    rows = []
    try:
        for name, (inputs, bare) in cases(folder).items():
            if name in wanted:
                rows.append(measure(name, inputs, bare, args.repeat, folder))
                print(json.dumps(rows[-1]), file=sys.stderr)
        if "serve" in wanted:
            rows.append(measure_serve(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"aims": AIMS, "rows": rows, "repeat": args.repeat}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

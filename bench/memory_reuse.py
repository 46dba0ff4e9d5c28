"""What the store's tool results save: the second extraction of the same media.

    .venv/bin/python bench/memory_reuse.py [--json OUT.json]

For each case (a photo; a recording; photo, recording and caption together; each from
``examples/media``), in one run on this machine:

- **first**: the extraction with an empty store, the models already loaded (on other
  media) so that only the work on these media is timed;
- **again, same process**: the same media again, each file copied under another name
  (the store keys media by content): every tool result comes from the store;
- **again, new process**: a fresh interpreter with the same store; the extraction is
  timed from the call (the imports and the agent's construction are reported apart),
  so any model the kept results leave to load is counted in: the verifier still judges
  image regions on the image itself, which loads the image models.

Speed-up = first / again, the median over rounds of each round's ratio; times are
medians of ``--repeat`` rounds, each in a fresh interpreter with a fresh store.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import in_fresh_process  # noqa: E402

MEDIA = Path(__file__).resolve().parent.parent / "examples" / "media"
CASES = {
    "image": {"images": ["photo.png"]},
    "audio": {"audio": ["speech.wav"]},
    "image+audio+text": {"images": ["photo.png"], "audio": ["speech.wav"], "text": "caption.txt"},
}


def _request(case: dict, folder: Path):  # type: ignore[no-untyped-def]
    from muie.agent.api import make_request

    text = (MEDIA / case["text"]).read_text() if "text" in case else None
    return make_request(text, [str(folder / p) for p in case.get("images", [])],
                        [str(folder / p) for p in case.get("audio", [])])


def _copies(case: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for p in case.get("images", []) + case.get("audio", []):
        shutil.copy(MEDIA / p, folder / p)
    return folder


def _timed_in_new_process(data_dir: str, case_name: str, folder: str) -> tuple[float, float, int]:
    """(seconds to import and build the agent, seconds of the extraction, tool calls kept)."""
    t0 = time.perf_counter()
    from muie.agent.api import Agent
    from muie.settings import Settings

    agent = Agent(settings=Settings.from_env(data_dir=data_dir), store=True)
    t1 = time.perf_counter()
    (_,), run_id = agent.run_kept(_request(CASES[case_name], Path(folder)))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, agent.store.run(run_id).cached_calls


def _other_media(folder: Path) -> tuple[Path, Path]:
    """The example photo mirrored and the recording at another gain: other bytes and other
    pixels and samples, so that nothing computed on them serves the timed runs."""
    import numpy as np
    import soundfile as sf
    from PIL import Image

    image, audio = folder / "warm.png", folder / "warm.wav"
    Image.open(MEDIA / "photo.png").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(image)
    x, sr = sf.read(MEDIA / "speech.wav", dtype="float32")
    sf.write(audio, (x * 0.8).astype(np.float32), sr)
    return image, audio


def _round(case_name: str, root: str) -> dict:
    """One round in a fresh interpreter (no result of an earlier round in any in-process
    cache): load the models on other media, then time the first and the second extraction."""
    from muie.agent.api import Agent, make_request
    from muie.settings import Settings

    case, root_p = CASES[case_name], Path(root)
    image, audio = _other_media(root_p)
    warm = Agent(settings=Settings.from_env(data_dir=str(root_p / "warm"), tool_cache=False, store_runs=False))
    for text, images, audio_ in ((None, [image], []), (None, [], [audio]), ("A dog in Paris.", [image], [audio])):
        warm.run(make_request(text, [str(p) for p in images], [str(p) for p in audio_]))  # each kind of case
    agent = Agent(settings=Settings.from_env(data_dir=str(root_p / "data")), store=True)
    t0 = time.perf_counter()
    agent.run_kept(_request(case, MEDIA))
    first = time.perf_counter() - t0
    folder = _copies(case, root_p / "copy")
    t0 = time.perf_counter()
    (_,), id2 = agent.run_kept(_request(case, folder))
    again = time.perf_counter() - t0
    run2 = agent.store.run(id2)
    return {"first_s": first, "again_s": again, "tool_calls": run2.tool_calls, "kept": run2.cached_calls}


def measure(case_name: str, root: Path) -> dict:
    out = in_fresh_process(_round, case_name, str(root))
    start, fresh, kept = in_fresh_process(_timed_in_new_process, str(root / "data"), case_name, str(root / "copy"))
    return out | {"again_new_process_s": fresh, "new_process_start_s": start, "kept_new_process": kept}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    rows = {}
    for name in CASES:
        rounds = []
        for _k in range(a.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                rounds.append(measure(name, Path(tmp)))
        med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        med["speedup"] = statistics.median(r["first_s"] / r["again_s"] for r in rounds)
        med["speedup_new_process"] = statistics.median(r["first_s"] / r["again_new_process_s"] for r in rounds)
        rows[name] = med
    print(f"{'case':18} {'first s':>8} {'again s':>8} {'speed-up':>9} {'new proc s':>11} {'speed-up':>9} "
          f"{'(start s)':>10} {'kept/calls':>11}")
    for name, m in rows.items():
        print(f"{name:18} {m['first_s']:8.3f} {m['again_s']:8.3f} {m['speedup']:8.1f}x "
              f"{m['again_new_process_s']:11.3f} {m['speedup_new_process']:8.1f}x "
              f"{m['new_process_start_s']:10.2f} {int(m['kept']):>5}/{int(m['tool_calls'])}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

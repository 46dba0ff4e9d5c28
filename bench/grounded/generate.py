"""python -m bench.grounded.generate OUT_DIR [--seed 0] [--per-kind N] [--jobs J]

Writes OUT_DIR/cases.jsonl (one gold case a line), OUT_DIR/media/..., OUT_DIR/schema.json
(the label schema the gold uses) and OUT_DIR/MANIFEST.json (seed, counts, sha256 of
every file). The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from . import KINDS
from .common import SCHEMA, rng_for, sha256_file

DEFAULT_PER_KIND = 9  # 7 kinds x 9 = 63 cases


def _maker(kind: str):
    from . import cases, cases_av

    return getattr(cases, kind, None) or getattr(cases_av, kind)


def make_case(seed: int, kind: str, index: int, out: str) -> dict[str, Any]:
    """One case, from its own generator: the same (seed, kind, index) always gives the same case."""
    case_id = f"{kind}-{index:03d}"
    return _maker(kind)(rng_for(seed, KINDS.index(kind), index), case_id, Path(out), index)


def _versions() -> dict[str, str]:
    import cv2
    import numpy
    import PIL
    import scipy
    import soundfile

    v = {"numpy": numpy.__version__, "pillow": PIL.__version__, "opencv": cv2.__version__,
         "scipy": scipy.__version__, "libsndfile": soundfile.__libsndfile_version__}
    for tool, arg in (("espeak-ng", "--version"), ("ffmpeg", "-version")):
        try:
            v[tool] = subprocess.run([tool, arg], capture_output=True, text=True).stdout.splitlines()[0].strip()
        except (OSError, IndexError):
            v[tool] = "missing"
    return v


def generate(out_dir: str | Path, seed: int = 0, per_kind: int = DEFAULT_PER_KIND, jobs: int = 1,
             kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """Write the benchmark into out_dir; returns the manifest."""
    from .video import decoded_sha256

    out = Path(out_dir)
    shutil.rmtree(out / "media", ignore_errors=True)
    (out / "media").mkdir(parents=True, exist_ok=True)
    todo = [(seed, k, i, str(out)) for k in kinds for i in range(per_kind)]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            cases = list(pool.map(make_case, *zip(*todo)))
    else:
        cases = [make_case(*t) for t in todo]
    with open(out / "cases.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    (out / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n", encoding="utf-8")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and (p.parts[len(out.parts)] == "media" or p.name in ("cases.jsonl", "schema.json")))
    manifest = {
        "seed": seed,
        "per_kind": per_kind,
        "counts": {k: sum(c["kind"] == k for c in cases) for k in kinds},
        "total": len(cases),
        "files": {p: sha256_file(out / p) for p in files},
        # Decoded frames too, should another OpenCV / ffmpeg build write other container bytes.
        "video_frames": {p: dict(zip(("sha256", "frames"), decoded_sha256(out / p)))
                         for p in files if p.endswith(".mp4")},
        "tools": _versions(),
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.grounded.generate", description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-kind", type=int, default=DEFAULT_PER_KIND)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of: " + ",".join(KINDS))
    a = ap.parse_args(argv)
    kinds = tuple(k.strip() for k in a.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad or a.per_kind < 1:
        ap.error(f"unknown kinds {bad}" if bad else "--per-kind must be at least 1")
    t0 = time.perf_counter()
    m = generate(a.out_dir, a.seed, a.per_kind, a.jobs, kinds)
    print(f"wrote {m['total']} cases ({', '.join(f'{k} {n}' for k, n in m['counts'].items())}) to {a.out_dir} "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

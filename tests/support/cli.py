"""Running the installed ``muie`` command in tests, and what bad input must look like."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MUIE = Path(sys.executable).parent / "muie"
FAST_S = 20.0  # bad input fails before any model loads; generous bound, not a benchmark


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float


def muie(*args: str, cwd: Path) -> Run:
    t0 = time.perf_counter()
    proc = subprocess.run([str(MUIE), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - t0)


def assert_bad_input(run: Run, *names: str) -> str:
    """Exit 2, stdout empty, exactly one non-empty stderr line that holds every one of ``names``."""
    assert run.rc == 2, (run.rc, run.stderr)
    assert run.stdout == "", run.stdout
    lines = run.stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    line = lines[0]
    assert line.strip(), "the stderr line is blank"
    for name in names:
        assert name in line, f"{name!r} not named in {line!r}"
    assert run.seconds < FAST_S, f"bad input took {run.seconds:.1f} s: did a model load?"
    return line

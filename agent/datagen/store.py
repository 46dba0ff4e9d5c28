"""The output files, append-only and resumable: ``OUT.jsonl`` (records) and
``OUT.rejects.jsonl`` (cases that gave none, and why).

Each line is written whole, flushed and fsynced before the next, so a crash or a kill
loses at most the line being written. Opening a file again reads what is there: a last
line cut short by a kill (no newline at its end) is cut off, every other line must read
as a record (or a reject), else the file is not ours and nothing is appended to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from muie.agent.datagen.record import Record, Reject
from muie.errors import InputError

T = TypeVar("T", Record, Reject)


def rejects_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".rejects.jsonl")


def summary_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".summary.json")


def read_lines(path: Path, model: Callable[[Any], T]) -> tuple[list[T], int]:
    """The items of ``path`` and the bytes cut off its torn end (0 when it ends whole)."""
    if not path.exists():
        return [], 0
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(str(path), f"cannot be read ({e.strerror or e})") from None
    whole = data.rfind(b"\n") + 1
    torn = len(data) - whole
    if torn:
        with open(path, "r+b") as f:
            f.truncate(whole)
            f.flush()
            os.fsync(f.fileno())
    items = []
    for n, line in enumerate(data[:whole].decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(model(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as e:
            why = e.msg if isinstance(e, json.JSONDecodeError) else str(e.errors()[0]["msg"])
            raise InputError(str(path), f"line {n} is not a muie datagen line ({why}): not appending to it") from None
    return items, torn


class Appender:
    """One JSONL file opened for appending; each ``add`` is on disk when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = open(path, "a", encoding="utf-8")

    def add(self, line: str) -> None:
        self._f.write(line + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

"""The output folder of a batch, written by one process only (the one that runs the batch):

- ``<id>.result.json``: each item's result, the contract's JSON, written whole or not at all;
- ``finished.jsonl``: one line per finished item (id, fingerprint, counts, seconds), appended
  after its result is in place; an item is finished when its result file exists and its
  last line here carries the item's current fingerprint, so a rerun skips it;
- ``failures.jsonl``: one line per item that failed in the latest run (id, input, reason);
- ``summary.json``: the counts and timings of the latest run.

Each line is appended with a single write, so a crash leaves at worst a last line cut
short, which reading ignores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from muie.agent.bulk.work import Outcome
from muie.errors import InputError
from muie.files import write_atomic

RESULT_SUFFIX = ".result.json"
FINISHED = "finished.jsonl"
FAILURES = "failures.jsonl"
SUMMARY = "summary.json"


def prepare(path: Path) -> None:
    """Create the output folder (and its parents); an ``InputError`` when it cannot be one."""
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {path}", "exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out {path}", f"cannot be created ({e.strerror or e})") from None
    if not os.access(path, os.W_OK):
        raise InputError(f"--out {path}", "is not writable")


class OutDir:
    """Results, the finished journal and the failures of one output folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fingerprints = read_finished(path / FINISHED)
        _end_line(path / FINISHED)
        for tmp in path.glob(f".*{RESULT_SUFFIX}.*"):  # a result cut short by a crash, never renamed into place
            tmp.unlink(missing_ok=True)

    def result_path(self, item_id: str) -> Path:
        return self.path / f"{item_id}{RESULT_SUFFIX}"

    def has_result(self, item_id: str) -> bool:
        return item_id in self.fingerprints and self.result_path(item_id).is_file()

    def is_finished(self, item_id: str, fingerprint: str) -> bool:
        return self.has_result(item_id) and self.fingerprints.get(item_id) == fingerprint

    def write_result(self, outcome: Outcome) -> None:
        """The result file, then its line in the journal: a crash between the two only
        means the item runs again."""
        assert outcome.payload is not None and outcome.fingerprint is not None
        write_atomic(self.result_path(outcome.id), outcome.payload)
        _append(self.path / FINISHED, {"id": outcome.id, "fingerprint": outcome.fingerprint,
                                       "entities": outcome.entities, "relations": outcome.relations,
                                       "events": outcome.events, "seconds": outcome.seconds, "pid": outcome.pid})
        self.fingerprints[outcome.id] = outcome.fingerprint

    def start_failures(self) -> None:
        """A new run starts a new failures file: the items that failed before are retried."""
        write_atomic(self.path / FAILURES, "")

    def record_failure(self, outcome: Outcome) -> None:
        _append(self.path / FAILURES, {"id": outcome.id, "input": outcome.source, "reason": outcome.reason})

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_atomic(self.path / SUMMARY, json.dumps(summary, indent=2) + "\n")


def read_finished(path: Path) -> dict[str, str]:
    """Id -> fingerprint of the latest line for each finished item; a line cut short is ignored."""
    out: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            row = json.loads(line)
            out[str(row["id"])] = str(row["fingerprint"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return out


def _append(path: Path, row: dict[str, Any]) -> None:
    data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _end_line(path: Path) -> None:
    """End a last line cut short by a crash, so that the next line starts on its own."""
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            whole = f.read(1) == b"\n"
    except (FileNotFoundError, OSError):  # no journal yet, or an empty one
        return
    if not whole:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, b"\n")
        finally:
            os.close(fd)

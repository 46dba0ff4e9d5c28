"""Running a batch: items read, finished ones skipped, the rest handed to an engine's
workers, each outcome written as it comes, a progress bar, and a summary at the end.

Bad input to the batch as a whole (no such manifest or folder, an output path that is a
file, a bad schema or reasoner) is an ``InputError`` before any worker starts; a bad item
is a line in ``failures.jsonl`` and the batch goes on. Ctrl-C stops the workers: the
results written stay, nothing is half-written, the summary says it was interrupted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Literal, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from muie.agent.bulk import outdir
from muie.agent.bulk.items import Item, fingerprint, read_items
from muie.agent.bulk.summary import Summary
from muie.agent.bulk.threads import threads_per_worker
from muie.agent.bulk.work import Outcome, WorkerConfig
from muie.domain import Schema
from muie.errors import InputError, MuieError
from muie.reasoner import REASONERS
from muie.settings import Settings, default_settings

POLL_S = 0.5


class BatchInterrupted(MuieError):
    """The batch was stopped (Ctrl-C): what was written stays, a rerun goes on from there."""

    exit_code = 130

    def __init__(self, out: Path) -> None:
        super().__init__(f"interrupted: the results in {out} stay; run the same command again to go on")


class Engine(Protocol):
    name: str

    def start(self) -> None: ...
    def slots(self) -> int: ...
    def submit(self, item: Item) -> None: ...
    def wait(self, timeout: float | None) -> list[Outcome]: ...
    def stats(self) -> list[dict[str, Any]]: ...
    def stop(self) -> None: ...


def run_batch(source: Path, out: Path, *, workers: int = 1, engine: Literal["local", "ray"] = "local",
              address: str | None = None, schema: Schema | dict[str, Any] | None = None,
              tasks: str | list[str] | None = None, reasoner: str = "embedded", settings: Settings | None = None,
              warm_up: bool = True, console: Console | None = None, progress: bool = True) -> Summary:
    """Extract every item of ``source`` (a JSONL manifest or a folder) into ``out``."""
    from muie.agent.inputs import parse_schema, parse_tasks

    settings = settings or default_settings()
    if workers < 1:
        raise InputError("--workers", f"must be at least 1, not {workers}")
    if reasoner not in REASONERS:
        raise InputError("reasoner", f"unknown reasoner {reasoner!r} (available: {', '.join(REASONERS)})")
    if engine not in ("local", "ray"):
        raise InputError("--engine", f"unknown engine {engine!r} (available: local, ray)")
    if address and engine != "ray":
        raise InputError("--address", "is for --engine ray")
    schema_dict = None if schema is None else parse_schema(schema).model_dump(mode="json")
    if tasks is not None:
        parse_tasks(tasks)
    items = read_items(source, skip=out)
    outdir.prepare(out)
    folder = outdir.OutDir(out)
    console = console or Console(file=sys.stderr)
    summary = Summary(source=str(source), out=str(out), engine=engine, workers=workers, items=len(items))

    t0 = time.perf_counter()
    todo: list[Item] = []
    failed_now: list[Outcome] = []
    for item in items:
        if item.error is not None:
            failed_now.append(Outcome.failed(item, item.error))
        elif folder.has_result(item.id) and _finished(folder, item, schema_dict, tasks, reasoner):
            summary.skipped += 1
        else:
            todo.append(item)
    folder.start_failures()
    for outcome in failed_now:
        _record(folder, summary, outcome)

    if todo:
        _check_agent(reasoner, settings)
    threads = threads_per_worker(workers, settings.batch_threads)
    config = WorkerConfig(reasoner=reasoner, settings=settings, threads=threads, schema=schema_dict, tasks=tasks,
                          warm_up=warm_up)
    summary.workers = min(workers, len(todo))
    runner = _engine(engine, summary.workers, config, address) if todo else None
    bar = _progress(console, progress)
    try:
        with bar:
            task = bar.add_task("loading models", total=len(items), completed=summary.skipped + summary.failed)
            if runner is not None:
                runner.start()
                summary.load_seconds = time.perf_counter() - t0
                bar.update(task, description="extracting")
                _drive(runner, todo, folder, summary, lambda: bar.advance(task))
                summary.work_seconds = time.perf_counter() - t0 - summary.load_seconds  # to the last result
                if summary.done and summary.work_seconds > 0:
                    summary.items_per_s = summary.done / summary.work_seconds
                summary.worker_stats = runner.stats()
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        if runner is not None:
            runner.stop()
        summary.seconds = time.perf_counter() - t0
        folder.write_summary(summary.to_dict())
    return summary


def _check_agent(reasoner: str, settings: Settings) -> None:
    """One agent built here, before any worker starts (no model loads: they load on first
    use): a bad configuration is an ``InputError`` now, not N workers failing, and what an
    agent sets up once on disk (the store's tables) is set up once, not raced by N workers."""
    from muie.agent.api import Agent

    Agent(reasoner, settings, store=True)


def _finished(folder: outdir.OutDir, item: Item, schema: dict[str, Any] | None, tasks: str | list[str] | None,
              reasoner: str) -> bool:
    try:
        return folder.is_finished(item.id, fingerprint(item, schema, tasks, reasoner))
    except InputError:  # an input gone or unreadable: the item runs again, and fails with the reason
        return False


def _drive(runner: Engine, todo: list[Item], folder: outdir.OutDir, summary: Summary, advance: Any) -> None:
    pending = list(reversed(todo))
    in_flight = 0
    while pending or in_flight:
        while pending and runner.slots():
            runner.submit(pending.pop())
            in_flight += 1
        for outcome in runner.wait(POLL_S):
            in_flight -= 1
            _record(folder, summary, outcome)
            advance()


def _record(folder: outdir.OutDir, summary: Summary, outcome: Outcome) -> None:
    if outcome.ok:
        folder.write_result(outcome)
        summary.done += 1
        summary.entities += outcome.entities
        summary.relations += outcome.relations
        summary.events += outcome.events
    else:
        folder.record_failure(outcome)
        summary.failed += 1


def _engine(name: str, workers: int, config: WorkerConfig, address: str | None) -> Engine:
    if name == "ray":
        from muie.agent.bulk.ray_engine import RayEngine

        return RayEngine(workers, config, address)
    from muie.agent.bulk.runner import LocalEngine

    return LocalEngine(workers, config)


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console,
                    disable=not enabled, transient=False)

"""Running the jobs of a ``muie datagen``: resumable, concurrent, rate-limit aware.

- Resumable: the jobs whose key is already in ``OUT.jsonl`` or ``OUT.rejects.jsonl`` are
  skipped; every record is on disk (flushed, fsynced) before the next is written, a line
  cut short by a kill is cut off on the next run (``agent.datagen.store``). Ctrl-C stops
  the workers, writes the summary and ends with what is written kept.
- Concurrent: ``datagen_concurrency`` worker threads (daemons: an interrupt never waits on
  a request in flight); one writer, this thread, in the order records are made. The
  template writer, which waits on nothing, runs in one worker: the cases' order, always.
- Rate limits: the openai client retries a 429 itself, honouring ``Retry-After``; a case
  still rate limited after that pauses every worker (``datagen_backoff_s``, doubling) and is
  tried again, at most ``datagen_rate_limit_retries`` times, then left for a rerun.
- Dedupe: a record saying what an earlier one says (same inputs and turns) is not written
  again; it is logged as a ``duplicate`` reject.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from muie.agent.datagen.cases import Job, problems
from muie.agent.datagen.llm import transient
from muie.agent.datagen.record import Record, Reject, Rejected
from muie.agent.datagen.store import Appender, read_lines, rejects_path, summary_path
from muie.agent.datagen.summary import Summary, ThisRun, summarize
from muie.files import write_atomic
from muie.reasoner.llm_client import LLMError
from muie.settings import Settings


class Writer(Protocol):
    name: str
    concurrent: bool  # worth several workers (waits on an endpoint); else one, and records in the cases' order

    def write(self, job: Job) -> Record: ...


@dataclass
class _Gate:
    """Every worker waits here while a rate limit lasts."""

    until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.until = max(self.until, time.monotonic() + seconds)

    def wait(self, stop: threading.Event) -> None:
        while not stop.is_set() and (left := self.until - time.monotonic()) > 0:
            stop.wait(min(left, 0.5))


@dataclass
class _Done:
    job: Job
    record: Record | None = None
    reject: Reject | None = None
    failed: str | None = None


def _work(writer: Writer, job: Job, media_root: Path, settings: Settings, gate: _Gate,
          stop: threading.Event) -> _Done:
    bad = problems(job, media_root)
    if bad:
        return _Done(job, reject=_reject(job, "bad case", "; ".join(bad)))
    for attempt in range(settings.datagen_rate_limit_retries + 1):
        gate.wait(stop)
        if stop.is_set():
            return _Done(job, failed="interrupted")
        try:
            return _Done(job, record=writer.write(job))
        except Rejected as e:
            return _Done(job, reject=_reject(job, e.kind, e.reason, e.usage))
        except ValidationError as e:  # e.g. a text that holds a media placeholder itself
            return _Done(job, reject=_reject(job, "bad case", f"its record does not validate: {e.errors()[0]['msg']}"))
        except LLMError as e:
            if not transient(e):
                return _Done(job, reject=_reject(job, "bad request", str(e)))
            if e.kind != "rate limited" or attempt == settings.datagen_rate_limit_retries:
                return _Done(job, failed=e.kind)
            gate.pause(settings.datagen_backoff_s * 2 ** attempt)
    return _Done(job, failed="rate limited")


def _reject(job: Job, kind: str, reason: str, usage: Any = None) -> Reject:
    return Reject(key=job.key, case=job.case_id, variant=job.variant, mode=job.mode,  # type: ignore[arg-type]
                  kind=kind, reason=reason, usage=usage)  # type: ignore[arg-type]


def run(jobs: list[Job], writer: Writer, out: Path, settings: Settings, media_root: Path,
        progress: bool = True) -> Summary:
    """Make the records of ``jobs`` not made yet into ``out``; the summary, also written beside it."""
    records, _ = read_lines(out, Record.model_validate)
    rejects, _ = read_lines(rejects_path(out), Reject.model_validate)
    done = {r.meta.key for r in records} | {j.key for j in rejects}
    hashes = {r.content_hash(): r.id for r in records}
    todo = [j for j in jobs if j.key not in done]
    stats = ThisRun(jobs=len(jobs), skipped=len(jobs) - len(todo))
    t0 = time.perf_counter()
    inbox: queue.Queue[Job | None] = queue.Queue()
    results: queue.Queue[_Done] = queue.Queue()
    stop, gate = threading.Event(), _Gate()

    def worker() -> None:
        while not stop.is_set():
            job = inbox.get()
            if job is None:
                return
            try:
                results.put(_work(writer, job, media_root, settings, gate, stop))
            except Exception as e:  # a programming error: reported by the writer thread, not lost
                results.put(_Done(job, failed=f"error: {type(e).__name__}: {e}"))

    for j in todo:
        inbox.put(j)
    n_workers = min(settings.datagen_concurrency if writer.concurrent else 1, max(1, len(todo)))
    for _ in range(n_workers):
        inbox.put(None)
        threading.Thread(target=worker, daemon=True, name="muie-datagen").start()
    outs, rejs = Appender(out), Appender(rejects_path(out))
    bar = _Progress(len(todo), writer.name, progress)
    try:
        for _ in range(len(todo)):
            d = results.get()
            if d.record is not None and (same := hashes.get(d.record.content_hash())) is not None:
                d = _Done(d.job, reject=_reject(d.job, "duplicate", f"says what record {same} says"))
                stats.duplicates += 1
            if d.record is not None:
                outs.add(d.record.to_line())
                hashes[d.record.content_hash()] = d.record.id
                records.append(d.record)
                stats.written += 1
            elif d.reject is not None:
                rejs.add(d.reject.to_line())
                rejects.append(d.reject)
                stats.rejected += d.reject.kind != "duplicate"
            else:
                kind = (d.failed or "error").split(":")[0]
                stats.failed[kind] = stats.failed.get(kind, 0) + 1
            bar.advance(stats)
    except KeyboardInterrupt:
        stats.interrupted = True
        raise
    finally:
        stop.set()
        bar.close()
        outs.close()
        rejs.close()
        stats.seconds = round(time.perf_counter() - t0, 3)
        stats.records_per_s = round(stats.written / stats.seconds, 3) if stats.seconds else 0.0
        summary = summarize(out, records, rejects, stats, settings)
        write_atomic(summary_path(out), summary.model_dump_json(indent=2) + "\n")
    return summary


class _Progress:
    """A rich progress bar on stderr (none when off)."""

    def __init__(self, total: int, mode: str, on: bool) -> None:
        self.p = None
        if on:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(TextColumn(f"datagen ({mode})"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("{task.fields[note]}"), TimeRemainingColumn(),
                              console=Console(stderr=True), transient=False)
            self.task = self.p.add_task("datagen", total=total, note="")
            self.p.start()

    def advance(self, s: ThisRun) -> None:
        if self.p is not None:
            note = f"{s.written} written, {s.rejected} rejected, {sum(s.failed.values())} failed"
            self.p.update(self.task, advance=1, note=note)

    def close(self) -> None:
        if self.p is not None:
            self.p.stop()

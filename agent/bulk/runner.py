"""The local engine: N worker processes (spawned), each building one ``Worker`` (one agent,
its models loaded once), handed items one at a time over a pipe.

A worker ignores Ctrl-C (the parent decides what stops: it terminates busy workers, which
then exit cleanly) and leaves when its pipe closes, so a parent that dies takes its
workers with it after their current item. A worker that dies in the middle of an item
(killed, out of memory) fails that item and is replaced; one that cannot start at all
stops the batch with its reason.
"""

from __future__ import annotations

import multiprocessing
import signal
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from muie.agent.bulk.items import Item
from muie.agent.bulk.work import Outcome, Worker, WorkerConfig
from muie.errors import MuieError


class WorkerError(MuieError):
    """A worker could not start (its agent could not be built): the batch cannot run."""

    exit_code = 1


def _leave(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # a clean exit: the process's finalizers run (no leaked semaphores)


def _worker_main(conn: Connection, config: WorkerConfig) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _leave)
    try:
        worker = Worker(config)
    except BaseException as e:  # reported to the parent, which stops the batch
        conn.send(("fatal", f"{type(e).__name__}: {e}".replace("\n", " ")))
        return
    conn.send(("ready", worker.info()))
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        outcome = worker.run(item)
        try:
            conn.send(("done", outcome, worker.info()))
        except OSError:
            return


@dataclass
class _Proc:
    process: Any
    conn: Connection
    state: str = "loading"  # loading | idle | busy
    item: Item | None = None
    info: dict[str, Any] = field(default_factory=dict)


class LocalEngine:
    """``workers`` processes on this machine."""

    name = "local"

    def __init__(self, workers: int, config: WorkerConfig) -> None:
        self.workers, self.config = workers, config
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[_Proc] = []
        self._retired: list[dict[str, Any]] = []

    def start(self) -> None:
        """Start every worker and wait until each has built its agent."""
        self._procs = [self._spawn() for _ in range(self.workers)]
        while any(p.state == "loading" for p in self._procs):
            self._poll(None)

    def slots(self) -> int:
        return sum(p.state == "idle" for p in self._procs)

    def submit(self, item: Item) -> None:
        proc = next(p for p in self._procs if p.state == "idle")
        proc.state, proc.item = "busy", item
        proc.conn.send(item)

    def wait(self, timeout: float | None) -> list[Outcome]:
        """Outcomes of items that finished within ``timeout`` seconds (none when none did)."""
        return self._poll(timeout)

    def stats(self) -> list[dict[str, Any]]:
        return self._retired + [p.info for p in self._procs if p.info]

    def stop(self) -> None:
        """Idle workers are told to leave; busy ones (an interrupted batch) are terminated."""
        for p in self._procs:
            if p.state == "idle":
                try:
                    p.conn.send(None)
                except OSError:
                    pass
            else:
                p.process.terminate()
        for p in self._procs:
            p.process.join(timeout=10)
            if p.process.is_alive():
                p.process.kill()
                p.process.join()
            p.conn.close()

    def _spawn(self) -> _Proc:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, self.config), daemon=True,
                                    name="muie-batch-worker")
        process.start()
        child.close()  # the worker's end: a parent that dies closes the pipe, and the worker leaves
        return _Proc(process, parent)

    def _poll(self, timeout: float | None) -> list[Outcome]:
        watched = {p.conn: p for p in self._procs if p.state in ("loading", "busy")}
        if not watched:
            return []
        out: list[Outcome] = []
        for conn in wait(list(watched), timeout):
            proc = watched[conn]  # type: ignore[index]
            try:
                message = proc.conn.recv()
            except (EOFError, OSError):
                out += self._died(proc)
                continue
            if message[0] == "fatal":
                self.stop()
                raise WorkerError(f"a batch worker could not start: {message[1]}")
            if message[0] == "ready":
                proc.state, proc.info = "idle", message[1]
            else:
                proc.state, proc.item, proc.info = "idle", None, message[2]
                out.append(message[1])
        return out

    def _died(self, proc: _Proc) -> list[Outcome]:
        proc.process.join(timeout=10)
        code = proc.process.exitcode
        proc.conn.close()
        self._procs.remove(proc)
        if proc.state == "loading":
            self.stop()
            raise WorkerError(f"a batch worker died while loading its models (exit code {code})")
        if proc.info:
            self._retired.append(proc.info)
        self._procs.append(self._spawn())
        assert proc.item is not None
        return [Outcome.failed(proc.item, f"the worker died while extracting it (exit code {code})")]

"""Batching of model calls across concurrent runs.

When many runs of the agent go at once (a batch of documents, a server), each run's
tool calls are small. ``Batcher`` gathers the calls that arrive together from several
threads into one call of the tool, so the model sees one batch. The first caller to
arrive leads: it waits until every active run has submitted (or ``wait_s`` passes),
runs the batch, and hands each caller its own results. With one run active it runs at
once, with no wait.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_active = 0
_active_lock = threading.Lock()


@contextmanager
def active_run() -> Iterator[None]:
    """Count a run as active while it lasts, so batchers know how many to wait for."""
    global _active
    with _active_lock:
        _active += 1
    try:
        yield
    finally:
        with _active_lock:
            _active -= 1


def active_runs() -> int:
    return max(1, _active)


class _Slot(Generic[R]):
    __slots__ = ("n", "result", "error", "done")

    def __init__(self, n: int) -> None:
        self.n, self.result, self.error, self.done = n, None, None, False


class Batcher(Generic[T, R]):
    def __init__(self, fn: Callable[[list[T]], list[R]], max_items: int = 512, wait_s: float = 0.004) -> None:
        self.fn, self.max_items, self.wait_s = fn, max_items, wait_s
        self._cv = threading.Condition()
        self._queue: list[tuple[list[T], _Slot[R]]] = []
        self._leading = False

    def __call__(self, items: list[T]) -> list[R]:
        if not items:
            return []
        slot: _Slot[R] = _Slot(len(items))
        with self._cv:
            self._queue.append((items, slot))
            self._cv.notify_all()
            while self._leading and not slot.done:
                self._cv.wait()
            if slot.done:
                return self._take(slot)
            self._leading = True
            deadline = time.monotonic() + self.wait_s
            while (len(self._queue) < active_runs() and sum(s.n for _, s in self._queue) < self.max_items
                   and (left := deadline - time.monotonic()) > 0):
                self._cv.wait(left)
            batch, self._queue = self._queue, []
        try:
            flat = [x for items_, _ in batch for x in items_]
            out = self.fn(flat)
            error = None
        except BaseException as e:  # handed to every caller of this batch
            out, error = [], e
        with self._cv:
            k = 0
            for _, s in batch:
                s.result, s.error, s.done = out[k : k + s.n], error, True
                k += s.n
            self._leading = False
            self._cv.notify_all()
        return self._take(slot)

    @staticmethod
    def _take(slot: _Slot[R]) -> list[R]:
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

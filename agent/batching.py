"""Batching of model calls across concurrent runs.

When many runs of the agent go at once (a batch of documents, a server), each run's
tool calls are small. ``Batcher`` gathers the calls that arrive together from several
threads into one call of the tool, so the model sees one batch.

The first caller to arrive leads. It waits until every active run is parked in some
batcher (so no run is still on its way with more work), or until ``wait_s`` passes,
then runs the batch and hands each caller its own results. With one run active it runs
at once, with no wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_cv = threading.Condition()  # shared by every batcher: parking anywhere counts
_active = 0  # runs under way
_parked = 0  # runs waiting in a batcher


@contextmanager
def active_run() -> Iterator[None]:
    """Count a run as active while it lasts, so batchers know how many to wait for."""
    global _active
    with _cv:
        _active += 1
    try:
        yield
    finally:
        with _cv:
            _active -= 1
            _cv.notify_all()


class _Slot(Generic[R]):
    __slots__ = ("n", "result", "error", "done")

    def __init__(self, n: int) -> None:
        self.n, self.result, self.error, self.done = n, None, None, False


class Batcher(Generic[T, R]):
    def __init__(self, fn: Callable[[list[T]], list[R]], max_items: int = 512, wait_s: float = 0.02) -> None:
        self.fn, self.max_items, self.wait_s = fn, max_items, wait_s
        self._queue: list[tuple[list[T], _Slot[R]]] = []
        self._leading = False

    def __call__(self, items: list[T]) -> list[R]:
        global _parked
        if not items:
            return []
        slot: _Slot[R] = _Slot(len(items))
        with _cv:
            self._queue.append((items, slot))
            _parked += 1
            _cv.notify_all()
            while self._leading and not slot.done:
                _cv.wait()
            if slot.done:
                return self._take(slot)
            self._leading = True
            deadline = time.monotonic() + self.wait_s
            while (_parked < max(1, _active) and sum(s.n for _, s in self._queue) < self.max_items
                   and (left := deadline - time.monotonic()) > 0):
                _cv.wait(left)
            batch, self._queue = self._queue, []
        try:
            flat = [x for items_, _ in batch for x in items_]
            out = self.fn(flat)
            error = None
        except BaseException as e:  # handed to every caller of this batch
            out, error = [], e
        with _cv:
            k = 0
            for _, s in batch:
                s.result, s.error, s.done = out[k : k + s.n], error, True
                k += s.n
            _parked -= len(batch)  # served: they are back at work
            self._leading = False
            _cv.notify_all()
        return self._take(slot)

    @staticmethod
    def _take(slot: _Slot[R]) -> list[R]:
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

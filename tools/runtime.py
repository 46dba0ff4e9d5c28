"""What the tools share at run time, in one place: bounded caches, a lock per model, the
process's thread budget, and native libraries kept off stderr.

- ``BoundedCache``: a thread-safe least-recently-used map, bounded in entries and
  optionally in bytes (decoded media, parsed documents, embeddings, perceptions).
  Every cache registers itself, so ``clear_caches()`` empties them all (benchmarks).
- ``model_lock(name)``: the lock of one model. A model is shared by every run of a
  process and most are not safe to call from two threads at once; each has its own
  lock, so that the act node's parallel tool groups on different models run side by side.
- ``limit_cpu_threads`` / ``cpu_threads``: a batch worker's share of the cores, read by
  every model session the process creates afterwards.
- ``native_output(name)``: file descriptor 2 captured while native code that prints on
  its own runs (MediaPipe's TensorFlow Lite and absl); its lines go to the debug log, and
  any line of muie's own written meanwhile goes on to the real stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import IO, Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

log = logging.getLogger("muie.native")

# --------------------------------------------------------------------------- caches

_CACHES: weakref.WeakSet[BoundedCache[Any, Any]] = weakref.WeakSet()
"""Every cache made (a cache ends with what owns it: a model's goes with the model)."""


class BoundedCache(Generic[K, V]):
    """A least-recently-used map of at most ``entries`` items and, when ``sizeof`` is given,
    at most ``max_bytes`` bytes (the newest item always stays, however large)."""

    def __init__(self, name: str, entries: int, max_bytes: int | None = None,
                 sizeof: Callable[[V], int] | None = None) -> None:
        self.name, self.entries, self.max_bytes, self.sizeof = name, entries, max_bytes, sizeof
        self._items: OrderedDict[K, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if key in self._items:
                self._bytes -= self._size(self._items.pop(key))
            self._items[key] = value
            self._bytes += self._size(value)
            while len(self._items) > 1 and (len(self._items) > self.entries or (
                    self.max_bytes is not None and self._bytes > self.max_bytes)):
                _, old = self._items.popitem(last=False)
                self._bytes -= self._size(old)
        return value

    def setdefault(self, key: K, value: V) -> V:
        """The kept value, or ``value``, kept: the first one put stays."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return self.put(key, value)

    def items(self) -> list[tuple[K, V]]:
        """What is kept now, oldest first (a copy)."""
        with self._lock:
            return list(self._items.items())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _size(self, value: V) -> int:
        return self.sizeof(value) if self.sizeof is not None else 0


def clear_caches() -> None:
    """Empty every cache of the process (models stay loaded): for benchmarks."""
    for cache in list(_CACHES):
        cache.clear()


# --------------------------------------------------------------------------- locks

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_LOCK = threading.Lock()


def model_lock(name: str) -> threading.RLock:
    """The lock of the model ``name`` (made on first use; re-entrant)."""
    with _LOCKS_LOCK:
        if name not in _LOCKS:
            _LOCKS[name] = threading.RLock()
        return _LOCKS[name]


# --------------------------------------------------------------------------- threads

_THREAD_LIMIT: list[int] = []


def limit_cpu_threads(n: int) -> None:
    """Hold the model sessions this process creates from now on to ``n`` threads each (a
    batch worker's share of the cores)."""
    _THREAD_LIMIT[:] = [max(1, n)]


def cpu_threads(default: int) -> int:
    """Threads for a model session: the process's limit when one is set, else ``default``."""
    return _THREAD_LIMIT[0] if _THREAD_LIMIT else default


# --------------------------------------------------------------------------- native stderr


class _Capture:
    """One redirection of descriptor 2, shared by every block inside it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.names: set[str] = set()
        self.saved: int | None = None
        self.file: IO[bytes] | None = None

    def enter(self, name: str) -> None:
        with self.lock:
            if self.depth == 0:
                self._start()
            self.depth += 1
            self.names.add(name)

    def exit(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                self._stop()

    def _start(self) -> None:
        sys.stderr.flush()
        try:
            self.saved = os.dup(2)
        except OSError:  # no descriptor 2 (a closed stderr): nothing to keep off it
            self.saved = None
            return
        self.file = file = tempfile.TemporaryFile()
        os.dup2(file.fileno(), 2)

    def _stop(self) -> None:
        names, self.names = ", ".join(sorted(self.names)), set()
        if self.saved is None or self.file is None:
            return
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        self.saved = self.file = None
        for line in text.splitlines():
            if line.startswith("muie"):
                sys.stderr.write(line + "\n")
            elif line.strip():
                log.debug("%s: %s", names, line)
        sys.stderr.flush()


_CAPTURE = _Capture()


@contextlib.contextmanager
def native_output(name: str) -> Iterator[None]:
    """Run the block with descriptor 2 captured (see the module's docstring)."""
    _CAPTURE.enter(name)
    try:
        yield
    finally:
        _CAPTURE.exit()

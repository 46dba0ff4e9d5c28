"""Native libraries that write on the process's stderr themselves, kept off it.

MediaPipe's graphs (TensorFlow Lite and absl inside) print "Created TensorFlow Lite
XNNPACK delegate", absl's start-up notice and calculator warnings straight to file
descriptor 2, past Python's logging. ``native_output(name)`` points descriptor 2 at a
temporary file while such code runs, then puts it back: the captured lines go to the
``muie.native`` debug log (shown with ``--verbose``), and any line of muie's own that
another thread wrote meanwhile goes on to the real stderr. Nested and concurrent uses
share one redirection, which ends with the last of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from typing import Iterator

log = logging.getLogger("muie.native")


class _Capture:
    """One redirection of descriptor 2, shared by every block inside it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.names: set[str] = set()
        self.saved: int | None = None
        self.file: "tempfile._TemporaryFileWrapper[bytes] | None" = None

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
        self.file = tempfile.TemporaryFile()
        os.dup2(self.file.fileno(), 2)

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

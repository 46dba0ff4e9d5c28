"""The tests keep muie's own files (the store, conversations, uploads) in a folder of
their own, made fresh for each test session: nothing is read from or written to the
user's data folder, and no result kept by an earlier session is reused."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile

from tests.support.llm_server import qwen  # noqa: F401  (the fixture of the tests that talk to the real LLM)

_DATA = tempfile.mkdtemp(prefix="muie-tests-")
os.environ["MUIE_DATA_DIR"] = _DATA
os.environ.pop("MUIE_STORE_URL", None)

# A shell that starts the tests in the background (`make test &`) leaves Ctrl-C ignored, and an
# ignored signal stays ignored in every program started from here: the tests that stop a run
# with Ctrl-C would see it run on. The programs they start get Ctrl-C's usual meaning back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_unconfigure(config) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(_DATA, ignore_errors=True)

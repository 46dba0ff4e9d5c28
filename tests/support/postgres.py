"""A real PostgreSQL server for the tests: a fresh cluster in a temporary folder, on a
free port of the loopback, stopped at the end. The server refuses to run as root, so as
root it runs as the ``postgres`` user the Debian package creates."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.llm_server import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (the Debian package postgresql)")
    return path


def _as_owner(cmd: list[str], **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def,type-arg]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kw)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields the SQLAlchemy URL of a new, empty database ``muie``."""
    root = Path(tempfile.mkdtemp(prefix="muie-pg-"))
    data, port = root / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o700)
    _as_owner([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on"
    _as_owner([_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", opts, "-w", "-t", "60", "start"])
    try:
        _as_owner([_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "muie"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/muie"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            _as_owner([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)

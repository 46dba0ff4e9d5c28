"""Files in and out: an input file checked and keyed for caches; output files checked
before any work, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from muie.errors import InputError


def check_writable(path: Path, option: str) -> None:
    """An InputError naming ``option`` unless ``path`` can be written as a file."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{option} {path}", "is a folder, not a file")
    if not parent.is_dir():
        raise InputError(f"{option} {path}", f"folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"{option} {path}", f"folder {parent} is not writable")


def write_atomic(path: Path, payload: str) -> None:
    """Write to a temporary file beside the target, then rename: never half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def input_file_key(path: str, kind: str) -> tuple[str, int, int]:
    """An input file as a cache key (a file rewritten in place is a new file), or an
    ``InputError`` naming it when there is no ``kind`` file to read (audio, image)."""
    if not os.path.exists(path):
        raise InputError(path, "no such file")
    if os.path.isdir(path):
        raise InputError(path, f"is a directory, not an {kind} file")
    st = os.stat(path)
    if st.st_size == 0:
        raise InputError(path, "the file is empty (0 bytes)")
    return os.path.abspath(path), st.st_size, st.st_mtime_ns

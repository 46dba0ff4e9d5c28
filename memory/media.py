"""Media files keyed by their content: the same bytes are the same media, wherever they lie.

``content_hash`` is the key the store and the tool cache use. ``keep_bytes`` stores
uploaded bytes under the data folder by their hash (no name from a client ever reaches
the file system): written to a temporary file, then renamed, so a crash leaves no half file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from muie.errors import InputError

MediaKind = Literal["text", "image", "audio", "video"]
CHUNK = 1 << 20

SUFFIXES: dict[str, MediaKind] = {
    **{s: "image" for s in (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")},
    **{s: "audio" for s in (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".aac")},
    **{s: "video" for s in (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")},
    **{s: "text" for s in (".txt", ".md")},
}


def kind_of(path: str | Path) -> MediaKind | None:
    """The modality a file name says (by its suffix), or None."""
    return SUFFIXES.get(Path(path).suffix.lower())


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=256)
def hash_text(text: str) -> str:
    """SHA-256 of a text (remembered: every tool call over a chunk of a long text asks again)."""
    return hash_bytes(text.encode("utf-8"))


def content_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (remembered per path, size and modification time)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise InputError(str(path), f"cannot be read ({e.strerror})") from None
    if p.is_dir():
        raise InputError(str(path), "is a folder, not a media file")
    return _hash_file(str(p.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4096)
def _hash_file(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def media_folder(root: Path) -> Path:
    return root / "media"


def stored_path(root: Path, digest: str, suffix: str = "") -> Path:
    """Where media of this hash lies under the data folder ``root``."""
    return media_folder(root) / digest[:2] / f"{digest}{suffix.lower()}"


def keep_bytes(root: Path, data: bytes, suffix: str = "") -> tuple[str, Path]:
    """Store ``data`` under ``root`` by its hash (once; the same bytes again are not
    rewritten) and return (hash, path). ``suffix`` (".png") is kept so decoders that
    look at the name still work; only a known media suffix is allowed."""
    suffix = suffix.lower()
    if suffix and suffix not in SUFFIXES:
        raise InputError(f"file type {suffix}", f"is not a media type muie reads ({', '.join(sorted(SUFFIXES))})")
    digest = hash_bytes(data)
    target = stored_path(root, digest, suffix)
    if target.is_file() and target.stat().st_size == len(data):
        return digest, target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, target

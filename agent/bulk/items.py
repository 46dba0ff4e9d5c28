"""The items of a batch, read from a JSONL manifest or a folder, and their fingerprints.

A manifest holds one item a line, a JSON object::

    {"id": "a1", "text": "...", "image": ["photo.png"], "audio": [], "video": [],
     "schema": {...} or "schema.json", "tasks": "ner,re"}

``text`` or ``text_file`` (not both), ``image``/``audio``/``video`` a path or a list of
paths, ``schema`` an object or a schema file, ``tasks`` a string or a list; relative paths
are read against the manifest's folder; ``id`` defaults to ``line<N>``. Blank lines are
skipped. A line that cannot be read as an item (bad JSON, unknown field, bad or repeated
id) is an item that fails, named by its line, so the rest of the batch still runs.

A folder: each subfolder is one item (its ``.txt`` file the text, its images, audio and
video by suffix, a ``schema.json`` its schema; other files are ignored) and each text or
media file at the top is an item of its own. Ids are the subfolder's name and the file's
stem (its full name when two files share a stem). Hidden files and folders are skipped.

The fingerprint of an item is a hash of what its result depends on: the contents of its
inputs, its schema, its tasks and the reasoner. A result on disk counts as finished only
under the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muie.errors import InputError
from muie.memory.media import content_hash, hash_text

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".aac"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v"})
TEXT_SUFFIXES = frozenset({".txt"})
FOLDER_SCHEMA = "schema.json"
FIELDS = frozenset({"id", "text", "text_file", "image", "audio", "video", "schema", "tasks"})
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
"""An id names its result file, so it is a plain file name."""


@dataclass
class Item:
    """One unit of work: its inputs (absolute paths), its schema and tasks when it has its own,
    where it was read, and, for an item that could not be read, why."""

    id: str
    source: str
    text: str | None = None
    text_file: str | None = None
    image: list[str] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)
    video: list[str] = field(default_factory=list)
    schema: dict[str, Any] | str | None = None
    tasks: str | list[str] | None = None
    error: str | None = None


def read_items(source: Path, skip: Path | None = None) -> list[Item]:
    """The items of a manifest file or a folder (``skip``: a folder inside it to pass over,
    the batch's own output); an ``InputError`` when there is none to read."""
    if not source.exists():
        raise InputError(str(source), "no such manifest file or folder")
    items = _read_folder(source, skip) if source.is_dir() else _read_manifest(source)
    if not items:
        raise InputError(str(source), "holds no items")
    return items


# --------------------------------------------------------------------------- manifest


def _read_manifest(path: Path) -> list[Item]:
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except OSError as e:
        raise InputError(str(path), f"cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"not UTF-8 text (bad byte at offset {e.start})") from None
    base = path.resolve().parent
    items: list[Item] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path} line {n}"
        try:
            item = _manifest_item(line, base, where, f"line{n}")
        except InputError as e:
            items.append(Item(id=f"line{n}", source=where, error=e.reason))
            continue
        if item.id in seen:
            error = f"id {item.id!r} is given on line {seen[item.id]} too"
            items.append(Item(id=f"line{n}", source=where, error=error))
            continue
        seen[item.id] = n
        items.append(item)
    return items


def _manifest_item(line: str, base: Path, where: str, default_id: str) -> Item:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(where, f"not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise InputError(where, f"a JSON {type(obj).__name__}, not an object")
    unknown = sorted(set(obj) - FIELDS)
    if unknown:
        raise InputError(where, f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}")
    item_id = obj.get("id", default_id)
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if not isinstance(item_id, str) or not ID_PATTERN.fullmatch(item_id):
        raise InputError(where, f"id {item_id!r} is not a plain file name (letters, digits, '.', '_', '-')")
    if obj.get("text") is not None and obj.get("text_file") is not None:
        raise InputError(where, "give text or text_file, not both")
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError(where, f"text must be a string, not {type(text).__name__}")
    schema = obj.get("schema")
    if isinstance(schema, str):
        schema = str(_path(schema, base, where, "schema"))
    elif schema is not None and not isinstance(schema, dict):
        raise InputError(where, f"schema must be an object or a file name, not {type(schema).__name__}")
    tasks = obj.get("tasks")
    if tasks is not None and not (isinstance(tasks, str) or
                                  (isinstance(tasks, list) and all(isinstance(t, str) for t in tasks))):
        raise InputError(where, "tasks must be a string such as 'ner,re' or a list of strings")
    text_file = obj.get("text_file")
    item = Item(
        id=item_id, source=where, text=text,
        text_file=None if text_file is None else str(_path(text_file, base, where, "text_file")),
        image=_paths(obj.get("image"), base, where, "image"),
        audio=_paths(obj.get("audio"), base, where, "audio"),
        video=_paths(obj.get("video"), base, where, "video"),
        schema=schema, tasks=tasks,
    )
    if item.text is None and item.text_file is None and not (item.image or item.audio or item.video):
        raise InputError(where, "no input: give text, text_file, image, audio or video")
    return item


def _path(value: Any, base: Path, where: str, name: str) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(where, f"{name} must be a file name, not {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _paths(value: Any, base: Path, where: str, name: str) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise InputError(where, f"{name} must be a file name or a list of them, not {type(value).__name__}")
    return [str(_path(v, base, where, name)) for v in values]


# --------------------------------------------------------------------------- folder


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")


def _read_folder(root: Path, skip: Path | None) -> list[Item]:
    skip_resolved = skip.resolve() if skip is not None else None
    entries = sorted((p for p in root.iterdir() if _visible(p)), key=lambda p: p.name)
    loose = [p for p in entries if p.is_file() and _kind(p) is not None]
    folders = [p for p in entries if p.is_dir() and p.resolve() != skip_resolved]
    stems: dict[str, int] = {}
    for p in loose:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    taken = {p.name for p in folders}
    items = [_folder_item(p) for p in folders]
    for p in loose:
        item_id = p.stem if stems[p.stem] == 1 and p.stem not in taken else p.name
        items.append(_file_item(item_id, p))
    items.sort(key=lambda it: it.id)
    return items


def _kind(p: Path) -> str | None:
    s = p.suffix.lower()
    if s in TEXT_SUFFIXES:
        return "text"
    if s in IMAGE_SUFFIXES:
        return "image"
    if s in AUDIO_SUFFIXES:
        return "audio"
    if s in VIDEO_SUFFIXES:
        return "video"
    return None


def _file_item(item_id: str, p: Path) -> Item:
    item = Item(id=item_id, source=str(p))
    kind = _kind(p)
    if kind == "text":
        item.text_file = str(p.resolve())
    else:
        getattr(item, str(kind)).append(str(p.resolve()))
    if not ID_PATTERN.fullmatch(item_id):
        item.error = f"name {item_id!r} is not a plain file name (letters, digits, '.', '_', '-')"
    return item


def _folder_item(folder: Path) -> Item:
    item = Item(id=folder.name, source=str(folder))
    texts = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if not (p.is_file() and _visible(p)):
            continue
        if p.name == FOLDER_SCHEMA:
            item.schema = str(p.resolve())
            continue
        kind = _kind(p)
        if kind == "text":
            texts.append(p)
        elif kind is not None:
            getattr(item, kind).append(str(p.resolve()))
    if len(texts) > 1:
        item.error = f"holds {len(texts)} text files ({', '.join(p.name for p in texts)}): an item takes one"
    elif texts:
        item.text_file = str(texts[0].resolve())
    if not (texts or item.image or item.audio or item.video) and item.error is None:
        item.error = "holds no text (.txt), image, audio or video file"
    if item.error is None and not ID_PATTERN.fullmatch(item.id):
        item.error = f"name {item.id!r} is not a plain file name (letters, digits, '.', '_', '-')"
    return item


# --------------------------------------------------------------------------- fingerprint


def fingerprint(item: Item, schema: dict[str, Any] | None, tasks: str | list[str] | None, reasoner: str) -> str:
    """A hash of the item's inputs' contents, its schema (its own, else ``schema``), its tasks
    (its own, else ``tasks``) and the reasoner; an ``InputError`` when an input cannot be read."""
    own_schema: Any = item.schema
    if isinstance(own_schema, str):
        own_schema = {"file": content_hash(own_schema)}
    parts = {
        "text": None if item.text is None else hash_text(item.text),
        "text_file": None if item.text_file is None else content_hash(item.text_file),
        "image": [content_hash(p) for p in item.image],
        "audio": [content_hash(p) for p in item.audio],
        "video": [content_hash(p) for p in item.video],
        "schema": own_schema if own_schema is not None else schema,
        "tasks": _task_list(item.tasks if item.tasks is not None else tasks),
        "reasoner": reasoner,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:32]


def _task_list(tasks: str | list[str] | None) -> list[str] | None:
    if tasks is None:
        return None
    items = tasks.split(",") if isinstance(tasks, str) else tasks
    return sorted({t.strip().lower() for t in items if t.strip()})

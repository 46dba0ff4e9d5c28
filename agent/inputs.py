"""Reading what the user hands over: text, schema, tasks. Bad input raises ``InputError``
naming the input and the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from muie import prompts
from muie.domain import Schema
from muie.errors import InputError
from muie.request import ALL_TASKS, Task

MAX_TEXT_BYTES = 50 * 1024 * 1024


def read_text_file(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise InputError(str(path), "no such file")
    if not p.is_file():
        raise InputError(str(path), "not a regular file")
    if p.stat().st_size > MAX_TEXT_BYTES:
        raise InputError(str(path), f"larger than {MAX_TEXT_BYTES // (1024 * 1024)} MB")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(str(path), f"cannot be read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"not UTF-8 text (bad byte at offset {e.start})") from None
    # offsets refer to the text as Python reads the file (universal newlines), as every
    # reader of the result will
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_text(text: str, what: str = "text") -> str:
    if not text.strip():
        raise InputError(what, "the text is empty")
    if "\x00" in text:
        raise InputError(what, "the text holds NUL bytes (a binary file?)")
    return text


def default_schema() -> Schema:
    return Schema.model_validate(prompts.load("default_schema.json"))


def parse_schema(data: Any, what: str = "schema") -> Schema:
    if isinstance(data, Schema):
        return data
    if not isinstance(data, dict):
        raise InputError(what, "must be a JSON object with entity_types, relation_types, event_types, "
                               f"not {type(data).__name__}")
    try:
        return Schema.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "schema"
        raise InputError(what, f"{loc}: {err['msg']}") from None


def read_schema_file(path: str | Path) -> Schema:
    text = read_text_file(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    return parse_schema(data, str(path))


def schema_from_lists(entity_types: str | None, relation_types: str | None, event_types: str | None) -> Schema | None:
    """``--entity-types A,B --relation-types R --event-types E,F`` (events without roles
    here; ``E:role1/role2`` gives roles)."""
    if not (entity_types or relation_types or event_types):
        return None

    def split(s: str | None) -> list[str]:
        return [x.strip() for x in (s or "").split(",") if x.strip()]

    events: dict[str, list[str]] = {}
    for item in split(event_types):
        name, _, roles = item.partition(":")
        events[name.strip()] = [r.strip() for r in roles.split("/") if r.strip()]
    return parse_schema(
        {"entity_types": split(entity_types), "relation_types": split(relation_types), "event_types": events},
        "types",
    )


def parse_tasks(tasks: str | list[str] | None) -> list[Task]:
    if tasks is None:
        return list(ALL_TASKS)
    items = [t.strip().lower() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip()]
    bad = [t for t in items if t not in ALL_TASKS]
    if bad or not items:
        raise InputError("tasks", f"unknown task(s) {bad or items}; choose from {','.join(ALL_TASKS)}")
    return list(dict.fromkeys(items))  # type: ignore[arg-type]

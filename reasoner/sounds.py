"""Which sounds and sights count as evidence of which of the schema's event types.

From ``prompts/sound_events.yaml`` and ``prompts/visual_events.yaml``: an event type is
matched by its name in plain words (``Conflict:Attack`` -> ``attack``), so a gunshot
heard or a rifle seen is an Attack only when the schema asks for Attack events.
"""

from __future__ import annotations

from muie.domain import Schema
from muie.prompts import load
from muie.tools.text.meaning import humanize


def _plain(name: str) -> str:
    last = name.replace(".", ":").split(":")[-1]
    return humanize(last).lower().strip()


def sound_classes(schema: Schema) -> dict[str, str]:
    """AudioSet class name -> the schema's event type that sound evidences."""
    return _evidence(schema, "sound_events.yaml")


def visual_classes(schema: Schema) -> dict[str, str]:
    """Words of a thing seen -> the schema's event type that sight evidences."""
    return _evidence(schema, "visual_events.yaml")


def _evidence(schema: Schema, table_name: str) -> dict[str, str]:
    table: dict[str, list[str]] = load(table_name)
    out: dict[str, str] = {}
    for event_type in schema.event_types:
        for cls in table.get(_plain(event_type), []):
            out.setdefault(cls, event_type)
    return out

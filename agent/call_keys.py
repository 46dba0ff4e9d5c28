"""A call's key in the run's history: which tool, on what, for whom, how.

The reasoner reads the history to know what has run; a call with the same key is not
asked again, so the loop always moves on.
"""

from __future__ import annotations

from typing import Any

from muie.tools import TOOL_CALL, ToolCall

LOWERED = {"recognize_entities.v1", "detect_events.v1", "extract_relations.v1"}
"""Text tools whose calls with their own threshold are another call (a second, targeted pass)."""


def call_key(call: ToolCall) -> str:
    """``tool@input:start:end`` (characters of a text, seconds of audio, nothing for a whole
    input), ``>id`` when the call is for one entity, ``~t`` when it overrides a threshold,
    and ``#n`` when the call was given n entities (or link targets)."""
    a = call.arguments
    lo = getattr(a, "start", getattr(a, "start_s", None))
    hi = getattr(a, "end", getattr(a, "end_s", None))
    key = f"{call.tool}@{a.input}" + ("" if lo is None and hi is None else f":{lo}:{hi}")
    if getattr(a, "entity", None) is not None:
        key += f">{a.entity}"
    threshold = getattr(a, "role_threshold", None) or (getattr(a, "threshold", None) if call.tool in LOWERED else None)
    if threshold is not None:
        key += f"~{threshold}"
    given = getattr(a, "entities", None) if hasattr(a, "entities") else getattr(a, "targets", None)
    return key if given is None else f"{key}#{len(given)}"


def key_of(call: dict[str, Any]) -> str | None:
    """The key of a call given as plain data; None when it is not a valid call."""
    try:
        return call_key(TOOL_CALL.validate_python(call))
    except ValueError:
        return None

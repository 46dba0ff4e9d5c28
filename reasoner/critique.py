"""The embedded reasoner's answer to the verifier's critique: each re-plan a finding asks
for becomes one targeted tool call, another way than the one that failed.

- ``reground`` (an entity's region did not show it): ``segment_image`` by the entity's
  own words and type, one region, for that entity;
- ``reextract`` (a name in a transcript or on a sign that no entity covers): that span
  read again by ``recognize_entities``, nominals included, at half the typing threshold;
- ``refill`` (an event with no argument): ``detect_events`` on the event's sentence,
  with the entities there, at half the role threshold.

A call that already ran (same key) is not asked again: a re-plan is tried once.
"""

from __future__ import annotations

from typing import Any

from muie.calls import History
from muie.draft import Draft
from muie.findings import Finding
from muie.reasoner.base import View
from muie.settings import Settings
from muie.tools import key_of
from muie.tools.models.onnx_session import read_meta


def _threshold(settings: Settings) -> float:
    """The entity finder's usual threshold (the learned model's own unless the settings give one)."""
    if settings.ner_model == "heuristic":
        return settings.entity_threshold
    if settings.entity_model_threshold is not None:
        return settings.entity_model_threshold
    from muie.tools.models.entity_model import WEIGHTS

    return float(read_meta(WEIGHTS)["threshold"])  # read from the file: a replayed run loads no model


def _role_threshold(settings: Settings) -> float:
    """The event finder's usual least score of an argument."""
    if settings.event_model == "heuristic":
        return settings.role_threshold
    from muie.tools.text.detect_events_v2 import ARGUMENTS

    return float(read_meta(ARGUMENTS)["threshold"])


def _call(f: Finding, view: View, draft: Draft, settings: Settings) -> dict[str, Any] | None:
    r = f.replan
    schema = view.request.schema_
    if r is None:
        return None
    if r.goal == "reground" and r.entity is not None:
        e = draft.entity(r.entity)
        media = {i.id: i.modality for i in view.request.inputs}
        if e is None or media.get(r.input) != "image":
            return None
        return {"tool": "segment_image.v1", "arguments": {"input": r.input, "text": e.text, "entity_type": e.type,
                                                          "max_regions": 1, "entity": e.id}}
    if r.start is None or r.end is None or r.end <= r.start:
        return None
    if r.goal == "reextract" and schema.entity_types:
        return {"tool": settings.entity_tool, "arguments": {
            "input": r.input, "start": r.start, "end": r.end, "entity_types": schema.entity_types,
            "nominals": "all", "threshold": round(_threshold(settings) / 2, 4)}}
    if r.goal == "refill" and r.event is not None:
        v = next((v for v in draft.events if v.id == r.event), None)
        if v is None or v.type not in schema.event_types:
            return None
        refs = draft.refs_in(r.input, r.start, r.end)
        return {"tool": settings.event_tool, "arguments": {
            "input": r.input, "start": r.start, "end": r.end, "event_types": {v.type: schema.event_types[v.type]},
            "entities": [x.model_dump() for x in refs], "entity_types": schema.entity_types,
            "role_threshold": round(_role_threshold(settings) / 2, 4)}}
    return None


def critique_calls(view: View, draft: Draft, settings: Settings) -> list[dict[str, Any]]:
    """The targeted calls the findings ask for, that have not run yet, each once."""
    ran = History(view.history)
    out, keys = [], set()
    for f in view.findings:
        call = _call(f, view, draft, settings)
        key = key_of(call) if call is not None else None
        if key is not None and key not in ran and key not in keys:
            keys.add(key)
            out.append(call)
    return out

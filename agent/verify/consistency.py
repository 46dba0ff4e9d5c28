"""Consistency: the result holds together. Every relation end and event argument names
an entity that exists, every mention reads as its entity, every type and role is one
the schema names, and one name in the user's text has one type.

These findings go back to the reasoner as critique (it repairs: drops what does not
hold); whatever is left is repaired at the end, so the output always follows the contract.
"""

from __future__ import annotations

from muie.draft import Draft
from muie.findings import Finding
from muie.request import Request


def references_resolve(draft: Draft, req: Request) -> list[Finding]:
    """Every relation end and event argument names an existing entity."""
    ids = {e.id for e in draft.entities}
    out = [
        Finding(check="references_resolve", where=f"relation {r.id}", message=f"names unknown entity {end!r}")
        for r in draft.relations
        for end in (r.head, r.tail)
        if end not in ids
    ]
    out += [
        Finding(check="references_resolve", where=f"event {v.id}",
                message=f"argument {a.role!r} names unknown entity {a.entity!r}")
        for v in draft.events
        for a in v.arguments
        if a.entity not in ids
    ]
    return out


def mentions_match_text(draft: Draft, req: Request) -> list[Finding]:
    """Every mention lies inside its text and reads exactly as the entity's (or trigger's) text."""
    texts = req.all_texts
    out = []
    items = [(f"entity {e.id}", e.text, e.mentions) for e in draft.entities]
    items += [(f"event {v.id} trigger", v.trigger.text, v.trigger.mentions) for v in draft.events]
    for where, label, mentions in items:
        for m in mentions:
            text = texts.get(m.input)
            if text is None:
                out.append(Finding(check="mentions_match_text", where=where,
                                   message=f"mention names {m.input!r}, not a text input"))
            elif m.end > len(text):
                out.append(Finding(check="mentions_match_text", where=where,
                                   message=f"mention [{m.start}, {m.end}) runs past the text ({len(text)} chars)"))
            elif text[m.start : m.end] != label:
                out.append(Finding(check="mentions_match_text", where=where,
                                   message=f"text[{m.start}:{m.end}] is {text[m.start:m.end]!r}, not {label!r}"))
    return out


def types_in_schema(draft: Draft, req: Request) -> list[Finding]:
    """Every type and role is one the schema names."""
    s = req.schema_
    out = [Finding(check="types_in_schema", where=f"entity {e.id}", message=f"type {e.type!r} is not in the schema")
           for e in draft.entities if e.type not in s.entity_types]
    out += [Finding(check="types_in_schema", where=f"relation {r.id}", message=f"type {r.type!r} is not in the schema")
            for r in draft.relations if r.type not in s.relation_types]
    for v in draft.events:
        if v.type not in s.event_types:
            out.append(Finding(check="types_in_schema", where=f"event {v.id}",
                               message=f"type {v.type!r} is not in the schema"))
            continue
        out += [Finding(check="types_in_schema", where=f"event {v.id}",
                        message=f"role {a.role!r} is not a role of {v.type!r}")
                for a in v.arguments if a.role not in s.event_types[v.type]]
    return out


def one_type(draft: Draft, req: Request) -> list[Finding]:
    """The same name in the user's text under two types is flagged: one of them is likely wrong."""
    user = set(req.texts)
    seen: dict[tuple[str, str], list[str]] = {}
    for e in draft.entities:
        scope = e.mentions[0].input if req.is_batch and e.mentions else ""
        if any(m.input in user for m in e.mentions):
            seen.setdefault((scope, " ".join(e.text.lower().split())), []).append(f"{e.id} ({e.type})")
    return [Finding(check="one_type", where=", ".join(ids), severity="warning", confidence=0.5,
                    message=f"{name!r} is typed {len(ids)} ways", action="kept: each mention is typed in its context")
            for (_, name), ids in seen.items() if len(ids) > 1]


CONSISTENCY = (references_resolve, mentions_match_text, types_in_schema)
"""The checks whose findings the reasoner must repair (``one_type`` only warns)."""

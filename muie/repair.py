"""The repair every finding of the checks asks for: drop what does not hold.

Used by the embedded reasoner when the verifier sends findings back, and by the finish
node for whatever a reasoner left unresolved, so the output always follows the contract.
"""

from __future__ import annotations

from muie.draft import Draft
from muie.request import Request


def repair(draft: Draft, request: Request) -> Draft:
    """Apply what the findings ask: drop what does not hold."""
    texts = request.all_texts
    schema = request.schema_

    def holds(m, label: str) -> bool:  # type: ignore[no-untyped-def]
        text = texts.get(m.input)
        return text is not None and m.end <= len(text) and text[m.start : m.end] == label

    entities = []
    for e in draft.entities:
        if e.type not in schema.entity_types:
            continue
        mentions = [m for m in e.mentions if holds(m, e.text)]
        if mentions or e.groundings:
            entities.append(e.model_copy(update={"mentions": mentions}))
    ids = {e.id for e in entities}
    relations = [r for r in draft.relations if r.head in ids and r.tail in ids and r.type in schema.relation_types]
    events = []
    for v in draft.events:
        if v.type not in schema.event_types:
            continue
        ok = [m for m in v.trigger.mentions if holds(m, v.trigger.text)]
        if not ok and not v.trigger.groundings:
            continue
        args = [a for a in v.arguments if a.entity in ids and a.role in schema.event_types[v.type]]
        trigger = v.trigger.model_copy(update={"mentions": ok})
        events.append(v.model_copy(update={"trigger": trigger, "arguments": args}))
    return Draft(entities=entities, relations=relations, events=events)


REPAIRED = frozenset({"references_resolve", "mentions_match_text", "types_in_schema"})
"""Checks whose findings are repaired by dropping what does not hold (the verifier's
consistency checks, ``muie.agent.verify.consistency``)."""

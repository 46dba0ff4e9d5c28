"""The embedded reasoner: plans the text tools, merges what they return, repairs what
the verifier finds. Offline, deterministic, on a CPU.

Round 1: ``recognize_entities`` on every chunk. Round 2: ``extract_relations`` on each
chunk holding two or more entity mentions and ``detect_events`` on every chunk, with the
entities found. Then it is done, unless the verifier sends findings back: a mention that
does not match the text is dropped, a dangling relation end or argument is removed.
"""

from __future__ import annotations

from agent.calls import DetectEventsResult, ExtractRelationsResult, RecognizeEntitiesResult
from agent.draft import Draft, add_entities, add_events, add_relations
from reasoner.base import Decision, View


class EmbeddedReasoner:
    name = "embedded"

    def decide(self, view: View) -> Decision:
        draft = self._merge(view)
        if view.findings:
            return Decision(draft=repair(draft, view), done=True, note=f"repaired {len(view.findings)} finding(s)")
        req = view.request
        schema, tasks = req.schema_, set(req.tasks)
        ran = set(view.history)
        if "recognize_entities.v1" not in ran and schema.entity_types:
            calls = [
                {"tool": "recognize_entities.v1",
                 "arguments": {"input": "text", "start": s, "end": e, "entity_types": schema.entity_types}}
                for s, e in view.chunks
            ]
            return Decision(calls=calls, draft=draft, note=f"find entities in {len(calls)} chunk(s)")
        calls = []
        if "re" in tasks and schema.relation_types and "extract_relations.v1" not in ran:
            for s, e in view.chunks:
                refs = draft.refs_in("text", s, e)
                if len(refs) >= 2:
                    calls.append({"tool": "extract_relations.v1", "arguments": {
                        "input": "text", "start": s, "end": e, "relation_types": schema.relation_types,
                        "entities": [r.model_dump() for r in refs]}})
        if "ee" in tasks and schema.event_types and "detect_events.v1" not in ran:
            for s, e in view.chunks:
                calls.append({"tool": "detect_events.v1", "arguments": {
                    "input": "text", "start": s, "end": e, "event_types": schema.event_types,
                    "entities": [r.model_dump() for r in draft.refs_in("text", s, e)],
                    "entity_types": schema.entity_types}})
        if calls:
            return Decision(calls=calls, draft=draft, note=f"find relations and events: {len(calls)} call(s)")
        return Decision(draft=draft, done=True, note="nothing left to call")

    @staticmethod
    def _merge(view: View) -> Draft:
        draft = view.draft
        for obs in view.observations:
            r, args = obs.result, obs.call.arguments
            if isinstance(r, RecognizeEntitiesResult):
                draft = add_entities(draft, args.input, r.entities)
            elif isinstance(r, ExtractRelationsResult):
                draft = add_relations(draft, r.relations)
            elif isinstance(r, DetectEventsResult):
                draft = add_events(draft, args.input, r.events)
        return draft


def repair(draft: Draft, view: View) -> Draft:
    """Apply what the findings ask: drop what does not hold."""
    text = view.request.text or ""
    schema = view.request.schema_
    entities = []
    for e in draft.entities:
        if e.type not in schema.entity_types:
            continue
        mentions = [m for m in e.mentions if m.end <= len(text) and text[m.start:m.end] == e.text]
        if mentions or e.groundings:
            entities.append(e.model_copy(update={"mentions": mentions}))
    ids = {e.id for e in entities}
    relations = [r for r in draft.relations if r.head in ids and r.tail in ids and r.type in schema.relation_types]
    events = []
    for v in draft.events:
        if v.type not in schema.event_types:
            continue
        ok = [m for m in v.trigger.mentions if m.end <= len(text) and text[m.start:m.end] == v.trigger.text]
        if not ok and not v.trigger.groundings:
            continue
        args = [a for a in v.arguments if a.entity in ids and a.role in schema.event_types[v.type]]
        events.append(v.model_copy(update={"trigger": v.trigger.model_copy(update={"mentions": ok}), "arguments": args}))
    return Draft(entities=entities, relations=relations, events=events)

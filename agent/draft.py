"""The extraction as it grows during a run, and how tool results are merged into it.

Pure functions over domain objects: a mention of the same name and type as an entity
already found becomes another mention of that entity (so an entity named in several
chunks of a long text is one entity); relations and events are kept once each.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.calls import EventCandidate, RelationCandidate, SpanCandidate, SpanRef
from agent.domain import Argument, Entity, Event, Mention, Relation, Trigger


class Draft(BaseModel):
    entities: list[Entity] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)

    def entity(self, id_: str) -> Entity | None:
        return next((e for e in self.entities if e.id == id_), None)

    def refs_in(self, input_id: str, start: int, end: int) -> list[SpanRef]:
        """Every entity mention inside ``[start, end)`` of a text input, as tools see it."""
        return [
            SpanRef(id=e.id, type=e.type, start=m.start, end=m.end)
            for e in self.entities
            for m in e.mentions
            if m.input == input_id and start <= m.start and m.end <= end
        ]


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def add_entities(draft: Draft, input_id: str, cands: list[SpanCandidate]) -> Draft:
    entities = [e.model_copy(deep=True) for e in draft.entities]
    by_key = {(_key(e.text), e.type): e for e in entities}
    taken = {(m.input, m.start, m.end) for e in entities for m in e.mentions}
    for c in cands:
        if (input_id, c.start, c.end) in taken:
            continue
        mention = Mention(input=input_id, start=c.start, end=c.end)
        found = by_key.get((_key(c.text), c.type))
        if found is not None:
            found.mentions.append(mention)
            found.score = max(found.score, c.score)
        else:
            e = Entity(id=f"E{len(entities) + 1}", text=c.text, type=c.type, score=c.score, mentions=[mention])
            entities.append(e)
            by_key[(_key(c.text), c.type)] = e
        taken.add((input_id, c.start, c.end))
    return draft.model_copy(update={"entities": entities})


def add_relations(draft: Draft, cands: list[RelationCandidate]) -> Draft:
    relations = list(draft.relations)
    seen = {(r.type, r.head, r.tail): i for i, r in enumerate(relations)}
    for c in cands:
        key = (c.type, c.head, c.tail)
        if key in seen:
            i = seen[key]
            if c.score > relations[i].score:
                relations[i] = relations[i].model_copy(update={"score": c.score})
            continue
        seen[key] = len(relations)
        relations.append(Relation(id=f"R{len(relations) + 1}", type=c.type, head=c.head, tail=c.tail, score=c.score))
    return draft.model_copy(update={"relations": relations})


def add_events(draft: Draft, input_id: str, cands: list[EventCandidate]) -> Draft:
    """Add events; an argument that is not an entity yet becomes one first."""
    for c in cands:
        new = [a.span for a in c.arguments if a.span is not None]
        if new:
            draft = add_entities(draft, input_id, new)
    index = {(m.input, m.start, m.end): e.id for e in draft.entities for m in e.mentions}
    events = list(draft.events)
    seen = {(v.type, m.start, m.end) for v in events for m in v.trigger.mentions}
    for c in cands:
        if (c.type, c.trigger.start, c.trigger.end) in seen:
            continue
        args = []
        for a in c.arguments:
            ent = a.entity if a.span is None else index.get((input_id, a.span.start, a.span.end))
            if ent is not None:
                args.append(Argument(role=a.role, entity=ent))
        trigger = Trigger(text=c.trigger.text, mentions=[Mention(input=input_id, start=c.trigger.start, end=c.trigger.end)])
        events.append(Event(id=f"V{len(events) + 1}", type=c.type, score=c.score, trigger=trigger, arguments=args))
        seen.add((c.type, c.trigger.start, c.trigger.end))
    return draft.model_copy(update={"events": events})

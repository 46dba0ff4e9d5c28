"""The extraction as it grows during a run, and how tool results are merged into it.

Pure functions over domain objects: a mention of the same name (exactly) and type as an
entity already found becomes another mention of that entity (so an entity named in several
chunks of a long text is one entity); relations and events are kept once each.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from muie.calls import SpanRef
from muie.domain import Argument, Entity, Event, Mention, Region, Relation, Segment, Track, TrackFrame, Trigger
from muie.shapes import RegionLink, SeenRegion, SeenThing
from muie.spans import EventCandidate, RelationCandidate, SpanCandidate


class Draft(BaseModel):
    entities: list[Entity] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)

    def entity(self, id_: str) -> Entity | None:
        return next((e for e in self.entities if e.id == id_), None)

    def refs_in(self, input_id: str, start: int, end: int) -> list[SpanRef]:
        """Every entity mention inside ``[start, end)`` of a text input, as tools see it."""
        return [r for r in self.refs_by_input().get(input_id, []) if start <= r.start and r.end <= end]

    def refs_by_input(self) -> dict[str, list[SpanRef]]:
        out: dict[str, list[SpanRef]] = {}
        for e in self.entities:
            for m in e.mentions:
                out.setdefault(m.input, []).append(SpanRef(id=e.id, type=e.type, start=m.start, end=m.end))
        return out


def _key(text: str) -> str:
    """The same name, exactly: a mention reads as its entity's text, so "Paris" heard and
    "PARIS" read on a sign are two entities here; the verifier joins them at the end."""
    return text


def seen_only(e: Entity, input_id: str) -> bool:
    """Whether an entity was only seen in that image: no mention, and its groundings are
    regions of that image alone (``link_regions``' unnamed things)."""
    return (not e.mentions and bool(e.groundings)
            and all(isinstance(g, Region) and g.input == input_id for g in e.groundings))


class DraftBuilder:
    """Merges tool results into a copy of a draft, with its indexes built once.

    ``per_input``: the text inputs are independent documents (a batch), so the same
    name in two of them is two entities."""

    def __init__(self, draft: Draft, per_input: bool = False) -> None:
        self.per_input = per_input
        self.entities = [e.model_copy(deep=True) for e in draft.entities]
        self.relations = list(draft.relations)
        self.events = list(draft.events)
        self._by_key = {(self._scope(e), _key(e.text), e.type): e for e in self.entities}
        self._at = {(m.input, m.start, m.end): e.id for e in self.entities for m in e.mentions}
        self._rel = {(r.type, r.head, r.tail): i for i, r in enumerate(self.relations)}
        self._trig = {(v.type, m.input, m.start, m.end) for v in self.events for m in v.trigger.mentions}
        used = [int(e.id[1:]) for e in self.entities if e.id[:1] == "E" and e.id[1:].isdigit()]
        self._last_id = max(used, default=0)

    def _scope(self, e: Entity) -> str:
        return e.mentions[0].input if self.per_input and e.mentions else ""

    def _new_id(self) -> str:
        """An entity id no entity of the draft has had (entities may be taken away)."""
        self._last_id += 1
        return f"E{self._last_id}"

    def _add_unnamed(self, key: tuple[str, str, str], text: str, type_: str, score: float, grounding: Region | Track
                     ) -> None:
        """An entity nobody names (seen in an image or a video): no mention, one grounding."""
        if key in self._by_key:
            return
        e = Entity(id=self._new_id(), text=text, type=type_, score=score, groundings=[grounding])
        self.entities.append(e)
        self._by_key[key] = e

    def draft(self) -> Draft:
        return Draft(entities=self.entities, relations=self.relations, events=self.events)

    def add_entities(self, input_id: str, cands: list[SpanCandidate]) -> None:
        here = input_id if self.per_input else ""
        for c in cands:
            if (input_id, c.start, c.end) in self._at:
                continue
            mention = Mention(input=input_id, start=c.start, end=c.end)
            found = self._by_key.get((here, _key(c.text), c.type))
            if found is not None:
                found.mentions.append(mention)
                found.score = max(found.score, c.score)
            else:
                found = Entity(id=self._new_id(), text=c.text, type=c.type, score=c.score,
                               mentions=[mention])
                self.entities.append(found)
                self._by_key[(here, _key(c.text), c.type)] = found
            self._at[(input_id, c.start, c.end)] = found.id

    def add_relations(self, cands: list[RelationCandidate]) -> None:
        for c in cands:
            key = (c.type, c.head, c.tail)
            if key in self._rel:
                i = self._rel[key]
                if c.score > self.relations[i].score:
                    self.relations[i] = self.relations[i].model_copy(update={"score": c.score})
                continue
            self._rel[key] = len(self.relations)
            self.relations.append(Relation(id=f"R{len(self.relations) + 1}", type=c.type, head=c.head,
                                           tail=c.tail, score=c.score))

    def add_events(self, input_id: str, cands: list[EventCandidate]) -> None:
        """Add events; an argument that is not an entity yet becomes one first."""
        self.add_entities(input_id, [a.span for c in cands for a in c.arguments if a.span is not None])
        for c in cands:
            key = (c.type, input_id, c.trigger.start, c.trigger.end)
            if key in self._trig:  # found again (a second look): only its new arguments count
                self._more_arguments(key, c)
                continue
            args = []
            for a in c.arguments:
                ent = a.entity if a.span is None else self._at.get((input_id, a.span.start, a.span.end))
                if ent is not None:
                    args.append(Argument(role=a.role, entity=ent))
            trigger = Trigger(text=c.trigger.text,
                              mentions=[Mention(input=input_id, start=c.trigger.start, end=c.trigger.end)])
            self.events.append(Event(id=f"V{len(self.events) + 1}", type=c.type, score=c.score, trigger=trigger,
                                     arguments=args))
            self._trig.add(key)

    def _more_arguments(self, key: tuple, c: EventCandidate) -> None:  # type: ignore[type-arg]
        v = next((v for v in self.events if v.type == key[0] and any(
            (m.input, m.start, m.end) == key[1:] for m in v.trigger.mentions)), None)
        if v is None:
            return
        have = {(a.role, a.entity) for a in v.arguments}
        for a in c.arguments:
            ent = a.entity if a.span is None else self._at.get((key[1], a.span.start, a.span.end))
            if ent is not None and (a.role, ent) not in have:
                v.arguments.append(Argument(role=a.role, entity=ent))
                have.add((a.role, ent))

    def add_evidence_events(self, input_id: str, heard: list[tuple[str, Segment | Region]]) -> None:
        """Events evidenced by a sound or a sight alone: ``(event type, where it is heard or
        seen)``; the trigger is the sound or thing, named by its class, grounded there."""
        for event_type, seg in heard:
            key = (event_type, input_id, *(seg.bbox if isinstance(seg, Region) else (seg.start_s, seg.end_s)))
            if key in self._trig:
                continue
            self._trig.add(key)
            trigger = Trigger(text=seg.label or event_type, groundings=[seg])
            self.events.append(Event(id=f"V{len(self.events) + 1}", type=event_type, score=seg.score, trigger=trigger))

    def add_regions(self, input_id: str, links: Sequence[RegionLink]) -> None:
        """Regions of an image linked to entities (``link_regions``): one region per entity
        and image, the latest linking replacing an earlier one. A name linked by its type
        alone to a region the person tools see as a person takes the person type
        (``seen_as``): "Grace Hopper" read as an organization, pictured as a person."""
        by_id = {e.id: e for e in self.entities}
        for link in links:
            e = by_id.get(link.id)
            if e is None:
                continue
            label = link.region.labels[0].name if link.region.labels else None
            if link.seen_as and link.seen_as != e.type:  # a name the text mistyped: the picture shows a person
                self._by_key = {k: v for k, v in self._by_key.items() if v is not e}
                e.type = link.seen_as
                self._by_key[(self._scope(e), _key(e.text), e.type)] = e
            e.groundings = [g for g in e.groundings if not (isinstance(g, Region) and g.input == input_id)]
            e.groundings.append(Region(input=input_id, bbox=link.region.bbox, mask=link.region.mask,
                                       score=link.score, label=label))

    def add_seen_regions(self, input_id: str, seen: Sequence[SeenRegion]) -> None:
        """Things an image shows that nobody names (``link_regions``' ``seen``): an entity
        each, with no mention and its region. A later linking of that image replaces the
        earlier one's (it saw the same picture with more entities named)."""
        stale = {e.id for e in self.entities if seen_only(e, input_id)}
        if stale:
            self.entities = [e for e in self.entities if e.id not in stale]
            self._by_key = {k: e for k, e in self._by_key.items() if e.id not in stale}
        for t in seen:
            label = t.region.labels[0].name if t.region.labels else t.label
            region = Region(input=input_id, bbox=t.region.bbox, mask=t.region.mask, score=t.score, label=label)
            self._add_unnamed((input_id, _key(t.text), t.type), t.text, t.type, t.score, region)

    def add_segments(self, entity_id: str, segments: Sequence[Segment]) -> None:
        """Where the words of one entity were said (a phrase found for it): its groundings."""
        e = next((e for e in self.entities if e.id == entity_id), None)
        if e is not None:
            e.groundings.extend(s for s in segments if s not in e.groundings)

    def add_track(self, text: str, entity_type: str | None, track: Track) -> None:
        """A track of a video followed for the entity of that name (and type): one track
        per entity and video, the latest replacing an earlier one."""
        for e in self.entities:
            if _key(e.text) == _key(text) and (entity_type is None or e.type == entity_type):
                e.groundings = [g for g in e.groundings if not (isinstance(g, Track) and g.input == track.input)]
                e.groundings.append(track)

    def add_seen(self, input_id: str, things: Sequence[SeenThing]) -> None:
        """Things a video shows that nobody names (``find_video_things``): an entity each,
        with no mention and, until it is tracked, the box it was seen in as a one-frame track."""
        for t in things:
            frame = TrackFrame(frame=t.frame, time_s=t.time_s, bbox=t.bbox)
            seen = Track(input=input_id, score=t.score, frames=[frame])
            self._add_unnamed(("", _key(t.text), t.type), t.text, t.type, t.score, seen)

"""The last step of a run: what was found in media becomes groundings, one thing once.

- A mention in a derived text becomes a grounding: a ``segment`` on the audio input from
  the times of the words it covers (speech), a ``region`` around its words' boxes (text
  read in an image); the contract's ``mentions`` keep only offsets into the user's text.
- One real-world thing is one entity: the text tools already merge the same name and
  type across texts; an entity only heard whose name is a text entity's name under
  another type joins that text entity (the text, with more context, types it).
- One event is one event: an event heard in speech with the same type and trigger word
  as one in the text joins it; a sound or sight that evidences an event type (a gunshot
  or a rifle for Attack) grounds the event of that type it is nearest to in time (a
  sound), or the only one of its type, and is an event of its own only when there is none.
"""

from __future__ import annotations

from agent.derived import DerivedText
from agent.domain import Entity, Event, Grounding, Mention, Region, Segment
from agent.draft import Draft
from agent.state import Request

NEAR_S = 3.0
"""A sound this close in time to an event's grounding in the same input is that event."""


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _split(mentions: list[Mention], derived: dict[str, DerivedText], score: float) -> tuple[list[Mention], list[Grounding]]:
    kept, segments = [], []
    for m in mentions:
        d = derived.get(m.input)
        if d is None:
            kept.append(m)
            continue
        g = d.grounding(m.start, m.end, score)
        if g is not None:
            segments.append(g)
    return kept, segments


def ground_media(draft: Draft, request: Request) -> Draft:
    derived = {d.id: d for d in request.derived}
    entities = []
    for e in draft.entities:
        kept, segs = _split(e.mentions, derived, e.score)
        entities.append(e.model_copy(update={"mentions": kept, "groundings": list(e.groundings) + segs}))
    events = []
    for v in draft.events:
        kept, segs = _split(v.trigger.mentions, derived, v.score)
        trigger = v.trigger.model_copy(update={"mentions": kept, "groundings": list(v.trigger.groundings) + segs})
        events.append(v.model_copy(update={"trigger": trigger}))
    entities, ids = _join_entities(entities)
    relations, seen = [], set()
    for r in draft.relations:
        r = r.model_copy(update={"head": ids.get(r.head, r.head), "tail": ids.get(r.tail, r.tail)})
        if r.head != r.tail and (r.type, r.head, r.tail) not in seen:
            seen.add((r.type, r.head, r.tail))
            relations.append(r)
    events = [v.model_copy(update={"arguments": _unique([a.model_copy(update={"entity": ids.get(a.entity, a.entity)})
                                                         for a in v.arguments])}) for v in events]
    return Draft(entities=entities, relations=relations, events=_join_evidence(_join_events(events)))


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip(".,;:!?'\"()").lower() for w in text.split() if w.strip(".,;:!?'\"()"))


def _within(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    n = len(short)
    return 0 < n <= len(long) and any(long[i:i + n] == short for i in range(len(long) - n + 1))


def _alias(e: Entity, text_entities: list[Entity]) -> Entity | None:
    """The one text entity of the same type whose name holds this one's, or is held by it
    ("Obama" and "Barack Obama"); none when that is ambiguous."""
    mine = _words(e.text)
    found = [t for t in text_entities if t.type == e.type
             and (_within(mine, _words(t.text)) or _within(_words(t.text), mine))]
    return found[0] if len(found) == 1 else None


def _join_entities(entities: list[Entity]) -> tuple[list[Entity], dict[str, str]]:
    """Entities only heard join the text entity of the same name (or of a name that holds
    theirs, under the same type); returns the id map."""
    in_text: dict[str, Entity] = {}
    for e in entities:
        if e.mentions:
            in_text.setdefault(_key(e.text), e)
    texts = list({id(e): e for e in in_text.values()}.values())
    out, ids = [], {}
    for e in entities:
        home = in_text.get(_key(e.text)) or (None if e.mentions else _alias(e, texts))
        if not e.mentions and home is not None and home is not e:
            home.groundings.extend(e.groundings)
            home.score = max(home.score, e.score)
            ids[e.id] = home.id
        else:
            out.append(e)
    return out, ids


def _unique(args: list) -> list:  # type: ignore[type-arg]
    seen, out = set(), []
    for a in args:
        if (a.role, a.entity) not in seen:
            seen.add((a.role, a.entity))
            out.append(a)
    return out


def _join_events(events: list[Event]) -> list[Event]:
    """An event only heard joins the text event of the same type and trigger word."""
    in_text = {}
    for v in events:
        if v.trigger.mentions:
            in_text.setdefault((v.type, _key(v.trigger.text)), v)
    out = []
    for v in events:
        home = in_text.get((v.type, _key(v.trigger.text)))
        if not v.trigger.mentions and home is not None and home is not v:
            home.trigger.groundings.extend(v.trigger.groundings)
            home.arguments = _unique(home.arguments + v.arguments)
            home.score = max(home.score, v.score)
        else:
            out.append(v)
    return out


def _is_evidence(v: Event) -> bool:
    """An event known only by a sound heard or a thing seen (its grounding carries the class)."""
    return bool(v.trigger.groundings) and not v.trigger.mentions and not v.arguments and all(
        isinstance(g, (Segment, Region)) and g.label for g in v.trigger.groundings)


def _join_evidence(events: list[Event]) -> list[Event]:
    """A sound or sight joins the event of its type it is nearest to in time, or the only one."""
    evidence = [v for v in events if _is_evidence(v)]
    others = [v for v in events if not _is_evidence(v)]
    kept = []
    for e in evidence:
        same = [v for v in others if v.type == e.type]
        home = _nearest(same, e.trigger.groundings[0])
        if home is None and len(same) == 1:
            home = same[0]
        if home is None:
            kept.append(e)
        else:
            home.trigger.groundings.extend(e.trigger.groundings)
    return others + kept


def _nearest(events: list[Event], seg: Grounding) -> Event | None:
    """The event with a segment on the same input within ``NEAR_S`` of ``seg`` (a sound)."""
    if not isinstance(seg, Segment):
        return None
    best, best_d = None, NEAR_S
    for v in events:
        for g in v.trigger.groundings:
            if isinstance(g, Segment) and g.input == seg.input:
                d = max(0.0, g.start_s - seg.end_s, seg.start_s - g.end_s)
                if d <= best_d:
                    best, best_d = v, d
    return best


"""Duplicates: one real-world thing is one entity, one event is one event.

Run on the final draft, once the mentions read off media are groundings. An entity the
user's text does not name (heard in speech, read on a sign, seen) is the same as another
entity when, best reason first:

1. their names are the same words (any type: the text, with more context, types it);
2. one name holds the other, under the same type ("Obama", "Barack Obama");
3. their names are spelled nearly alike, under the same type ("Globe Bank" as heard,
   "Globex Bank" as written): letters at least ``CLOSE_SPELLING`` alike;
4. they are grounded at the same place (box IoU or time IoU at least ``SAME_PLACE``),
   under the same type, with names at least half alike.

Two entities the user's text both names keep their own mentions and are never merged.
When a reason points at two or more entities equally, the finding is flagged and
nothing is merged: a guess would join the wrong ones.

An event only heard or seen joins the event of the same type and trigger word in the
text; a sound or sight that evidences an event type (a gunshot for Attack) joins the
event of that type nearest in time, or the only one of that type.
"""

from __future__ import annotations

from muie.agent.verify.context import VerifyContext
from muie.agent.verify.evidence import overlap, spelling, within, words
from muie.domain import Entity, Event, Grounding, Region, Segment
from muie.draft import Draft
from muie.findings import Finding, Merge

CLOSE_SPELLING = 0.85
SAME_PLACE = 0.7
NEAR_S = 3.0
"""A sound this close in time to an event's grounding in the same input is that event."""


def _reasons(a: Entity, b: Entity) -> tuple[int, str, float] | None:
    """(rank, why, confidence) that ``b`` is ``a``; rank 0 is the strongest reason."""
    wa, wb = words(a.text), words(b.text)
    if wa and wa == wb:
        return 0, "the same name", 0.95
    if a.type != b.type:
        return None
    if within(wa, wb) or within(wb, wa):
        return 1, "one name holds the other", 0.85
    s = spelling(a.text, b.text)
    if s >= CLOSE_SPELLING:
        return 2, f"names spelled alike ({s:.2f})", round(s, 2)
    if s >= 0.5 and any(overlap(g, h) >= SAME_PLACE for g in a.groundings for h in b.groundings):
        return 3, "grounded at the same place", 0.7
    return None


def entity_duplicates(draft: Draft, vc: VerifyContext) -> list[Finding]:
    """Merges of entities that are one thing."""
    if vc.request.is_batch:  # independent documents: the same name in two is two entities
        return []
    user = set(vc.request.texts)
    named = {e.id for e in draft.entities if any(m.input in user for m in e.mentions)}
    ents = sorted(draft.entities, key=lambda e: (e.id not in named, -len(e.groundings)))
    order = {e.id: k for k, e in enumerate(ents)}
    out, gone = [], set()
    for b in ents:
        if b.id in named:
            continue
        found = [(r, a) for a in ents if a is not b and a.id not in gone and order[a.id] < order[b.id]
                 and (r := _reasons(a, b)) is not None]
        if not found:
            continue
        best = min(r[0] for r, _ in found)
        homes = [(r, a) for r, a in found if r[0] == best]
        if len(homes) > 1 and best > 0:
            out.append(Finding(check="duplicates", where=f"entity {b.id}", severity="warning", confidence=0.5,
                               message=f"{b.text!r} could be any of "
                               + ", ".join(f"{a.id} {a.text!r}" for _, a in homes)
                               + f" ({homes[0][0][1]})", action="flagged, not merged"))
            continue
        (rank, why, conf), a = homes[0]
        gone.add(b.id)
        out.append(Finding(check="duplicates", where=f"entity {b.id}", severity="warning", confidence=conf,
                           message=f"{b.text!r} ({b.type}) is {a.text!r} ({a.type}): {why}",
                           action=f"merged into {a.id}", fix=Merge(keep=a.id, drop=b.id)))
    return out


def event_duplicates(draft: Draft, vc: VerifyContext) -> list[Finding]:
    """Merges of events that are one event: heard and written, or evidenced by a sound or sight."""
    out = []
    key = {}
    for v in draft.events:
        if v.trigger.mentions:
            key.setdefault((v.type, " ".join(words(v.trigger.text))), v)
    joined = set()
    for v in draft.events:
        home = key.get((v.type, " ".join(words(v.trigger.text))))
        if not v.trigger.mentions and home is not None and home is not v:
            joined.add(v.id)
            out.append(Finding(check="duplicates", where=f"event {v.id}", severity="warning", confidence=0.9,
                               message=f"{v.type} {v.trigger.text!r} found in media is the one in the text",
                               action=f"merged into {home.id}", fix=Merge(what="event", keep=home.id, drop=v.id)))
    others = [v for v in draft.events if not _is_evidence(v) and v.id not in joined]
    for e in draft.events:
        if not _is_evidence(e):
            continue
        same = [v for v in others if v.type == e.type]
        home = _nearest(same, e.trigger.groundings[0])
        why = "nearest in time"
        if home is None and len(same) == 1:
            home, why = same[0], "the only one of its type"
        if home is not None:
            out.append(Finding(check="duplicates", where=f"event {e.id}", severity="info", confidence=0.7,
                               message=f"{e.trigger.text!r} evidences {e.type} {home.id} ({why})",
                               action=f"merged into {home.id}", fix=Merge(what="event", keep=home.id, drop=e.id)))
    return out


def _is_evidence(v: Event) -> bool:
    """An event known only by a sound heard or a thing seen (its grounding carries the class)."""
    return bool(v.trigger.groundings) and not v.trigger.mentions and not v.arguments and all(
        isinstance(g, (Segment, Region)) and g.label for g in v.trigger.groundings)


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

"""The last step of a run: what was found in media becomes groundings.

A mention in a derived text becomes a grounding: a ``segment`` on the audio input from
the times of the words it covers (speech), a ``region`` around its words' boxes (text
read in an image); the contract's ``mentions`` keep only offsets into the user's text.
That one real-world thing found in several modalities is one entity (and one event one
event) is the verifier's to establish (``agent.verify.duplicates``).
"""

from __future__ import annotations

from muie.derived import DerivedText
from muie.domain import Grounding, Mention
from muie.draft import Draft
from muie.request import Request


def _split(mentions: list[Mention], derived: dict[str, DerivedText],
           score: float) -> tuple[list[Mention], list[Grounding]]:
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
    return Draft(entities=entities, relations=list(draft.relations), events=events)

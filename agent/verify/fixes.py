"""The fixes findings carry, applied to a draft: merges, dropped and moved groundings.

Indexes of groundings are those of the draft the check saw; each check's fixes are
applied before the next check runs.
"""

from __future__ import annotations

from muie.agent.verify.evidence import overlap
from muie.domain import Argument, Entity, Event, Grounding, Region
from muie.draft import Draft
from muie.findings import DropGrounding, Finding, Merge, MoveGrounding

SAME = 0.9
"""Box or time IoU at which two groundings of one thing are the same grounding."""


def add_groundings(have: list[Grounding], more: list[Grounding]) -> list[Grounding]:
    """``have`` and those of ``more`` that are not already there (the better score kept)."""
    out = list(have)
    for g in more:
        k = next((i for i, h in enumerate(out) if overlap(h, g) >= SAME), None)
        if k is None:
            out.append(g)
        elif g.score > out[k].score:
            out[k] = g
    return out


def _unique_args(args: list[Argument]) -> list[Argument]:
    seen, out = set(), []
    for a in args:
        if (a.role, a.entity) not in seen:
            seen.add((a.role, a.entity))
            out.append(a)
    return out


def _weight(e: Entity) -> int:
    """How many places attest an entity: its mentions and its groundings."""
    return len(e.mentions) + len(e.groundings)


def apply_fixes(draft: Draft, findings: list[Finding]) -> Draft:
    fixes = [f.fix for f in findings if f.fix is not None]
    if not fixes:
        return draft
    d = draft.model_copy(deep=True)
    owners: dict[str, Entity | Event] = {e.id: e for e in d.entities} | {v.id: v for v in d.events}

    def groundings(owner: Entity | Event) -> list[Grounding]:
        return owner.groundings if isinstance(owner, Entity) else owner.trigger.groundings

    def set_groundings(owner: Entity | Event, gs: list[Grounding]) -> None:
        if isinstance(owner, Entity):
            owner.groundings = gs
        else:
            owner.trigger.groundings = gs

    # groundings first, by the indexes the check saw
    removed: dict[str, set[int]] = {}
    moved: list[tuple[Grounding, str]] = []
    for f in fixes:
        if isinstance(f, (DropGrounding, MoveGrounding)) and f.owner in owners:
            gs = groundings(owners[f.owner])
            if f.index < len(gs):
                removed.setdefault(f.owner, set()).add(f.index)
                if isinstance(f, MoveGrounding):
                    moved.append((gs[f.index], f.to))
    for owner_id, idx in removed.items():
        o = owners[owner_id]
        set_groundings(o, [g for k, g in enumerate(groundings(o)) if k not in idx])
    for g, to in moved:
        if to in owners:
            o = owners[to]
            kept = [h for h in groundings(o)
                    if not (isinstance(g, Region) and isinstance(h, Region) and h.input == g.input)]
            set_groundings(o, kept + [g])

    # a thing only seen or heard (no mention) that lost its last grounding is found nowhere now
    used = {x for r in d.relations for x in (r.head, r.tail)} | {a.entity for v in d.events for a in v.arguments}
    lost = {i for i in removed if isinstance(owners[i], Entity) and not owners[i].mentions
            and not owners[i].groundings and i not in used}
    if lost:
        d.entities = [e for e in d.entities if e.id not in lost]
        owners = {k: o for k, o in owners.items() if k not in lost}

    # then merges: one id for each set of duplicates
    parent: dict[str, str] = {}

    def root(i: str) -> str:
        while i in parent:
            i = parent[i]
        return i

    for f in fixes:
        if not isinstance(f, Merge):
            continue
        keep, drop = root(f.keep), root(f.drop)
        if keep == drop or keep not in owners or drop not in owners:
            continue
        parent[drop] = keep
        k, x = owners[keep], owners[drop]
        if isinstance(k, Entity) and isinstance(x, Entity) and x.type != k.type and _weight(x) > _weight(k):
            k.type = x.type  # one name, two types: the one more places attest
        set_groundings(k, add_groundings(groundings(k), groundings(x)))
        k.score = max(k.score, x.score)
        if isinstance(k, Entity) and isinstance(x, Entity):
            k.mentions += [m for m in x.mentions if m not in k.mentions and x.text == k.text]
        elif isinstance(k, Event) and isinstance(x, Event):
            k.arguments = _unique_args(k.arguments + x.arguments)
    if not parent:
        return d
    d.entities = [e for e in d.entities if e.id not in parent]
    d.events = [v for v in d.events if v.id not in parent]
    relations, seen = [], set()
    for r in d.relations:
        r = r.model_copy(update={"head": root(r.head), "tail": root(r.tail)})
        if r.head != r.tail and (r.type, r.head, r.tail) not in seen:
            seen.add((r.type, r.head, r.tail))
            relations.append(r)
    d.relations = relations
    for v in d.events:
        v.arguments = _unique_args([a.model_copy(update={"entity": root(a.entity)}) for a in v.arguments])
    return d

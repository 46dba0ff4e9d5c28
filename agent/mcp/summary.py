"""The short text a tool answers beside its structured content: what a model reads first.

A result: its counts, the run that keeps it, then one line per entity (where it was found:
text spans, image boxes, time segments, video tracks), relation and event, at most
``MAX_LINES`` of them. An answer: its words and each citation with where it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from muie.domain import Entity, Event, Region, Result, Segment, Track

MAX_LINES = 40


def where(g: Any) -> str:
    """One grounding in a few words: ``image0 box [x0, y0, x1, y1]``, ``audio0 1.20-2.05 s``."""
    if isinstance(g, Region):
        box = ", ".join(f"{v:g}" for v in g.bbox)
        return f"{g.input} box [{box}]" + (" with mask" if g.mask is not None else "")
    if isinstance(g, Segment):
        return f"{g.input} {g.start_s:.2f}-{g.end_s:.2f} s"
    if isinstance(g, Track):
        first, last = g.frames[0], g.frames[-1]
        return f"{g.input} track over frames {first.frame}-{last.frame}"
    return str(getattr(g, "input", "?"))


def _entity(e: Entity) -> str:
    places = [f"{m.input}[{m.start}:{m.end}]" for m in e.mentions] + [where(g) for g in e.groundings]
    return f"{e.id} {e.type} {e.text!r}: " + ("; ".join(places) if places else "no place")


def _event(v: Event, names: dict[str, str]) -> str:
    args = ", ".join(f"{a.role}={names.get(a.entity, a.entity)!r}" for a in v.arguments)
    places = [f"{m.input}[{m.start}:{m.end}]" for m in v.trigger.mentions] + [where(g) for g in v.trigger.groundings]
    return f"{v.id} {v.type} triggered by {v.trigger.text!r} ({'; '.join(places) or 'no place'})" + \
        (f": {args}" if args else "")


def result_summary(result: Result, run_id: str | None) -> str:
    """Counts, where the run is kept, and a line per item."""
    inputs = ", ".join(i.id + (f" ({i.path})" if getattr(i, "path", None) else "") for i in result.inputs)
    head = (f"{len(result.entities)} entities, {len(result.relations)} relations, {len(result.events)} events "
            f"from {inputs or 'no input'}.")
    if run_id:
        head += f" Kept as run {run_id} (resource muie://runs/{run_id}; ask about it with ask(run_id=...))."
    names = {e.id: e.text for e in result.entities}
    lines = [_entity(e) for e in result.entities]
    lines += [f"{r.id} {r.type}: {names.get(r.head, r.head)!r} -> {names.get(r.tail, r.tail)!r}"
              for r in result.relations]
    lines += [_event(v, names) for v in result.events]
    return "\n".join([head, *_capped(lines)])


def answer_summary(answer: Any) -> str:
    """The answer's words, then its citations with where each one is."""
    lines = []
    for c in answer.citations:
        place = where(c.grounding) if c.grounding is not None else (
            f"{c.input}[{c.start}:{c.end}]" if c.start is not None else c.input)
        lines.append(f"- {c.what!r}" + (f" ({c.type})" if c.type else "") + f": {place}")
    tail = f"(from {answer.source}; run {answer.run_id or '-'}; thread {answer.thread_id})"
    return "\n".join([answer.answer, *_capped(lines), tail])


def runs_summary(rows: Sequence[Any]) -> str:
    if not rows:
        return "No runs are kept yet."
    lines = [f"{r.run} {r.created[:19]} {', '.join(r.inputs)}: {r.entities} entities, {r.relations} relations, "
             f"{r.events} events" for r in rows]
    return "\n".join([f"{len(rows)} kept run(s), latest first:", *_capped(lines)])


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"... and {len(lines) - MAX_LINES} more (see the structured content)"]

"""Answers to typed queries from what the store keeps of one run: its result and the
texts read off its media (transcripts with word times).

Each answer says where: a region's box, a track's time span, a spoken passage's time
span, a character span in the text; each of those is a ``Citation`` with its grounding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from muie.agent.ask.answer import Citation
from muie.agent.ask.questions import Query, self_introductions
from muie.domain import Entity, Region, Result, Segment, Track

NEAR_S = 1.0
"""A moment asked about matches what is said or seen this close to it."""


@dataclass
class Passage:
    """A sentence read off a media input, with its time span (speech) or none (words read)."""

    input: str
    text: str
    start_s: float | None
    end_s: float | None


@dataclass
class Memory:
    """What is known of the media of one run."""

    run_id: str
    result: Result
    text: str | None
    texts: list[dict[str, Any]]  # rows of memory.tables.ReadText as dicts: input_id, kind, text, words
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> dict[str, str]:
        return {i.id: i.path for i in self.result.inputs if getattr(i, "path", None)}

    def passages(self, kind: str = "speech") -> list[Passage]:
        out = []
        for t in self.texts:
            if t["kind"] != kind:
                continue
            out += _sentences(t["input_id"], t["text"], t["words"])
        return out


@dataclass
class Reply:
    answer: str
    citations: list[Citation]
    focus: str | None = None
    found: bool = True


def clock(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m)}:{s:04.1f}"


def _sentences(input_id: str, text: str, words: list[dict[str, Any]]) -> list[Passage]:
    out = []
    for m in re.finditer(r"[^.!?]+[.!?]*", text):
        s, e = m.start(), m.end()
        body = m.group().strip()
        if not body:
            continue
        timed = [w for w in words if w.get("start", 0) < e and s < w.get("end", 0) and w.get("start_s") is not None]
        out.append(Passage(input_id, body, timed[0]["start_s"] if timed else None,
                           timed[-1]["end_s"] if timed else None))
    return out


def _words(text: str) -> list[str]:
    return [w.strip(".,;:!?'\"()").lower() for w in text.split() if w.strip(".,;:!?'\"()")]


def _names(target: str, text: str) -> bool:
    """``target``'s words are in ``text`` (or spelled closely: a transcript misses a letter)."""
    t, x = _words(target), _words(text)
    if not t:
        return False
    n = len(t)
    for i in range(len(x) - n + 1):
        window = " ".join(x[i:i + n])
        if x[i:i + n] == t or SequenceMatcher(None, window, " ".join(t)).ratio() >= 0.85:
            return True
    return False


def match_entities(target: str | None, etype: str | None, result: Result) -> list[Entity]:
    """Entities the words name: by name, by what a region was seen as (its label), by type."""
    scored = []
    for e in result.entities:
        score = 0.0
        if target:
            if _words(target) == _words(e.text):
                score = 3.0
            elif _names(target, e.text) or _names(e.text, target):
                score = 2.0
            elif any(g.kind == "region" and g.label and (_names(target, g.label) or _names(g.label, target))
                     for g in e.groundings):
                score = 1.5
            elif _words(target) in ([e.type.lower()], [e.type.lower() + "s"]):
                score = 1.0
        elif etype and e.type == etype:
            score = 1.0
        if etype and e.type != etype and target is None:
            score = 0.0
        if score:
            scored.append((score, e))
    if not scored:
        return []
    best = max(s for s, _ in scored)
    return [e for s, e in scored if s == best]


def where(e: Entity, mem: Memory) -> tuple[list[str], list[Citation]]:
    """Every place an entity is grounded, in words and as citations."""
    said, cites = [], []
    for m in e.mentions:
        said.append(f"named in the text at characters {m.start}-{m.end}")
        cites.append(Citation(what=e.text, type=e.type, input=m.input, start=m.start, end=m.end))
    for g in e.groundings:
        c = Citation(what=e.text, type=e.type, input=g.input, media=mem.hashes.get(g.input),
                     path=mem.paths.get(g.input), grounding=g)
        if isinstance(g, Region):
            x0, y0, x1, y1 = (round(v) for v in g.bbox)
            said.append(f"in {g.input} at box [{x0}, {y0}, {x1}, {y1}]" + (" with its mask" if g.mask else "")
                        + (f" (seen as {g.label})" if g.label and g.label.lower() != e.text.lower() else ""))
        elif isinstance(g, Segment):
            said.append(f"heard in {g.input} at {clock(g.start_s)}-{clock(g.end_s)}")
        elif isinstance(g, Track):
            times = [f.time_s for f in g.frames if f.time_s is not None]
            span = (f"{clock(min(times))}-{clock(max(times))}" if times
                    else f"frames {g.frames[0].frame}-{g.frames[-1].frame}")
            said.append(f"seen in {g.input} at {span} ({len(g.frames)} frames tracked)")
        cites.append(c)
    return said, cites


def _passage_cite(p: Passage, mem: Memory) -> Citation:
    g = Segment(input=p.input, start_s=p.start_s, end_s=max(p.end_s or p.start_s, p.start_s)) \
        if p.start_s is not None else None
    return Citation(what=p.text, input=p.input, media=mem.hashes.get(p.input), path=mem.paths.get(p.input), grounding=g)


def _span(p: Passage) -> str:
    if p.start_s is None:
        return f" ({p.input})"
    return f" ({p.input}, {clock(p.start_s)}-{clock(p.end_s or p.start_s)})"


def at_time(t: float, mem: Memory) -> Passage | None:
    """The spoken sentence at ``t``, or the nearest one within ``NEAR_S``."""
    timed = [p for p in mem.passages() if p.start_s is not None]
    inside = [p for p in timed if p.start_s - 0.05 <= t <= (p.end_s or p.start_s) + 0.05]
    if inside:
        return inside[0]
    near = sorted(timed, key=lambda p: min(abs(p.start_s - t), abs((p.end_s or p.start_s) - t)))
    if near and min(abs(near[0].start_s - t), abs((near[0].end_s or 0) - t)) <= NEAR_S:
        return near[0]
    return None


def answer(q: Query, mem: Memory) -> Reply:
    return _ANSWERS[q.kind](q, mem)


def _where(q: Query, mem: Memory) -> Reply:
    found = match_entities(q.target, q.entity_type, mem.result)
    if not found:
        what = q.target or q.entity_type or "that"
        return Reply(f"I found no {what} in these inputs.", [], found=False)
    lines, cites = [], []
    for e in found:
        said, c = where(e, mem)
        lines.append(f"{e.text} ({e.type}) is " + ("; ".join(said) if said else "extracted but not grounded") + ".")
        cites += c
    return Reply(" ".join(lines), cites, focus=found[0].text)


def _when(q: Query, mem: Memory) -> Reply:
    found = match_entities(q.target, q.entity_type, mem.result)
    lines, cites = [], []
    for e in found:
        for g in e.groundings:
            if isinstance(g, (Segment, Track)):
                said, c = where(e.model_copy(update={"mentions": [], "groundings": [g]}), mem)
                lines += said
                cites += c
    if not lines and q.target:  # said, though not as an entity of the schema
        for p in mem.passages():
            if _names(q.target, p.text) and p.start_s is not None:
                lines.append(f"said at {clock(p.start_s)}-{clock(p.end_s or p.start_s)}: \"{p.text}\"")
                cites.append(_passage_cite(p, mem))
    if not lines:
        return Reply(f"I found no time when {q.target or 'that'} is heard or seen.", [], found=False)
    name = found[0].text if found else q.target
    return Reply(f"{name} is " + "; ".join(lines) + ".", cites, focus=name)


def _said_about(q: Query, mem: Memory) -> Reply:
    names = [q.target] if q.target else []
    names += [e.text for e in match_entities(q.target, q.entity_type, mem.result)]
    hits = [p for p in mem.passages() if any(n and _names(n, p.text) for n in names)]
    if not hits:
        if not mem.passages():
            return Reply("Nothing is said in these inputs (no speech was transcribed).", [], found=False)
        return Reply(f"Nothing said mentions {q.target or 'that'}.", [], found=False)
    text = " ".join(f"\"{p.text}\"{_span(p)}" for p in hits)
    return Reply(f"About {q.target}: {text}", [_passage_cite(p, mem) for p in hits], focus=q.target)


def _said_at(q: Query, mem: Memory) -> Reply:
    if q.time_s is None:
        return _said_about(q, mem)
    p = at_time(q.time_s, mem)
    if p is None:
        return Reply(f"Nothing is said at {clock(q.time_s)}.", [], found=False)
    return Reply(f"At {clock(q.time_s)}: \"{p.text}\"{_span(p)}", [_passage_cite(p, mem)])


def _who_speaks(q: Query, mem: Memory) -> Reply:
    passages = mem.passages()
    p = at_time(q.time_s, mem) if q.time_s is not None else (passages[0] if passages else None)
    if p is None:
        when = f" at {clock(q.time_s)}" if q.time_s is not None else ""
        return Reply(f"No one is speaking{when}.", [], found=False)
    intro = None
    for other in passages:
        if other.input != p.input:
            continue
        for rx in self_introductions():
            m = rx.search(other.text)
            if m:
                intro = (m.group("name"), other)
                break
        if intro:
            break
    cites = [_passage_cite(p, mem)]
    when = clock(q.time_s) if q.time_s is not None else clock(p.start_s or 0)
    if intro:
        name, where_ = intro
        person = match_entities(name, None, mem.result)
        if where_ is not p:
            cites.append(_passage_cite(where_, mem))
        for e in person[:1]:
            cites += where(e, mem)[1]
        return Reply(f"{name} is speaking at {when}: they introduce themselves{_span(where_)} "
                     f"(\"{where_.text}\"), and at {when} they say \"{p.text}\"{_span(p)}.", cites, focus=name)
    return Reply(f"The speaker at {when} does not say their name; they say \"{p.text}\"{_span(p)}.", cites)


def _list(q: Query, mem: Memory) -> Reply:
    items = [e for e in mem.result.entities if q.entity_type is None or e.type == q.entity_type]
    if q.time_s is not None:
        t = q.time_s
        items = [e for e in items if any(isinstance(g, Segment) and g.start_s - NEAR_S <= t <= g.end_s + NEAR_S
                                         or isinstance(g, Track)
                                         and any(f.time_s is not None and abs(f.time_s - t) <= NEAR_S
                                                 for f in g.frames)
                                         for g in e.groundings)]
    what = q.entity_type or "entity"
    if not items:
        when = f" at {clock(q.time_s)}" if q.time_s is not None else ""
        return Reply(f"No {what} is found{when}.", [], found=False)
    lines, cites = [], []
    for e in items:
        said, c = where(e, mem)
        if q.time_s is not None:
            keep = [k for k, x in enumerate(c) if isinstance(x.grounding, (Segment, Track))]
            said, c = [said[k] for k in keep], [c[k] for k in keep]
        lines.append(f"{e.text} ({e.type}" + (": " + "; ".join(said) if said else "") + ")")
        cites += c
    return Reply(f"{len(items)} found: " + ", ".join(lines) + ".", cites, focus=items[0].text)


def _events(q: Query, mem: Memory) -> Reply:
    names = {e.id: e.text for e in mem.result.entities}
    if not mem.result.events:
        return Reply("No event is found.", [], found=False)
    lines, cites = [], []
    for v in mem.result.events:
        args = ", ".join(f"{a.role} = {names.get(a.entity, a.entity)}" for a in v.arguments)
        lines.append(f"{v.type} (\"{v.trigger.text}\"" + (f"; {args}" if args else "") + ")")
        for g in v.trigger.groundings:
            cites.append(Citation(what=v.trigger.text, type=v.type, input=g.input, media=mem.hashes.get(g.input),
                                  path=mem.paths.get(g.input), grounding=g))
        for m in v.trigger.mentions:
            cites.append(Citation(what=v.trigger.text, type=v.type, input=m.input, start=m.start, end=m.end))
    return Reply(f"{len(lines)} event(s): " + "; ".join(lines) + ".", cites)


def _relations(q: Query, mem: Memory) -> Reply:
    names = {e.id: e for e in mem.result.entities}
    rels = mem.result.relations
    if q.target:
        keep = {e.id for e in match_entities(q.target, None, mem.result)}
        rels = [r for r in rels if r.head in keep or r.tail in keep] if keep else rels
    if not rels:
        return Reply("No relation is found.", [], found=False)
    lines, cites = [], []
    for r in rels:
        lines.append(f"{names[r.head].text} {r.type} {names[r.tail].text}")
        for e in (names[r.head], names[r.tail]):
            cites += where(e, mem)[1][:1]
    return Reply("; ".join(lines) + ".", cites)


def _find(q: Query, mem: Memory) -> Reply:
    if q.target is None and q.entity_type is None:
        return _list(q, mem)
    r = _where(q, mem)
    if r.found or not q.target:
        return r
    return _said_about(q, mem)


_ANSWERS = {"where": _where, "who": _where, "when": _when, "said_about": _said_about, "said_at": _said_at,
            "who_speaks": _who_speaks, "list": _list, "events": _events, "relations": _relations, "find": _find}

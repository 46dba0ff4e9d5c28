"""The assistant turn of a record, both ways: the gold as an extraction plus one
``<Module>/<Instruction>`` meta-response per grounding, and that text read back.

What a case's gold becomes (``gold_view``):

- entities as (words, type), the same name and type being one entity (CoNLL repeats one
  per span), each with the inputs it is in (``text``, ``image0``...);
- relations as (head, type, tail) and events as (type, trigger words, arguments), ends and
  arguments named by the entity's words and type;
- groundings as the tool call that would produce each (``TOOL_FOR``): a region with a mask
  is a thing shown (``segment_image.v1`` by its words and type), a region without one is
  words written in the image (``read_text.v1`` inside the words' box: the contract's OCR
  grounding), a track is ``track_video.v1`` by words, a time segment (audio, or a video's
  sound track) is ``segment_audio.v1`` by the words said (or the sound class it is labelled
  with). Event triggers are grounded the same way.

The text (``render_answer``), mention offsets left out (a model answers words; muie finds
them in the text, as the LLM reasoner does):

    Entities:
    - "Grace Hopper" (person) in text, image0, audio0
    Relations:
    - "Grace Hopper" (person) born_in "New York City" (location)
    Events:
    - Transport "traveled" in audio0: Agent "Maria Lopez" (person); Origin "Madrid" (location)

    Grounding:
    "Grace Hopper" (person) in image0: <Module>segment_image.v1</Module><Instruction>{...}</Instruction>
    trigger "traveled" (Transport) in audio0: <Module>segment_audio.v1</Module><Instruction>{...}</Instruction>

Words are JSON strings (quotes and backslashes escaped); the blocks are written by
``reasoner.meta_response.render`` and read back by its ``parse``. ``parse_answer`` reads
the whole turn back; ``round_trip`` says how a turn differs from the gold it was made from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from muie.domain import Entity, Region, Result, Schema, Segment, Track
from muie.reasoner.meta_response import parse as parse_meta
from muie.reasoner.meta_response import render as render_meta
from muie.tools import TOOL_CALL, ToolCall

Ref = tuple[str, str]
"""An entity as the turn names it: (words, type); a trigger: (words, event type)."""

SECTIONS = ("Entities:", "Relations:", "Events:", "Grounding:")
NONE = "- (none)"
_Q = r'"(?:[^"\\]|\\.)*"'
_REF = rf"(?P<{{n}}>{_Q}) \((?P<{{n}}_t>[^()]+)\)"
_ENTITY = re.compile(rf"^- {_REF.format(n='e')}(?: in (?P<where>.+))?$")
_RELATION = re.compile(rf"^- {_REF.format(n='h')} (?P<type>.+?) {_REF.format(n='t')}$")
_EVENT = re.compile(rf"^- (?P<type>.+?) (?P<trig>{_Q})(?: in (?P<where>[^:]+))?(?:: (?P<args>.*))?$")
_ARG = re.compile(rf"(?:^|; )(?P<role>[^;\"]+?) {_REF.format(n='a')}")
_STEP = re.compile(rf"^(?P<trigger>trigger )?{_REF.format(n='r')} in (?P<input>\S+): (?P<block><Module>.*)$")


def q(words: str) -> str:
    return json.dumps(words, ensure_ascii=False)


def _unq(quoted: str) -> str:
    return str(json.loads(quoted))


@dataclass(frozen=True)
class Step:
    """One grounding to produce: who (an entity or a trigger), where, and the call."""

    ref: Ref
    trigger: bool
    input: str
    call: ToolCall

    @property
    def item(self) -> tuple[str, str, bool, str, str]:
        return (*self.ref, self.trigger, self.input, self.call.tool)


@dataclass
class GoldView:
    """A case's gold as the turn states it (see the module's docstring)."""

    entities: dict[Ref, tuple[str, ...]] = field(default_factory=dict)
    relations: set[tuple[Ref, str, Ref]] = field(default_factory=set)
    events: set[tuple[str, str, tuple[str, ...], frozenset[tuple[str, Ref]]]] = field(default_factory=set)
    steps: list[Step] = field(default_factory=list)
    media: dict[str, str] = field(default_factory=dict)  # input id -> modality

    def tasks(self) -> list[str]:
        return [t for t, has in (("ner", self.entities), ("re", self.relations), ("ee", self.events)) if has]


def tool_for(g: Region | Segment | Track) -> str:
    """The tool that produces a grounding of this kind."""
    if isinstance(g, Region):
        return "segment_image.v1" if g.mask is not None else "read_text.v1"
    return TOOL_FOR[g.kind]


TOOL_FOR = {"track": "track_video.v1", "segment": "segment_audio.v1"}
"""Tools by grounding kind; a region's tool depends on its mask (``tool_for``)."""


def _call(words: str, type_: str, g: Region | Segment | Track, trigger: bool) -> ToolCall:
    tool = tool_for(g)
    args: dict[str, Any] = {"input": g.input}
    if tool == "read_text.v1":
        args["box"] = list(g.bbox)  # type: ignore[union-attr]
    elif tool == "segment_audio.v1":
        label = g.label  # type: ignore[union-attr]
        args |= {"target": label, "kind": "sound"} if label else {"target": words, "kind": "phrase"}
    else:
        args["text"] = words
        if not trigger:
            args["entity_type"] = type_
    return TOOL_CALL.validate_python({"tool": tool, "arguments": args})


def _where(mentions: list[Any], groundings: list[Any], order: list[str]) -> tuple[str, ...]:
    found = {m.input for m in mentions} | {g.input for g in groundings}
    return tuple(i for i in order if i in found)


def gold_view(result: Result) -> GoldView:
    """The gold of one case in the turn's terms."""
    order = [i.id for i in result.inputs]
    view = GoldView(media={i.id: i.modality for i in result.inputs if i.modality != "text"})
    refs: dict[str, Ref] = {}
    seen: set[tuple[str, str, bool, str, str]] = set()

    def add_steps(ref: Ref, groundings: list[Any], trigger: bool) -> None:
        for g in groundings:
            step = Step(ref, trigger, g.input, _call(ref[0], ref[1], g, trigger))
            key = (*step.item, step.call.model_dump_json())
            if key not in seen:
                seen.add(key)
                view.steps.append(step)

    for e in result.entities:
        ref = (e.text, e.type)
        refs[e.id] = ref
        where = _where(e.mentions, e.groundings, order)
        before = view.entities.get(ref, ())
        view.entities[ref] = tuple(i for i in order if i in set(before) | set(where))
        add_steps(ref, e.groundings, False)
    view.relations = {(refs[r.head], r.type, refs[r.tail]) for r in result.relations}
    for v in result.events:
        where = _where(v.trigger.mentions, v.trigger.groundings, order)
        view.events.add((v.type, v.trigger.text, where, frozenset((a.role, refs[a.entity]) for a in v.arguments)))
        add_steps((v.trigger.text, v.type), v.trigger.groundings, True)
    return view


def _ref(ref: Ref) -> str:
    return f"{q(ref[0])} ({ref[1]})"


def render_extraction(view: GoldView, schema: Schema) -> str:
    lines = ["Entities:"]
    for ref, where in view.entities.items():
        lines.append(f"- {_ref(ref)}" + (f" in {', '.join(where)}" if where else ""))
    if len(lines) == 1:
        lines.append(NONE)
    if schema.relation_types or view.relations:
        lines.append("Relations:")
        rels = sorted(view.relations)
        lines += [f"- {_ref(h)} {t} {_ref(tl)}" for h, t, tl in rels] or [NONE]
    if schema.event_types or view.events:
        lines.append("Events:")
        for type_, trig, where, args in sorted(view.events, key=lambda v: (v[0], v[1], v[2])):
            line = f"- {type_} {q(trig)}" + (f" in {', '.join(where)}" if where else "")
            if args:
                line += ": " + "; ".join(f"{role} {_ref(ref)}" for role, ref in sorted(args))
            lines.append(line)
        if lines[-1] == "Events:":
            lines.append(NONE)
    return "\n".join(lines)


def render_steps(steps: list[Step]) -> str:
    """One line per step: who, where, and its meta-response block."""
    out = []
    for s in steps:
        who = ("trigger " if s.trigger else "") + _ref(s.ref)
        out.append(f"{who} in {s.input}: {render_meta([s.call])}")
    return "\n".join(out)


def render_answer(view: GoldView, schema: Schema, lead: str = "") -> str:
    """The assistant turn: an optional lead (reasoning), the extraction, the groundings."""
    parts = [lead.strip()] if lead.strip() else []
    parts.append(render_extraction(view, schema))
    if view.steps:
        parts.append("Grounding:\n" + render_steps(view.steps))
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- reading back


@dataclass
class ParsedAnswer:
    view: GoldView = field(default_factory=GoldView)
    errors: list[str] = field(default_factory=list)


def _where_list(text: str | None) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",")) if text else ()


def parse_answer(text: str) -> ParsedAnswer:
    """The extraction and the steps of an assistant turn; what does not read is an error."""
    out = ParsedAnswer()
    lines = text.splitlines()
    start = next((k for k, ln in enumerate(lines) if ln == "Entities:"), None)
    if start is None:
        out.errors.append("no 'Entities:' section")
        return out
    section = ""
    for n, line in enumerate(lines[start:], start + 1):
        if line in SECTIONS:
            section = line
            continue
        if not line.strip() or line == NONE:
            continue
        try:
            _read_line(out.view, section, line)
        except (ValueError, KeyError) as e:
            out.errors.append(f"line {n} ({section[:-1].lower()}): {e}: {line[:80]!r}")
    return out


def _read_line(view: GoldView, section: str, line: str) -> None:
    if section == "Entities:":
        m = _match(_ENTITY, line)
        view.entities[(_unq(m["e"]), m["e_t"])] = _where_list(m["where"])
    elif section == "Relations:":
        m = _match(_RELATION, line)
        view.relations.add(((_unq(m["h"]), m["h_t"]), m["type"], (_unq(m["t"]), m["t_t"])))
    elif section == "Events:":
        m = _match(_EVENT, line)
        args = frozenset((a["role"], (_unq(a["a"]), a["a_t"])) for a in _ARG.finditer(m["args"] or ""))
        if m["args"] and not args:
            raise ValueError("arguments do not read as 'Role \"words\" (type)'")
        view.events.add((m["type"], _unq(m["trig"]), _where_list(m["where"]), args))
    elif section == "Grounding:":
        m = _match(_STEP, line)
        parsed = parse_meta(m["block"])
        if parsed.errors or len(parsed.calls) != 1:
            raise ValueError("; ".join(parsed.errors) or f"{len(parsed.calls)} blocks, not one")
        view.steps.append(Step((_unq(m["r"]), m["r_t"]), bool(m["trigger"]), m["input"], parsed.calls[0]))
    else:
        raise ValueError("text outside a section")


def _match(pattern: re.Pattern[str], line: str) -> re.Match[str]:
    m = pattern.match(line)
    if m is None:
        raise ValueError("does not read as a line of its section")
    return m


def _target(call: ToolCall) -> str | None:
    a = call.arguments
    return getattr(a, "text", None) or getattr(a, "target", None)


def round_trip(text: str, result: Result) -> list[str]:
    """How the assistant turn ``text`` differs from the gold ``result``: empty when its
    extraction reads back as the gold's and its meta-responses name exactly the gold's
    grounded items (words, type, input, tool), each call aimed at its item."""
    parsed = parse_answer(text)
    gold = gold_view(result)
    bad = list(parsed.errors)
    got = parsed.view
    for name in ("entities", "relations", "events"):
        if getattr(got, name) != getattr(gold, name):
            bad.append(f"{name} differ: read {getattr(got, name)!r}, gold {getattr(gold, name)!r}")
    want_items = _gold_items(result)
    got_items = {s.item for s in got.steps}
    if got_items != want_items:
        bad.append(f"grounded items differ: missing {sorted(want_items - got_items)}, "
                   f"extra {sorted(got_items - want_items)}")
    boxes = {(e.text, g.input, tuple(g.bbox)) for e in result.entities for g in e.groundings
             if isinstance(g, Region) and g.mask is None}
    for s in got.steps:
        called = s.call.arguments.input  # type: ignore[union-attr]
        if called != s.input:
            bad.append(f"{s.ref}: the call names {called}, the line {s.input}")
        if s.call.tool == "read_text.v1":
            box = tuple(s.call.arguments.box or ())  # type: ignore[union-attr]
            if (s.ref[0], s.input, box) not in boxes:
                bad.append(f"{s.ref}: read_text box {list(box)} is no gold region of it in {s.input}")
        elif _target(s.call) != s.ref[0] and not _labelled(result, s):
            bad.append(f"{s.ref}: the call looks for {_target(s.call)!r}, not its words")
    return bad


def _gold_items(result: Result) -> set[tuple[str, str, bool, str, str]]:
    """Straight from the gold: (words, type, is trigger, input, tool) of every grounding."""
    items = {(e.text, e.type, False, g.input, tool_for(g)) for e in result.entities for g in e.groundings}
    items |= {(v.trigger.text, v.type, True, g.input, tool_for(g)) for v in result.events for g in v.trigger.groundings}
    return items


def _labelled(result: Result, step: Step) -> bool:
    """A segment the gold labels with a sound class is looked for by that class."""
    target = _target(step.call)
    owners: list[Entity | Any] = [e for e in result.entities if (e.text, e.type) == step.ref and not step.trigger]
    owners += [v.trigger for v in result.events if (v.trigger.text, v.type) == step.ref and step.trigger]
    return any(isinstance(g, Segment) and g.label == target for o in owners for g in o.groundings)

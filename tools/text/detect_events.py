"""``detect_events.v1``: event triggers of the user's types and their arguments.

Triggers: verbs and nouns of the chunk, compared by meaning (their lemma) with the
event type names; nouns need a clearer match than verbs. Arguments: the trigger's
syntactic slots (subject, object, prepositional objects, possessor), each described in
words (``prompts/argument_slots.yaml``) and given the schema role closest in meaning to
the slot and to the argument's entity type, solved jointly (one role per slot, one slot
per role) with the Hungarian method. A slot filler that is no entity yet becomes one
when its noun phrase is close enough to one of the schema's entity types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from muie import prompts
from muie.calls import Args, CallKey, SpanRef
from muie.spans import ArgumentCandidate, EventCandidate, SpanCandidate, TextSpanArgs
from muie.tools.assignment import max_assignment
from muie.tools.base import Tool, ToolContext
from muie.tools.models.text_models import lemmatize, parse_many
from muie.tools.text.checks import check_span
from muie.tools.text.meaning import describe, embed, type_similarity
from muie.tools.text.syntax import locate, trim

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Span, Token


class DetectEventsArgs(TextSpanArgs):
    event_types: dict[str, list[str]] = Field(min_length=1)
    entities: list[SpanRef] = Field(default_factory=list)
    entity_types: list[str] = Field(default_factory=list, description="Types for arguments not yet an entity.")
    threshold: float | None = Field(default=None, ge=0, le=1)
    role_threshold: float | None = Field(default=None, ge=0, le=1, description="Override the least score of an "
                                         "argument for a role (a second look for arguments).")


class DetectEventsResult(BaseModel):
    events: list[EventCandidate] = Field(default_factory=list)


class DetectEvents(Args):
    """Find event triggers of the schema's types and their arguments in a chunk of text."""

    tool: Literal["detect_events.v1"] = "detect_events.v1"
    arguments: DetectEventsArgs


NOUN_MARGIN = 0.1  # nouns need this much more similarity than verbs to be triggers
SLOT_W = 0.6  # weight of slot meaning against entity-type meaning when choosing a role
_VALUE_ENTS = {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"}
_AUX_LEMMAS = {"be", "have", "do", "say", "get", "make"}


def _slots(trigger: Token) -> list[tuple[str, Token]]:
    """(slot name, filler token) for the trigger's arguments."""
    out: list[tuple[str, Token]] = []
    heads = [trigger]
    if trigger.dep_ in ("xcomp", "conj", "advcl") and not any(c.dep_.startswith("nsubj") for c in trigger.children):
        heads.append(trigger.head)  # "tried to flee": the subject is the head's
    for h in heads:
        for c in h.children:
            if h is not trigger and not c.dep_.startswith("nsubj"):
                continue
            if c.dep_ in ("nsubj", "nsubjpass", "dobj", "poss", "compound") and c.pos_ in ("PROPN", "NOUN", "PRON"):
                out.append((c.dep_, c))
            elif c.dep_ in ("prep", "agent"):
                for g in c.children:
                    if g.dep_ == "pobj":
                        out.append(("agent" if c.dep_ == "agent" else f"prep_{c.lower_}", g))
    return out


def _noun_phrase(tok: Token) -> Span:
    for nc in tok.doc.noun_chunks:
        if nc.start <= tok.i < nc.end:
            start = nc.start + (1 if nc[0].pos_ in ("DET", "PRON") and len(nc) > 1 else 0)
            return tok.doc[start : nc.end]
    return tok.doc[tok.i : tok.i + 1]


class DetectEventsTool(Tool[DetectEventsArgs, DetectEventsResult]):
    name = "detect_events.v1"
    modality = "text"
    call_model = DetectEvents
    result_model = DetectEventsResult

    def key(self, args: DetectEventsArgs) -> CallKey:
        return CallKey(tool=self.name, input=args.input, span=(args.start, args.end),
                       threshold=args.role_threshold or args.threshold, given=len(args.entities))

    def check(self, args: DetectEventsArgs, ctx: ToolContext) -> None:
        check_span(args, ctx)

    def run_batch(self, items: list[tuple[DetectEventsArgs, ToolContext]]) -> list[DetectEventsResult]:
        if not items:
            return []
        which = items[0][1].settings.spacy_model
        docs = lemmatize(parse_many([ctx.chunk(a.input, a.start, a.end) for a, ctx in items], which), which)
        cands = [
            [t for t in doc if t.pos_ in ("VERB", "NOUN") and t.lemma_.lower() not in _AUX_LEMMAS and t.is_alpha]
            for doc in docs
        ]
        lemma_vecs = embed([t.lemma_.lower() for c in cands for t in c])
        results, k = [], 0
        for (args, ctx), doc, toks in zip(items, docs, cands):
            desc = dict(sorted(ctx.descriptions.items()))
            types = list(args.event_types)
            sims = type_similarity(lemma_vecs[k : k + len(toks)], types, desc)
            k += len(toks)
            threshold = args.threshold if args.threshold is not None else ctx.settings.event_threshold
            spans = locate(doc, args.start, args.entities)
            events = []
            for tok, row in zip(toks, sims):
                j = int(np.argmax(row))
                need = threshold + (NOUN_MARGIN if tok.pos_ == "NOUN" else 0.0)
                if row[j] < need:
                    continue
                trigger = SpanCandidate(start=args.start + tok.idx, end=args.start + tok.idx + len(tok.text),
                                        text=tok.text, type=types[j], score=round(float(row[j]), 4), source=tok.pos_)
                arguments = self._arguments(tok, args.event_types[types[j]], spans, args, ctx, desc)
                events.append(EventCandidate(type=types[j], trigger=trigger, score=trigger.score, arguments=arguments))
            results.append(DetectEventsResult(events=_drop_nested_triggers(events)))
        return results

    def _arguments(self, tok: Token, roles: list[str], spans: list[tuple[SpanRef, Span]],
                   args: DetectEventsArgs, ctx: ToolContext, desc: dict[str, str]) -> list[ArgumentCandidate]:
        if not roles:
            return []
        slot_text = prompts.load("argument_slots.yaml")
        fillers: list[tuple[str, SpanRef | None, Span, str]] = []  # slot, entity or None, span, type words
        for slot, filler in _slots(tok):
            if slot not in slot_text:
                continue
            np_span = trim(_noun_phrase(filler))
            if np_span is None:
                continue
            # the entity the filler belongs to: the one holding it, else one inside its phrase
            ent = next(((r, s) for r, s in spans if s.start <= filler.i < s.end), None) or next(
                ((r, s) for r, s in spans if np_span.start <= s.root.i < np_span.end), None)
            if ent is not None:
                fillers.append((slot, ent[0], ent[1], ent[0].type))
            elif args.entity_types and filler.pos_ != "PRON":
                if filler.ent_type_ in _VALUE_ENTS:
                    continue  # dates and amounts are not arguments here
                sim = type_similarity(embed([np_span.text]), args.entity_types, desc)[0]
                best = int(np.argmax(sim))
                if sim[best] >= ctx.settings.argument_threshold:
                    fillers.append((slot, None, np_span, args.entity_types[best]))
        if not fillers:
            return []
        slot_vecs = embed([slot_text[s].format(verb=tok.text.lower()) for s, *_ in fillers])
        type_vecs = embed([describe(t, desc) for *_, t in fillers])
        score = (SLOT_W * type_similarity(slot_vecs, roles, desc)
                 + (1 - SLOT_W) * type_similarity(type_vecs, roles, desc))
        rows, cols = max_assignment(score)
        out = []
        for r, c in zip(rows, cols):
            s = float(score[r, c])
            if s < (ctx.settings.role_threshold if args.role_threshold is None else args.role_threshold):
                continue
            slot, ref, span, type_ = fillers[r]
            if ref is not None:
                out.append(ArgumentCandidate(role=roles[c], entity=ref.id, score=round(s, 4)))
            else:
                new = SpanCandidate(start=args.start + span.start_char, end=args.start + span.end_char,
                                    text=span.text, type=type_, score=round(s, 4), source=f"argument:{slot}")
                out.append(ArgumentCandidate(role=roles[c], span=new, score=round(s, 4)))
        return out


def _drop_nested_triggers(events: list[EventCandidate]) -> list[EventCandidate]:
    """A noun trigger inside another event's argument ("with a truck [bomb]") is part of
    that argument, not an event of its own."""
    spans = [(a.span.start, a.span.end) for e in events for a in e.arguments if a.span is not None]
    return [
        e for e in events
        if e.trigger.source != "NOUN" or not any(s <= e.trigger.start and e.trigger.end <= t for s, t in spans)
    ]

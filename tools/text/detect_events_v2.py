"""``detect_events.v2``: event triggers of the user's types and their arguments, by muie's own models.

Triggers: the event model (the entity model's span scorer, trained on triggers) scores
every span of up to a few words of each sentence against each event type's phrase
(``type_names.event_phrase``: ``Life.Die.Unspecified`` reads "die", ``Attack`` "attack";
a description, when the schema gives one, is averaged in) and keeps the best
non-overlapping spans over its threshold. Arguments: the argument model (the pair
model) scores each (trigger, entity of the same sentence) pair against "<role> in <event
type>" for the roles of the trigger's type; an entity takes its best role when it
reaches the threshold. Then v1's reading of the parser's slots ("from Florida", "to
Kazakhstan", the subject) gives a role to an entity the model left without one, when no
argument of that event holds the role yet (GENEVA val argument F1 given the entities
0.320 with it, 0.320 without; WikiEvents dev 0.095 against 0.072). Arguments are the
entities found so far (the entity step runs first), so an argument no entity finder found
is not read.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from muie.calls import Args
from muie.spans import ArgumentCandidate, EventCandidate, SpanCandidate
from muie.tools.base import ToolContext
from muie.tools.models.entity_model import WEIGHTS, entity_model
from muie.tools.models.pair_model import pair_model
from muie.tools.models.text_models import lemmatize, parse_many
from muie.tools.models.word_features import split_words
from muie.tools.text.detect_events import DetectEventsArgs, DetectEventsResult, DetectEventsTool
from muie.tools.text.extract_relations_v2 import word_span
from muie.tools.text.meaning import embed
from muie.tools.text.recognize_entities_v2 import DESCRIPTION_W, split_sentences
from muie.tools.text.syntax import locate
from muie.tools.text.type_names import argument_phrase, event_phrase

EVENTS = WEIGHTS.with_name("events.onnx")  # the trigger model (made by make model)
ARGUMENTS = WEIGHTS.with_name("arguments.onnx")  # the argument model


class DetectEventsV2(Args):
    """Find event triggers of the schema's types and their arguments in a chunk of text, with muie's learned models."""

    tool: Literal["detect_events.v2"] = "detect_events.v2"
    arguments: DetectEventsArgs


def event_vectors(types: list[str], descriptions: dict[str, str]) -> np.ndarray:
    """Unit vectors of the event types' phrases, each with its description averaged in when given."""
    vecs = embed([event_phrase(t) for t in types])
    with_desc = [i for i, t in enumerate(types) if descriptions.get(t)]
    if with_desc:
        d = embed([descriptions[types[i]] for i in with_desc])
        vecs[with_desc] = (1 - DESCRIPTION_W) * vecs[with_desc] + DESCRIPTION_W * d
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs


def _models():  # type: ignore[no-untyped-def]
    return entity_model(EVENTS), pair_model(ARGUMENTS)


class DetectEventsV2Tool(DetectEventsTool):
    """v1's arguments, result, key and checks; the events from the learned trigger and argument models."""

    name = "detect_events.v2"
    call_model = DetectEventsV2

    def run_batch(self, items: list[tuple[DetectEventsArgs, ToolContext]]) -> list[DetectEventsResult]:
        if not items:
            return []
        triggers, arguments = _models()
        groups: dict[tuple, list[int]] = {}  # one schema's items, read in one pass of each model
        for n, (args, ctx) in enumerate(items):
            desc = tuple(sorted((k, v) for k, v in ctx.descriptions.items() if k in args.event_types))
            key = (tuple((t, tuple(r)) for t, r in args.event_types.items()), desc, args.threshold, args.role_threshold)
            groups.setdefault(key, []).append(n)
        out: list[list[EventCandidate]] = [[] for _ in items]
        for members in groups.values():
            args0, ctx0 = items[members[0]]
            types = list(args0.event_types)
            desc = {k: v for k, v in ctx0.descriptions.items() if k in args0.event_types}
            # every sentence of the group's items: (item, character span, word spans, words)
            sents = []
            for n in members:
                args, ctx = items[n]
                text = ctx.chunk(args.input, args.start, args.end)
                for a, b in split_sentences(text):
                    ws = [(a + s, a + e) for s, e in split_words(text[a:b])]
                    sents.append((n, text, (a, b), ws, [text[s:e] for s, e in ws]))
            found = triggers.predict([s[4] for s in sents], event_vectors(types, desc), args0.threshold)
            labels = [(t, r) for t in types for r in args0.event_types[t]]
            events = []  # (start word, end word, type index, score, [(entity id, word span)]) of each trigger
            for (n, _, (a, b), ws, _), spans in zip(sents, found):
                args = items[n][0]
                refs = []
                for r in args.entities:
                    s, e = r.start - args.start, r.end - args.start
                    if a <= s and e <= b and (span := word_span(ws, s, e)):
                        refs.append((r.id, span))
                for ws_, we, t, p in spans:
                    events.append((ws_, we, t, p, [(rid, sp) for rid, sp in refs if sp[1] <= ws_ or we <= sp[0]]))
            # the sentence of each event, kept beside it
            owners = [si for si, spans in enumerate(found) for _ in spans]
            probs: list[np.ndarray] = [np.zeros((0, len(labels)))] * len(events)
            todo = [k for k, ev in enumerate(events) if ev[4]]
            if labels and todo:
                vecs = embed([argument_phrase(r, t) for t, r in labels])
                scored = arguments.score([sents[owners[k]][4] for k in todo],
                                         [[((events[k][0], events[k][1]), sp) for _, sp in events[k][4]] for k in todo],
                                         vecs)
                for k, p in zip(todo, scored):
                    probs[k] = p
            role_threshold = args0.role_threshold if args0.role_threshold is not None else arguments.threshold
            for k, (a, b, t, p, refs) in enumerate(events):
                n, text, _, ws, _ = sents[owners[k]]
                start = items[n][0].start
                s, e = ws[a][0], ws[b - 1][1]
                trigger = SpanCandidate(start=start + s, end=start + e, text=text[s:e], type=types[t],
                                        score=round(p, 4), source="event_model")
                mine = np.array([lab[0] == types[t] for lab in labels], bool)
                found_args = []
                for (rid, _), row in zip(refs, probs[k]):
                    row = np.where(mine, np.nan_to_num(row), 0.0)
                    j = int(row.argmax()) if len(row) else -1
                    if j >= 0 and row[j] >= role_threshold:
                        found_args.append(ArgumentCandidate(role=labels[j][1], entity=rid,
                                                            score=round(float(row[j]), 4)))
                out[n].append(EventCandidate(type=types[t], trigger=trigger, score=trigger.score,
                                             arguments=found_args))
        self._add_slot_arguments(items, out)
        return [DetectEventsResult(events=sorted(e, key=lambda v: v.trigger.start)) for e in out]

    def _add_slot_arguments(self, items: list[tuple[DetectEventsArgs, ToolContext]],
                            out: list[list[EventCandidate]]) -> None:
        """v1's reading of the parser's slots ("from Florida", "to Kazakhstan", the subject) for
        each event found: an entity the model gave no role takes the role its slot gives, when
        no argument of that event holds that role yet."""
        todo = [n for n, (args, _) in enumerate(items) if out[n] and args.entities]
        if not todo:
            return
        which = items[0][1].settings.spacy_model
        docs = lemmatize(parse_many([items[n][1].chunk(items[n][0].input, items[n][0].start, items[n][0].end)
                                     for n in todo], which), which)
        for n, doc in zip(todo, docs):
            (args, ctx), events = items[n], out[n]
            spans = locate(doc, args.start, args.entities)
            desc = dict(sorted(ctx.descriptions.items()))
            for ev in events:
                s, e = ev.trigger.start - args.start, ev.trigger.end - args.start
                toks = [t for t in doc if s <= t.idx < e]
                tok = next((t for t in toks if t.pos_ in ("VERB", "NOUN")), toks[0] if toks else None)
                if tok is None:
                    continue
                have, taken = {a.entity for a in ev.arguments}, {a.role for a in ev.arguments}
                for a in self._arguments(tok, args.event_types[ev.type], spans, args, ctx, desc):
                    if a.entity is not None and a.entity not in have and a.role not in taken:
                        ev.arguments.append(a)
                        have.add(a.entity)
                        taken.add(a.role)

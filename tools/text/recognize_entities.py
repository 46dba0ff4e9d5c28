"""``recognize_entities.v1``: entity mentions of the user's types in a chunk of text.

Candidates come from the NER model (its OntoNotes labels) and, for user types the
model has no label for, from noun chunks. Each candidate is typed by meaning:

    score(type) = PRIOR_W * sim(label's description, type) + (1 - PRIOR_W) * sim(span, type)

A catch-all type of the schema ("misc", "other") takes named things that fit no type.
Overlapping candidates are resolved greedily by score, longer spans first on ties.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie import prompts
from muie.calls import Args, CallKey
from muie.spans import SpanCandidate, TextSpanArgs
from muie.tools.base import Tool, ToolContext
from muie.tools.models.text_models import parse_many
from muie.tools.text.checks import check_span
from muie.tools.text.meaning import cosine, describe, embed, phrase_similarity, type_similarity
from muie.tools.text.syntax import trim as _trim


class RecognizeEntitiesArgs(TextSpanArgs):
    entity_types: list[str] = Field(min_length=1)
    nominals: Literal["uncovered", "all"] = Field(
        default="uncovered", description="Common nouns ('a cat') as mentions: only of types the NER model has no "
        "label for, or of all types (for text that describes a picture, where 'an astronaut' is a thing shown).")
    threshold: float | None = Field(default=None, ge=0, le=1, description="Override the typing threshold.")


class RecognizeEntitiesResult(BaseModel):
    entities: list[SpanCandidate] = Field(default_factory=list)
    sentences: list[tuple[int, int]] = Field(default_factory=list)


class RecognizeEntities(Args):
    """Find entity mentions of the schema's types in a chunk of text."""

    tool: Literal["recognize_entities.v1"] = "recognize_entities.v1"
    arguments: RecognizeEntitiesArgs


PRIOR_W = 0.5
COVERED = 0.5  # a type whose best label similarity reaches this has a counterpart in the model
VALUE_TYPE = 0.6  # a value label (date, number) is kept only for a type this close to it


class EntityTyper:
    """Everything about one schema's entity types that does not depend on the text."""

    def __init__(self, types: tuple[str, ...], descriptions: tuple[tuple[str, str], ...]) -> None:
        desc = dict(descriptions)
        labels = prompts.load("model_labels.yaml")
        self.types = list(types)
        self.labels = {name: i for i, name in enumerate(labels)}
        self.value_label = {name: spec["kind"] == "value" for name, spec in labels.items()}
        self.prior = phrase_similarity({k: v["phrases"] for k, v in labels.items()}, self.types, desc)
        self.type_vecs = embed([describe(t, desc) for t in self.types])
        catch = prompts.load("catch_all.yaml")
        catch_sim = phrase_similarity({"catch_all": catch["phrases"]}, self.types, desc)[0]
        self.catch_all = [i for i, s in enumerate(catch_sim) if s >= catch["similarity"]]
        self.uncovered = [
            i for i in range(len(self.types)) if self.prior[:, i].max() < COVERED and i not in self.catch_all
        ]

    def score_model_spans(self, labels: list[str], span_vecs: np.ndarray) -> list[tuple[int, float]]:
        """Best (type index, score) for each span the model labelled; -1 when none fits."""
        lex = cosine(span_vecs, self.type_vecs)
        out: list[tuple[int, float]] = []
        for label, row in zip(labels, lex):
            li = self.labels.get(label)
            prior = self.prior[li] if li is not None else np.zeros(len(self.types), dtype=np.float32)
            if li is not None and self.value_label[label] and prior.max() < VALUE_TYPE:
                out.append((-1, 0.0))
                continue
            score = PRIOR_W * prior + (1 - PRIOR_W) * row
            if self.catch_all:
                score[self.catch_all] = -1.0
            best = int(np.argmax(score))
            out.append((best, float(score[best])))
        return out


@lru_cache(maxsize=64)
def entity_typer(types: tuple[str, ...], descriptions: tuple[tuple[str, str], ...]) -> EntityTyper:
    return EntityTyper(types, descriptions)


def _name_like(span) -> bool:  # type: ignore[no-untyped-def]
    return any(t.pos_ in ("PROPN", "NUM") or (t.is_title and t.i != t.sent.start) for t in span)


class RecognizeEntitiesTool(Tool[RecognizeEntitiesArgs, RecognizeEntitiesResult]):
    name = "recognize_entities.v1"
    modality = "text"
    call_model = RecognizeEntities
    result_model = RecognizeEntitiesResult

    def key(self, args: RecognizeEntitiesArgs) -> CallKey:
        return CallKey(tool=self.name, input=args.input, span=(args.start, args.end), threshold=args.threshold)

    def check(self, args: RecognizeEntitiesArgs, ctx: ToolContext) -> None:
        check_span(args, ctx)

    def run_batch(self, items: list[tuple[RecognizeEntitiesArgs, ToolContext]]) -> list[RecognizeEntitiesResult]:
        if not items:
            return []
        which = items[0][1].settings.spacy_model
        docs = parse_many([ctx.chunk(a.input, a.start, a.end) for a, ctx in items], which)
        # gather every span of every chunk, embed them in one batch
        per_item: list[tuple[list, list]] = []  # (model spans, noun-chunk spans)
        texts: list[str] = []
        for (args, ctx), doc in zip(items, docs):
            typer = entity_typer(tuple(args.entity_types), tuple(sorted(ctx.descriptions.items())))
            ents = [(s, e.label_) for e in doc.ents if (s := _trim(e)) is not None]
            chunks, nominals = [], []
            in_ent = {i for s, _ in ents for i in range(s.start, s.end)}
            taken = {(s.start, s.end) for s, _ in ents}
            for nc in doc.noun_chunks:
                s = _trim(nc)
                if s is None or (s.start, s.end) in taken or any(i in in_ent for i in range(s.start, s.end)) and (
                        s.root.i in in_ent):
                    continue
                if not _name_like(s):
                    # a common noun ("a cat", "the coffee cup") for a type the model has no label for
                    if (typer.uncovered or args.nominals == "all") and s.root.pos_ == "NOUN" and not s.root.is_stop \
                            and not (args.nominals == "all" and s.root.text.lower().rstrip("s") in _picture_words()):
                        while s[0].pos_ == "DET" and len(s) > 1:  # "A cat" -> "cat"
                            s = s[1:]
                        nominals.append(s)
                    continue
                # a name the model split, e.g. "[1995] [Ontario] general election", or any
                # name-like chunk when some type has no model label
                if typer.uncovered or (s.root.i not in in_ent and any(i in in_ent for i in range(s.start, s.end))):
                    chunks.append(s)
            per_item.append((ents, chunks, nominals))
            texts.extend(s.text for s, _ in ents)
            texts.extend(s.text for s in chunks)
            texts.extend(s.text for s in nominals)
        vecs = embed(texts)
        results, k = [], 0
        for (args, ctx), doc, (ents, chunks, nominals) in zip(items, docs, per_item):
            typer = entity_typer(tuple(args.entity_types), tuple(sorted(ctx.descriptions.items())))
            threshold = args.threshold if args.threshold is not None else ctx.settings.entity_threshold
            cands: list[SpanCandidate] = []
            ent_vecs, k = vecs[k : k + len(ents)], k + len(ents)
            for (span, label), (ti, score) in zip(ents, typer.score_model_spans([lab for _, lab in ents], ent_vecs)):
                if ti >= 0 and score >= threshold:
                    cands.append(self._cand(args, span, typer.types[ti], score, label))
                elif ti >= 0 and typer.catch_all and not typer.value_label.get(label, False):
                    cands.append(self._cand(args, span, typer.types[typer.catch_all[0]], threshold, label))
            nc_vecs, k = vecs[k : k + len(chunks)], k + len(chunks)
            if chunks:
                allowed = [i for i in range(len(typer.types)) if i not in typer.catch_all]
                sims = cosine(nc_vecs, typer.type_vecs[allowed])
                nc_threshold = ctx.settings.noun_chunk_threshold
                for span, row in zip(chunks, sims):
                    j = int(np.argmax(row))
                    if row[j] >= nc_threshold:
                        cands.append(self._cand(args, span, typer.types[allowed[j]], float(row[j]), "noun_chunk"))
            nom_vecs, k = vecs[k : k + len(nominals)], k + len(nominals)
            if nominals:
                kinds = typer.uncovered if args.nominals == "uncovered" else [
                    i for i in range(len(typer.types)) if i not in typer.catch_all]
                sims = type_similarity(nom_vecs, [typer.types[i] for i in kinds], ctx.descriptions)  # best phrase
                for span, row in zip(nominals, sims):
                    j = int(np.argmax(row))
                    if row[j] >= (ctx.settings.nominal_threshold if args.nominals == "uncovered"
                                  else ctx.settings.pictured_nominal_threshold):
                        cands.append(self._cand(args, span, typer.types[kinds[j]], float(row[j]), "nominal"))
            sents = [(args.start + s.start_char, args.start + s.end_char) for s in doc.sents]
            results.append(RecognizeEntitiesResult(entities=_resolve_overlaps(cands), sentences=sents))
        return results

    @staticmethod
    def _cand(args: RecognizeEntitiesArgs, span, type_: str, score: float, source: str) -> SpanCandidate:  # type: ignore[no-untyped-def]
        return SpanCandidate(
            start=args.start + span.start_char,
            end=args.start + span.end_char,
            text=span.text,
            type=type_,
            score=round(min(1.0, max(0.0, score)), 4),
            source=source,
        )


def _resolve_overlaps(cands: list[SpanCandidate]) -> list[SpanCandidate]:
    """Keep the best of overlapping candidates; a noun chunk that holds whole model
    spans (a name the model split into pieces) goes before those pieces."""

    def holds_pieces(c: SpanCandidate) -> bool:
        return c.source == "noun_chunk" and any(
            o.source != "noun_chunk" and c.start <= o.start and o.end <= c.end for o in cands
        )

    kept: list[SpanCandidate] = []
    for c in sorted(cands, key=lambda c: (not holds_pieces(c), -c.score, -(c.end - c.start))):
        if all(c.end <= k.start or c.start >= k.end for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: c.start)


@lru_cache(maxsize=1)
def _picture_words() -> frozenset[str]:
    """Nouns a caption uses for the picture itself ("this photo"), never a thing shown."""
    return frozenset(prompts.load("picture_words.yaml"))

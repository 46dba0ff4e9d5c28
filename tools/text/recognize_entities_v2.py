"""``recognize_entities.v2``: entity mentions of the user's types, by muie's own learned model.

The text is cut into sentences and words (offsets kept); the model scores every span of up
to its widest against the phrase of each type (``type_names``: "PER", "Peop" and
"persons" read as "person"; a type's description, when the schema gives one, is averaged
into its phrase's embedding) and keeps the best non-overlapping spans over its threshold.
Text that describes a picture (``nominals="all"``) also gets the common nouns of v1
("an astronaut"), where they overlap no name, since the model was trained on names.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import numpy as np

from muie.calls import Args
from muie.spans import SpanCandidate
from muie.tools.base import ToolContext
from muie.tools.models.entity_model import entity_model
from muie.tools.models.word_features import split_words
from muie.tools.text.meaning import embed
from muie.tools.text.recognize_entities import (
    RecognizeEntitiesArgs,
    RecognizeEntitiesResult,
    RecognizeEntitiesTool,
)
from muie.tools.text.type_names import broad_types, type_phrase

DESCRIPTION_W = 0.5  # a description's share of its type's vector
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "vs", "jr", "sr", "inc", "ltd", "co", "no", "prof", "gen", "sen", "rep",
           "gov", "u.s", "e.g", "i.e", "etc", "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct", "nov", "dec"}
_END = re.compile(r"[.!?]+[\"')\]]*\s+|\n\s*\n|\n(?=\s*[-*•\d])")


class RecognizeEntitiesV2(Args):
    """Find entity mentions of the schema's types in a chunk of text, with muie's learned entity model."""

    tool: Literal["recognize_entities.v2"] = "recognize_entities.v2"
    arguments: RecognizeEntitiesArgs


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (at . ! ? before a space, and blank lines)."""
    out, start = [], 0
    for m in _END.finditer(text):
        before = text[start:m.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if m.group().startswith(".") and (last in _ABBREV or len(last) == 1):
            continue  # "Dr. Who", "J. Smith"
        if text[start:m.end()].strip():
            out.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), a + len(text[a:b].rstrip())) for a, b in out]


@lru_cache(maxsize=64)
def type_vectors(types: tuple[str, ...], descriptions: tuple[tuple[str, str], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of the types' phrases, each with its description averaged in when given,
    and which of the types name broad classes (from their phrases alone)."""
    vecs = embed([type_phrase(t) for t in types])
    broad = broad_types(vecs)
    desc = dict(descriptions)
    with_desc = [i for i, t in enumerate(types) if desc.get(t)]
    if with_desc:
        d = embed([desc[types[i]] for i in with_desc])
        vecs[with_desc] = (1 - DESCRIPTION_W) * vecs[with_desc] + DESCRIPTION_W * d
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs, broad


class RecognizeEntitiesV2Tool(RecognizeEntitiesTool):
    """v1's arguments, result, key and checks; the spans and types from the learned model."""

    name = "recognize_entities.v2"
    call_model = RecognizeEntitiesV2

    def run_batch(self, items: list[tuple[RecognizeEntitiesArgs, ToolContext]]) -> list[RecognizeEntitiesResult]:
        if not items:
            return []
        model = entity_model()
        per_item: list[tuple[list[tuple[int, int]], list[list[tuple[int, int]]]]] = []
        groups: dict[tuple, list[int]] = {}  # a schema's types -> the items that ask for them
        for n, (args, ctx) in enumerate(items):
            text = ctx.chunk(args.input, args.start, args.end)
            sents = split_sentences(text)
            words = [[(a + s, a + e) for s, e in split_words(text[a:b])] for a, b in sents]
            per_item.append((sents, words))
            key = (tuple(args.entity_types), tuple(sorted((k, v) for k, v in ctx.descriptions.items()
                                                          if k in args.entity_types)), args.threshold)
            groups.setdefault(key, []).append(n)
        found: list[list[SpanCandidate]] = [[] for _ in items]
        for (types, descs, threshold), members in groups.items():
            threshold = threshold if threshold is not None else items[members[0]][1].settings.entity_model_threshold
            tokens, where = [], []
            for n in members:
                text = items[n][1].chunk(items[n][0].input, items[n][0].start, items[n][0].end)
                for ws in per_item[n][1]:
                    tokens.append([text[s:e] for s, e in ws])
                    where.append((n, ws, text))
            vecs, broad = type_vectors(types, descs)
            preds = model.predict(tokens, vecs, threshold, broad) if tokens else []
            for (n, ws, text), spans in zip(where, preds):
                base = items[n][0].start
                for a, b, t, p in spans:
                    s, e = ws[a][0], ws[b - 1][1]
                    found[n].append(SpanCandidate(start=base + s, end=base + e, text=text[s:e], type=types[t],
                                                  score=round(p, 4), source="entity_model"))
        pictured = [n for n, (args, _) in enumerate(items) if args.nominals == "all"]
        if pictured:  # the parser's common nouns, where they overlap no name the model found
            older = RecognizeEntitiesTool().run_batch([items[n] for n in pictured])
            for n, res in zip(pictured, older):
                for c in res.entities:
                    if c.source == "nominal" and all(c.end <= f.start or c.start >= f.end for f in found[n]):
                        found[n].append(c)
        out = []
        for n, (args, _) in enumerate(items):
            sents = [(args.start + a, args.start + b) for a, b in per_item[n][0]]
            out.append(RecognizeEntitiesResult(entities=sorted(found[n], key=lambda c: c.start), sentences=sents))
        return out

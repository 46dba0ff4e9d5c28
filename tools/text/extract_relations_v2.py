"""``extract_relations.v2``: relations of the user's types between entities, by muie's own pair model.

The chunk is cut into sentences and words as for ``recognize_entities.v2`` (the word
vectors are the ones that step computed). Every ordered pair of distinct, non-overlapping
entities in one sentence is scored against each relation type's phrase (``type_names``:
"OrgBased_In" reads "org based in", "work_for" "work for"; a description, when the schema
gives one, is averaged in); a pair keeps its best type when it reaches the threshold. The
direction is the model's: when both orders of a pair pass for one type, the higher stays.
"""

from __future__ import annotations

from typing import Literal

from muie.calls import Args
from muie.spans import RelationCandidate
from muie.tools.base import ToolContext
from muie.tools.models.pair_model import Pair, pair_model
from muie.tools.models.word_features import split_words
from muie.tools.text.extract_relations import ExtractRelationsArgs, ExtractRelationsResult, ExtractRelationsTool
from muie.tools.text.recognize_entities_v2 import split_sentences, type_vectors

MAX_PAIRS = 400  # ordered pairs looked at in one sentence


class ExtractRelationsV2(Args):
    """Find relations of the schema's types between entities of a chunk of text, with muie's learned pair model."""

    tool: Literal["extract_relations.v2"] = "extract_relations.v2"
    arguments: ExtractRelationsArgs


def word_span(words: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The words [first, end) that the characters [start, end) overlap, or None."""
    inside = [i for i, (a, b) in enumerate(words) if a < end and start < b]
    return (inside[0], inside[-1] + 1) if inside else None


class ExtractRelationsV2Tool(ExtractRelationsTool):
    """v1's arguments, result, key and checks; the relations from the learned pair model."""

    name = "extract_relations.v2"
    call_model = ExtractRelationsV2

    def run_batch(self, items: list[tuple[ExtractRelationsArgs, ToolContext]]) -> list[ExtractRelationsResult]:
        if not items:
            return []
        model = pair_model()
        groups: dict[tuple, list[tuple[int, list[str], list[Pair], list[tuple[str, str]]]]] = {}
        for n, (args, ctx) in enumerate(items):
            text = ctx.chunk(args.input, args.start, args.end)
            key = (tuple(args.relation_types), tuple(sorted((k, v) for k, v in ctx.descriptions.items()
                                                          if k in args.relation_types)))
            for a, b in split_sentences(text):
                words = [(a + s, a + e) for s, e in split_words(text[a:b])]
                refs = []
                for r in args.entities:
                    s, e = r.start - args.start, r.end - args.start
                    if a <= s and e <= b and (span := word_span(words, s, e)):
                        refs.append((r.id, span))
                pairs, ids = [], []
                for hid, hs in refs:
                    for tid, ts in refs:
                        if hid != tid and (hs[1] <= ts[0] or ts[1] <= hs[0]) and len(pairs) < MAX_PAIRS:
                            pairs.append((hs, ts))
                            ids.append((hid, tid))
                if pairs:
                    groups.setdefault(key, []).append((n, [text[s:e] for s, e in words], pairs, ids))
        found: list[dict[tuple[str, str, str], float]] = [{} for _ in items]
        for (types, descs), sents in groups.items():
            vecs, _ = type_vectors(types, descs)
            probs = model.score([s[1] for s in sents], [s[2] for s in sents], vecs)
            for (n, _, _, ids), p in zip(sents, probs):
                args, ctx = items[n]
                threshold = args.threshold if args.threshold is not None else model.threshold
                for (hid, tid), row in zip(ids, p):
                    j = int(row.argmax())
                    if row[j] >= threshold:  # NaN (a pair no window holds) never passes
                        found[n][(hid, tid, types[j])] = max(float(row[j]), found[n].get((hid, tid, types[j]), 0.0))
        out = []
        for f in found:
            rels = [RelationCandidate(type=t, head=h, tail=tl, score=round(p, 4))
                    for (h, tl, t), p in f.items() if p > f.get((tl, h, t), 0.0) or (p == f.get((tl, h, t)) and h < tl)]
            out.append(ExtractRelationsResult(relations=sorted(rels, key=lambda r: -r.score)))
        return out

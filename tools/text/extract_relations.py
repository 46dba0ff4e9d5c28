"""``extract_relations.v1``: relations of the user's types between entities of a chunk.

For each pair of entities in one sentence, the words on the dependency path between
them ("works for", "president of", "born in") are compared by meaning with the
relation type names (and their descriptions). A pair whose path is long, empty, or
not close enough to any type gives nothing: the threshold is what keeps unrelated
pairs out. The head is the end that reaches the path as the subject, else the first.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie.calls import Args, CallKey, SpanRef
from muie.spans import RelationCandidate, TextSpanArgs
from muie.tools.base import Tool, ToolContext
from muie.tools.models.text_models import parse_many
from muie.tools.text.checks import check_span
from muie.tools.text.meaning import embed, type_similarity
from muie.tools.text.syntax import locate, path_words


class ExtractRelationsArgs(TextSpanArgs):
    relation_types: list[str] = Field(min_length=1)
    entities: list[SpanRef] = Field(min_length=2)
    threshold: float | None = Field(default=None, ge=0, le=1)


class ExtractRelationsResult(BaseModel):
    relations: list[RelationCandidate] = Field(default_factory=list)


class ExtractRelations(Args):
    """Find relations of the schema's types between entities of a chunk of text."""

    tool: Literal["extract_relations.v1"] = "extract_relations.v1"
    arguments: ExtractRelationsArgs


MAX_PATH = 4  # words between the two entities on the dependency path
MAX_PAIRS = 400  # pairs looked at in one chunk
BARE_PREPOSITION = 0.15  # "X in Y": a path of prepositions alone says less than "X is based in Y"


class ExtractRelationsTool(Tool[ExtractRelationsArgs, ExtractRelationsResult]):
    name = "extract_relations.v1"
    modality = "text"
    call_model = ExtractRelations
    result_model = ExtractRelationsResult

    def key(self, args: ExtractRelationsArgs) -> CallKey:
        return CallKey(tool=self.name, input=args.input, span=(args.start, args.end), threshold=args.threshold,
                       given=len(args.entities))

    def check(self, args: ExtractRelationsArgs, ctx: ToolContext) -> None:
        check_span(args, ctx)

    def run_batch(self, items: list[tuple[ExtractRelationsArgs, ToolContext]]) -> list[ExtractRelationsResult]:
        if not items:
            return []
        docs = parse_many([ctx.chunk(a.input, a.start, a.end) for a, ctx in items], items[0][1].settings.spacy_model)
        pairs: list[list[tuple[str, str, str, float]]] = []  # per item: (head id, tail id, path words, penalty)
        for (args, _), doc in zip(items, docs):
            spans = locate(doc, args.start, args.entities)
            found: list[tuple[str, str, str, float]] = []
            for i, (ra, sa) in enumerate(spans):
                for rb, sb in spans[i + 1 :]:
                    if len(found) >= MAX_PAIRS:
                        break
                    if ra.id == rb.id or sa.sent.start != sb.sent.start or sa.start < sb.end and sb.start < sa.end:
                        continue
                    hit = path_words(sa, sb, MAX_PATH) if sa.start < sb.start else path_words(sb, sa, MAX_PATH)
                    if hit is None or not hit[0]:
                        continue
                    words, first_subject, second_subject, content = hit
                    first, second = (ra, rb) if sa.start < sb.start else (rb, ra)
                    head, tail = (second, first) if second_subject and not first_subject else (first, second)
                    found.append((head.id, tail.id, words, 0.0 if content else BARE_PREPOSITION))
            pairs.append(found)
        vecs = embed([p for found in pairs for _, _, p, _ in found])
        results, k = [], 0
        for (args, ctx), found in zip(items, pairs):
            sims = type_similarity(vecs[k : k + len(found)], args.relation_types, ctx.descriptions)
            k += len(found)
            threshold = args.threshold if args.threshold is not None else ctx.settings.relation_threshold
            out = []
            for (head, tail, words, penalty), row in zip(found, sims):
                j = int(np.argmax(row))
                score = float(row[j]) - penalty
                if score >= threshold:
                    out.append(RelationCandidate(type=args.relation_types[j], head=head, tail=tail,
                                                 score=round(score, 4), evidence=words))
            results.append(ExtractRelationsResult(relations=out))
        return results

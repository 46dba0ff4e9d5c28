"""Dependency-parse helpers shared by the relation and event tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from muie.calls import SpanRef

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc, Span, Token

SUBJECT_DEPS = {"nsubj", "nsubjpass", "csubj", "agent", "expl"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "his", "her", "its", "their", "our", "my", "your"}


def locate(doc: Doc, offset: int, refs: list[SpanRef]) -> list[tuple[SpanRef, Span]]:
    """The document span of each entity (whose offsets are into the whole text)."""
    out = []
    for ref in refs:
        span = doc.char_span(ref.start - offset, ref.end - offset, alignment_mode="expand")
        if span is not None and len(span):
            out.append((ref, span))
    return out


def path_between(a: Token, b: Token) -> tuple[list[Token], list[Token]] | None:
    """The dependency path from ``a`` up to the lowest common ancestor and down to ``b``:
    (tokens going up from a, including the ancestor; tokens coming down to b, excluding it).
    None when they are in different sentences."""
    up = [a, *a.ancestors]
    down = [b, *b.ancestors]
    where = {t.i: k for k, t in enumerate(down)}
    for k, t in enumerate(up):
        if t.i in where:
            return up[: k + 1], list(reversed(down[: where[t.i]]))
    return None


def path_words(a: Span, b: Span, max_len: int) -> tuple[str, bool, bool, bool] | None:
    """Words on the dependency path between two spans, without the spans' own tokens,
    in sentence order; whether each end reaches the path as a subject; and whether the
    path holds a content word (a verb, noun, adjective), not only prepositions."""
    found = path_between(a.root, b.root)
    if found is None:
        return None
    up, down = found
    inside = set(range(a.start, a.end)) | set(range(b.start, b.end))
    middle = [t for t in up + down if t.i not in inside]
    if any(t.ent_type_ and t.ent_iob_ == "B" for t in middle if t.pos_ == "PROPN"):
        return None  # another name stands between them: the relation, if any, is with it
    if len(middle) > max_len:
        return None
    words = [t.text.lower() for t in sorted(middle, key=lambda t: t.i) if not t.is_punct]
    a_subject = any(t.dep_ in SUBJECT_DEPS for t in up[:-1]) or a.root.dep_ in SUBJECT_DEPS
    b_subject = any(t.dep_ in SUBJECT_DEPS for t in down) or b.root.dep_ in SUBJECT_DEPS
    content = any(t.pos_ in ("VERB", "NOUN", "PROPN", "ADJ") for t in middle)
    return " ".join(words), a_subject, b_subject, content


def trim(span):  # type: ignore[no-untyped-def]
    """Drop leading determiners and trailing punctuation/possessives from a span."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].lower_ in _DETERMINERS and doc[start].is_lower or _no_word(doc[start])):
        start += 1
    while end > start and (_no_word(doc[end - 1]) or doc[end - 1].tag_ == "POS"):
        end -= 1
    return doc[start:end] if end > start else None


def _no_word(tok) -> bool:  # type: ignore[no-untyped-def]
    """Punctuation, symbols, emoji, spaces: nothing a name begins or ends with."""
    return tok.is_punct or tok.is_space or not any(ch.isalnum() for ch in tok.text)

"""Read CoNLL / BIO files (``token<TAB>tag`` lines, blank line between sentences)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Sentence:
    text: str
    spans: list[tuple[int, int, str]]  # gold (start, end, type), character offsets into text


def read_conll(path: str | Path) -> list[Sentence]:
    """Tokens are joined with single spaces; each B-/I- run becomes a gold span."""
    sentences: list[Sentence] = []
    tokens: list[tuple[str, str]] = []

    def flush() -> None:
        if not tokens:
            return
        text, spans = "", []
        open_span: list | None = None
        for tok, tag in tokens:
            if text:
                text += " "
            start = len(text)
            text += tok
            kind, _, label = tag.partition("-")
            if kind == "B" or (kind == "I" and (open_span is None or open_span[2] != label)):
                if open_span:
                    spans.append(tuple(open_span))
                open_span = [start, len(text), label]
            elif kind == "I":
                open_span[1] = len(text)
            else:
                if open_span:
                    spans.append(tuple(open_span))
                open_span = None
        if open_span:
            spans.append(tuple(open_span))
        sentences.append(Sentence(text, spans))
        tokens.clear()

    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                flush()
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: expected 'token<TAB>tag', got {line!r}")
            tokens.append((parts[0], parts[-1]))
    flush()
    return sentences


def dataset_types(sentences: list[Sentence]) -> list[str]:
    return sorted({t for s in sentences for _, _, t in s.spans})

"""A question about media as a typed query (the embedded reasoner's reading of it).

``parse_question("who is speaking at 0:12?")`` -> ``Query(kind="who_speaks", time_s=12.0)``.
The phrasings are data (``prompts/questions.yaml``); a pronoun ("what did she say?")
is the thing the conversation talked about last.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from muie.prompts import load

QueryKind = Literal["who_speaks", "said_at", "said_about", "when", "where", "who", "list", "events", "relations",
                    "find"]

SPEECH_KINDS = ("who_speaks", "said_at", "said_about")
"""Queries answered from what is said: they need the media's transcripts."""

_TIME = [
    re.compile(r"\b(?P<m>\d{1,3}):(?P<s>\d{1,2}(?:\.\d+)?)\b"),
    re.compile(r"\b(?P<s>\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b", re.I),
    re.compile(r"\b(?P<m>\d+(?:\.\d+)?)\s*(?:min|mins|minute|minutes)\b", re.I),
]
_TIME_WORDS = re.compile(r"\s*\b(?:at|around|about|near|after|by)?\s*(?:\d{1,3}:\d{1,2}(?:\.\d+)?|\d+(?:\.\d+)?\s*"
                         r"(?:s|sec|secs|second|seconds|min|mins|minute|minutes))\b(?:\s*(?:in|into))?", re.I)
_ARTICLES = re.compile(r"^(?:the|a|an|this|that|these|those)\s+", re.I)
_TAIL = re.compile(r"\s*(?:in (?:the|this) (?:picture|image|photo|video|clip|audio|recording|text)|in it|here|"
                   r"please)\s*$", re.I)


class Query(BaseModel):
    """What a question asks, typed."""

    kind: QueryKind
    target: str | None = Field(None, description="The words naming what is asked about ('the cat', 'Google').")
    entity_type: str | None = Field(None, description="An entity type the question names ('people' -> person).")
    time_s: float | None = Field(None, ge=0, description="A moment the question names, in seconds.")
    pronoun: bool = Field(False, description="The target was a pronoun, taken from the conversation.")


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, list[re.Pattern[str]]]]:
    return [(p["kind"], [re.compile(r, re.I) for r in p["regex"]]) for p in load("questions.yaml")["patterns"]]


def _time(question: str) -> float | None:
    for k, rx in enumerate(_TIME):
        m = rx.search(question)
        if m:
            g = m.groupdict()
            if k == 2:
                return float(g["m"]) * 60
            return float(g.get("m") or 0) * 60 + float(g["s"])
    return None


def clean_target(words: str | None) -> str | None:
    if not words:
        return None
    t = _TIME_WORDS.sub(" ", words).strip(" ?.!,;:\"'")
    t = _TAIL.sub("", t).strip(" ?.!,;:\"'")
    t = _ARTICLES.sub("", t).strip()
    return t or None


def type_of(words: str | None, entity_types: list[str]) -> str | None:
    """The schema's entity type a word names ('people' -> 'person', 'companies' ->
    'organization'), or None."""
    if not words:
        return None
    w = words.lower().strip()
    for t in entity_types:
        tl = t.lower()
        if w in (tl, tl + "s", tl + "es") or (w.endswith("ies") and w[:-3] + "y" == tl):
            return t
    for usual, names in load("questions.yaml")["type_words"].items():
        if w in names:
            for t in entity_types:
                if t.lower() == usual or t.lower().startswith(usual[:3]):
                    return t
    return None


def parse_question(question: str, entity_types: list[str], focus: str | None = None) -> Query:
    """The question as a query; ``focus`` is what the conversation talked about last (for 'he', 'it')."""
    q = question.strip().rstrip(" ?.!")
    time_s = _time(q)
    for kind, rxs in _patterns():
        for rx in rxs:
            m = rx.search(q)
            if m is None:
                continue
            target = clean_target(next((v for k, v in m.groupdict().items() if k.startswith("target") and v), None))
            return _typed(kind, target, time_s, entity_types, focus)
    return _typed("find", clean_target(q), time_s, entity_types, focus)


def _typed(kind: str, target: str | None, time_s: float | None, entity_types: list[str], focus: str | None) -> Query:
    pronoun = bool(target) and target.lower() in load("questions.yaml")["pronouns"]
    if pronoun:
        target = focus
    etype = type_of(target, entity_types) if target else None
    if kind == "who" and target and etype is None:
        kind = "where"  # "who is Eileen Collins?": what is known of a named one
    if kind == "list" and etype is None and target:
        kind = "find"
    if kind in ("said_at",) and time_s is None and target is None:
        kind = "said_about"
    if kind == "who_named":
        return Query(kind="list", entity_type=type_of("person", entity_types), time_s=time_s)
    if kind == "list" or (kind == "who" and etype):
        return Query(kind="list", entity_type=etype, time_s=time_s)
    return Query(kind=kind, target=None if etype and kind == "find" else target,  # type: ignore[arg-type]
                 entity_type=etype, time_s=time_s, pronoun=pronoun)


@lru_cache(maxsize=1)
def self_introductions() -> list[re.Pattern[str]]:
    return [re.compile(r) for r in load("questions.yaml")["self_introductions"]]

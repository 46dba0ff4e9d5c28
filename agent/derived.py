"""Texts a run derives from its media: what was said in an audio input.

The text tools work on a derived text exactly as on the user's text, so speech goes
through the same extraction as ``--text``. A mention in a derived text is not a mention
of the contract (those are offsets into ``--text``); at the end of the run it becomes a
grounding, through the times of the words it covers (``agent.ground``).

A transcript's text is its words joined by single spaces; each word keeps its character
span and its times, so any span of the text maps back to a time segment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.calls import TranscribeResult

SPEECH = "speech"


class TimedWord(BaseModel):
    start: int = Field(ge=0, description="Character offset of the word in the derived text.")
    end: int = Field(ge=0)
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    probability: float = Field(ge=0, le=1)


class DerivedText(BaseModel):
    """A text read off a media input, with where each of its words came from."""

    id: str = Field(description="The text's id in the run, e.g. 'audio0#speech'.")
    source: str = Field(description="The media input it came from, e.g. 'audio0'.")
    kind: Literal["speech"] = SPEECH
    text: str
    words: list[TimedWord] = Field(default_factory=list)

    def times(self, start: int, end: int) -> tuple[float, float, float] | None:
        """``(start_s, end_s, mean word probability)`` of the words that ``[start, end)`` covers."""
        ws = [w for w in self.words if w.start < end and start < w.end]
        if not ws:
            return None
        return ws[0].start_s, ws[-1].end_s, sum(w.probability for w in ws) / len(ws)


def derived_id(source: str, kind: str = SPEECH) -> str:
    return f"{source}#{kind}"


def from_transcript(result: TranscribeResult) -> DerivedText:
    """The transcript of an audio input as a text whose words keep their times."""
    parts: list[str] = []
    words: list[TimedWord] = []
    pos = 0
    for w in result.words:
        token = " ".join(w.text.split())
        if not token:
            continue
        if parts:
            pos += 1
        words.append(TimedWord(start=pos, end=pos + len(token), start_s=w.start_s, end_s=max(w.end_s, w.start_s),
                               probability=w.probability))
        parts.append(token)
        pos += len(token)
    return DerivedText(id=derived_id(result.input), source=result.input, text=" ".join(parts), words=words)

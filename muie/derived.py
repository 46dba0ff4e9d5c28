"""Texts a run derives from its media: what was said in an audio input, what is written
in an image.

The text tools work on a derived text exactly as on the user's text, so speech and the
words on a sign go through the same extraction as ``--text``. A mention in a derived
text is not a mention of the contract (those are offsets into ``--text``); at the end
of the run it becomes a grounding through the words it covers (``agent.ground``): a
time segment for speech, the box around the words for text read in an image.

Words read on a video's keyframes (``read_video_text``) are an OCR text of the video
too; each keeps the frame it was read on, and grounds as a one-frame track.

A derived text is its words joined by single spaces (lines of an image by newlines);
each word keeps its character span and where it came from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from muie.domain import BBox, Region, Segment, Track, TrackFrame

SPEECH: Literal["speech"] = "speech"
OCR: Literal["ocr"] = "ocr"


class SourceWord(BaseModel):
    start: int = Field(ge=0, description="Character offset of the word in the derived text.")
    end: int = Field(ge=0)
    probability: float = Field(ge=0, le=1)
    start_s: float | None = Field(default=None, ge=0, description="Speech: when the word was said.")
    end_s: float | None = Field(default=None, ge=0)
    bbox: BBox | None = Field(default=None, description="Image: where the word is written, in pixels.")
    frame: int | None = Field(default=None, ge=0, description="Video: the frame the word was read on.")
    time_s: float | None = Field(default=None, ge=0, description="Video: that frame's time.")


class DerivedText(BaseModel):
    """A text read off a media input, with where each of its words came from."""

    id: str = Field(description="The text's id in the run, e.g. 'audio0#speech'.")
    source: str = Field(description="The media input it came from, e.g. 'audio0'.")
    kind: Literal["speech", "ocr"] = SPEECH
    text: str
    words: list[SourceWord] = Field(default_factory=list)

    def covered(self, start: int, end: int) -> list[SourceWord]:
        return [w for w in self.words if w.start < end and start < w.end]

    def times(self, start: int, end: int) -> tuple[float, float, float] | None:
        """``(start_s, end_s, mean word probability)`` of the words that ``[start, end)`` covers."""
        ws = [w for w in self.covered(start, end) if w.start_s is not None and w.end_s is not None]
        if not ws:
            return None
        return ws[0].start_s, ws[-1].end_s, sum(w.probability for w in ws) / len(ws)  # type: ignore[return-value]

    def grounding(self, start: int, end: int, score: float) -> Segment | Region | Track | None:
        """Where ``[start, end)`` of this text is in its media: a time segment, a word box, or
        (words read in a video) the words' box on the frame they were read on."""
        ws = self.covered(start, end)
        if not ws:
            return None
        p = sum(w.probability for w in ws) / len(ws)
        s = round(min(score, p) if p else score, 4)
        if self.kind == SPEECH:
            t = self.times(start, end)
            return None if t is None else Segment(input=self.source, start_s=t[0], end_s=t[1], score=s)
        boxes = [w.bbox for w in ws if w.bbox is not None]
        if not boxes:
            return None
        box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        if ws[0].frame is not None:
            return Track(input=self.source, score=s,
                         frames=[TrackFrame(frame=ws[0].frame, time_s=ws[0].time_s, bbox=box)])
        return Region(input=self.source, bbox=box, score=s, label=self.text[start:end])


def derived_id(source: str, kind: str = SPEECH) -> str:
    return f"{source}#{kind}"

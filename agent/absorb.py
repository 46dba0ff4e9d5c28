"""The absorb node: what the tools returned, merged into the run's draft.

One table keyed by the type of a tool's result says what each result does to the draft
(``MERGES``): mentions become entities (one entity per name and type), relations and
events are kept once each, links and tracks become groundings, a region or a segment
found for one entity becomes its grounding, a sound heard or a thing seen that the
schema's events name becomes an event with that evidence. A second table (``TEXTS``)
says which results are texts: a whole recording's transcript and the words read in a
whole image become derived texts (``muie.derived``), cut into chunks the text tools read
next. Every reasoner gets the merged draft; none merges itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from muie.derived import OCR, DerivedText, SourceWord, derived_id
from muie.domain import Region, Schema, Segment, TraceStep, Track
from muie.draft import DraftBuilder
from muie.reasoner.sounds import sound_classes, visual_classes
from muie.request import Chunk, Request
from muie.shapes import RegionLink
from muie.tools import Observation
from muie.tools.audio.detect_sounds import DetectSoundsArgs, DetectSoundsResult
from muie.tools.audio.segment_audio import SegmentAudioArgs, SegmentAudioResult
from muie.tools.audio.transcribe import TranscribeArgs, TranscribeResult
from muie.tools.image.link_regions import LinkRegionsArgs, LinkRegionsResult
from muie.tools.image.read_text import ReadTextArgs, ReadTextResult
from muie.tools.image.segment_image import SegmentImageArgs, SegmentImageResult
from muie.tools.text.chunking import chunk_text
from muie.tools.text.detect_events import DetectEventsArgs, DetectEventsResult
from muie.tools.text.extract_relations import ExtractRelationsArgs, ExtractRelationsResult
from muie.tools.text.recognize_entities import RecognizeEntitiesArgs, RecognizeEntitiesResult
from muie.tools.video.find_video_things import FindVideoThingsArgs, FindVideoThingsResult
from muie.tools.video.read_video_text import ReadVideoTextArgs, ReadVideoTextResult
from muie.tools.video.track_video import TrackVideoArgs, TrackVideoResult

T = TypeVar("T")
Merge = Callable[[DraftBuilder, Any, Any, Schema], None]
"""``(builder, the call's arguments, its result, schema)``: each merge names its own types."""


def _entities(b: DraftBuilder, a: RecognizeEntitiesArgs, r: RecognizeEntitiesResult, schema: Schema) -> None:
    b.add_entities(a.input, r.entities)


def _relations(b: DraftBuilder, a: ExtractRelationsArgs, r: ExtractRelationsResult, schema: Schema) -> None:
    b.add_relations(r.relations)


def _events(b: DraftBuilder, a: DetectEventsArgs, r: DetectEventsResult, schema: Schema) -> None:
    b.add_events(a.input, r.events)


def _segmented(b: DraftBuilder, a: SegmentImageArgs, r: SegmentImageResult, schema: Schema) -> None:
    """A region found again for one entity is that entity's; a sight the schema's events
    name (a rifle for Attack) is the evidence of such an event."""
    if a.entity is not None:
        b.add_regions(r.input, [RegionLink(id=a.entity, region=g, score=g.score) for g in r.regions[:1]])
    elif a.text is not None and a.text in (sights := visual_classes(schema)):
        b.add_evidence_events(r.input, [
            (sights[a.text], Region(input=r.input, bbox=g.bbox, mask=g.mask, score=g.score, label=a.text))
            for g in r.regions])


def _linked(b: DraftBuilder, a: LinkRegionsArgs, r: LinkRegionsResult, schema: Schema) -> None:
    b.add_regions(r.input, r.links)
    b.add_seen_regions(r.input, r.seen)


def _seen(b: DraftBuilder, a: FindVideoThingsArgs, r: FindVideoThingsResult, schema: Schema) -> None:
    b.add_seen(r.input, r.things)


def _tracked(b: DraftBuilder, a: TrackVideoArgs, r: TrackVideoResult, schema: Schema) -> None:
    if r.frames and a.text:
        b.add_track(a.text, a.entity_type, Track(input=r.input, score=r.score, frames=r.frames))


def _heard(b: DraftBuilder, a: DetectSoundsArgs, r: DetectSoundsResult, schema: Schema) -> None:
    sounds = sound_classes(schema)
    b.add_evidence_events(r.input, [
        (sounds[e.label], Segment(input=r.input, start_s=e.start_s, end_s=e.end_s, score=e.score, label=e.label))
        for e in r.events if e.label in sounds])


def _said(b: DraftBuilder, a: SegmentAudioArgs, r: SegmentAudioResult, schema: Schema) -> None:
    """Where the words of one entity were said is that entity's grounding."""
    if a.entity is not None and r.kind == "phrase":
        b.add_segments(a.entity, r.segments[:1])


MERGES: dict[type, Merge] = {
    RecognizeEntitiesResult: _entities, ExtractRelationsResult: _relations, DetectEventsResult: _events,
    SegmentImageResult: _segmented, LinkRegionsResult: _linked, FindVideoThingsResult: _seen,
    TrackVideoResult: _tracked, DetectSoundsResult: _heard, SegmentAudioResult: _said,
}
"""What each kind of result does to the draft; the other results (proposals, detections,
transcripts, voice activity) are read by the tools and the reasoners, not merged."""


def from_transcript(result: TranscribeResult) -> DerivedText:
    """The transcript of an audio input as a text whose words keep their times."""
    parts: list[str] = []
    words: list[SourceWord] = []
    pos = 0
    for w in result.words:
        token = " ".join(w.text.split())
        if not token:
            continue
        if parts:
            pos += 1
        words.append(SourceWord(start=pos, end=pos + len(token), start_s=w.start_s, end_s=max(w.end_s, w.start_s),
                               probability=w.probability))
        parts.append(token)
        pos += len(token)
    return DerivedText(id=derived_id(result.input), source=result.input, text=" ".join(parts), words=words)


def from_ocr(result: ReadTextResult) -> DerivedText:
    """The words read in an image as a text: a line per line, each word with its box."""
    parts: list[str] = []
    words: list[SourceWord] = []
    pos = 0
    for line in result.lines:
        tokens = [(result.words[i].text.strip(), result.words[i]) for i in line.words if result.words[i].text.strip()]
        if not tokens:
            continue
        if parts:
            parts.append("\n")
            pos += 1
        for k, (token, w) in enumerate(tokens):
            if k:
                parts.append(" ")
                pos += 1
            words.append(SourceWord(start=pos, end=pos + len(token), probability=w.confidence, bbox=list(w.bbox),
                                    frame=getattr(w, "frame", None), time_s=getattr(w, "time_s", None)))
            parts.append(token)
            pos += len(token)
    return DerivedText(id=derived_id(result.input, OCR), source=result.input, kind=OCR, text="".join(parts),
                       words=words)


def _whole_transcript(a: TranscribeArgs, r: TranscribeResult) -> DerivedText | None:
    return from_transcript(r) if a.start_s is None and a.end_s is None else None


def _whole_image_words(a: ReadTextArgs | ReadVideoTextArgs, r: ReadTextResult) -> DerivedText | None:
    return from_ocr(r) if a.box is None else None


TEXTS: dict[type, Callable[[Any, Any], DerivedText | None]] = {
    TranscribeResult: _whole_transcript, ReadTextResult: _whole_image_words, ReadVideoTextResult: _whole_image_words,
}
"""Results that are texts the text tools read next."""


def _entry(table: dict[type, T], result: BaseModel) -> T | None:
    """The table's entry for the result's type, or for the nearest type it derives from (a
    video's words are an image's words with frames)."""
    return next((table[c] for c in type(result).__mro__ if c in table), None)


def merge(draft_builder: DraftBuilder, observations: list[Observation], schema: Schema) -> None:
    for o in observations:
        if o.result is not None and (fn := _entry(MERGES, o.result)) is not None:
            fn(draft_builder, o.call.arguments, o.result, schema)


def media_texts(req: Request, observed: list[Observation], chunk_chars: int) -> tuple[Request, list[Chunk]]:
    """The derived texts of ``observed`` added to the request (each once), and their chunks."""
    have = {d.id for d in req.derived}
    new = []
    for o in observed:
        fn = _entry(TEXTS, o.result) if o.result is not None else None
        d = fn(o.call.arguments, o.result) if fn is not None else None
        if d is not None and d.id not in have and d.text:
            new.append(d)
            have.add(d.id)
    if not new:
        return req, []
    chunks = [(d.id, s, e) for d in new
              for s, e in (_lines(d.text) if d.kind == OCR else chunk_text(d.text, chunk_chars))]
    return req.model_copy(update={"derived": req.derived + new}), chunks


def _lines(text: str) -> list[tuple[int, int]]:
    """Each line of text read in an image is its own chunk: a sign's words never run into
    the next sign's."""
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def absorb(state: dict[str, Any], chunk_chars: int, step: int) -> dict[str, Any]:
    """The node's update: the draft with the round's results merged, the new derived texts
    and their chunks, and a trace step naming them."""
    req, observed = state["request"], state.get("observations", [])
    b = DraftBuilder(state["draft"], per_input=req.is_batch)
    merge(b, observed, req.schema_)
    request, chunks = media_texts(req, observed, chunk_chars)
    update: dict[str, Any] = {"draft": b.draft(), "request": request, "chunks": state.get("chunks", []) + chunks,
                              "trace": []}
    if request is not req:
        new = request.derived[len(req.derived):]
        update["trace"] = [TraceStep(step=step, node="absorb", summary="words of " + ", ".join(
            f"{d.source} ({d.kind})" for d in new) + f" become text: {len(chunks)} new chunk(s)")]
    return update

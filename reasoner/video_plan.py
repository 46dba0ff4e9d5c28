"""What the embedded reasoner asks of a video input.

- Its words on screen are read on a few keyframes, once (``read_video_text.v1``): they
  become a text of the video the text tools read, each name grounded on its frame.
- Its sound track is media like an audio input: transcribed once (after the user's text
  is read, with the names found there as hints), so that the names said become
  entities with time segments on the video; listened to for the sounds the schema's
  events make. A video without a sound track skips both.
- Its pictures: once every text (the user's, the speech, the words on screen) has been
  read for entities and events,
  each entity (but the words read on screen) is followed through the frames
  (``track_video.v1``, one call per entity, all decoded in one pass); an entity the
  video does not show gets no track.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from muie.calls import History
from muie.derived import OCR, derived_id
from muie.domain import Entity, Input, Track, TrackFrame, VideoInput
from muie.draft import Draft
from muie.errors import InputError

MAX_TRACKED = 32
"""Most entities followed through one video (the first found)."""
MAX_SEEN = 2
"""Most things taken from one look at a video where nothing is named."""


def has_sound(inp: VideoInput) -> bool:
    from muie.tools.media.video_io import probe

    try:
        return probe(inp.path).has_audio
    except InputError:
        return False


def media_calls(inp: VideoInput, ran: History, text_pending: bool, hints: list[str], whisper_model: str,
                sounds: dict[str, str], sound_threshold: float,
                ocr_frames: int) -> list[dict[str, Any]]:
    """Read the words on screen; transcribe the sound track and listen for the schema's
    sounds; once each."""
    calls: list[dict[str, Any]] = []
    if ocr_frames and not ran.ran("read_video_text.v1", inp.id):
        calls.append({"tool": "read_video_text.v1", "arguments": {"input": inp.id, "frames": ocr_frames}})
    if not has_sound(inp):
        return calls
    if not ran.ran("transcribe.v1", inp.id) and not text_pending:
        calls.append({"tool": "transcribe.v1", "arguments": {"input": inp.id, "model": whisper_model,
                                                             "hints": hints}})
    if sounds and not ran.ran("detect_sounds.v1", inp.id):
        calls.append({"tool": "detect_sounds.v1", "arguments": {
            "input": inp.id, "classes": sorted(sounds), "threshold": sound_threshold}})
    return calls


def _seen_at(e: Entity, input_id: str) -> TrackFrame | None:
    """Where a thing found only by looking (``find_video_things``) was seen: its one-frame track."""
    tracks = [g for g in e.groundings if isinstance(g, Track) and g.input == input_id]
    return tracks[0].frames[0] if not e.mentions and len(tracks) == 1 and len(tracks[0].frames) == 1 else None


def track_calls(inputs: Sequence[Input], draft: Draft, ran: History, pending: list[dict[str, Any]],
                entity_types: list[str]) -> list[dict[str, Any]]:
    """Follow every entity found so far through each video, once per video; not while
    events are still being read (``pending`` calls), whose arguments may be new entities.
    A video where nothing is named gets looked at first (``find_video_things``), and what
    it shows is followed from where it was seen."""
    if any(c["tool"].startswith("detect_events.") for c in pending):
        return []
    calls: list[dict[str, Any]] = []
    for inp in inputs:
        if not isinstance(inp, VideoInput) or ran.ran("track_video.v1", inp.id):
            continue
        on_screen = derived_id(inp.id, OCR)
        named = [e for e in draft.entities if not (e.mentions and all(m.input == on_screen for m in e.mentions))]
        if not named and entity_types and not ran.ran("find_video_things.v1", inp.id):
            calls.append({"tool": "find_video_things.v1", "arguments": {
                "input": inp.id, "entity_types": entity_types, "max_things": MAX_SEEN}})
            continue
        seen: set[tuple[str, str]] = set()
        for e in named:
            at = _seen_at(e, inp.id)
            if at is not None:
                calls.append({"tool": "track_video.v1", "arguments": {
                    "input": inp.id, "box": at.bbox, "frame": at.frame, "text": e.text, "entity_type": e.type}})
                continue
            key = (" ".join(e.text.lower().split()), e.type)
            if key in seen:
                continue
            seen.add(key)
            calls.append({"tool": "track_video.v1", "arguments": {"input": inp.id, "text": e.text,
                                                                  "entity_type": e.type}})
            if len(seen) >= MAX_TRACKED:
                break
    return calls

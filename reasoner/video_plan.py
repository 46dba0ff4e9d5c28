"""What the embedded reasoner asks of a video input.

- Its words on screen are read on a few keyframes, once (``read_video_text.v1``): they
  become a text of the video the text tools read, each name grounded on its frame.
- Its sound track is media like an audio input: transcribed once (after the user's text
  is read, with the names found there as hints), so that the names said become
  entities with time segments on the video; listened to for the sounds the schema's
  events make. A video without a sound track skips both.
- Its pictures: once every text (the user's, the speech) has been read for entities,
  each entity (but the words read on screen) is followed through the frames
  (``track_video.v1``, one call per entity, all decoded in one pass); an entity the
  video does not show gets no track.
"""

from __future__ import annotations

from agent.derived import OCR, derived_id
from agent.domain import VideoInput
from agent.draft import Draft
from agent.errors import InputError

MAX_TRACKED = 32
"""Most entities followed through one video (the first found)."""


def has_sound(inp: VideoInput) -> bool:
    from tools.video_io import probe

    try:
        return probe(inp.path).has_audio
    except InputError:
        return False


def media_calls(inp: VideoInput, ran: set[str], text_pending: bool, hints: list[str], whisper_model: str,
                sounds: dict[str, str], sound_threshold: float, ocr_frames: int) -> list[dict]:  # type: ignore[type-arg]
    """Read the words on screen; transcribe the sound track and listen for the schema's
    sounds; once each."""
    calls: list[dict] = []  # type: ignore[type-arg]
    if ocr_frames and f"read_video_text.v1@{inp.id}" not in ran:
        calls.append({"tool": "read_video_text.v1", "arguments": {"input": inp.id, "frames": ocr_frames}})
    if not has_sound(inp):
        return calls
    if f"transcribe.v1@{inp.id}" not in ran and not text_pending:
        calls.append({"tool": "transcribe.v1", "arguments": {"input": inp.id, "model": whisper_model,
                                                             "hints": hints}})
    if sounds and f"detect_sounds.v1@{inp.id}" not in ran:
        calls.append({"tool": "detect_sounds.v1", "arguments": {
            "input": inp.id, "classes": sorted(sounds), "threshold": sound_threshold}})
    return calls


def track_calls(inputs: list, draft: Draft, ran: set[str]) -> list[dict]:  # type: ignore[type-arg]
    """Follow every entity found so far through each video, once per video."""
    calls: list[dict] = []  # type: ignore[type-arg]
    for inp in inputs:
        if not isinstance(inp, VideoInput) or f"track_video.v1@{inp.id}" in ran:
            continue
        seen: set[tuple[str, str]] = set()
        on_screen = derived_id(inp.id, OCR)
        for e in draft.entities:
            if e.mentions and all(m.input == on_screen for m in e.mentions):
                continue  # words on screen: grounded where they were read
            key = (" ".join(e.text.lower().split()), e.type)
            if key in seen:
                continue
            seen.add(key)
            calls.append({"tool": "track_video.v1", "arguments": {"input": inp.id, "text": e.text,
                                                                  "entity_type": e.type}})
            if len(seen) >= MAX_TRACKED:
                break
    return calls

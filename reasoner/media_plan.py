"""What a reasoner asks of media, whoever reads the text: each image perceived once (its
words, its labelled regions) and looked at for the sights the schema's events make; each
recording transcribed once (after the user's text is read, with the names found there
as hints) and listened to for the sounds the schema's events make; each video's sound
track and words on screen (``reasoner.video_plan``); the entities linked to each image's
regions, all at once. The embedded reasoner and the LLM reasoners share it.
"""

from __future__ import annotations

from typing import Any

from muie.calls import History
from muie.derived import OCR, derived_id
from muie.domain import Region
from muie.draft import Draft
from muie.reasoner.base import View
from muie.reasoner.sounds import sound_classes, visual_classes
from muie.reasoner.video_plan import media_calls
from muie.settings import Settings


def link_calls(view: View, draft: Draft, ran: History) -> list[dict[str, Any]]:
    """Link the entities to each image's regions, all at once (again when there are
    more entities than last time); an entity read in that image is grounded by its words.
    What the picture shows that no entity claims comes back named and typed (an entity
    only seen), except where names were read (a sign is its words); such entities are
    not targets of a later linking, which finds them again."""
    calls: list[dict[str, Any]] = []
    for inp in view.request.inputs:
        if inp.modality != "image":
            continue
        ocr = derived_id(inp.id, OCR)
        read = [e for e in draft.entities if any(m.input == ocr for m in e.mentions)]
        read_ids = {e.id for e in read}
        targets = [{"id": e.id, "text": e.text, "type": e.type} for e in draft.entities
                   if e.mentions and e.id not in read_ids]
        types = view.request.schema_.entity_types
        if (targets or types) and not ran.ran("link_regions.v1", inp.id, given=len(targets)):
            words = next((d for d in view.request.derived if d.id == ocr), None)
            claimed = [g.bbox for e in read for m in e.mentions if words is not None and m.input == ocr
                       and isinstance(g := words.grounding(m.start, m.end, 1.0), Region)]
            calls.append({"tool": "link_regions.v1", "arguments": {
                "input": inp.id, "targets": targets, "unnamed": types, "claimed": claimed}})
    return calls


def image_audio_calls(view: View, draft: Draft, ran: History, settings: Settings) -> list[dict[str, Any]]:
    """Perceive each image once (its words, its labelled regions), then look in it for
    the sights the schema's events make (a rifle for Attack, strong evidence only);
    transcribe each audio input once, after the user's text is read, with the names
    found there as hints (so a name written and said is heard as it is spelled);
    listen for the sounds the schema's events make."""
    calls: list[dict[str, Any]] = []
    user = view.request.texts
    text_pending = bool(view.request.schema_.entity_types) and any(
        i in user and not ran.ran(settings.entity_tool, i, (s, e)) for i, s, e in view.chunks)
    hints = list(dict.fromkeys(e.text for e in draft.entities
                               if any(m.input in user for m in e.mentions)))[:64]
    kinds = {i.modality for i in view.request.inputs}
    events = "ee" in view.request.tasks
    sounds = sound_classes(view.request.schema_) if events and kinds & {"audio", "video"} else {}
    sights = visual_classes(view.request.schema_) if events and "image" in kinds else {}
    for inp in view.request.inputs:
        if inp.modality == "image":  # perceived first: its words, and what it shows
            calls += [{"tool": tool, "arguments": {"input": inp.id}}
                      for tool in ("read_text.v1", "propose_regions.v1") if not ran.ran(tool, inp.id)]
            if sights and ran.ran("propose_regions.v1", inp.id) and not ran.ran("segment_image.v1", inp.id):
                calls += [{"tool": "segment_image.v1", "arguments": {
                    "input": inp.id, "text": words, "max_regions": 1,
                    "min_score": settings.visual_event_threshold}} for words in sorted(sights)]
        if inp.modality == "video":  # its sound track as audio; its pictures once the texts are read
            calls += media_calls(inp, ran, text_pending, hints, settings.whisper_model, sounds,
                                 settings.sound_threshold, settings.video_ocr_frames)
        if inp.modality != "audio":
            continue
        if not ran.ran("transcribe.v1", inp.id) and not text_pending:
            calls.append({"tool": "transcribe.v1", "arguments": {
                "input": inp.id, "model": settings.whisper_model, "hints": hints}})
        if sounds and not ran.ran("detect_sounds.v1", inp.id):
            calls.append({"tool": "detect_sounds.v1", "arguments": {
                "input": inp.id, "classes": sorted(sounds), "threshold": settings.sound_threshold}})
    return calls

"""The embedded reasoner: plans the tools, merges what they return, repairs what the
verifier finds. Offline, deterministic, on a CPU.

Media first: each image is read (OCR: its words become a text too); each audio input is transcribed (its speech then becomes a text the text
tools read like the user's) and, when the schema has event types a sound can evidence
(``prompts/sound_events.yaml``), listened to for those sounds.

Round 1: ``recognize_entities`` on every chunk (a transcript's chunks as soon as it exists). Round 2: ``detect_events`` on every
chunk and ``extract_relations`` on each chunk holding two or more entity mentions.
Then each image's regions are linked to the entities, jointly (``link_regions``).
Round 3, only where an event's argument became a new entity: ``extract_relations``
again on that chunk. A call that ran is not asked again. Then it is done.

The verifier's critique (``reasoner.critique``) is answered beside the plan: a targeted
call for each re-plan it asks (a region found again by the entity's words, a span read
again for a name, a sentence read again for an event's arguments), each once; a
consistency finding is repaired (what does not hold is dropped).
"""

from __future__ import annotations

import re

from muie.tools.text.detect_events import DetectEventsResult
from muie.tools.audio.detect_sounds import DetectSoundsResult
from muie.tools.text.extract_relations import ExtractRelationsResult
from muie.tools import LinkRegionsResult, SegmentImageResult, TrackVideoResult
from muie.tools.text.recognize_entities import RecognizeEntitiesResult
from muie.derived import OCR, derived_id
from muie.domain import Region, Segment, Track
from muie.draft import Draft, DraftBuilder
from muie.tools.image.shapes import RegionLink
from muie.agent.repair import repair
from muie.agent.verify import REPAIRED
from muie.settings import Settings, default_settings
from muie.reasoner.base import Decision, View
from muie.reasoner.critique import critique_calls
from muie.reasoner.sounds import sound_classes, visual_classes
from muie.tools.video.find_video_things import FindVideoThingsResult
from muie.reasoner.video_plan import media_calls, track_calls


class EmbeddedReasoner:
    name = "embedded"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or default_settings()

    def decide(self, view: View) -> Decision:
        draft = self._merge(view)
        if not view.findings:
            return self._plan(view, draft)
        if any(f.check in REPAIRED for f in view.findings):
            draft = repair(draft, view.request)
        extra = critique_calls(view, draft, self.settings)
        plan = self._plan(view, draft)
        note = f"answered {len(view.findings)} finding(s) with {len(extra)} targeted call(s); {plan.note}"
        if not extra:
            return plan.model_copy(update={"note": note})
        return Decision(calls=extra + plan.calls, draft=plan.draft or draft, note=note)

    def _plan(self, view: View, draft: Draft) -> Decision:
        schema, tasks = view.request.schema_, set(view.request.tasks)
        ran = set(view.history)
        ran_any = {re.sub(r"#\d+$", "", k) for k in ran}  # called, with whatever entities

        by_input = draft.refs_by_input()

        def refs_in(i: str, s: int, e: int) -> list:  # type: ignore[type-arg]
            return [r for r in by_input.get(i, []) if s <= r.start and r.end <= e]

        def ran_on(tool: str, chunk: tuple[str, int, int], n: int | None = None) -> bool:
            key = f"{tool}@{chunk[0]}:{chunk[1]}:{chunk[2]}"
            return key in ran_any if n is None else f"{key}#{n}" in ran

        media = self._media_calls(view, draft, ran_any)
        chunks = [c for c in view.chunks if not ran_on("recognize_entities.v1", c)] if schema.entity_types else []
        if media or chunks:
            pictured = "all" if any(i.modality in ("image", "video") for i in view.request.inputs) else "uncovered"
            calls = media + [{"tool": "recognize_entities.v1",
                              "arguments": {"input": i, "start": s, "end": e, "entity_types": schema.entity_types,
                                            "nominals": pictured}}
                             for i, s, e in chunks]
            note = f"find entities in {len(chunks)} chunk(s)" + (f"; {len(media)} call(s) on media" if media else "")
            return Decision(calls=calls, draft=draft, note=note)
        calls = []
        if "ee" in tasks and schema.event_types:
            calls += [{"tool": "detect_events.v1", "arguments": {
                "input": i, "start": s, "end": e, "event_types": schema.event_types,
                "entities": [r.model_dump() for r in refs_in(i, s, e)], "entity_types": schema.entity_types}}
                for i, s, e in view.chunks if not ran_on("detect_events.v1", (i, s, e))]
        if "re" in tasks and schema.relation_types:
            # again wherever events added entities since the last call on that chunk
            calls += [{"tool": "extract_relations.v1", "arguments": {
                "input": i, "start": s, "end": e, "relation_types": schema.relation_types,
                "entities": [r.model_dump() for r in refs]}}
                for i, s, e in view.chunks
                if len(refs := refs_in(i, s, e)) >= 2 and not ran_on("extract_relations.v1", (i, s, e), len(refs))]
        calls += self._link_calls(view, draft, ran)
        calls += track_calls(view.request.inputs, draft, ran_any, calls, schema.entity_types)
        if calls:
            return Decision(calls=calls, draft=draft, note=f"{len(calls)} call(s) for events, relations and regions")
        return Decision(draft=draft, done=True, note="nothing left to call")

    @staticmethod
    def _link_calls(view: View, draft: Draft, ran: set[str]) -> list[dict]:  # type: ignore[type-arg]
        """Link the entities to each image's regions, all at once (again when there are
        more entities than last time); an entity read in that image is grounded by its words.
        What the picture shows that no entity claims comes back named and typed (an entity
        only seen), except where names were read (a sign is its words); such entities are
        not targets of a later linking, which finds them again."""
        calls: list[dict] = []  # type: ignore[type-arg]
        for inp in view.request.inputs:
            if inp.modality != "image":
                continue
            ocr = derived_id(inp.id, OCR)
            read = [e for e in draft.entities if any(m.input == ocr for m in e.mentions)]
            read_ids = {e.id for e in read}
            targets = [{"id": e.id, "text": e.text, "type": e.type} for e in draft.entities
                       if e.mentions and e.id not in read_ids]
            types = view.request.schema_.entity_types
            if (targets or types) and f"link_regions.v1@{inp.id}#{len(targets)}" not in ran:
                words = next((d for d in view.request.derived if d.id == ocr), None)
                claimed = [g.bbox for e in read for m in e.mentions if words is not None and m.input == ocr
                           and isinstance(g := words.grounding(m.start, m.end, 1.0), Region)]
                calls.append({"tool": "link_regions.v1", "arguments": {
                    "input": inp.id, "targets": targets, "unnamed": types, "claimed": claimed}})
        return calls

    def _media_calls(self, view: View, draft: Draft, ran: set[str]) -> list[dict]:  # type: ignore[type-arg]
        """Perceive each image once (its words, its labelled regions), then look in it for
        the sights the schema's events make (a rifle for Attack, strong evidence only);
        transcribe each audio input once, after the user's text is read, with the names
        found there as hints (so a name written and said is heard as it is spelled);
        listen for the sounds the schema's events make."""
        calls: list[dict] = []  # type: ignore[type-arg]
        user = view.request.texts
        text_pending = bool(view.request.schema_.entity_types) and any(
            i in user and f"recognize_entities.v1@{i}:{s}:{e}" not in ran for i, s, e in view.chunks)
        hints = list(dict.fromkeys(e.text for e in draft.entities
                                   if any(m.input in user for m in e.mentions)))[:64]
        kinds = {i.modality for i in view.request.inputs}
        events = "ee" in view.request.tasks
        sounds = sound_classes(view.request.schema_) if events and kinds & {"audio", "video"} else {}
        sights = visual_classes(view.request.schema_) if events and "image" in kinds else {}
        for inp in view.request.inputs:
            if inp.modality == "image":  # perceived first: its words, and what it shows
                calls += [{"tool": tool, "arguments": {"input": inp.id}}
                          for tool in ("read_text.v1", "propose_regions.v1") if f"{tool}@{inp.id}" not in ran]
                if sights and f"propose_regions.v1@{inp.id}" in ran and f"segment_image.v1@{inp.id}" not in ran:
                    calls += [{"tool": "segment_image.v1", "arguments": {
                        "input": inp.id, "text": words, "max_regions": 1,
                        "min_score": self.settings.visual_event_threshold}} for words in sorted(sights)]
            if inp.modality == "video":  # its sound track as audio; its pictures once the texts are read
                calls += media_calls(inp, ran, text_pending, hints, self.settings.whisper_model, sounds,
                                     self.settings.sound_threshold, self.settings.video_ocr_frames)
            if inp.modality != "audio":
                continue
            if f"transcribe.v1@{inp.id}" not in ran and not text_pending:
                calls.append({"tool": "transcribe.v1", "arguments": {
                    "input": inp.id, "model": self.settings.whisper_model, "hints": hints}})
            if sounds and f"detect_sounds.v1@{inp.id}" not in ran:
                calls.append({"tool": "detect_sounds.v1", "arguments": {
                    "input": inp.id, "classes": sorted(sounds), "threshold": self.settings.sound_threshold}})
        return calls

    @staticmethod
    def _merge(view: View) -> Draft:
        if not view.observations:
            return view.draft
        b = DraftBuilder(view.draft, per_input=view.request.is_batch)
        schema = view.request.schema_
        for obs in view.observations:
            r, args = obs.result, obs.call.arguments
            if isinstance(r, RecognizeEntitiesResult):
                b.add_entities(args.input, r.entities)
            elif isinstance(r, ExtractRelationsResult):
                b.add_relations(r.relations)
            elif isinstance(r, DetectEventsResult):
                b.add_events(args.input, r.events)
            elif isinstance(r, SegmentImageResult) and args.entity is not None:  # found again for one entity
                b.add_regions(r.input, [RegionLink(id=args.entity, region=g, score=g.score) for g in r.regions[:1]])
            elif isinstance(r, SegmentImageResult) and args.text in (sights := visual_classes(schema)):
                b.add_evidence_events(r.input, [  # a sight that is an event
                    (sights[args.text], Region(input=r.input, bbox=g.bbox, mask=g.mask, score=g.score, label=args.text))
                    for g in r.regions])
            elif isinstance(r, LinkRegionsResult):
                b.add_regions(r.input, r.links)
                b.add_seen_regions(r.input, r.seen)
            elif isinstance(r, FindVideoThingsResult):
                b.add_seen(r.input, r.things)
            elif isinstance(r, TrackVideoResult) and r.frames and args.text:
                b.add_track(args.text, args.entity_type, Track(input=r.input, score=r.score, frames=r.frames))
            elif isinstance(r, DetectSoundsResult):
                sounds = sound_classes(schema)
                b.add_evidence_events(r.input, [
                    (sounds[e.label], Segment(input=r.input, start_s=e.start_s, end_s=e.end_s, score=e.score,
                                              label=e.label))
                    for e in r.events if e.label in sounds])
        return b.draft()

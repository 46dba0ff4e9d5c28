"""The embedded reasoner: plans the tools and repairs what the verifier finds (what the
tools return is merged into the draft by the absorb node, before it decides). Offline,
deterministic, on a CPU.

Media first: each image is read (OCR: its words become a text too); each audio input is
transcribed (its speech then becomes a text the text tools read like the user's) and,
when the schema has event types a sound can evidence (``prompts/sound_events.yaml``),
listened to for those sounds.

Round 1: ``recognize_entities`` on every chunk (a transcript's chunks as soon as it
exists). Round 2: ``detect_events`` on every chunk and ``extract_relations`` on each
chunk holding two or more entity mentions.
Then each image's regions are linked to the entities, jointly (``link_regions``).
Round 3, only where an event's argument became a new entity: ``extract_relations``
again on that chunk. A call that ran is not asked again. Then it is done.

The verifier's critique (``reasoner.critique``) is answered beside the plan: a targeted
call for each re-plan it asks (a region found again by the entity's words, a span read
again for a name, a sentence read again for an event's arguments), each once; a
consistency finding is repaired (what does not hold is dropped).
"""

from __future__ import annotations

from typing import Any

from muie.calls import History, SpanRef
from muie.draft import Draft
from muie.reasoner.base import Decision, View
from muie.reasoner.critique import critique_calls
from muie.reasoner.media_plan import image_audio_calls, link_calls
from muie.reasoner.video_plan import track_calls
from muie.repair import REPAIRED, repair
from muie.settings import Settings, default_settings


class EmbeddedReasoner:
    name = "embedded"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or default_settings()

    def decide(self, view: View) -> Decision:
        draft = view.draft
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
        ran = History(view.history)

        by_input = draft.refs_by_input()

        def refs_in(i: str, s: int, e: int) -> list[SpanRef]:
            return [r for r in by_input.get(i, []) if s <= r.start and r.end <= e]

        def ran_on(tool: str, chunk: tuple[str, int, int], n: int | None = None) -> bool:
            return ran.ran(tool, chunk[0], (chunk[1], chunk[2]), given=n)

        media = image_audio_calls(view, draft, ran, self.settings)
        ner = self.settings.entity_tool
        chunks = [c for c in view.chunks if not ran_on(ner, c)] if schema.entity_types else []
        if media or chunks:
            pictured = "all" if any(i.modality in ("image", "video") for i in view.request.inputs) else "uncovered"
            calls = media + [{"tool": ner,
                              "arguments": {"input": i, "start": s, "end": e, "entity_types": schema.entity_types,
                                            "nominals": pictured}}
                             for i, s, e in chunks]
            note = f"find entities in {len(chunks)} chunk(s)" + (f"; {len(media)} call(s) on media" if media else "")
            return Decision(calls=calls, draft=draft, note=note)
        calls: list[dict[str, Any]] = []
        if "ee" in tasks and schema.event_types:
            ev = self.settings.event_tool
            calls += [{"tool": ev, "arguments": {
                "input": i, "start": s, "end": e, "event_types": schema.event_types,
                "entities": [r.model_dump() for r in refs_in(i, s, e)], "entity_types": schema.entity_types}}
                for i, s, e in view.chunks if not ran_on(ev, (i, s, e))]
        if "re" in tasks and schema.relation_types:
            # again wherever events added entities since the last call on that chunk
            rel = self.settings.relation_tool
            calls += [{"tool": rel, "arguments": {
                "input": i, "start": s, "end": e, "relation_types": schema.relation_types,
                "entities": [r.model_dump() for r in refs]}}
                for i, s, e in view.chunks
                if len(refs := refs_in(i, s, e)) >= 2 and not ran_on(rel, (i, s, e), len(refs))]
        calls += link_calls(view, draft, ran)
        calls += track_calls(view.request.inputs, draft, ran, calls, schema.entity_types)
        if calls:
            return Decision(calls=calls, draft=draft, note=f"{len(calls)} call(s) for events, relations and regions")
        return Decision(draft=draft, done=True, note="nothing left to call")

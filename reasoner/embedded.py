"""The embedded reasoner: plans the text tools, merges what they return, repairs what
the verifier finds. Offline, deterministic, on a CPU.

Round 1: ``recognize_entities`` on every chunk. Round 2: ``detect_events`` on every
chunk and ``extract_relations`` on each chunk holding two or more entity mentions.
Round 3, only where an event's argument became a new entity: ``extract_relations``
again on that chunk. A call that ran is not asked again. Then it is done,
unless the verifier sends findings back: a mention that does not match the text is
dropped, a dangling relation end or argument is removed.
"""

from __future__ import annotations

from agent.calls import DetectEventsResult, ExtractRelationsResult, RecognizeEntitiesResult
from agent.draft import Draft, DraftBuilder
from agent.repair import repair
from reasoner.base import Decision, View


class EmbeddedReasoner:
    name = "embedded"

    def decide(self, view: View) -> Decision:
        draft = self._merge(view)
        if view.findings:
            note = f"repaired {len(view.findings)} finding(s)"
            return Decision(draft=repair(draft, view.request), done=True, note=note)
        schema, tasks = view.request.schema_, set(view.request.tasks)
        ran = set(view.history)
        ran_any = {k.split("#", 1)[0] for k in ran}  # called, with whatever entities

        by_input = draft.refs_by_input()

        def refs_in(i: str, s: int, e: int) -> list:  # type: ignore[type-arg]
            return [r for r in by_input.get(i, []) if s <= r.start and r.end <= e]

        def ran_on(tool: str, chunk: tuple[str, int, int], n: int | None = None) -> bool:
            key = f"{tool}@{chunk[0]}:{chunk[1]}:{chunk[2]}"
            return key in ran_any if n is None else f"{key}#{n}" in ran

        if schema.entity_types and (chunks := [c for c in view.chunks if not ran_on("recognize_entities.v1", c)]):
            calls = [{"tool": "recognize_entities.v1",
                      "arguments": {"input": i, "start": s, "end": e, "entity_types": schema.entity_types}}
                     for i, s, e in chunks]
            return Decision(calls=calls, draft=draft, note=f"find entities in {len(calls)} chunk(s)")
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
        if calls:
            return Decision(calls=calls, draft=draft, note=f"{len(calls)} call(s) for events and relations")
        return Decision(draft=draft, done=True, note="nothing left to call")

    @staticmethod
    def _merge(view: View) -> Draft:
        if not view.observations:
            return view.draft
        b = DraftBuilder(view.draft, per_input=view.request.is_batch)
        for obs in view.observations:
            r, args = obs.result, obs.call.arguments
            if isinstance(r, RecognizeEntitiesResult):
                b.add_entities(args.input, r.entities)
            elif isinstance(r, ExtractRelationsResult):
                b.add_relations(r.relations)
            elif isinstance(r, DetectEventsResult):
                b.add_events(args.input, r.events)
        return b.draft()

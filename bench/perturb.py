"""Faults injected into a run, one per failure the verifier is built against.

``perturbed(reasoner, failure)`` gives a reasoner and the tools that make the mistakes a
grounded-MUIE model makes (REAMO's error analysis), deterministically, so the same case
can be run with the verifier on and off (``Agent(*perturbed(...), settings)``): what a
tool returns is perturbed by a wrapper around the tool (``PerturbedTool``), what a
reasoner decides by a wrapper around the reasoner (``PerturbedReasoner``):

- ``duplicate``: each modality extracted on its own: a name found in the text and in
  speech or on a sign becomes one entity per modality;
- ``incomplete``: the first reading of a transcript or of an image's words finds no
  entity, and events are first found without their arguments;
- ``wrong_grounding``: every region lands on the mirror image of where the thing is;
- ``wrong_entity``: the regions of an image go to the wrong entities (rotated);
- ``over_grounding``: linking and listening without a threshold: every entity gets a
  region, every faint sound is an event;
- ``propagation``: a wrong call: the entities sent to the region linker are described
  by each other's words, and every tool after it works on that.

Only the first, untargeted calls are perturbed: a targeted call the verifier asks for
(its own threshold or entity) runs as it is, as a second look at the media would.
"""

from __future__ import annotations

from typing import Any

from muie.domain import Mention
from muie.draft import Draft
from muie.reasoner.base import Decision, Reasoner, View
from muie.tools.image.link_regions import LinkRegionsResult
from muie.tools.text.detect_events import DetectEventsResult
from muie.tools.text.recognize_entities import RecognizeEntitiesResult

FAILURES = ("duplicate", "incomplete", "wrong_grounding", "wrong_entity", "over_grounding", "propagation")


def _mirror(link: Any, width: int) -> Any:
    from muie.tools.image.boxes import mask_rle, rle_mask

    r = link.region
    x0, y0, x1, y1 = r.bbox
    mask = mask_rle(rle_mask(r.mask)[:, ::-1]) if r.mask is not None else None
    region = r.model_copy(update={"bbox": [width - x1, y0, width - x0, y1], "mask": mask})
    return link.model_copy(update={"region": region})


class PerturbedReasoner:
    """A reasoner that makes one kind of mistake (``failure``), or none (``None``)."""

    def __init__(self, inner: Reasoner, failure: str | None) -> None:
        if failure is not None and failure not in FAILURES:
            raise ValueError(f"unknown failure {failure!r} (known: {', '.join(FAILURES)})")
        self.inner, self.failure = inner, failure
        self.name = f"{inner.name}+{failure or 'none'}"

    def decide(self, view: View) -> Decision:
        decision = self.inner.decide(view)
        if self.failure in ("over_grounding", "propagation"):
            decision = decision.model_copy(update={"calls": [self._call(c) for c in decision.calls]})
        if self.failure == "duplicate" and decision.draft is not None:
            decision = decision.model_copy(update={"draft": self._split(decision.draft, set(view.request.texts))})
        return decision

    def _call(self, call: dict[str, Any]) -> dict[str, Any]:
        args = dict(call.get("arguments", {}))
        tool = call.get("tool")
        if self.failure == "over_grounding" and tool == "link_regions.v1":
            args["min_score"] = 0.0
        elif self.failure == "over_grounding" and tool == "detect_sounds.v1":
            args["threshold"] = 0.05
        elif self.failure == "propagation" and tool == "link_regions.v1" and len(args.get("targets", [])) > 1:
            t = args["targets"]
            args["targets"] = [dict(x, text=t[(i + 1) % len(t)]["text"], type=t[(i + 1) % len(t)]["type"])
                               for i, x in enumerate(t)]
        else:
            return call
        return {**call, "arguments": args}

    @staticmethod
    def _split(draft: Draft, user: set[str]) -> Draft:
        """One entity per modality: mentions read off media leave their text entity."""
        entities = []
        for e in draft.entities:
            home = [m for m in e.mentions if m.input in user]
            away: dict[str, list[Mention]] = {}
            for m in e.mentions:
                if m.input not in user:
                    away.setdefault(m.input, []).append(m)
            if not home or not away:
                entities.append(e)
                continue
            entities.append(e.model_copy(update={"mentions": home}))
            entities += [e.model_copy(update={"id": f"{e.id}~{k}", "mentions": ms, "groundings": []})
                         for k, ms in enumerate(away.values())]
        return draft.model_copy(update={"entities": entities})


def _result(failure: str, a: Any, r: Any) -> Any:
    """What a tool returns, with the fault ``failure`` injected (first, untargeted calls only)."""
    if failure == "incomplete":
        if isinstance(r, RecognizeEntitiesResult) and "#" in a.input and a.threshold is None:
            return r.model_copy(update={"entities": []})
        if isinstance(r, DetectEventsResult) and a.role_threshold is None:
            events = [v.model_copy(update={"arguments": []}) for v in r.events]
            return r.model_copy(update={"events": events})
    if isinstance(r, LinkRegionsResult) and r.links:
        if failure == "wrong_grounding":
            links = [_mirror(k, r.width) for k in r.links]
        elif len(r.links) > 1:  # wrong_entity: each entity gets the next one's region
            links = [k.model_copy(update={"region": r.links[(i + 1) % len(r.links)].region})
                     for i, k in enumerate(r.links)]
        else:
            return r
        return r.model_copy(update={"links": links})
    return r


RESULT_FAULTS = ("incomplete", "wrong_grounding", "wrong_entity")


class PerturbedTool:
    """A real tool whose results carry the fault (the same name, models, checks and keys)."""

    def __init__(self, tool: Any, failure: str) -> None:
        self.tool, self.failure = tool, failure
        self.name, self.call_model, self.result_model = tool.name, tool.call_model, tool.result_model
        self.modality = tool.modality

    def key(self, args: Any) -> Any:
        return self.tool.key(args)

    def check(self, args: Any, ctx: Any) -> None:
        self.tool.check(args, ctx)

    def run_batch(self, items: list[tuple[Any, Any]]) -> list[Any]:
        return [_result(self.failure, a, r) for (a, _), r in zip(items, self.tool.run_batch(items), strict=True)]


def perturbed(inner: Reasoner, failure: str | None) -> tuple[PerturbedReasoner, dict[str, Any] | None]:
    """A reasoner and the tools (None: the real ones) that make the mistake ``failure``."""
    from muie.tools import REGISTRY

    tools = {n: PerturbedTool(t, failure) for n, t in REGISTRY.items()} if failure in RESULT_FAULTS else None
    return PerturbedReasoner(inner, failure), tools

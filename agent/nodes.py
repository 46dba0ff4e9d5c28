"""The graph's nodes: plain functions from the state to a partial update.

perceive -> reason -> validate -> act -> absorb -> verify -> (reason again | finish)

Their dependencies (the reasoner, the tools, the settings) come in a ``Deps`` bundle
bound when the graph is built.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from muie.agent import absorb as absorbing
from muie.agent.batching import Batcher
from muie.agent.damage import damage_findings, late_damage
from muie.agent.ground import ground_media
from muie.agent.state import AgentState
from muie.agent.verify import Evidence, VerifyContext, consistency, is_open, verify_draft
from muie.domain import Result, Segment, TextInput, TraceStep
from muie.draft import Draft
from muie.errors import CallError, InputError
from muie.findings import Finding
from muie.reasoner.base import Reasoner, View
from muie.repair import repair
from muie.settings import Settings
from muie.tools import TOOL_CALL, TOOL_NAMES, Observation, Tool, ToolCall, ToolContext
from muie.tools.text.chunking import chunk_text

MAX_PARALLEL_TOOLS = 4
"""Tools of one round that run side by side."""


@dataclass
class Deps:
    reasoner: Reasoner
    tools: dict[str, Tool[Any, Any]]
    settings: Settings
    batchers: dict[str, Batcher[Any, Any]] = field(default_factory=dict)
    cache: Any = None
    """A ``memory.tool_cache.ToolCache``: tool results kept for the same media, tool and arguments."""

    def __post_init__(self) -> None:
        for name, tool in self.tools.items():
            self.batchers.setdefault(
                name, Batcher(tool.run_batch, self.settings.batch_max, self.settings.batch_wait_ms / 1000)
            )


def _step(state: AgentState, node: str, summary: str, k: int = 0, **extra: Any) -> TraceStep:
    return TraceStep(step=len(state.get("trace", [])) + k, node=node, summary=summary, **extra)


def perceive(state: AgentState, deps: Deps) -> dict[str, Any]:
    req = state["request"]
    chunks = [(i, s, e) for i, text in req.texts.items() for s, e in chunk_text(text, deps.settings.chunk_chars)]
    known = {i.id for i in req.inputs}
    inputs = [TextInput(id=i) for i in req.texts if i not in known] + list(req.inputs)
    req = req.model_copy(update={"inputs": inputs})
    damaged = damage_findings(inputs)
    extra: dict[str, Any] = {"findings": [f.model_dump(exclude_none=True) for f in damaged]} if damaged else {}
    return {
        "request": req, "chunks": chunks, "draft": Draft(), "iteration": 0, "retries": 0, "tool_calls": 0,
        "history": [], "observations": [], "findings": [], "critiqued": [], "call_errors": [], "done": False,
        "model_seconds": 0.0,
        "trace": [_step(state, "perceive", f"{len(inputs)} input(s); text in {len(chunks)} chunk(s)"
                        + "".join(f"; {f.where} damaged" for f in damaged),
                        chunks=[[s, e] for _, s, e in chunks] if not req.is_batch else len(chunks),
                        **extra)],
    }


def reason(state: AgentState, deps: Deps) -> dict[str, Any]:
    view = View(
        request=state["request"], chunks=state["chunks"], draft=state["draft"],
        observations=state.get("observations", []), call_errors=state.get("call_errors", []),
        findings=state.get("findings", []), history=state.get("history", []), iteration=state["iteration"],
    )
    decision = deps.reasoner.decide(view)
    update: dict[str, Any] = {
        "pending": decision.calls, "done": decision.done, "observations": [], "findings": [],
        "iteration": state["iteration"] + (0 if state.get("call_errors") else 1),
        "trace": [_step(state, "reason", decision.note or f"{len(decision.calls)} call(s)",
                        reasoner=deps.reasoner.name, iteration=state["iteration"], calls=len(decision.calls),
                        done=decision.done)],
    }
    if decision.draft is not None:
        update["draft"] = decision.draft
    return update


def validate(state: AgentState, deps: Deps) -> dict[str, Any]:
    ctx = _context(state, deps)
    good: list[ToolCall] = []
    errors: list[str] = []
    for i, raw in enumerate(state.get("pending", [])):
        try:
            call = TOOL_CALL.validate_python(raw)
            tool = deps.tools.get(call.tool)
            if tool is None:
                raise CallError(f"tool {call.tool!r} is not available in this run (available: {sorted(deps.tools)})")
            tool.check(call.arguments, ctx)
            good.append(call)
        except ValidationError as e:
            name = raw.get("tool") if isinstance(raw, dict) else None
            hint = f" (known tools: {', '.join(TOOL_NAMES)})" if name not in TOOL_NAMES else ""
            errors.append(f"call {i} ({name!r}){hint}: " + "; ".join(
                f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()))
        except (CallError, InputError) as e:  # a tool that finds its input unusable: back to the reasoner
            errors.append(f"call {i} ({raw.get('tool')!r}): {e}")
    budget = deps.settings.max_tool_calls - state.get("tool_calls", 0)
    if len(good) > budget:
        errors.append(f"{len(good) - budget} call(s) over the budget of {deps.settings.max_tool_calls} tool calls")
        good = good[: max(0, budget)]
    retry = bool(errors) and state.get("retries", 0) < deps.settings.max_call_retries
    summary = f"{len(good)} valid, {len(errors)} invalid" + (" -> back to the reasoner" if retry else "")
    return {
        "calls": [] if retry else good,
        "call_errors": errors if retry else [],
        "retries": state.get("retries", 0) + 1 if retry else 0,
        "trace": [_step(state, "validate", summary, errors=errors)] if errors or good else [],
    }


def act(state: AgentState, deps: Deps) -> dict[str, Any]:
    ctx = _context(state, deps)
    calls = state.get("calls", [])
    observations: list[Observation | None] = [None] * len(calls)
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(calls):
        groups.setdefault(c.tool, []).append(i)

    def run_group(name: str, idx: list[int]) -> tuple[list, str | None, float, int]:  # type: ignore[type-arg]
        t0 = time.perf_counter()
        items = [(calls[i].arguments, ctx) for i in idx]
        kept = 0
        try:
            if deps.cache is not None:
                results, kept = deps.cache.run(deps.tools[name], items, deps.batchers[name])
            else:
                results = deps.batchers[name](items)
            error = None
        except Exception as e:  # a tool that fails is an observation, not a crash
            results, error = [None] * len(idx), f"{type(e).__name__}: {e}"
        return results, error, time.perf_counter() - t0, kept

    # different tools of one round run side by side (the models release the GIL: an OCR
    # process, ONNX sessions, spaCy), each tool's calls as one batch
    t_all = time.perf_counter()
    if len(groups) > 1:
        with ThreadPoolExecutor(max_workers=min(len(groups), MAX_PARALLEL_TOOLS)) as pool:
            futures = {name: pool.submit(run_group, name, idx) for name, idx in groups.items()}
            done = {name: f.result() for name, f in futures.items()}
    else:
        done = {name: run_group(name, idx) for name, idx in groups.items()}
    model_s = time.perf_counter() - t_all
    steps = []
    for name, idx in groups.items():
        results, error, dt, kept = done[name]
        for i, r in zip(idx, results):
            observations[i] = Observation(call_id=state.get("tool_calls", 0) + i, call=calls[i], result=r,
                                          error=error, seconds=dt / len(idx))
        steps.append((name, idx, dt, error, kept))
    trace = []
    for k, (name, idx, dt, error, kept) in enumerate(steps):
        summary = f"{name} x{len(idx)} in {dt * 1000:.1f} ms" + (f" ({kept} kept from before)" if kept else "")
        extra: dict[str, Any] = {"cached": kept} if kept else {}
        if error:
            extra["failed"] = True
        trace.append(_step(state, "act", summary + (f": {error}" if error else ""), k, tool=name,
                           arguments=[calls[i].arguments.model_dump(exclude={"entities"}) for i in idx],
                           seconds=round(dt, 4), **extra))
    observed = [o for o in observations if o is not None]
    return {
        "observations": observed,
        "history": state.get("history", []) + [deps.tools[c.tool].key(c.arguments) for c in calls],
        "tool_calls": state.get("tool_calls", 0) + len(calls),
        "calls": [],
        "model_seconds": state.get("model_seconds", 0.0) + model_s,
        "trace": trace,
    }


def absorb(state: AgentState, deps: Deps) -> dict[str, Any]:
    """The round's results merged into the draft (``muie.agent.absorb``): the draft every
    reasoner and the verifier read next."""
    return absorbing.absorb(dict(state), deps.settings.chunk_chars, len(state.get("trace", [])))


def verify(state: AgentState, deps: Deps) -> dict[str, Any]:
    """Check the draft after a round: fix what the checks can fix, send the rest back to
    the reasoner as critique (each finding once), record everything in the trace."""
    if not deps.settings.verify:
        return {"findings": [], "trace": [_step(state, "verify", "verification off")]}
    draft, findings = verify_draft(state["draft"], _verify_context(state, deps))
    sent = set(state.get("critiqued", []))
    critique = [f for f in findings if is_open(f) and f.key not in sent]
    fixed = sum(f.fix is not None for f in findings)
    summary = (f"{len(findings)} finding(s): {fixed} fixed, {len(critique)} sent to the reasoner"
               if findings else "all checks hold")
    return {"draft": draft, "findings": critique, "critiqued": sorted(sent | {f.key for f in critique}),
            "trace": [_step(state, "verify", summary, findings=[f.model_dump(exclude_none=True) for f in findings])]}


def finish(state: AgentState, deps: Deps) -> dict[str, Any]:
    """The last word: what was found in media becomes groundings, the final checks run
    (duplicates merged, unsupported groundings dropped), and anything still failing a
    consistency check is dropped, so the result holds."""
    draft, req = state["draft"], state["request"]
    vc = _verify_context(state, deps)
    unresolved = consistency(draft, vc)
    if any(f.severity == "error" for f in unresolved):
        draft = repair(draft, req)
    draft = ground_media(draft, req)
    findings: list[Finding] = []
    if deps.settings.verify:
        vc.final = True
        draft, findings = verify_draft(draft, vc)
    inputs, late = late_damage(req.inputs)
    findings += late
    if not state.get("done"):
        findings.append(Finding(
            check="budget", severity="warning", where="run",
            message=f"stopped at the budget after {state.get('iteration', 0)} of {deps.settings.max_iterations} "
                    f"iterations and {state.get('tool_calls', 0)} of {deps.settings.max_tool_calls} tool calls, "
                    "before the reasoner was done", action="returned the last draft, repaired to hold"))
    if "ner" not in req.tasks:
        used = {r.head for r in draft.relations} | {r.tail for r in draft.relations}
        used |= {a.entity for v in draft.events for a in v.arguments}
        draft = draft.model_copy(update={"entities": [e for e in draft.entities if e.id in used]})
    if "re" not in req.tasks:
        draft = draft.model_copy(update={"relations": []})
    if "ee" not in req.tasks:
        draft = draft.model_copy(update={"events": []})
    summary = f"{len(draft.entities)} entities, {len(draft.relations)} relations, {len(draft.events)} events"
    errors = [f for f in unresolved if f.severity == "error"]
    if errors:
        summary += f"; dropped what {len(errors)} unresolved finding(s) named"
    if findings:
        summary += f"; final checks: {len(findings)} finding(s)"
    return {"draft": draft, "request": req.model_copy(update={"inputs": inputs}) if late else req,
            "trace": [_step(state, "finish", summary, iterations=state.get("iteration", 0),
                            tool_calls=state.get("tool_calls", 0),
                            findings=[f.model_dump(exclude_none=True) for f in findings])]}


def _verify_context(state: AgentState, deps: Deps) -> VerifyContext:
    req = state["request"]
    return VerifyContext(request=req, evidence=Evidence(req, _context(state, deps), deps.cache), settings=deps.settings,
                         history=state.get("history", []))


def _context(state: AgentState, deps: Deps) -> ToolContext:
    req = state["request"]
    return ToolContext(texts=req.all_texts, settings=deps.settings, descriptions=req.schema_.descriptions,
                       media=req.media)


def to_results(state: AgentState) -> list[Result]:
    """The final state as the contract's result: one, or one per document of a batch."""
    draft, req = state["draft"], state["request"]
    trace = state.get("trace", [])
    if not req.is_batch:
        return [_result(draft, list(req.inputs), trace)]
    by_doc: dict[str, Draft] = {i: Draft() for i in req.texts}
    home = {e.id: e.mentions[0].input for e in draft.entities if e.mentions}
    for e in draft.entities:
        if e.id in home:
            by_doc[home[e.id]].entities.append(_rename(e, "text"))
    for r in draft.relations:
        by_doc[home[r.head]].relations.append(r)
    for v in draft.events:
        doc = v.trigger.mentions[0].input
        by_doc[doc].events.append(v.model_copy(update={"trigger": _rename(v.trigger, "text")}))
    traces = _doc_traces(trace, list(by_doc))
    return [_result(d, [TextInput()], traces[i]) for i, d in by_doc.items()]


def _rename(item, input_id: str):  # type: ignore[no-untyped-def]
    return item.model_copy(update={"mentions": [m.model_copy(update={"input": input_id}) for m in item.mentions]})


def _doc_traces(trace: list[TraceStep], docs: list[str]) -> dict[str, list[TraceStep]]:
    """A batch's trace as each document saw it: every step, with the calls on that document."""
    out: dict[str, list[TraceStep]] = {d: [] for d in docs}
    for s in trace:
        extra = dict(s.model_extra or {})
        by_doc: dict[str, list[dict[str, Any]]] = {}
        for a in extra.get("arguments", []):
            by_doc.setdefault(a.get("input"), []).append(dict(a, input="text"))
        for d in docs:
            if "arguments" in extra:
                extra["arguments"] = by_doc.get(d, [])
            out[d].append(TraceStep.model_construct(step=s.step, node=s.node, summary=s.summary,
                                                    batch_document=d, **extra))
    return out


def _result(draft: Draft, inputs: list, trace: list[TraceStep]) -> Result:  # type: ignore[type-arg]
    """Ids numbered in order of appearance: in the text, then in time, then in the order found."""
    entities = sorted(draft.entities, key=lambda e: _first(e.mentions, e.groundings))
    ids = {e.id: f"E{i}" for i, e in enumerate(entities, 1)}
    entities = [e.model_copy(update={"id": ids[e.id], "mentions": sorted(e.mentions, key=lambda m: m.start)})
                for e in entities]
    relations = [r.model_copy(update={"id": f"R{i}", "head": ids[r.head], "tail": ids[r.tail]})
                 for i, r in enumerate(draft.relations, 1)]
    events = sorted(draft.events, key=lambda v: _first(v.trigger.mentions, v.trigger.groundings))
    events = [v.model_copy(update={"id": f"V{i}", "arguments": [a.model_copy(update={"entity": ids[a.entity]})
                                                               for a in v.arguments]})
              for i, v in enumerate(events, 1)]
    return Result(inputs=inputs, entities=entities, relations=relations, events=events, trace=trace)


def _first(mentions: list, groundings: list) -> tuple[int, float]:  # type: ignore[type-arg]
    if mentions:
        return 0, float(min(m.start for m in mentions))
    times = [g.start_s for g in groundings if isinstance(g, Segment)]
    return (1, min(times)) if times else (2, 0.0)

"""The LLM reasoner in REAMO's form (``llm_mode=meta``): the LLM plans every tool call as
``<Module>...</Module><Instruction>...</Instruction>`` text and extracts nothing itself.

Each round it sees the schema, the texts' chunks with their offsets, the media, the
entities found so far, the calls that ran, the calls the graph rejected and the
verifier's critique; it answers with blocks (``reasoner.meta_response.parse``), or with
none when it is done. Blocks that do not parse go back to it with the errors
(``llm_validation_retries``); an answer with no valid block and errors is an
``LLMError``. Tool results are merged into the draft as the embedded reasoner merges them.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined

from muie.calls import History
from muie.prompts import load
from muie.reasoner.base import Decision, View
from muie.reasoner.llm_client import LLMClient, LLMError
from muie.reasoner.llm_prompt import catalogue, offered_tools, text_tools
from muie.reasoner.meta_response import parse
from muie.repair import repair
from muie.settings import Settings
from muie.tools import call_key

_ENV = Environment(undefined=StrictUndefined, autoescape=False)


def meta_messages(view: View, tools: tuple[str, ...]) -> list[dict[str, Any]]:
    req, prompt = view.request, load("llm_meta.yaml")
    s = req.schema_
    texts = req.all_texts
    chunks = [f"{i} [{a}, {b}): {texts[i][a:b]}" for i, a, b in view.chunks]
    user = _ENV.from_string(prompt["user"]).render(
        entity_types=s.entity_types, relation_types=s.relation_types, event_types=s.event_types, chunks=chunks,
        media=[f"{i.id} ({i.modality})" for i in req.inputs if i.modality != "text"],
        entities=[f"{e.id} {e.type} {e.text!r}" for e in view.draft.entities], history=[str(k) for k in view.history],
        call_errors=view.call_errors, critique=[f"{f.check} ({f.where}): {f.message}" for f in view.findings],
        tools=catalogue(tools),
    ).strip()
    return [{"role": "system", "content": prompt["system"].strip()}, {"role": "user", "content": user}]


def decide_meta(settings: Settings, client: LLMClient, view: View) -> Decision:
    draft = view.draft
    if view.findings:
        draft = repair(draft, view.request)
    view = View(request=view.request, chunks=view.chunks, draft=draft, observations=view.observations,
                call_errors=view.call_errors, findings=view.findings, history=view.history, iteration=view.iteration)
    tools = text_tools() + offered_tools(view.request)
    msgs = meta_messages(view, tools)
    attempts = settings.llm_validation_retries + 1
    for _ in range(attempts):
        text, _seconds = client.complete(msgs)
        parsed = parse(text)
        if not parsed.errors:
            break
        msgs += [{"role": "assistant", "content": text},
                 {"role": "user", "content": "These blocks were rejected: " + "; ".join(parsed.errors)
                  + ". Answer again with valid blocks only."}]
    if parsed.errors and not parsed.calls:
        raise LLMError("invalid output", client.endpoint, parsed.errors[0], attempts)
    ran = History(view.history)
    calls = [c.model_dump(mode="json") for c in parsed.calls if call_key(c) not in ran]
    note = f"LLM (meta-response) asked for {len(calls)} call(s)"
    if parsed.errors:
        note += f"; {len(parsed.errors)} block(s) dropped: {parsed.errors[0]}"
    return Decision(calls=calls, draft=draft, done=not calls, note=note)

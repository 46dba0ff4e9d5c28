"""An LLM's answer to a question, from the results the store keeps: the evidence is
numbered, the model answers and cites numbers, and the citations are those items'
groundings (never places the model makes up). A failed LLM leaves the embedded answer."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from muie.agent.ask.answer import Citation
from muie.agent.ask.recall import Memory, Reply, _passage_cite, _span, where
from muie.prompts import load
from muie.settings import Settings

log = logging.getLogger("muie")
MAX_ITEMS = 60


class LLMReply(BaseModel):
    answer: str = Field(description="The answer, in one to three sentences.")
    cite: list[int] = Field(default_factory=list, description="Numbers of the evidence used.")


def evidence(mem: Memory) -> list[tuple[str, list[Citation]]]:
    """What the run found, as lines the model reads, each with its citations."""
    items = []
    for e in mem.result.entities:
        said, cites = where(e, mem)
        items.append((f"{e.text} ({e.type}): " + ("; ".join(said) if said else "not grounded"), cites))
    for p in mem.passages():
        items.append((f"said{_span(p)}: \"{p.text}\"", [_passage_cite(p, mem)]))
    names = {e.id: e.text for e in mem.result.entities}
    for r in mem.result.relations:
        items.append((f"relation: {names.get(r.head)} {r.type} {names.get(r.tail)}", []))
    for v in mem.result.events:
        args = ", ".join(f"{a.role} = {names.get(a.entity)}" for a in v.arguments)
        items.append((f"event {v.type} (\"{v.trigger.text}\"){': ' + args if args else ''}", []))
    return items[:MAX_ITEMS]


def llm_reply(question: str, mem: Memory, settings: Settings, fallback: Reply) -> tuple[Reply, str | None]:
    """(the LLM's reply, None), or (``fallback``, why) when the LLM gives no usable answer."""
    from muie.reasoner.llm_client import LLMClient, LLMError

    items = evidence(mem)
    prompt = load("answer_question.yaml")
    lines = "\n".join(f"[{k}] {line}" for k, (line, _) in enumerate(items, 1))
    messages = [{"role": "system", "content": prompt["system"]},
                {"role": "user", "content": prompt["user"].format(evidence=lines or "(nothing was found)",
                                                                  question=question)}]
    try:
        got = LLMClient(settings).ask(messages, LLMReply)
    except LLMError as e:
        log.warning("the LLM could not answer (%s): the embedded answer is given", e)
        return fallback, str(e)
    value: LLMReply = got.value  # type: ignore[assignment]
    cites = [c for k in dict.fromkeys(value.cite) if 1 <= k <= len(items) for c in items[k - 1][1]]
    return Reply(value.answer.strip() or fallback.answer, cites or fallback.citations, fallback.focus,
                 fallback.found), None

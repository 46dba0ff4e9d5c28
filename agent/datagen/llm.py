"""Records worded by an LLM (``--mode llm``): GPT-4 or any OpenAI-compatible model.

The LLM gets the case and its annotation (``prompts/datagen_llm.yaml``) and answers typed
(``Wording``, through ``reasoner.llm_client.LLMClient``: instructor, the openai client's
retries and backoff, honouring a 429's ``Retry-After``): the user's request in its own
words and the reasoning said before the answer. Its answer is checked against the gold
(``check_wording``), and the record never takes from it what the gold says: the
extraction and the meta-responses are the gold's, rendered; the LLM's are the words.

What is wrong with an answer says what becomes of the case:

- ``Rejected`` (written to the rejects file, not asked again): the answer is malformed
  or breaks the schema after the validation retries, the endpoint refuses the request
  (HTTP 4xx), or the answer contradicts the gold (it names an input the case has not,
  says a thing is in an input where the gold does not place it, or is not in one where
  the gold does; it holds meta-response tags, media placeholders or section titles);
- ``LLMError`` (the case is left for a rerun): a rate limit past the retries, a timeout,
  an endpoint down, a server error.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, StrictUndefined, Template
from pydantic import BaseModel, Field

from muie.agent.datagen.answer import SECTIONS, Step, q, render_extraction
from muie.agent.datagen.cases import Job, asked, context, sources
from muie.agent.datagen.record import PLACEHOLDER, Record, Rejected, Usage
from muie.agent.datagen.template import compose, pick
from muie.prompts import load
from muie.reasoner.llm_client import LLMClient, LLMError
from muie.settings import Settings

_ENV = Environment(undefined=StrictUndefined, autoescape=False)
_IDS = re.compile(r"\b(?:image|audio|video)\d+\b")
_TAGS = re.compile(r"<\s*/?\s*(?:module|instruction)\s*>", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|no|never|absent|without|neither|nor|missing)\b|n't\b", re.IGNORECASE)
TRANSIENT = ("timeout", "unreachable", "rate limited")
"""LLMError kinds that leave the case for a rerun (with any HTTP 5xx, 408 and 409)."""


class Wording(BaseModel):
    """What the LLM writes for one record."""

    instruction: str = Field(min_length=1, description="The user's request.")
    reasoning: str = Field(min_length=1, description="One sentence said before the answer.")


def transient(e: LLMError) -> bool:
    code = e.kind.removeprefix("HTTP ")
    return e.kind in TRANSIENT or (code.isdigit() and (int(code) >= 500 or int(code) in (408, 409)))


def _line(step: Step) -> str:
    who = f"{q(step.ref[0])} (trigger of {step.ref[1]})" if step.trigger else q(step.ref[0])
    return f"{who} in {step.input} ({step.call.tool.rsplit('.', 1)[0]})"


@lru_cache(maxsize=8)
def _template(text: str) -> Template:
    return _ENV.from_string(text)


def messages(job: Job, prompt: dict[str, Any]) -> list[dict[str, str]]:
    view = job.gold
    extraction = render_extraction(view, job.schema).splitlines()
    sections: dict[str, list[str]] = {}
    current = ""
    for ln in extraction:
        if ln in SECTIONS:
            current = ln
        else:
            sections.setdefault(current, []).append(ln.removeprefix("- "))
    user = _template(prompt["user"]).render(
        sources=sources(job.case.result), context=context(job), what=asked(job.schema),
        entities="; ".join(sections.get("Entities:", [])),
        relations="; ".join(x for x in sections.get("Relations:", []) if x != "(none)"),
        events="; ".join(x for x in sections.get("Events:", []) if x != "(none)"),
        groundings=[_line(s) for s in view.steps], style=pick(prompt["styles"], job),
    ).strip()
    return [{"role": "system", "content": prompt["system"].strip()}, {"role": "user", "content": user}]


def check_wording(w: Wording, job: Job) -> list[str]:
    """How the LLM's words contradict the gold of ``job`` (empty: they do not)."""
    view = job.gold
    bad: list[str] = []
    for name, words in (("instruction", w.instruction), ("reasoning", w.reasoning)):
        if _TAGS.search(words) or any(tag in words for tag in PLACEHOLDER.values()):
            bad.append(f"the {name} holds a tag")
        if any(ln.strip() in SECTIONS for ln in words.splitlines()):
            bad.append(f"the {name} holds a section title")
        bad += [f"the {name} names {i}, which the case has not" for i in sorted(set(_IDS.findall(words)))
                if i not in view.media]
        for sentence in re.split(r"(?<=[.!?;])\s+", words):
            named = set(_IDS.findall(sentence))
            if len(named) != 1:  # a thing and one input: a claim of where it is
                continue
            (where,) = named
            denied = bool(_NEGATION.search(sentence))
            for (text, _), inputs in view.entities.items():
                if not re.search(rf"(?<!\w){re.escape(text)}(?!\w)", sentence, re.IGNORECASE):
                    continue
                if not denied and where not in inputs:
                    bad.append(f"the {name} places {text!r} in {where}; the gold does not")
                elif denied and where in inputs:
                    bad.append(f"the {name} says {text!r} is not in {where}; the gold places it there")
    return bad


class LLMWriter:
    """Writes a record of a job with the wording of an LLM, checked against the gold."""

    name = "llm"
    concurrent = True

    def __init__(self, settings: Settings, client: LLMClient | None = None) -> None:
        if settings.llm_mode == "meta":  # typed answers here: a JSON object
            settings = settings.model_copy(update={"llm_mode": "json"})
        self.settings = settings
        self.client = client or LLMClient(settings)
        self.prompt = load("datagen_llm.yaml")

    def write(self, job: Job) -> Record:
        try:
            answer = self.client.ask(messages(job, self.prompt), Wording)
        except LLMError as e:
            if transient(e):
                raise
            kind = "invalid output" if e.kind.startswith("invalid") else "bad request"
            raise Rejected(kind, f"{e.kind} after {e.attempts} attempt(s): {e.detail}") from e
        usage = Usage(prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens)
        wording: Wording = answer.value  # type: ignore[assignment]
        bad = check_wording(wording, job)
        if bad:
            raise Rejected("contradicts gold", "; ".join(bad), usage)
        return compose(job, wording.instruction, wording.reasoning, model=self.settings.llm_model, usage=usage)

"""Records written offline (``--mode template``): the gold rendered, the instruction and the
opening line picked from the phrasings of ``prompts/datagen_template.yaml``.

Deterministic: a case and variant always pick the same phrasings (a hash of what the case
says), and the variants of a case pick different ones while there are phrasings left.
``compose`` puts a record together; the llm writer uses it too, with the LLM's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from jinja2 import Environment, StrictUndefined

from muie.agent.datagen.answer import render_answer, round_trip
from muie.agent.datagen.cases import Job, asked, context, media_paths, placeholders, sources
from muie.agent.datagen.record import Record, RecordMeta, Rejected, Turn, Usage
from muie.prompts import load

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
T = TypeVar("T")


def compose(job: Job, instruction: str, lead: str, model: str | None = None, usage: Usage | None = None) -> Record:
    """The record of ``job``: placeholders, instruction and context; the lead, extraction and calls.
    A record whose answer would not read back into its gold (a type named with brackets, say)
    is ``Rejected`` as a bad case, never written."""
    r = job.case.result
    view = job.gold
    human = placeholders(r) + instruction.strip() + "\n\n" + context(job)
    modalities = [m for m in ("text", "image", "audio", "video") if any(i.modality == m for i in r.inputs)]
    meta = RecordMeta(case=job.case_id, key=job.key, mode=job.mode, variant=job.variant,  # type: ignore[arg-type]
                      source=job.source, tasks=view.tasks(), modalities=modalities,  # type: ignore[arg-type]
                      modules=[s.call.tool for s in view.steps], model=model, usage=usage)
    paths = media_paths(r)
    answer = render_answer(view, job.schema, lead)
    bad = round_trip(answer, r)
    if bad:
        raise Rejected("bad case", "its answer does not read back into its gold: " + "; ".join(bad)[:500], usage)
    return Record(id=f"{job.case_id}#{job.variant}", input_image=paths["image"], input_audio=paths["audio"],
                  input_video=paths["video"], meta=meta,
                  conversations=[Turn(from_="human", value=human),
                                 Turn(from_="gpt", value=answer)])


def variables(job: Job) -> dict[str, object]:
    r = job.case.result
    return {"what": asked(job.schema), "sources": sources(r), "media": any(i.modality != "text" for i in r.inputs),
            "grounded": len(job.gold.steps)}


def pick(options: Sequence[T], job: Job, salt: int = 0) -> T:
    """The option for this case and variant: the case's own start (by what it says, so that a
    case given twice gives the same record, a duplicate), the variant's step from it."""
    start = int(job.content[:8], 16)
    return options[(start + salt + job.variant) % len(options)]


class TemplateWriter:
    """Writes the record of a job from the gold alone; never asks anything of anyone."""

    name = "template"
    concurrent = False

    def __init__(self) -> None:
        prompts = load("datagen_template.yaml")
        self.instructions = [_ENV.from_string(t) for t in prompts["instructions"]]
        self.leads = [_ENV.from_string(t) for t in prompts["leads"]]

    def write(self, job: Job) -> Record:
        values = variables(job)
        instruction = pick(self.instructions, job).render(**values)
        lead = pick(self.leads, job, salt=3).render(**values)
        return compose(job, instruction, lead)

"""What a ``muie datagen`` run made, over the whole output (earlier runs included) and this
run alone: counts per task, modality and module, rejects by kind, tokens and cost.
Printed at the end and written to ``OUT.summary.json``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from muie.agent.datagen.record import Record, Reject
from muie.settings import Settings


class ThisRun(BaseModel):
    jobs: int = Field(0, description="Records asked for (cases x variants).")
    skipped: int = Field(0, description="Already in the output or the rejects: done by an earlier run.")
    written: int = 0
    rejected: int = 0
    duplicates: int = 0
    failed: dict[str, int] = Field(default_factory=dict, description="Left for a rerun, by error kind.")
    seconds: float = 0.0
    records_per_s: float = 0.0
    interrupted: bool = False


class Tokens(BaseModel):
    prompt: int = 0
    completion: int = 0
    total: int = 0


class Summary(BaseModel):
    out: str
    records: int
    cases: int = Field(description="Distinct cases with a record.")
    tasks: dict[str, int] = Field(description="Records with items of each task.")
    modalities: dict[str, int] = Field(description="Records with an input of each modality.")
    combinations: dict[str, int] = Field(description="Records per combination of modalities.")
    modules: dict[str, int] = Field(description="Meta-response calls per tool.")
    rejects: dict[str, int] = Field(description="Rejects (duplicates included) by kind.")
    tokens: Tokens
    cost: float = Field(description="From the tokens and the datagen_cost_per_1k_* settings.")
    this_run: ThisRun


def summarize(out: Path, records: list[Record], rejects: list[Reject], run: ThisRun, settings: Settings) -> Summary:
    tasks: Counter[str] = Counter()
    modalities: Counter[str] = Counter()
    combinations: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    tokens = Tokens()
    for r in records:
        tasks.update(r.meta.tasks)
        modalities.update(r.meta.modalities)
        combinations["+".join(r.meta.modalities) or "none"] += 1
        modules.update(r.meta.modules)
    for u in [r.meta.usage for r in records] + [j.usage for j in rejects]:
        if u is not None:
            tokens.prompt += u.prompt_tokens
            tokens.completion += u.completion_tokens
    tokens.total = tokens.prompt + tokens.completion
    cost = (tokens.prompt * settings.datagen_cost_per_1k_input
            + tokens.completion * settings.datagen_cost_per_1k_output) / 1000
    return Summary(out=str(out), records=len(records), cases=len({r.meta.case for r in records}),
                   tasks=dict(sorted(tasks.items())), modalities=dict(sorted(modalities.items())),
                   combinations=dict(sorted(combinations.items())), modules=dict(sorted(modules.items())),
                   rejects=dict(sorted(Counter(j.kind for j in rejects).items())), tokens=tokens,
                   cost=round(cost, 6), this_run=run)


def render(s: Summary) -> str:
    """The summary as a few lines for people."""
    def counts(c: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in c.items()) or "none"

    r = s.this_run
    failed = sum(r.failed.values())
    lines = [
        f"{s.out}: {s.records} records from {s.cases} cases",
        f"this run: {r.written} written, {r.skipped} already done, {r.rejected} rejected, {r.duplicates} duplicates, "
        f"{failed} left for a rerun{' (' + counts(r.failed) + ')' if failed else ''}; {r.seconds:.1f} s, "
        f"{r.records_per_s:.1f} records/s{'; interrupted' if r.interrupted else ''}",
        f"tasks: {counts(s.tasks)}",
        f"modalities: {counts(s.modalities)}",
        f"combinations: {counts(s.combinations)}",
        f"modules: {counts(s.modules)}",
        f"rejects: {counts(s.rejects)}",
        f"tokens: {s.tokens.prompt} prompt + {s.tokens.completion} completion = {s.tokens.total}; cost {s.cost:.4f}",
    ]
    return "\n".join(lines) + "\n"

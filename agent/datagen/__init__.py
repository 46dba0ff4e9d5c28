"""``muie datagen``: instruction-tuning records in REAMO's form from annotated cases.

>>> from agent.datagen import generate
>>> summary = generate("bench/results/grounded/cases.jsonl", "train.jsonl", mode="template")

Modules: ``record`` (the record's Pydantic model), ``answer`` (the assistant turn: the gold
rendered with its meta-responses, and read back), ``cases`` (annotated input, jobs and
keys), ``template`` and ``llm`` (the two writers), ``store`` (append-only files),
``runner`` (resumable, concurrent runs), ``summary``.
"""

from __future__ import annotations

from pathlib import Path

from muie.agent.datagen.answer import gold_view, parse_answer, round_trip
from muie.agent.datagen.record import Record, Reject
from muie.agent.datagen.store import rejects_path, summary_path
from muie.agent.datagen.summary import Summary, render
from muie.errors import InputError, MuieError
from muie.settings import Settings

__all__ = ["DatagenInterrupted", "Record", "Reject", "Summary", "generate", "gold_view", "parse_answer",
           "rejects_path", "render", "round_trip", "summary_path"]


class DatagenInterrupted(MuieError):
    """Ctrl-C: the records written are kept (and the summary says so); a rerun goes on."""

    exit_code = 130

    def __init__(self, out: str | Path) -> None:
        super().__init__(f"interrupted: the records written to {out} are kept; run the same command again to go on")


def generate(annotated: str | Path, out: str | Path, mode: str = "template", variants: int | None = None,
             schema: str | Path | None = None, media_root: str | Path | None = None, limit: int | None = None,
             settings: Settings | None = None, progress: bool = False) -> Summary:
    """Write the records of the annotated cases into ``out`` (JSONL), continuing what is there."""
    from muie.agent.datagen.cases import jobs, load_annotated
    from muie.agent.datagen.runner import run
    from muie.files import check_writable

    s = settings or Settings.from_env()
    src, dst = Path(annotated), Path(out)
    if mode not in ("template", "llm"):
        raise InputError("--mode", f"unknown mode {mode!r}; choose template or llm")
    n_variants = variants if variants is not None else s.datagen_variants
    if n_variants < 1:
        raise InputError("--variants", f"must be at least 1, not {n_variants}")
    if limit is not None and limit < 1:
        raise InputError("--limit", f"must be at least 1, not {limit}")
    if dst.suffix != ".jsonl":
        raise InputError(str(dst), "the output must be a .jsonl file")
    check_writable(dst, "OUT")
    root = Path(media_root) if media_root is not None else (src if src.is_dir() else src.parent)
    if not root.is_dir():
        raise InputError(f"--media-root {root}", "is not a folder")
    cases, sch = load_annotated(src, Path(schema) if schema is not None else None)
    todo = jobs(cases[:limit], sch, mode, n_variants, str(src))
    if mode == "llm":
        from muie.agent.datagen.llm import LLMWriter

        writer = LLMWriter(s)
    else:
        from muie.agent.datagen.template import TemplateWriter

        writer = TemplateWriter()  # type: ignore[assignment]
    return run(todo, writer, dst, s, root, progress=progress)

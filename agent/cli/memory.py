"""The command line of the store and of conversations: ``muie ask``, ``muie chat`` and ``muie runs``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import typer

from muie.agent.cli.words import in_cli_words
from muie.errors import InputError

runs_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="The extractions the store keeps: list them, show one, export results.")


def _media(paths: list[str]) -> dict[str, list[str]]:
    """Media paths sorted by modality (by suffix); a text file's words are the text."""
    from muie.memory.media import kind_of

    out: dict[str, list[str]] = {"images": [], "audio": [], "video": [], "text": []}
    role = {"image": "images", "audio": "audio", "video": "video", "text": "text"}
    for p in paths:
        kind = kind_of(p)
        if kind is None:
            raise InputError(p, "is not a media file muie knows by its name (an image, audio, video or .txt file)")
        out[role[kind]].append(p)
    if len(out["text"]) > 1:
        raise InputError(out["text"][1], "one text file at most")
    return out


def _inputs(media: list[str], text: str | None, text_file: Path | None, schema: Path | None) -> dict[str, Any]:
    from muie.agent.inputs import check_text, read_schema_file, read_text_file

    m = _media(media)
    if text is not None and (text_file is not None or m["text"]):
        raise InputError("--text", "give the text once: --text, --text-file or a .txt file")
    tf = text_file or (Path(m["text"][0]) if m["text"] else None)
    if tf is not None:
        text = check_text(read_text_file(tf), str(tf))
    sch = read_schema_file(schema).model_dump() if schema is not None else None
    return {"text": text, "images": m["images"], "audio": m["audio"], "video": m["video"], "schema": sch}


def _print_answer(a: Any, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(a.model_dump_json(exclude_none=True) + "\n")
        return
    sys.stdout.write(a.answer + "\n")
    from rich.console import Console

    err = Console(file=sys.stderr)
    err.print(f"[dim]({a.kind}; from {a.source}; run {a.run_id[:8] if a.run_id else '-'}; thread {a.thread_id}; "
              f"{len(a.citations)} citation(s))[/dim]")


def _render(a: Any, out: Path) -> list[Path]:
    """Pictures of what an answer cites: each cited grounding drawn on its media."""
    from muie.agent.render import render_result
    from muie.domain import Entity, Result
    from muie.memory.store import Store

    if not a.run_id:
        return []
    result = Store().result(a.run_id)
    cited: dict[str, list] = {}
    for c in a.citations:
        if c.grounding is not None:
            cited.setdefault(c.what, []).append(c.grounding)
    ents = [Entity(id=f"E{k}", text=w[:80], type=next((c.type for c in a.citations if c.what == w and c.type), "cited"),
                   groundings=g) for k, (w, g) in enumerate(cited.items(), 1)]
    used = {g.input for e in ents for g in e.groundings}
    return render_result(Result(inputs=[i for i in result.inputs if i.id in used], entities=ents), None, out)


def ask_cmd(
    question: str = typer.Argument(..., help="The question, e.g. \"who is speaking at 0:12?\" or "
                                   "\"where is the cat?\"."),
    media: list[str] = typer.Argument(None, help="Images, audio, video and a .txt file to ask about (none: the "
                                      "thread's)."),
    text: str | None = typer.Option(None, "--text", help="Text that goes with the media."),
    text_file: Path | None = typer.Option(None, "--text-file", help="A UTF-8 file holding that text."),
    schema: Path | None = typer.Option(None, "--schema", help="Label schema JSON for an extraction it needs."),
    thread: str | None = typer.Option(None, "--thread", help="Go on with this conversation (its media, what it "
                                         "talked about)."),
    reasoner: str = typer.Option("embedded", "--reasoner", help="embedded (typed queries over the results) or llm "
                                 "(the model answers from them; MUIE_LLM_*)."),
    render: Path | None = typer.Option(None, "--render", help="Draw what the answer cites into this folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer with its citations as JSON."),
) -> None:
    """Ask one question about media: answered from kept results, or after extracting them."""
    from muie.agent.ask.conversation import ask

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="muie: %(message)s")
    i = _inputs(media or [], text, text_file, schema)
    a = ask(question, text=i["text"], images=i["images"], audio=i["audio"], video=i["video"], schema=i["schema"],
            thread_id=thread, reasoner=reasoner)
    _print_answer(a, as_json)
    if render is not None:
        for p in _render(a, render):
            print(f"muie: wrote {p}", file=sys.stderr)


def chat_cmd(
    media: list[str] = typer.Argument(None, help="Images, audio, video and a .txt file to talk about."),
    text: str | None = typer.Option(None, "--text", help="Text that goes with the media."),
    schema: Path | None = typer.Option(None, "--schema", help="Label schema JSON for the extraction."),
    thread: str | None = typer.Option(None, "--thread", help="Go on with this conversation."),
    reasoner: str = typer.Option("embedded", "--reasoner", help="embedded or llm."),
) -> None:
    """A conversation about media in the terminal: one question a line; an empty line, 'quit' or Ctrl-D ends it."""
    from rich.console import Console

    from muie.agent.ask.conversation import ask

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="muie: %(message)s")
    i = _inputs(media or [], text, None, schema)
    console = Console(file=sys.stderr)
    given = any(i[r] for r in ("images", "audio", "video")) or i["text"] is not None
    if not given and thread is None:
        raise InputError("media", "nothing to talk about: give media or text, or --thread")
    console.print("[dim]Ask about the media; an empty line or 'quit' ends.[/dim]")
    first = True
    for line in sys.stdin:
        q = line.strip()
        if not q or q.lower() in ("quit", "exit", "bye"):
            break
        kw = i if first else {"text": None, "images": [], "audio": [], "video": [], "schema": None}
        try:
            a = ask(q, text=kw["text"], images=kw["images"], audio=kw["audio"], video=kw["video"],
                    schema=kw["schema"], thread_id=thread, reasoner=reasoner)
        except InputError as e:
            console.print(f"[red]muie: {in_cli_words(e)}[/red]")
            continue
        thread, first = a.thread_id, False
        sys.stdout.write(a.answer + "\n")
        sys.stdout.flush()
    if thread:
        console.print(f"[dim]thread {thread}: go on with --thread {thread}[/dim]")


@runs_app.command("list")
def runs_list(
    limit: int = typer.Option(20, "--limit", help="How many, latest first."),
    media: Path | None = typer.Option(None, "--media", help="Only runs that read this file (by its content)."),
    as_json: bool = typer.Option(False, "--json", help="As JSON lines."),
) -> None:
    """The latest runs: id, when, inputs, what was found, seconds."""
    from rich.console import Console
    from rich.table import Table

    from muie.memory.media import content_hash
    from muie.memory.store import Store

    rows = Store().runs(limit=limit, media_hash=content_hash(media) if media is not None else None)
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(_summary(r)) + "\n")
        return
    t = Table("run", "when (UTC)", "inputs", "entities", "relations", "events", "tool calls (kept)", "seconds")
    for r in rows:
        s = _summary(r)
        t.add_row(r.id[:12], s["created"][:19].replace("T", " "), ", ".join(s["inputs"]), str(r.entities),
                  str(r.relations), str(r.events), f"{r.tool_calls} ({r.cached_calls})", f"{r.seconds:.2f}")
    Console(file=sys.stdout, width=160).print(t)


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="A run's id, or a unique start of it."),
    trace: bool = typer.Option(False, "--trace", help="Keep the agent's trace in the result."),
) -> None:
    """One run's result, as the contract's JSON."""
    from muie.memory.store import Store

    r = Store().result(run_id)
    if not trace:
        r = r.model_copy(update={"trace": []})
    sys.stdout.write(r.to_json() + "\n")


@runs_app.command("export")
def runs_export(
    out: Path = typer.Argument(..., help="File to write: .jsonl (one run a line) or .json (a list)."),
    run_ids: list[str] = typer.Option(None, "--run", help="Runs to export (repeatable; default: all)."),
    limit: int = typer.Option(1_000_000, "--limit", help="At most this many, latest first."),
) -> None:
    """Export results with their inputs and when they were made, as JSON or JSONL."""
    from muie.files import check_writable, write_atomic
    from muie.memory.store import Store

    if out.suffix not in (".json", ".jsonl"):
        raise InputError(str(out), "give a .json or .jsonl file")
    check_writable(out, "OUT")
    store = Store()
    runs = [store.run(r) for r in run_ids] if run_ids else store.runs(limit=limit)
    records = [_summary(r) | {"result": json.loads(r.result)} for r in runs]
    if out.suffix == ".jsonl":
        write_atomic(out, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records))
    else:
        write_atomic(out, json.dumps(records, ensure_ascii=False, indent=1) + "\n")
    print(f"muie: {len(records)} run(s) written to {out}", file=sys.stderr)


def _summary(r: Any) -> dict[str, Any]:
    return {"run": r.id, "created": r.created.isoformat(), "reasoner": r.reasoner,
            "inputs": [i.get("path") or i["id"] for i in r.inputs], "entities": r.entities, "relations": r.relations,
            "events": r.events, "tool_calls": r.tool_calls, "cached_calls": r.cached_calls, "seconds": r.seconds}


def register(app: typer.Typer) -> None:
    app.command("ask")(ask_cmd)
    app.command("chat")(chat_cmd)
    app.add_typer(runs_app, name="runs")

"""The command line: ``muie extract`` as the contract gives it, and ``muie schema``.

Success: exit 0, the result JSON on stdout (or in ``--out``), logs on stderr only.
Bad input: exit 2, one line on stderr naming the input and the reason, nothing on
stdout, nothing half-written.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import typer

from muie.agent.cli.words import in_cli_words
from muie.errors import InputError, MuieError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Grounded multimodal information extraction: entities, relations and events.")
log = logging.getLogger("muie")


@app.command()
def extract(
    text: str | None = typer.Option(None, "--text", help="The text to extract from."),
    text_file: Path | None = typer.Option(None, "--text-file", help="A UTF-8 file holding the text."),
    image: list[str] = typer.Option([], "--image", help="An image (repeatable)."),
    audio: list[str] = typer.Option([], "--audio", help="An audio file (repeatable)."),
    video: list[str] = typer.Option([], "--video", help="A video file (repeatable)."),
    schema: Path | None = typer.Option(None, "--schema", help="Label schema JSON (see the README)."),
    entity_types: str | None = typer.Option(None, "--entity-types", help="Entity types, comma-separated."),
    relation_types: str | None = typer.Option(None, "--relation-types", help="Relation types, comma-separated."),
    event_types: str | None = typer.Option(None, "--event-types", help="Event types, comma-separated (E:role1/role2)."),
    tasks: str | None = typer.Option(None, "--tasks", help="Any of ner,re,ee (default: all)."),
    out: Path | None = typer.Option(None, "--out", help="Write the result here instead of stdout."),
    render: Path | None = typer.Option(None, "--render", help="Write pictures of the result into this folder."),
    reasoner: str = typer.Option(
        "embedded", "--reasoner", help="Which reasoner plans the tool calls: embedded (offline), llm (an "
        "OpenAI-compatible endpoint, MUIE_LLM_*) or local (a transformers model, MUIE_LOCAL_MODEL_PATH)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each step on stderr."),
) -> None:
    """Extract entities, relations and events from text and media, each grounded where it occurs."""
    from muie.agent.api import extract as run_extract
    from muie.agent.inputs import check_text, read_schema_file, read_text_file, schema_from_lists

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="muie: %(message)s")
    if text is not None and text_file is not None:
        raise InputError("--text/--text-file", "give one of them, not both")
    if text_file is not None:
        text = check_text(read_text_file(text_file), str(text_file))
    elif text is not None:
        check_text(text, "--text")
    if schema is not None and (entity_types or relation_types or event_types):
        raise InputError("--schema", "give a schema file or type lists, not both")
    sch = (read_schema_file(schema) if schema is not None
           else schema_from_lists(entity_types, relation_types, event_types))
    _check_writable(out, render)
    t0 = time.perf_counter()
    result = run_extract(text=text, images=image, audio=audio, video=video, schema=sch, tasks=tasks, reasoner=reasoner,
                         store=True)
    payload = result.to_json() + "\n"
    if render is not None:
        from muie.agent.render import render_result

        for path in render_result(result, text, render):
            log.info("wrote %s", path)
    if out is not None:
        from muie.files import write_atomic

        write_atomic(out, payload)
    else:
        sys.stdout.write(payload)
    log.info("%d entities, %d relations, %d events in %.2f s", len(result.entities), len(result.relations),
             len(result.events), time.perf_counter() - t0)


@app.command("batch")
def batch_cmd(
    source: Path = typer.Argument(..., help="A JSONL manifest (one item a line) or a folder (each subfolder, and "
                                            "each loose text or media file, one item)."),
    out: Path = typer.Option(..., "--out", help="Folder of the results: <id>.result.json, failures.jsonl, "
                                                 "summary.json."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (or Ray actors), each loading the models once."),
    engine: str = typer.Option("local", "--engine", help="local (processes on this machine) or ray."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster to join (default: start a local Ray)."),
    schema: Path | None = typer.Option(None, "--schema", help="Label schema JSON for items without their own."),
    entity_types: str | None = typer.Option(None, "--entity-types", help="Entity types, comma-separated."),
    relation_types: str | None = typer.Option(None, "--relation-types", help="Relation types, comma-separated."),
    event_types: str | None = typer.Option(None, "--event-types",
                                              help="Event types, comma-separated (E:role1/role2)."),
    tasks: str | None = typer.Option(None, "--tasks", help="Any of ner,re,ee for items without their own."),
    reasoner: str = typer.Option("embedded", "--reasoner", help="embedded, llm or local (as for extract)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
) -> None:
    """Extract every item of a manifest or a folder; resumable (finished items are skipped), failures recorded
    per item, a summary at the end. Exit 1 when an item failed."""
    from rich.console import Console

    from muie.agent.bulk import BatchInterrupted, run_batch
    from muie.agent.inputs import read_schema_file, schema_from_lists

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="muie: %(message)s")
    if schema is not None and (entity_types or relation_types or event_types):
        raise InputError("--schema", "give a schema file or type lists, not both")
    sch = read_schema_file(schema) if schema is not None else \
        schema_from_lists(entity_types, relation_types, event_types)
    try:
        summary = run_batch(source, out, workers=workers, engine=engine, address=address,  # type: ignore[arg-type]
                            schema=sch, tasks=tasks, reasoner=reasoner, console=Console(file=sys.stderr),
                            progress=progress)
    except KeyboardInterrupt:
        raise BatchInterrupted(out) from None
    summary.print(Console(file=sys.stdout))
    if summary.failed:
        raise MuieError(f"{summary.failed} of {summary.items} item(s) failed: see {out / 'failures.jsonl'}")


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the result."""
    from muie.domain import Result

    sys.stdout.write(json.dumps(Result.model_json_schema(), indent=2) + "\n")


@app.command("eval")
def eval_cmd(
    gold: Path = typer.Argument(..., help="Gold: a result JSON, a JSONL of cases, a folder of *.json, or CoNLL/BIO."),
    pred: Path = typer.Argument(..., help="Predictions, in the same forms (cases matched by id, else by order)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the full report as JSON here."),
    by_combination: bool = typer.Option(False, "--by-combination", help="Add tables per modality combination."),
) -> None:
    """Score predicted results against gold: NER, RE, EE and the grounding in images, video and audio."""
    from muie.agent.scoring import evaluate, load_cases, render_text
    from muie.agent.scoring.report import write_json
    from muie.files import check_writable

    gold_cases, pred_cases = load_cases(gold), load_cases(pred)
    if json_out is not None:
        check_writable(json_out, "--json")
    report = evaluate(gold_cases, pred_cases)
    for warning in report.warnings:
        print(f"muie: warning: {warning}", file=sys.stderr)
    if json_out is not None:
        write_json(report, json_out)
    sys.stdout.write(render_text(report, by_combination=by_combination))


@app.command("datagen")
def datagen_cmd(
    annotated: Path = typer.Argument(..., help="Annotated cases: contract-format gold with media paths (a result "
                                     "JSON, a JSONL of cases, a folder of *.json) or CoNLL/BIO."),
    out: Path = typer.Argument(..., help="The records (.jsonl), appended to: a rerun goes on where the last stopped."),
    mode: str = typer.Option("template", "--mode", help="template (offline, the phrasings of "
                             "prompts/datagen_template.yaml) or llm (an OpenAI-compatible model words each record, "
                             "checked against the gold; MUIE_LLM_*)."),
    variants: int | None = typer.Option(None, "--variants", help="Records per case, each worded differently "
                                           "(default: MUIE_DATAGEN_VARIANTS)."),
    schema: Path | None = typer.Option(None, "--schema", help="Label schema JSON (default: schema.json beside "
                                          "the cases, else the types the gold uses)."),
    media_root: Path | None = typer.Option(None, "--media-root", help="Folder the cases' relative media paths "
                                              "are under (default: the cases' folder)."),
    concurrency: int | None = typer.Option(None, "--concurrency", help="Records made at once (default: "
                                              "MUIE_DATAGEN_CONCURRENCY)."),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N cases."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Write instruction-tuning records (LLaVA-style conversations with REAMO meta-responses) from annotated cases."""
    from muie.agent.datagen import DatagenInterrupted, generate, render
    from muie.settings import Settings

    if concurrency is not None and concurrency < 1:
        raise InputError("--concurrency", f"must be at least 1, not {concurrency}")
    settings = Settings.from_env(datagen_concurrency=concurrency)
    try:
        summary = generate(annotated, out, mode=mode, variants=variants, schema=schema, media_root=media_root,
                           limit=limit, settings=settings, progress=not quiet)
    except KeyboardInterrupt:
        raise DatagenInterrupted(out) from None
    sys.stdout.write(render(summary))
    failed = summary.this_run.failed
    if failed:
        kinds = ", ".join(f"{k} {v}" for k, v in failed.items())
        raise MuieError(f"{sum(failed.values())} record(s) not made ({kinds}): run the same command again to go on")


@app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    reasoner: str | None = typer.Option(
        None, "--reasoner",
        help="Reasoner of the model 'muie': embedded, llm or local (default: MUIE_SERVE_REASONER)."),
) -> None:
    """Serve muie over HTTP: OpenAI-compatible /v1/chat/completions and /v1/models, and POST /v1/extract."""
    from muie.agent.serve.app import run
    from muie.settings import Settings

    run(host, port, Settings.from_env(serve_reasoner=reasoner))


@app.command("mcp")
def mcp_cmd(
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP at /mcp (default: stdio, for a local "
                              "agent that starts the command)."),
    host: str | None = typer.Option(None, "--host", help="With --http: address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="With --http: port to listen on (default 8001)."),
    root: list[Path] = typer.Option([], "--root", help="A folder whose files clients may name (repeatable; "
                                    "default: the working folder). Paths outside are refused."),
    reasoner: str = typer.Option("embedded", "--reasoner", help="Which reasoner plans the tool calls: embedded, "
                                 "llm or local (as for extract)."),
) -> None:
    """Serve muie to agents over MCP: the tools extract, ask and runs, and the kept runs as resources.
    Over HTTP, MUIE_SERVE_TOKEN (when set) is the bearer token clients must send."""
    from muie.agent.mcp.server import run
    from muie.settings import Settings

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="muie: %(message)s")
    if not http and (host is not None or port is not None):
        raise InputError("--host/--port" if host is not None and port is not None else
                         "--host" if host is not None else "--port", "only with --http (stdio has no address)")
    run(Settings.from_env(), root or [Path.cwd()], reasoner, http=http, host=host or "127.0.0.1", port=port or 8001)


from muie.agent.cli.memory import register as _register_memory  # noqa: E402

_register_memory(app)


def _check_writable(out: Path | None, render: Path | None) -> None:
    from muie.files import check_writable

    if out is not None:
        check_writable(out, "--out")
    if render is not None and render.exists() and not render.is_dir():
        raise InputError(f"--render {render}", "exists and is not a folder")


def main(argv: list[str] | None = None) -> int:
    """Entry point: every usage or input error is one line on stderr and exit 2."""
    command = typer.main.get_command(app)
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        print("muie: missing command: extract, batch, eval, datagen, schema, serve or mcp (see muie --help)",
              file=sys.stderr)
        return 2
    try:
        rc = command.main(args=args, prog_name="muie", standalone_mode=False)
        if rc == 130:  # Ctrl-C inside a command that Typer turned into its exit code
            print("muie: interrupted", file=sys.stderr)
        return rc if isinstance(rc, int) else 0  # an Exit(code) comes back as its code
    except InputError as e:
        print(f"muie: {in_cli_words(e)}", file=sys.stderr)
        return e.exit_code
    except MuieError as e:  # a service muie depends on failed for good (an LLM endpoint)
        print(f"muie: {e}".replace("\n", " "), file=sys.stderr)
        return getattr(e, "exit_code", 1)
    except typer.Exit as e:
        return e.exit_code
    except typer.TyperException as e:  # usage errors: unknown option, missing value
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        print(f"muie: {message}".replace("\n", " "), file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("muie: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""What the MCP tools do, as plain synchronous calls (the server runs them in worker threads):
read a case (text and media by path inside the roots, or inline), extract it with the
agent that keeps runs, ask about media in a conversation, list and show kept runs, and
render a run's pictures. Bad input is an ``InputError`` naming the input as the client
named it (its path as given, an inline file by its name), never a path the client did not send.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muie.agent.ask.answer import Answer
from muie.agent.mcp.models import InlineMedia, RunInfo
from muie.agent.mcp.roots import Roots
from muie.domain import Result, Schema, TraceStep
from muie.errors import InputError
from muie.settings import Settings, data_dir

ROLES = {"image": "images", "audio": "audio", "video": "video"}


@dataclass
class Case:
    """Text and media paths of one call, and how the client named each file."""

    text: str | None = None
    media: dict[str, list[str]] = field(default_factory=lambda: {r: [] for r in ROLES.values()})
    names: dict[str, str] = field(default_factory=dict)
    """A file's path on this machine -> the client's name for it."""
    inline: dict[str, str] = field(default_factory=dict)
    """Path of each file sent inline (stored by hash) -> its name: a result names it so."""
    fresh: list[Path] = field(default_factory=list)
    """Inline files this call stored that were not kept before (removed again when it fails)."""

    def renamed(self, e: InputError) -> InputError:
        what, reason = e.what, e.reason
        for path, name in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            what, reason = what.replace(path, name), reason.replace(path, name)
        return InputError(what, reason)

    def public(self, path: str | None) -> str | None:
        return self.inline.get(path, path) if path else path

    def discard(self) -> None:
        for p in self.fresh:
            p.unlink(missing_ok=True)


class Service:
    """The agent (models loaded once, runs kept), the roots, the settings."""

    def __init__(self, settings: Settings, roots: Roots, reasoner: str = "embedded") -> None:
        self.settings, self.roots, self.reasoner = settings, roots, reasoner
        self._agent: Any = None
        self._lock = threading.Lock()

    def agent(self) -> Any:
        with self._lock:
            if self._agent is None:
                from muie.agent.api import Agent

                self._agent = Agent(self.reasoner, settings=self.settings, store=True)
            return self._agent

    def store(self) -> Any:
        from muie.memory.store import Store

        return Store(self.settings)

    # the case --------------------------------------------------------------------------------
    def case(self, text: str | None, text_path: str | None, paths: dict[str, Sequence[str]],
             inline: Sequence[InlineMedia]) -> Case:
        """The text and every file, each checked against the roots; inline files kept by hash."""
        from muie.agent.inputs import check_text, read_text_file

        c = Case()
        if text is not None and text_path is not None:
            raise InputError("text/text_path", "give the text or a file of it, not both")
        if text_path is not None:
            p = self.roots.check(text_path, f"text_path {text_path}")
            c.names[str(p)] = f"text_path {text_path}"
            try:
                text = check_text(read_text_file(p), f"text_path {text_path}")
            except InputError as e:
                raise c.renamed(e) from None
        elif text is not None:
            check_text(text, "text")
        c.text = text
        for role, given in paths.items():
            for k, g in enumerate(given):
                p = self.roots.check(g, f"{role}[{k}] {g}")
                c.names.setdefault(str(p), f"{role}[{k}] {g}")
                c.media[role].append(str(p))
        for k, item in enumerate(inline):
            self._keep_inline(c, k, item)
        return c

    def _keep_inline(self, c: Case, k: int, item: InlineMedia) -> None:
        from muie.memory.media import hash_bytes, keep_bytes, kind_of, stored_path

        what = f"media[{k}] {item.name}"
        kind = kind_of(item.name)
        if kind is None or kind == "text":
            raise InputError(what, "the name's suffix is not an image, audio or video type muie reads "
                             "(.png, .jpg, .wav, .flac, .mp3, .mp4, .webm ...)")
        body = item.data.partition(",")[2] if item.data.startswith("data:") else item.data
        try:
            data = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(what, "data is not valid base64") from None
        limit = int(self.settings.serve_max_upload_mb * 1024 * 1024)
        if not data:
            raise InputError(what, "empty")
        if len(data) > limit:
            raise InputError(what, f"{len(data)} bytes, over the limit of {limit} bytes (MUIE_SERVE_MAX_UPLOAD_MB)")
        root = data_dir(self.settings)
        suffix = Path(item.name).suffix.lower()
        known = stored_path(root, hash_bytes(data), suffix).is_file()
        _, path = keep_bytes(root, data, suffix)
        if not known:
            c.fresh.append(path)
        c.names[str(path)] = what
        c.inline[str(path)] = item.name
        c.media[ROLES[kind]].append(str(path))

    def schema(self, schema: dict[str, Any] | None, entity_types: list[str] | None, relation_types: list[str] | None,
               event_types: dict[str, list[str]] | None) -> Schema | None:
        from muie.agent.inputs import parse_schema

        lists = entity_types is not None or relation_types is not None or event_types is not None
        if schema is not None and lists:
            raise InputError("schema", "give a schema or the type lists (entity_types, relation_types, "
                             "event_types), not both")
        if schema is not None:
            return parse_schema(schema, "schema")
        if lists:
            return parse_schema({"entity_types": entity_types or [], "relation_types": relation_types or [],
                                 "event_types": event_types or {}}, "entity_types/relation_types/event_types")
        return None

    # the tools -------------------------------------------------------------------------------
    def extract(self, c: Case, schema: Schema | None, tasks: list[str] | None,
                on_step: Callable[[TraceStep], None] | None = None) -> tuple[Result, str | None]:
        """The result (inline inputs named as the client named them) and the kept run's id."""
        from muie.agent.api import make_request

        try:
            request = make_request(c.text, c.media["images"], c.media["audio"], c.media["video"], schema, tasks)
            results, run_id = self.agent().run_kept(request, on_step)
        except InputError as e:
            c.discard()
            raise c.renamed(e) from None
        result = results[0]
        inputs = [i.model_copy(update={"path": c.public(i.path)}) if getattr(i, "path", None) else i
                  for i in result.inputs]
        return result.model_copy(update={"inputs": inputs}), run_id

    def ask(self, question: str, c: Case, schema: Schema | None, thread_id: str | None,
            run_id: str | None) -> Answer:
        """The answer with its citations; ``run_id``: about that kept run's text and media."""
        from muie.agent.ask.conversation import ask

        sch = schema.model_dump() if schema is not None else None
        given = c.text is not None or any(c.media.values())
        if run_id is not None:
            if given:
                raise InputError("run_id", "give a run or text and media, not both")
            c, kept_schema = self._run_case(run_id)
            sch = sch or kept_schema
        try:
            answer = ask(question, text=c.text, images=c.media["images"], audio=c.media["audio"],
                         video=c.media["video"], schema=sch, thread_id=thread_id, settings=self.settings,
                         reasoner="llm" if self.reasoner == "llm" else "embedded")
        except InputError as e:
            c.discard()
            raise c.renamed(e) from None
        cites = [x.model_copy(update={"path": c.public(x.path)}) for x in answer.citations]
        return answer.model_copy(update={"citations": cites})

    def _run_case(self, run_id: str) -> tuple[Case, dict[str, Any]]:
        """A kept run's text and media as a case, each file inside the roots."""
        store = self.store()
        run = store.run(run_id)
        c = Case(text=run.text)
        for inp in run.inputs:
            if inp.get("modality") in ROLES:
                path = self._media_path(store, inp)
                c.media[ROLES[inp["modality"]]].append(str(path))
        return c, dict(run.schema_)

    def _media_path(self, store: Any, inp: dict[str, Any]) -> Path:
        """Where a kept run's input lies now (by its content hash), when the server may read it."""
        asset = store.media(inp["hash"]) if inp.get("hash") else None
        path = Path(asset.path if asset is not None else inp.get("path") or "").resolve()
        if not self.roots.inside(path):
            raise InputError(f"{inp['id']} {inp.get('path')}", "the run's file is outside the folders this "
                             f"server reads ({self.roots.describe()})")
        if not path.is_file():
            raise InputError(f"{inp['id']} {inp.get('path')}", "the run's file is no longer there")
        return path

    def runs(self, limit: int) -> list[RunInfo]:
        return [_info(r) for r in self.store().runs(limit=limit)]

    def show(self, run_id: str) -> tuple[RunInfo, Result]:
        store = self.store()
        run = store.run(run_id)
        return _info(run), Result.model_validate_json(run.result)

    def pictures(self, run_id: str, only: str | None = None) -> list[tuple[str, bytes]]:
        """(input id, PNG) of a run's media inputs drawn with what was found in them (``--render``);
        those outside the roots are left out, or refused when ``only`` names one."""
        from muie.agent.render import render_result

        store = self.store()
        run = store.run(run_id)
        result = Result.model_validate_json(run.result)
        wanted = [i for i in run.inputs if i.get("modality") in ROLES and only in (None, i["id"])]
        if only is not None and not wanted:
            raise InputError(f"run {run.id} input {only}", "no such image, recording or video in the run")
        out = []
        with tempfile.TemporaryDirectory(prefix="muie-mcp-render-") as tmp:
            for inp in wanted:
                try:
                    path = self._media_path(store, inp)
                except InputError:
                    if only is not None:
                        raise
                    continue
                meta = next(i for i in result.inputs if i.id == inp["id"])
                one = result.model_copy(update={"inputs": [meta.model_copy(update={"path": str(path)})]})
                for written in render_result(one, None, Path(tmp)):
                    out.append((inp["id"], written.read_bytes()))
        return out


def _info(r: Any) -> RunInfo:
    return RunInfo(run=r.id, created=r.created.isoformat(), reasoner=r.reasoner,
                   inputs=[i.get("path") or i["id"] for i in r.inputs], entities=r.entities, relations=r.relations,
                   events=r.events, seconds=r.seconds)

"""Tool results kept in the store and reused: the same media, tool, arguments and model
version give the same result, so a second extraction of the same media runs no model.

The key is a SHA-256 over the tool's versioned name, the model version (muie's version,
the settings a result can depend on, and each checkpoint file's size and time), the
call's arguments, and the content of what the call reads: the media file's hash, or the
text's. A call whose tool fails is not kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from muie.memory.media import content_hash, hash_text
from muie.memory.store import Store
from muie.memory.tables import ToolResult
from muie.settings import Settings

log = logging.getLogger("muie")

WEIGHTS = Path(__file__).resolve().parents[1] / "tools" / "models" / "weights"  # muie's own models

NOT_RESULT_SETTINGS = ("data_dir", "store_url", "tool_cache", "store_runs", "reuse_runs", "verify", "max_iterations",
                       "max_call_retries", "max_tool_calls", "batch_max", "batch_wait_ms", "batch_threads")
NOT_RESULT_PREFIXES = ("llm_", "serve_", "local_", "datagen_")
"""Settings no tool result depends on: the loop, the service, the reasoners, the store."""


def muie_version() -> str:
    """muie's version and a digest of the model files inside the package: results kept from
    other weights (retrained by ``make model``) are never taken for these ones'."""
    try:
        number = version("muie")
    except PackageNotFoundError:
        number = "0"
    return f"{number}+{_weights_digest()}"


@lru_cache(maxsize=1)
def _weights_digest() -> str:
    digest = hashlib.sha256()
    for f in sorted(WEIGHTS.glob("*.onnx")):
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def model_version(settings: Settings) -> str:
    """Everything besides a call's arguments and inputs that a tool's result depends on."""
    relevant: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="json").items():
        if name in NOT_RESULT_SETTINGS or name.startswith(NOT_RESULT_PREFIXES):
            continue
        relevant[name] = value
        if name.endswith("_checkpoint") and value and os.path.exists(value):
            st = os.stat(value)
            relevant[name] = [value, st.st_size, st.st_mtime_ns]
    blob = json.dumps({"muie": muie_version(), "settings": relevant}, sort_keys=True)
    return "muie-" + muie_version() + "-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


class ToolCache:
    """Reads and writes the store's tool results; counts what it served."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.hits = self.misses = 0

    @cached_property
    def version(self) -> str:
        return model_version(self.settings)

    def key(self, tool: str, arguments: BaseModel, ctx: Any) -> tuple[str, str | None]:
        """(key, media hash) of one call; ``ctx`` is the run's ``tools.ToolContext``."""
        args = arguments.model_dump(mode="json")
        source = args.get("input")
        reads = [source] if isinstance(source, str) and (source in ctx.media or source in ctx.texts) \
            else sorted(set(ctx.media) | set(ctx.texts))
        contents = {i: (content_hash(ctx.media[i]) if i in ctx.media else hash_text(ctx.texts[i])) for i in reads}
        media = contents.get(source) if isinstance(source, str) and source in ctx.media else None
        blob = json.dumps({"tool": tool, "version": self.version, "arguments": args, "reads": contents,
                           "descriptions": ctx.descriptions}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest(), media

    def run(self, tool: Any, items: list[tuple[BaseModel, Any]],
            compute: Callable[[list[tuple[BaseModel, Any]]], list[Any]]) -> tuple[list[Any], int]:
        """Results of ``items`` (calls of one tool): kept ones from the store, the others from
        ``compute`` (then kept). Returns (results in order, how many came from the store)."""
        keys = [self.key(tool.name, a, c) for a, c in items]
        kept = self._get([k for k, _ in keys])
        out: list[Any] = [None] * len(items)
        todo = []
        for i, (k, _) in enumerate(keys):
            raw = kept.get(k)
            if raw is not None:
                try:
                    out[i] = tool.result_model.model_validate_json(raw)
                    continue
                except ValueError:  # a result kept by a version whose model differs: run again
                    pass
            todo.append(i)
        if todo:
            fresh = compute([items[i] for i in todo])
            rows = []
            for i, r in zip(todo, fresh):
                out[i] = r
                if isinstance(r, BaseModel):
                    rows.append(ToolResult(key=keys[i][0], tool=tool.name, media_hash=keys[i][1],
                                           arguments=json.dumps(items[i][0].model_dump(mode="json"), sort_keys=True),
                                           model_version=self.version, result=r.model_dump_json()))
            self._put(rows)
        hits = len(items) - len(todo)
        self.hits += hits
        self.misses += len(todo)
        return out, hits

    def _get(self, keys: Sequence[str]) -> dict[str, str]:
        try:
            with self.store.session() as s:
                rows = list(s.exec(select(ToolResult).where(col(ToolResult.key).in_(list(set(keys))))))
                return {r.key: r.result for r in rows}
        except SQLAlchemyError as e:
            log.warning("tool results cannot be read from the store (%s): the tools run", e)
            return {}

    def _put(self, rows: list[ToolResult]) -> None:
        if not rows:
            return
        try:
            with self.store.session() as s, s.begin():
                for r in rows:
                    s.merge(r)
        except SQLAlchemyError as e:
            log.warning("tool results cannot be kept in the store (%s)", e)

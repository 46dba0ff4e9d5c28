"""One worker of a batch: an ``Agent`` built once, then items extracted one at a time.

The same class runs in a local worker process (``runner.py``) and as a Ray actor
(``ray_engine.py``). Building it holds the process's math libraries to its share of the
cores, builds the agent and, unless told not to, extracts a short warm-up text so that the
text models are loaded before the first item (its time is ``load_seconds``). ``run``
never raises: an item that fails comes back as an ``Outcome`` with its reason.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from muie.agent.bulk.items import Item, fingerprint
from muie.errors import InputError
from muie.settings import Settings

WARM_UP_TEXT = "Ada Lovelace met Charles Babbage in London."
AGENTS_BUILT = 0
"""Agents this process has built: one per worker, however many items it runs."""


@dataclass
class WorkerConfig:
    """What every worker of a batch is built with."""

    reasoner: str
    settings: Settings
    threads: int
    schema: dict[str, Any] | None = None
    tasks: str | list[str] | None = None
    warm_up: bool = True


@dataclass
class Outcome:
    """What came of one item: its result JSON and counts, or why it failed."""

    id: str
    ok: bool
    source: str = ""
    payload: str | None = None
    fingerprint: str | None = None
    entities: int = 0
    relations: int = 0
    events: int = 0
    seconds: float = 0.0
    reason: str | None = None
    pid: int = 0

    @classmethod
    def failed(cls, item: Item, reason: str, pid: int = 0) -> Outcome:
        return cls(id=item.id, ok=False, source=item.source, reason=reason, pid=pid)


class Worker:
    """An agent built once; ``run`` extracts one item with it."""

    def __init__(self, config: WorkerConfig) -> None:
        global AGENTS_BUILT
        from muie.agent.bulk.threads import limit_threads

        t0 = time.perf_counter()
        limit_threads(config.threads)
        from muie.agent.api import Agent, make_request

        self.config = config
        self.agent = Agent(config.reasoner, config.settings, store=True)
        AGENTS_BUILT += 1
        if config.warm_up:
            self.agent.run(make_request(text=WARM_UP_TEXT, schema=config.schema, tasks=config.tasks))
        self.load_seconds = time.perf_counter() - t0
        self.items = 0
        self.cpu_seconds = 0.0

    def info(self) -> dict[str, Any]:
        """This worker's process id, the agents its process built, the items it ran, its load time,
        the CPU seconds (all its threads) its items took."""
        return {"pid": os.getpid(), "agents_built": AGENTS_BUILT, "items": self.items,
                "load_seconds": round(self.load_seconds, 3), "threads": self.config.threads,
                "cpu_seconds": round(self.cpu_seconds, 3)}

    def run(self, item: Item) -> Outcome:
        """Extract one item; an input problem or any error is a failed ``Outcome``."""
        t0, c0 = time.perf_counter(), time.process_time()
        self.items += 1
        try:
            fp = fingerprint(item, self.config.schema, self.config.tasks, self.config.reasoner)
            result = self.agent.run(self._request(item))
        except InputError as e:
            return Outcome.failed(item, str(e), os.getpid())
        except Exception as e:  # one item's failure must not stop the batch: it is recorded
            return Outcome.failed(item, f"{type(e).__name__}: {e}".replace("\n", " "), os.getpid())
        finally:
            self.cpu_seconds += time.process_time() - c0
        return Outcome(id=item.id, ok=True, source=item.source, payload=result.to_json() + "\n", fingerprint=fp,
                       entities=len(result.entities), relations=len(result.relations), events=len(result.events),
                       seconds=round(time.perf_counter() - t0, 3), pid=os.getpid())

    def _request(self, item: Item) -> Any:
        from pathlib import Path

        from muie.agent.api import make_request
        from muie.agent.inputs import check_text, parse_schema, read_schema_file, read_text_file

        if item.error is not None:
            raise InputError(item.source, item.error)
        text = item.text
        if item.text_file is not None:
            text = check_text(read_text_file(item.text_file), item.text_file)
        elif text is not None:
            check_text(text, f"{item.source}: text")
        schema: Any = self.config.schema
        if isinstance(item.schema, str):
            schema = read_schema_file(Path(item.schema))
        elif item.schema is not None:
            schema = parse_schema(item.schema, f"{item.source}: schema")
        tasks = item.tasks if item.tasks is not None else self.config.tasks
        return make_request(text, item.image, item.audio, item.video, schema, tasks)

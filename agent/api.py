"""The Python API: ``extract`` one case, ``extract_batch`` many, each a typed ``Result``."""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any, Callable, Sequence

from agent.batching import active_run
from agent.domain import AudioInput, ImageInput, Result, Schema, TraceStep, VideoInput
from agent.errors import InputError
from agent.graph import build_graph
from agent.inputs import check_text, default_schema, parse_schema, parse_tasks
from agent.nodes import Deps, to_results
from agent.settings import Settings, default_settings
from agent.state import Request
from reasoner.base import Reasoner

log = logging.getLogger("muie")


def _reasoner(name: str | Reasoner, settings: Settings) -> Reasoner:
    if not isinstance(name, str):
        return name
    if name == "embedded":
        from reasoner.embedded import EmbeddedReasoner

        return EmbeddedReasoner(settings)
    if name == "llm":
        from reasoner.llm import LLMReasoner

        return LLMReasoner(settings)
    if name == "local":
        from reasoner.local_vlm import local_reasoner

        return local_reasoner(settings)
    raise InputError("--reasoner", f"unknown reasoner {name!r} (available: embedded, llm, local)")


class Agent:
    """A compiled graph with its reasoner, tools and settings; reusable and thread-safe."""

    def __init__(self, reasoner: str | Reasoner = "embedded", settings: Settings | None = None,
                 tools: dict | None = None) -> None:
        from tools import REGISTRY

        self.settings = settings or default_settings()
        self.deps = Deps(reasoner=_reasoner(reasoner, self.settings), tools=tools or REGISTRY, settings=self.settings)
        self.graph = build_graph(self.deps)
        s = self.settings
        self.recursion_limit = 4 * (s.max_iterations + 1) * (s.max_call_retries + 1) + 10
        self.store = None
        if s.store_runs or s.tool_cache:
            from memory.store import open_store

            self.store = open_store(s)
        if self.store is not None and s.tool_cache and tools is None:  # tool results of the real tools only
            from memory.tool_cache import ToolCache

            self.deps.cache = ToolCache(self.store, s)

    def run(self, request: Request, on_step: Callable[[TraceStep], None] | None = None) -> Result:
        return self.run_many(request, on_step)[0]

    def run_many(self, request: Request, on_step: Callable[[TraceStep], None] | None = None) -> list[Result]:
        """Run the graph once; a batch request gives one result per document. ``on_step``,
        when given, is handed each trace step as soon as its node has run."""
        return self.run_kept(request, on_step)[0]

    def run_kept(self, request: Request, on_step: Callable[[TraceStep], None] | None = None
                 ) -> tuple[list[Result], str | None]:
        """``run_many``, and the id of the run as the store keeps it (None: not kept; a batch
        of documents is not kept)."""
        t0 = time.perf_counter()
        start = {"request": request, "trace": []}
        config = {"recursion_limit": self.recursion_limit}
        with active_run():
            if on_step is None:
                state = self.graph.invoke(start, config)
            else:
                seen = 0
                for state in self.graph.stream(start, config, stream_mode="values"):
                    trace = state.get("trace", [])
                    for step in trace[seen:]:
                        on_step(step)
                    seen = len(trace)
        results = to_results(state)
        run_id = None
        if self.store is not None and self.settings.store_runs and not request.is_batch:
            run_id = self._keep(state, results[0], time.perf_counter() - t0)
        return results, run_id

    def _keep(self, state: dict, result: Result, seconds: float) -> str | None:  # type: ignore[type-arg]
        from sqlalchemy.exc import SQLAlchemyError

        acts = [s for s in state.get("trace", []) if s.node == "act"]
        cached = sum((s.model_extra or {}).get("cached", 0) for s in acts)
        try:
            return self.store.record_run(state["request"], result, self.deps.reasoner.name, seconds,
                                         derived=state["request"].derived, tool_calls=state.get("tool_calls", 0),
                                         cached_calls=cached)
        except (SQLAlchemyError, OSError) as e:  # the result stands; only its keeping failed
            log.warning("the run could not be kept in the store: %s", e)
            return None


@lru_cache(maxsize=4)
def _default_agent(reasoner: str) -> Agent:
    return Agent(reasoner)


def make_request(text: str | None = None, images: Sequence[str] = (), audio: Sequence[str] = (),
                 video: Sequence[str] = (), schema: Schema | dict[str, Any] | None = None,
                 tasks: str | list[str] | None = None) -> Request:
    images = [images] if isinstance(images, str) else list(images)
    audio = [audio] if isinstance(audio, str) else list(audio)
    video = [video] if isinstance(video, str) else list(video)
    if text is None and not audio and not images and not video:
        raise InputError("input", "nothing to extract from: give text (--text or --text-file) or media "
                                  "(--image, --audio, --video)")
    if text is not None:
        check_text(text)
    sch = default_schema() if schema is None else parse_schema(schema)
    inputs = image_inputs(images) + audio_inputs(audio) + video_inputs(video)
    return Request(text=text, inputs=inputs, schema=sch, tasks=parse_tasks(tasks))


CHECK_SIDE = 1024
"""The size images are first decoded at (the detector's and the segmenter's), kept in the cache."""


def image_inputs(paths: Sequence[str]) -> list[ImageInput]:
    """Each image file probed (an unreadable one is an ``InputError`` naming it), as ``image0``, ``image1``..."""
    from tools.image_io import load_cached, probe

    out = []
    for k, p in enumerate(paths):
        info = probe(str(p))
        load_cached(str(p), CHECK_SIDE)  # decoded once now, so that a corrupt body is bad input too
        out.append(ImageInput(id=f"image{k}", path=str(p), width=info.width, height=info.height))
    return out


def audio_inputs(paths: Sequence[str]) -> list[AudioInput]:
    """Each audio file probed (an unreadable one is an ``InputError`` naming it), as ``audio0``, ``audio1``..."""
    from tools.audio_io import probe

    return [AudioInput(id=f"audio{k}", path=str(p), duration_s=probe(str(p)).duration_s) for k, p in enumerate(paths)]


def video_inputs(paths: Sequence[str]) -> list[VideoInput]:
    """Each video file probed, its first frame decoded (an unreadable one is an ``InputError``
    naming it), as ``video0``, ``video1``..."""
    from tools.video_io import probe

    out = []
    for k, p in enumerate(paths):
        info = probe(str(p))
        out.append(VideoInput(id=f"video{k}", path=str(p), fps=info.fps, frames=info.frames, width=info.width,
                              height=info.height, duration_s=info.duration_s))
    return out


def extract(text: str | None = None, images: Sequence[str] = (), audio: Sequence[str] = (),
            video: Sequence[str] = (), schema: Schema | dict[str, Any] | None = None,
            tasks: str | list[str] | None = None, reasoner: str = "embedded", agent: Agent | None = None) -> Result:
    """Extract entities, relations and events, grounded, from the inputs."""
    request = make_request(text, images, audio, video, schema, tasks)
    return (agent or _default_agent(reasoner)).run(request)


def extract_batch(texts: Sequence[str], schema: Schema | dict[str, Any] | None = None,
                  tasks: str | list[str] | None = None, reasoner: str = "embedded", batch_size: int = 256,
                  agent: Agent | None = None) -> list[Result]:
    """Many independent texts: one run of the agent per ``batch_size`` texts, each tool
    call batched over them, one result per text, the same as extracting each alone."""
    sch = default_schema() if schema is None else parse_schema(schema)
    task_list = parse_tasks(tasks)
    for k, t in enumerate(texts):
        check_text(t, f"text {k}")
    ag = agent or _default_agent(reasoner)
    out: list[Result] = []
    for k in range(0, len(texts), batch_size):
        docs = list(texts[k : k + batch_size])
        out += ag.run_many(Request(documents=docs, schema=sch, tasks=task_list))
    return out

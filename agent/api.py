"""The Python API: ``extract`` one case, ``extract_batch`` many, each a typed ``Result``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from muie.agent.batching import active_run
from muie.agent.damage import damage_warning
from muie.agent.inputs import check_text, default_schema, parse_schema, parse_tasks
from muie.domain import AudioInput, ImageInput, Result, Schema, TraceStep, VideoInput
from muie.errors import InputError
from muie.reasoner import Reasoner, make_reasoner
from muie.request import Request
from muie.settings import Settings, default_settings

log = logging.getLogger("muie")
MediaT = TypeVar("MediaT", ImageInput, AudioInput, VideoInput)


def _reasoner(name: str | Reasoner, settings: Settings) -> Reasoner:
    return make_reasoner(name, settings) if isinstance(name, str) else name


class Agent:
    """A compiled graph with its reasoner, tools and settings; reusable and thread-safe.

    The graph, the tools and their models are built on the first run that needs them: a
    request the store has answered before (``memory.kept_runs``) is answered without them.

    ``store``: keep runs and tool results in the configured store (``store_url``, else
    ``data_dir``), as the settings ``store_runs`` and ``tool_cache`` say. Off by default: a
    library call writes nothing unless asked; the command line, the server, batches and
    conversations ask.
    """

    def __init__(self, reasoner: str | Reasoner = "embedded", settings: Settings | None = None,
                 tools: dict | None = None, store: bool = False) -> None:  # type: ignore[type-arg]
        self.settings = settings or default_settings()
        self.reasoner = _reasoner(reasoner, self.settings)
        self._tools = tools
        self._reusable = isinstance(reasoner, str) and tools is None
        """Kept runs answer again only the reasoners and tools muie knows by name: an object
        given in their place may do anything under any name."""
        self._graph: Any = None
        self._build = threading.Lock()
        s = self.settings
        self.recursion_limit = 4 * (s.max_iterations + 1) * (s.max_call_retries + 1) + 10
        self.store = None
        if store and (s.store_runs or s.tool_cache):
            from muie.memory.store import open_store

            self.store = open_store(s)

    @property
    def graph(self) -> Any:
        self._built()
        return self._graph

    def _built(self) -> None:
        with self._build:
            if self._graph is not None:
                return
            from muie.agent.graph import build_graph
            from muie.agent.nodes import Deps
            from muie.tools import REGISTRY

            deps = Deps(reasoner=self.reasoner, tools=self._tools or REGISTRY, settings=self.settings)
            if self.store is not None and self.settings.tool_cache and self._tools is None:
                from muie.memory.tool_cache import ToolCache  # tool results of the real tools only

                deps.cache = ToolCache(self.store, self.settings)
            self._graph = build_graph(deps)

    def run(self, request: Request, on_step: Callable[[TraceStep], None] | None = None) -> Result:
        return self.run_many(request, on_step)[0]

    def run_many(self, request: Request, on_step: Callable[[TraceStep], None] | None = None) -> list[Result]:
        """Run the graph once; a batch request gives one result per document. ``on_step``,
        when given, is handed each trace step as soon as its node has run."""
        return self.run_kept(request, on_step)[0]

    def run_kept(self, request: Request, on_step: Callable[[TraceStep], None] | None = None
                 ) -> tuple[list[Result], str | None]:
        """``run_many``, and the id of the run as the store keeps it (None: not kept; a batch
        of documents is not kept). A request the store answered before is answered again
        with that run's result and id, its trace ending with a step that says so."""
        t0 = time.perf_counter()
        fingerprint = self._fingerprint(request)
        kept = self._kept(fingerprint, request)
        if kept is not None:
            if on_step is not None:
                for step in kept[0].trace:
                    on_step(step)
            return [kept[0]], kept[1]
        from muie.agent.nodes import to_results

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
            run_id = self._keep(state, results[0], time.perf_counter() - t0, fingerprint)
        return results, run_id

    def _fingerprint(self, request: Request) -> str | None:
        if self.store is None or not (self._reusable and self.settings.reuse_runs and self.settings.store_runs) \
                or request.is_batch:
            return None
        from muie.memory.kept_runs import request_fingerprint

        return request_fingerprint(request, self.reasoner.name, self.settings)

    def _kept(self, fingerprint: str | None, request: Request) -> tuple[Result, str] | None:
        """The result and id of the run kept under ``fingerprint``: its media inputs' paths
        those of ``request`` (the same bytes may lie elsewhere now), its trace told where it came from."""
        if fingerprint is None or self.store is None:
            return None
        from sqlalchemy.exc import SQLAlchemyError

        try:
            found = self.store.kept_result(fingerprint)
        except (SQLAlchemyError, OSError) as e:  # an unreadable store: run as if nothing were kept
            log.warning("the store could not be read, running the request: %s", e)
            return None
        if found is None:
            return None
        result, run_id = found
        paths = request.media
        inputs = [i.model_copy(update={"path": paths[i.id]}) if i.id in paths else i for i in result.inputs]
        step = TraceStep(step=len(result.trace), node="store", summary=f"the same request was answered by run "
                         f"{run_id[:12]}: its result is returned, no tool ran", run=run_id)
        return result.model_copy(update={"inputs": inputs, "trace": [*result.trace, step]}), run_id

    def _keep(self, state: dict, result: Result, seconds: float,  # type: ignore[type-arg]
              fingerprint: str | None) -> str | None:
        from sqlalchemy.exc import SQLAlchemyError

        acts = [s for s in state.get("trace", []) if s.node == "act"]
        cached = sum((s.model_extra or {}).get("cached", 0) for s in acts)
        if any((s.model_extra or {}).get("failed") for s in acts):
            fingerprint = None  # kept, but a tool failed (a model not installed yet): never answers again
        try:
            return self.store.record_run(state["request"], result, self.reasoner.name, seconds,  # type: ignore[union-attr]
                                         derived=state["request"].derived, tool_calls=state.get("tool_calls", 0),
                                         cached_calls=cached, fingerprint=fingerprint)
        except (SQLAlchemyError, OSError) as e:  # the result stands; only its keeping failed
            log.warning("the run could not be kept in the store: %s", e)
            return None


@lru_cache(maxsize=4)
def _default_agent(reasoner: str, store: bool = False) -> Agent:
    return Agent(reasoner, store=store)


def make_request(text: str | None = None, images: Sequence[str] = (), audio: Sequence[str] = (),
                 video: Sequence[str] = (), schema: Schema | dict[str, Any] | None = None,
                 tasks: str | list[str] | None = None) -> Request:
    images = [images] if isinstance(images, str) else list(images)
    audio = [audio] if isinstance(audio, str) else list(audio)
    video = [video] if isinstance(video, str) else list(video)
    if text is None and not audio and not images and not video:
        raise InputError("input", "nothing to extract from: give text or media (images, audio, video)")
    if text is not None:
        check_text(text)
    sch = default_schema() if schema is None else parse_schema(schema)
    inputs = image_inputs(images) + audio_inputs(audio) + video_inputs(video)
    return Request(text=text, inputs=inputs, schema=sch, tasks=parse_tasks(tasks))


CHECK_SIDE = 1024
"""The size images are first decoded at (the detector's and the segmenter's), kept in the cache."""


def image_inputs(paths: Sequence[str]) -> list[ImageInput]:
    """Each image file probed and decoded (one from which nothing decodes is an
    ``InputError`` naming it; a damaged one says so in ``damage``), as ``image0``, ``image1``..."""
    from muie.tools.media.image_io import damage_of, load_cached, probe

    out = []
    for k, p in enumerate(paths):
        info = probe(str(p))
        load_cached(str(p), CHECK_SIDE)  # decoded once now, so that a corrupt body is bad input too
        out.append(_warn(ImageInput(id=f"image{k}", path=str(p), width=info.width, height=info.height,
                                    damage=damage_of(str(p)))))
    return out


def audio_inputs(paths: Sequence[str]) -> list[AudioInput]:
    """Each audio file probed and decoded (one from which nothing decodes is an ``InputError``
    naming it; a damaged one says so in ``damage``), as ``audio0``, ``audio1``... The
    duration is what decodes (a cut file's header gives more)."""
    from muie.tools.media.audio_io import SR, damage_of, load_cached, probe

    out = []
    for k, p in enumerate(paths):
        probe(str(p))
        samples = load_cached(str(p))  # decoded once now (the tools reuse it): damage is known before any work
        out.append(_warn(AudioInput(id=f"audio{k}", path=str(p), duration_s=round(len(samples) / SR, 6),
                                    damage=damage_of(str(p)))))
    return out


def video_inputs(paths: Sequence[str]) -> list[VideoInput]:
    """Each video file probed, its packets counted and its first frame decoded (an unreadable
    one is an ``InputError`` naming it; a cut one says so in ``damage``), as ``video0``, ``video1``..."""
    from muie.tools.media.video_io import damage_of, probe

    out = []
    for k, p in enumerate(paths):
        info = probe(str(p))
        out.append(_warn(VideoInput(id=f"video{k}", path=str(p), fps=info.fps, frames=info.frames,
                                    width=info.width, height=info.height, duration_s=info.duration_s,
                                    damage=damage_of(str(p)))))
    return out


def _warn(inp: MediaT) -> MediaT:
    if inp.damage:
        log.warning(damage_warning(inp))
    return inp


def extract(text: str | None = None, images: Sequence[str] = (), audio: Sequence[str] = (),
            video: Sequence[str] = (), schema: Schema | dict[str, Any] | None = None,
            tasks: str | list[str] | None = None, reasoner: str = "embedded", agent: Agent | None = None,
            store: bool = False) -> Result:
    """Extract entities, relations and events, grounded, from the inputs. ``store``: keep the
    run (and answer a request kept before from it), see ``Agent``."""
    request = make_request(text, images, audio, video, schema, tasks)
    return (agent or _default_agent(reasoner, store)).run(request)


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

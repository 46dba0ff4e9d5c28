"""Questions about media, as a conversation that keeps its state (LangGraph, with the
SQLite checkpointer): a thread remembers its media, what it talked about last, and
every question and answer.

    understand -> recall -> (extract) -> respond

A question is answered from the results the store keeps for the same media when there
are any; otherwise the media are extracted first (the tool results the store keeps
make that fast when the media were seen before), and the run is kept for the next
question. With the embedded reasoner the question is read into a typed query over the
results (``memory.questions``, ``memory.recall``); with the LLM reasoner the model
answers from the same results and cites them.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from muie.agent.ask.answer import Answer
from muie.agent.ask.questions import SPEECH_KINDS, Query, parse_question
from muie.agent.ask.recall import Memory, answer
from muie.agent.inputs import parse_schema
from muie.errors import InputError
from muie.memory.media import content_hash, hash_text
from muie.memory.store import Store
from muie.settings import Settings, data_dir, default_settings

THREADS_FILE = "conversations.sqlite"
MEDIA_ROLES = ("images", "audio", "video")
PREFIX = {"images": "image", "audio": "audio", "video": "video"}


class Conversation(TypedDict, total=False):
    messages: Annotated[list[dict[str, Any]], operator.add]
    question: str
    inputs: dict[str, Any]  # text, images, audio, video (paths), schema
    focus: str | None
    query: dict[str, Any]
    run_id: str | None
    source: str
    reply: dict[str, Any]


class Deps:
    def __init__(self, settings: Settings, reasoner: str) -> None:
        self.settings, self.reasoner = settings, reasoner
        self.store = Store(settings)


def understand(state: Conversation, deps: Deps) -> dict[str, Any]:
    schema = state["inputs"].get("schema") or _default_schema()
    q = parse_question(state["question"], list(schema.get("entity_types", [])), state.get("focus"))
    return {"query": q.model_dump()}


def recall(state: Conversation, deps: Deps) -> dict[str, Any]:
    """The latest kept run over these inputs; for a question about what is said, a run over
    the recordings alone serves too."""
    inputs = state["inputs"]
    schema = parse_schema(inputs["schema"]).model_dump() if inputs.get("schema") else None
    for scope in _scopes(inputs, Query.model_validate(state["query"])):
        media = _media_ids(scope)
        text = scope.get("text")
        run = deps.store.latest_run({k: content_hash(p) for k, p in media.items()},
                                    hash_text(text) if text is not None else None, schema)
        if run is not None:
            return {"run_id": run.id, "source": "memory"}
    return {"run_id": None, "source": "extraction"}


def extract(state: Conversation, deps: Deps) -> dict[str, Any]:
    """Extract what the question needs: the recordings alone for what is said in them,
    else every input."""
    from muie.agent.api import make_request

    scope = _scopes(state["inputs"], Query.model_validate(state["query"]))[-1]
    request = make_request(scope.get("text"), scope.get("images", []), scope.get("audio", []),
                           scope.get("video", []), state["inputs"].get("schema"))
    _, run_id = _agent(deps.reasoner, deps.settings).run_kept(request)
    if run_id is None:
        raise InputError("store", "the extraction could not be kept, so it cannot be asked about")
    return {"run_id": run_id, "source": "extraction"}


def _scopes(inputs: dict[str, Any], q: Query) -> list[dict[str, Any]]:
    """The inputs a question may be answered from, widest first: all of them, then, for a
    question about what is said, the recordings and videos alone (when that is less)."""
    spoken = {"text": None, "images": [], "audio": inputs.get("audio") or [], "video": inputs.get("video") or []}
    if q.kind in SPEECH_KINDS and (spoken["audio"] or spoken["video"]) and (
            inputs.get("images") or inputs.get("text") is not None):
        return [inputs, spoken]
    return [inputs]


def respond(state: Conversation, deps: Deps) -> dict[str, Any]:
    q = Query.model_validate(state["query"])
    mem = remember(deps.store, state["run_id"])
    reply = answer(q, mem)
    note = None
    if deps.reasoner == "llm":
        from muie.agent.ask.llm_answer import llm_reply

        reply, note = llm_reply(state["question"], mem, deps.settings, reply)
    by = "embedded" if deps.reasoner == "embedded" else "llm" if note is None else f"embedded (the LLM failed: {note})"
    out = Answer(question=state["question"], answer=reply.answer, kind=q.kind, citations=reply.citations,
                 source=state["source"], run_id=state["run_id"], answered_by=by)  # type: ignore[arg-type]
    return {"reply": out.model_dump(mode="json"),
            "focus": reply.focus or state.get("focus"),
            "messages": [{"role": "assistant", "content": reply.answer, "run_id": state["run_id"]}]}


def after_recall(state: Conversation) -> str:
    return "respond" if state.get("run_id") else "extract"


def build(deps: Deps, checkpointer: Any):  # type: ignore[no-untyped-def]
    g = StateGraph(Conversation)
    for name, fn in (("understand", understand), ("recall", recall), ("extract", extract), ("respond", respond)):
        g.add_node(name, partial(fn, deps=deps))
    g.add_edge(START, "understand")
    g.add_edge("understand", "recall")
    g.add_conditional_edges("recall", after_recall, ["extract", "respond"])
    g.add_edge("extract", "respond")
    g.add_edge("respond", END)
    return g.compile(checkpointer=checkpointer)


def remember(store: Store, run_id: str) -> Memory:
    run = store.run(run_id)
    texts = [{"input_id": t.input_id, "kind": t.kind, "text": t.text, "words": t.words}
             for t in store.read_texts(run.id)]
    return Memory(run_id=run.id, result=store.result(run.id), text=run.text, texts=texts,
                  hashes={i["id"]: i["hash"] for i in run.inputs if i.get("hash")})


def ask(question: str, *, text: str | None = None, images: Sequence[str] = (), audio: Sequence[str] = (),
        video: Sequence[str] = (), schema: dict[str, Any] | None = None, thread_id: str | None = None,
        settings: Settings | None = None, reasoner: str = "embedded") -> Answer:
    """Answer one question about the media (paths), in the conversation ``thread_id`` (a
    new one when None; a known thread keeps its media when none are given)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    if not question or not question.strip():
        raise InputError("question", "is empty")
    if reasoner not in ("embedded", "llm"):
        raise InputError("reasoner", f"questions are answered by the embedded or the llm reasoner, not {reasoner!r}")
    settings = settings or default_settings()
    deps = Deps(settings, reasoner)
    given = {"images": [str(p) for p in images], "audio": [str(p) for p in audio], "video": [str(p) for p in video]}
    for paths in given.values():
        for p in paths:
            if not Path(p).is_file():
                raise InputError(p, "no such file")
    thread = thread_id or uuid.uuid4().hex[:12]
    config = {"configurable": {"thread_id": thread}}
    with SqliteSaver.from_conn_string(str(threads_file(settings))) as saver:
        graph = build(deps, saver)
        before = graph.get_state(config).values if thread_id else {}
        inputs = dict(before.get("inputs") or {})
        if any(given.values()) or text is not None:
            inputs = given | {"text": text, "schema": schema}
        elif schema is not None:
            inputs["schema"] = schema
        if not any(inputs.get(r) for r in MEDIA_ROLES) and inputs.get("text") is None:
            raise InputError("media", "nothing to ask about: give media or text" +
                             (f" (thread {thread} has none)" if thread_id else ""))
        state = graph.invoke({"question": question.strip(), "inputs": inputs,
                              "messages": [{"role": "user", "content": question.strip()}]}, config)
    out = Answer.model_validate(state["reply"])
    return out.model_copy(update={"thread_id": thread})


def history(thread_id: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The questions and answers of a thread, in order."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    settings = settings or default_settings()
    with SqliteSaver.from_conn_string(str(threads_file(settings))) as saver:
        values = build(Deps(settings, "embedded"), saver).get_state({"configurable": {"thread_id": thread_id}}).values
    return list(values.get("messages", []))


def threads_file(settings: Settings) -> Path:
    return data_dir(settings) / THREADS_FILE


def _media_ids(inputs: dict[str, Any]) -> dict[str, str]:
    """Input id -> path, numbered as the extraction numbers them (image0, audio0, ...)."""
    return {f"{PREFIX[r]}{k}": p for r in MEDIA_ROLES for k, p in enumerate(inputs.get(r) or [])}


@lru_cache(maxsize=1)
def _default_schema() -> dict[str, Any]:
    from muie.agent.inputs import default_schema

    return default_schema().model_dump()


_AGENTS: dict[tuple[str, str], Any] = {}


def _agent(reasoner: str, settings: Settings):  # type: ignore[no-untyped-def]
    """One agent (models loaded once) per reasoner and settings, for the process."""
    from muie.agent.api import Agent

    key = (reasoner, settings.model_dump_json())
    if key not in _AGENTS:
        _AGENTS[key] = Agent(reasoner, settings=settings, store=True)
    return _AGENTS[key]

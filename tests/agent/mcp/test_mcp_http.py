"""``muie mcp --http`` for real: the server on a free port of 127.0.0.1 behind a bearer token,
talked to with the MCP SDK's streamable HTTP client; then a LangGraph agent with a scripted
model that loads muie's tools through langchain-mcp-adapters and calls ``extract``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from muie.domain import Region, Result
from tests.agent.mcp import checks
from tests.support.mcp_session import LiveSession, http_server, http_session, server_env
from tests.support.paths import MEDIA
from tests.support.scripted_chat import ScriptedChatModel

pytestmark = pytest.mark.slow  # real extractions of a caption, a photo and a recording
TOKEN = "mcp-s3cret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = checks.workspace(tmp_path_factory.mktemp("mcp-http") / "work")
    env = server_env(root.parent / "data", MUIE_SERVE_TOKEN=TOKEN)
    with (root.parent / "server.log").open("w") as log, http_server(["--root", str(root)], root, env, log) as url:
        yield url


@pytest.fixture(scope="module")
def live(server):  # type: ignore[no-untyped-def]
    session = LiveSession(lambda: http_session(server, TOKEN))
    yield session
    session.close()


@pytest.fixture(scope="module")
def run_id(live) -> str:  # type: ignore[no-untyped-def]
    return checks.check_extract(live)


def test_the_bearer_token_is_asked_for(server) -> None:  # type: ignore[no-untyped-def]
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = httpx.post(server, json=hello, headers=accept | headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (headers, r.status_code)
        assert "bearer token" in r.json()["error"]["message"]
    ok = httpx.post(server, json=hello, headers=accept | {"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "muie" in ok.text


def test_the_tools_are_listed_with_schemas_from_the_models(live) -> None:  # type: ignore[no-untyped-def]
    checks.check_tools(live)


def test_extract_gives_the_contracts_result_with_a_region_and_a_segment(run_id) -> None:  # type: ignore[no-untyped-def]
    assert len(run_id) == 32


def test_ask_gives_a_cited_answer(live, run_id) -> None:  # type: ignore[no-untyped-def]
    checks.check_ask(live, run_id)


def test_bad_input_is_a_tool_error_and_the_server_keeps_answering(live) -> None:  # type: ignore[no-untyped-def]
    checks.check_bad_input(live)


def test_a_path_outside_the_roots_is_refused(live) -> None:  # type: ignore[no-untyped-def]
    checks.check_roots(live)


def test_kept_runs_and_their_pictures(live, run_id) -> None:  # type: ignore[no-untyped-def]
    checks.check_runs(live, run_id)


def test_media_sent_inline_are_extracted_and_named_as_sent(live) -> None:  # type: ignore[no-untyped-def]
    import base64

    photo = base64.b64encode((MEDIA / "photo.png").read_bytes()).decode()
    r = live.run(lambda s: s.call_tool("extract", {"text": "An astronaut next to a coffee cup.", "tasks": ["ner"],
                                                   "media": [{"name": "snapshot.png", "data": photo}],
                                                   "entity_types": ["person", "object"]}))
    assert not r.isError, r.content
    result = Result.model_validate(r.structuredContent)
    assert [i.path for i in result.inputs if i.id == "image0"] == ["snapshot.png"]
    assert any(isinstance(g, Region) for e in result.entities for g in e.groundings)


def _tool_call(name: str, args: dict[str, Any], k: int) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{k}", "type": "tool_call"}])


def test_a_langgraph_agent_loads_the_tools_and_calls_extract(server) -> None:  # type: ignore[no-untyped-def]
    """The model first names a file outside the server's folders, reads the tool error, then
    calls ``extract`` on the caption and the photo, and answers from the result."""
    case = {"text_path": "caption.txt", "images": ["photo.png"], "entity_types": ["person", "object"],
            "relation_types": [], "tasks": ["ner"]}

    def first(messages: list[BaseMessage]) -> AIMessage:
        return _tool_call("extract", {**case, "images": [str(MEDIA / "photo.png")]}, 1)

    def second(messages: list[BaseMessage]) -> AIMessage:
        refused = messages[-1]
        assert isinstance(refused, ToolMessage) and refused.status == "error"
        assert "outside the folders" in str(refused.content)
        return _tool_call("extract", case, 2)

    def answer(messages: list[BaseMessage]) -> AIMessage:
        done = messages[-1]
        assert isinstance(done, ToolMessage) and done.status == "success"
        result = Result.model_validate(done.artifact["structured_content"])
        named = sorted({e.text for e in result.entities for g in e.groundings if isinstance(g, Region)})
        return AIMessage(content="In the photo: " + ", ".join(named))

    model = ScriptedChatModel(script=[first, second, answer])

    async def run() -> dict[str, Any]:
        client = MultiServerMCPClient({"muie": {"transport": "streamable_http", "url": server,
                                                "headers": {"Authorization": f"Bearer {TOKEN}"},
                                                "sse_read_timeout": 600}})
        tools = await client.get_tools()
        bound = model.bind_tools(tools)

        async def call_model(state: MessagesState) -> dict[str, Any]:
            return {"messages": [await bound.ainvoke(state["messages"])]}

        graph = StateGraph(MessagesState)
        graph.add_node("model", call_model)
        graph.add_node("tools", ToolNode(tools))
        graph.add_edge(START, "model")
        graph.add_conditional_edges("model", tools_condition)
        graph.add_edge("tools", "model")
        return await graph.compile().ainvoke({"messages": [HumanMessage("What is in photo.png? Its caption is in "
                                                                        "caption.txt.")]})

    out = asyncio.run(run())
    assert set(model.bound) == {"extract", "ask", "runs"}
    assert len(model.seen) == 3, "refused, extracted, answered"
    final = out["messages"][-1]
    assert isinstance(final, AIMessage) and "coffee cup" in final.content and "astronaut" in final.content
    summary = out["messages"][-2].content
    assert "image0 box [" in str(summary)

"""``muie mcp`` over stdio, as a local agent runs it: the MCP SDK's client starts the command
and talks to it (one server for the module: its models load once)."""

from __future__ import annotations

import pytest

from tests.agent.mcp import checks
from tests.support.mcp_session import LiveSession, server_env, stdio_session

pytestmark = pytest.mark.slow  # one real extraction of a caption, a photo and a recording


@pytest.fixture(scope="module")
def live(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = checks.workspace(tmp_path_factory.mktemp("mcp-stdio") / "work")
    env = server_env(root.parent / "data")
    with (root.parent / "server.log").open("w") as log:
        session = LiveSession(lambda: stdio_session(["--root", str(root)], root, env, log))
        yield session
        session.close()


@pytest.fixture(scope="module")
def run_id(live) -> str:  # type: ignore[no-untyped-def]
    return checks.check_extract(live)


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

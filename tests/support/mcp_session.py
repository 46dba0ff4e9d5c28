"""The real ``muie mcp`` server for tests, talked to with the MCP SDK's own client.

- ``stdio_session(...)``: the client starts ``muie mcp`` as its subprocess (stdio transport).
- ``http_server(...)``: ``muie mcp --http`` on a free port of 127.0.0.1, and ``http_session(url, token)``.
- ``LiveSession``: one client session held open on an event loop in a thread, so that a module's
  tests share one server (its models loaded once) while each test stays a plain function.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TextIO, TypeVar

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.support.cli import MUIE
from tests.support.llm_server import free_port, wait_ready

T = TypeVar("T")
CALL_S = 600.0


@contextlib.asynccontextmanager
async def stdio_session(args: list[str], cwd: Path, env: dict[str, str],
                        errlog: TextIO) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=str(MUIE), args=["mcp", *args], cwd=cwd, env=env)
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@contextlib.asynccontextmanager
async def http_session(url: str, token: str | None) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=CALL_S)) as client, \
            streamable_http_client(url, http_client=client) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        yield session


@contextlib.contextmanager
def http_server(args: list[str], cwd: Path, env: dict[str, str], errlog: TextIO) -> Iterator[str]:
    """``muie mcp --http`` running; yields the endpoint's URL (``.../mcp``)."""
    port = free_port()
    proc = subprocess.Popen([str(MUIE), "mcp", "--http", "--port", str(port), *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog)
    try:
        wait_ready(f"http://127.0.0.1:{port}/mcp", timeout=120, proc=proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class LiveSession:
    """A client session opened by ``connect`` and held on a loop in a thread until ``close``."""

    def __init__(self, connect: Callable[[], AbstractAsyncContextManager[ClientSession]]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._stop: asyncio.Event | None = None
        ready: concurrent.futures.Future[ClientSession] = concurrent.futures.Future()
        self._held = asyncio.run_coroutine_threadsafe(self._hold(connect, ready), self.loop)
        self.session = ready.result(timeout=180)

    async def _hold(self, connect: Callable[[], AbstractAsyncContextManager[ClientSession]],
                    ready: concurrent.futures.Future[ClientSession]) -> None:
        self._stop = asyncio.Event()
        try:
            async with connect() as session:
                ready.set_result(session)
                await self._stop.wait()
        except BaseException as e:
            if not ready.done():
                ready.set_exception(e)
            raise

    def run(self, fn: Callable[[ClientSession], Awaitable[T]], timeout: float = CALL_S) -> T:
        """``fn(session)`` on the session's loop; its result."""
        async def call() -> T:
            return await fn(self.session)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout)

    def close(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        with contextlib.suppress(Exception):
            self._held.result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def server_env(data: Path, **extra: str) -> dict[str, str]:
    """The tests' environment with a data folder of the server's own (its store, its conversations)."""
    return {**os.environ, "MUIE_DATA_DIR": str(data), **extra}


def text_of(result: Any) -> str:
    """The text blocks of a tool result, joined."""
    return "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")

"""``muie mcp``: muie as an MCP server on the official SDK (FastMCP), over stdio (a local agent
starts it) or streamable HTTP (``--http``: ``/mcp``, behind ``MUIE_SERVE_TOKEN`` when set).

Tools (``agent.mcp.tools``): ``extract``, ``ask``, ``runs``; resources (``agent.mcp.resources``):
the kept runs and their pictures. Files are read only inside the roots (``agent.mcp.roots``).
Over stdio, standard output is the protocol's alone: anything else the process writes there
(a library's print, a native library's message) goes to standard error.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from io import TextIOWrapper
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.types import Resource

from muie.agent.mcp.resources import listed, register_resources
from muie.agent.mcp.roots import Roots
from muie.agent.mcp.service import Service
from muie.agent.mcp.tools import register_tools
from muie.errors import InputError
from muie.settings import Settings, data_dir

log = logging.getLogger("muie")
INSTRUCTIONS = """muie extracts entities, relations and events from text, images, audio and video, each \
grounded where it occurs (text spans, image boxes and masks, time segments, video tracks), for any label \
schema. Call `extract` on text and media, `ask` for a cited answer to a question about media, `runs` for \
what was extracted before. Files are read only inside the folders this server was started with; a relative \
path is taken from the first of them. Media the server cannot read can be sent inline (base64)."""


class MuieMCP(FastMCP):
    """FastMCP, with the kept runs listed among its resources."""

    def __init__(self, service: Service, **kwargs: object) -> None:
        self.service = service
        super().__init__(**kwargs)  # type: ignore[arg-type]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """The tool's answer; an argument the tool does not take is a tool error naming it (a
        misspelled ``image`` is not silently dropped)."""
        tool = next((t for t in await self.list_tools() if t.name == name), None)
        if tool is not None:
            known = set(tool.inputSchema.get("properties", {}))
            unknown = sorted(set(arguments) - known)
            if unknown:
                raise ToolError(f"{unknown[0]}: not an argument of {name} (it takes {', '.join(sorted(known))})")
        return await super().call_tool(name, arguments)

    async def list_resources(self) -> list[Resource]:
        fixed = await super().list_resources()
        return fixed + await anyio.to_thread.run_sync(listed, self.service)

    async def run_stdio_guarded(self) -> None:
        """Serve over stdio, with standard output kept for the protocol (fd 1 pointed at stderr)."""
        protocol = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        out = anyio.wrap_file(TextIOWrapper(os.fdopen(protocol, "wb"), encoding="utf-8"))
        async with stdio_server(stdout=out) as (read, write):
            await self._mcp_server.run(read, write, self._mcp_server.create_initialization_options())


def build_server(settings: Settings, roots: Sequence[str | Path], reasoner: str = "embedded",
                 host: str = "127.0.0.1") -> MuieMCP:
    from muie.memory.media import media_folder
    from muie.reasoner import REASONERS

    if reasoner not in REASONERS:
        raise InputError("--reasoner", f"unknown reasoner {reasoner!r} (available: {', '.join(REASONERS)})")
    service = Service(settings, Roots(roots, kept=[media_folder(data_dir(settings))]), reasoner)
    for r in service.roots.folders:
        if r == Path(r.anchor) or r == Path.home():
            log.warning("clients may read every file under %s: give narrower --root folders", r)
    limit = int(settings.serve_max_upload_mb * 1024 * 1024)
    server = MuieMCP(service, name="muie", instructions=INSTRUCTIONS, host=host, log_level="WARNING",
                     max_request_body_size=limit * 4 // 3 + 65536)  # media come base64-encoded
    register_tools(server, service)
    register_resources(server, service)
    return server


def run(settings: Settings, roots: Sequence[str | Path], reasoner: str = "embedded", http: bool = False,
        host: str = "127.0.0.1", port: int = 8001) -> None:
    server = build_server(settings, roots, reasoner, host)
    if not http:
        anyio.run(server.run_stdio_guarded)
        return
    import uvicorn

    from muie.agent.mcp.http import TokenGuard

    token = settings.serve_token.get_secret_value() if settings.serve_token else None
    if token is None and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without a bearer token: set MUIE_SERVE_TOKEN", host)
    print(f"muie: MCP over streamable HTTP at http://{host}:{port}/mcp, reading files in "
          f"{server.service.roots.describe()}", file=sys.stderr)
    uvicorn.run(TokenGuard(server.streamable_http_app(), token), host=host, port=port, log_level="warning")

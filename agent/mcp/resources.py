"""The MCP resources: the kept runs and their pictures.

- ``muie://runs``: the latest runs (JSON).
- ``muie://runs/{run_id}``: a run's result, the extraction contract's JSON.
- ``muie://runs/{run_id}/pictures/{input_id}``: an image, recording or video of the run drawn
  with what was found in it (PNG, as ``--render`` draws it).

The latest runs and their pictures are listed with the fixed resources (``listed``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from mcp.server.fastmcp import FastMCP
from mcp.types import Resource
from pydantic import AnyUrl

from muie.agent.mcp.service import ROLES, Service
from muie.errors import InputError

T = TypeVar("T")
LISTED = 20
"""Runs listed among the resources (every kept run can be read by its URI)."""


def register_resources(mcp: FastMCP, service: Service) -> None:
    @mcp.resource("muie://runs", name="runs", title="Kept runs", mime_type="application/json",
                  description="The latest extractions the server keeps: id, when, inputs, counts.")
    async def runs() -> str:
        rows = await anyio.to_thread.run_sync(lambda: service.runs(100))
        return json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False)

    @mcp.resource("muie://runs/{run_id}", name="run", title="A kept run's result", mime_type="application/json",
                  description="A run's result as the extraction contract's JSON, with the agent's trace.")
    async def run(run_id: str) -> str:
        _, result = await anyio.to_thread.run_sync(lambda: _plain(lambda: service.show(run_id)))
        return result.to_json(indent=None)

    @mcp.resource("muie://runs/{run_id}/pictures/{input_id}", name="picture", title="A run's media, drawn",
                  mime_type="image/png", description="An image, recording or video of a run drawn with what was "
                  "found in it: regions' masks and boxes, a waveform's segments, a video's tracks.")
    async def picture(run_id: str, input_id: str) -> bytes:
        drawn = await anyio.to_thread.run_sync(lambda: _plain(lambda: service.pictures(run_id, input_id)))
        return drawn[0][1]


def listed(service: Service) -> list[Resource]:
    """The latest runs, each with its pictures, as resources a client can list."""
    out = []
    for run in service.store().runs(limit=LISTED):
        inputs = ", ".join(i.get("path") or i["id"] for i in run.inputs)
        out.append(Resource(uri=AnyUrl(f"muie://runs/{run.id}"), name=f"run {run.id[:12]}", mimeType="application/json",
                            description=f"{run.entities} entities, {run.relations} relations, {run.events} events "
                                        f"from {inputs} ({run.created:%Y-%m-%d %H:%M} UTC)"))
        for i in run.inputs:
            if i.get("modality") in ROLES:
                out.append(Resource(uri=AnyUrl(f"muie://runs/{run.id}/pictures/{i['id']}"), mimeType="image/png",
                                    name=f"run {run.id[:12]} {i['id']}",
                                    description=f"{i.get('path') or i['id']} drawn with what run {run.id[:12]} found"))
    return out


def _plain(fn: Callable[[], T]) -> T:
    """``fn()``, its bad input said in one line (a resource's error is the message)."""
    try:
        return fn()
    except InputError as e:
        raise ValueError(f"{e.what}: {e.reason}") from None

"""The MCP tools: ``extract``, ``ask`` and ``runs``. Each answers a short text for a model to
read beside the structured content (the contract's result, the cited answer, the runs), whose
JSON Schema the SDK makes from the Pydantic models. Bad input is a tool error naming the
input and the reason; the work runs in worker threads, at most ``serve_workers`` at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import Field

from muie.agent.ask.answer import Answer
from muie.agent.mcp.models import InlineMedia, RunsOutput, SchemaArg, ThreadId
from muie.agent.mcp.service import Service
from muie.agent.mcp.summary import answer_summary, result_summary, runs_summary
from muie.domain import Result, TraceStep
from muie.errors import InputError, MuieError
from muie.request import Task

log = logging.getLogger("muie")
T = TypeVar("T")

EXTRACT = """Extract entities, relations and events from text, images, audio and video, each grounded where \
it occurs: character spans in the text, a box and mask in an image, a time segment in a recording, a track in \
a video. Give the text (`text`, or `text_path`) and/or media: `images`, `audio`, `video` as file paths inside \
the folders this server reads, or `media` sent inline (base64 with a file name). Say what to find with \
`schema` (entity_types, relation_types, event_types with roles), or just the type lists; any type names work. \
`tasks` limits the work (ner, re, ee). Returns the extraction contract's result (inputs, entities with \
mentions and groundings, relations, events) and a summary; the run is kept, so `ask` can answer questions \
about the same media from it. Takes seconds to minutes; progress is reported."""

ASK = """Answer a question about media and text, with citations saying where the answer was found (a time \
segment in a recording, a region in an image, a span of text). Questions like "who is speaking at 0:12?", \
"when is NASA mentioned?", "where is the cup?", "what did she say about London?". Give the media as in \
`extract` (paths, or `media` inline), or `run_id` of a kept extraction; a kept result for the same media is \
used, else they are extracted first. Carry a conversation on with `thread_id` (returned by each answer): \
its media and what it talked about are remembered, so a follow-up needs only the question."""

RUNS = """The extractions the server keeps. Without `run_id`: the latest runs (id, when, inputs, counts). With \
`run_id` (or a unique start of it): that run's result as the extraction contract's JSON; `pictures` adds each \
image, recording or video drawn with what was found in it (PNG)."""


def register_tools(mcp: FastMCP, service: Service) -> None:
    limiter: list[anyio.CapacityLimiter] = []

    async def in_thread(fn: Callable[[], T], heavy: bool = False) -> T:
        """``fn`` in a worker thread (``heavy``, an extraction or a question: at most ``serve_workers``
        at once, the others wait; a look at the store does not wait for them); bad input a tool error."""
        if heavy and not limiter:
            limiter.append(anyio.CapacityLimiter(service.settings.serve_workers))
        try:
            return await anyio.to_thread.run_sync(fn, limiter=limiter[0] if heavy else None)
        except InputError as e:
            raise ToolError(f"{e.what}: {e.reason}") from None
        except MuieError as e:  # a service muie depends on failed (an LLM endpoint)
            raise ToolError(str(e)) from None

    @mcp.tool(name="extract", title="Grounded extraction from text and media", description=EXTRACT,
              annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True,
                                          openWorldHint=False))
    async def extract(
        ctx: Context,  # type: ignore[type-arg]
        text: Annotated[str | None, Field(description="The text (a caption, an article).")] = None,
        text_path: Annotated[str | None, Field(description="A UTF-8 text file to read the text from.")] = None,
        images: Annotated[list[str] | None, Field(description="Image file paths (png, jpg, ...).")] = None,
        audio: Annotated[list[str] | None, Field(description="Recording paths (wav, flac, mp3, ...).")] = None,
        video: Annotated[list[str] | None, Field(description="Video paths (mp4, mkv, webm, avi).")] = None,
        media: Annotated[list[InlineMedia] | None, Field(description="Media sent inline, each a name with its "
                                                         "suffix and base64 bytes.")] = None,
        schema: SchemaArg = None,
        entity_types: Annotated[list[str] | None, Field(description="Entity types (instead of schema).")] = None,
        relation_types: Annotated[list[str] | None, Field(description="Relation types (instead of schema).")] = None,
        event_types: Annotated[dict[str, list[str]] | None, Field(
            description="Event types and their argument roles (instead of schema).")] = None,
        tasks: Annotated[list[Task] | None, Field(description="Which tasks: ner, re, ee (default all).")] = None,
        trace: Annotated[bool, Field(description="Keep the agent's trace in the result.")] = False,
    ) -> Annotated[CallToolResult, Result]:
        await ctx.report_progress(0, None, "reading the inputs")
        steps = 0

        def on_step(step: TraceStep) -> None:
            nonlocal steps
            steps += 1
            message = f"{step.node}: {step.summary}"[:300]
            try:
                anyio.from_thread.run(ctx.report_progress, steps, None, message)
            except Exception as e:  # the client went away: the extraction goes on
                log.debug("progress not sent: %s", e)

        def work() -> tuple[Result, str | None]:
            c = service.case(text, text_path, {"images": images or [], "audio": audio or [], "video": video or []},
                             media or [])
            sch = service.schema(schema, entity_types, relation_types, event_types)
            return service.extract(c, sch, list(tasks) if tasks else None, on_step)

        result, run_id = await in_thread(work, heavy=True)
        if not trace:
            result = result.model_copy(update={"trace": []})
        return CallToolResult(content=[TextContent(type="text", text=result_summary(result, run_id))],
                              structuredContent=result.model_dump(mode="json", exclude_none=True),
                              _meta={"muie/run_id": run_id} if run_id else None)

    @mcp.tool(name="ask", title="Ask about media, with citations", description=ASK,
              annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False))
    async def ask(
        question: Annotated[str, Field(min_length=1, max_length=4000, description="The question.")],
        text: Annotated[str | None, Field(description="Text that goes with the media.")] = None,
        text_path: Annotated[str | None, Field(description="A UTF-8 file holding that text.")] = None,
        images: Annotated[list[str] | None, Field(description="Image file paths.")] = None,
        audio: Annotated[list[str] | None, Field(description="Recording paths.")] = None,
        video: Annotated[list[str] | None, Field(description="Video paths.")] = None,
        media: Annotated[list[InlineMedia] | None, Field(description="Media sent inline.")] = None,
        run_id: Annotated[str | None, Field(description="Ask about a kept run's text and media instead.")] = None,
        schema: SchemaArg = None,
        thread_id: Annotated[ThreadId | None, Field(description="Go on with this conversation.")] = None,
    ) -> Annotated[CallToolResult, Answer]:
        def work() -> Answer:
            c = service.case(text, text_path, {"images": images or [], "audio": audio or [], "video": video or []},
                             media or [])
            sch = service.schema(schema, None, None, None)
            return service.ask(question, c, sch, thread_id, run_id)

        answer = await in_thread(work, heavy=True)
        return CallToolResult(content=[TextContent(type="text", text=answer_summary(answer))],
                              structuredContent=answer.model_dump(mode="json", exclude_none=True))

    @mcp.tool(name="runs", title="Kept extractions", description=RUNS,
              annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    async def runs(
        run_id: Annotated[str | None, Field(description="A run's id, or a unique start of it: show it.")] = None,
        limit: Annotated[int, Field(ge=1, le=500, description="How many runs to list, latest first.")] = 20,
        pictures: Annotated[bool, Field(description="With run_id: add its media drawn with what was found.")] = False,
        trace: Annotated[bool, Field(description="With run_id: keep the agent's trace in the result.")] = False,
    ) -> Annotated[CallToolResult, RunsOutput]:
        if run_id is None:
            rows = await in_thread(lambda: service.runs(limit))
            out = RunsOutput(runs=rows, result=None)
            blocks: list[Any] = [TextContent(type="text", text=runs_summary(rows))]
        else:
            info, result = await in_thread(lambda: service.show(run_id))
            if not trace:
                result = result.model_copy(update={"trace": []})
            out = RunsOutput(runs=[info], result=result)
            blocks = [TextContent(type="text", text=result_summary(result, info.run))]
            if pictures:
                drawn = await in_thread(lambda: service.pictures(info.run), heavy=True)
                for input_id, png in drawn:
                    blocks += [TextContent(type="text", text=f"{input_id} drawn (muie://runs/{info.run}/pictures/"
                                                             f"{input_id}):"), ImageContent(
                        type="image", data=_b64(png), mimeType="image/png")]
        return CallToolResult(content=blocks, structuredContent=out.model_dump(mode="json", exclude_none=True))


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")

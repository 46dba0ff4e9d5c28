"""``muie serve``: questions about media, answered with citations (``memory.conversation.ask``).

``POST /v1/ask``: ``question``, and what it is about: a finished or running ``job`` (its
text, media and schema), or ``text`` and media hashes by role; ``thread_id`` carries a
conversation on (one is made when none is given). The answer is ``memory.answer.Answer``:
the words, and each citation with where it was found (a region, a segment, a track, a
span). Asking runs in the jobs' pool, so questions and extractions share its bound.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from muie.agent.serve.jobs import HashStr, Jobs
from muie.agent.serve.media import find_media
from muie.agent.serve.protocol import HTTPProblem
from muie.errors import InputError

ThreadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    question: str = Field(min_length=1, max_length=4000)
    job: str | None = Field(None, description="A job id: the question is about its inputs.")
    text: str | None = None
    images: list[HashStr] = Field(default_factory=list, max_length=16)
    audio: list[HashStr] = Field(default_factory=list, max_length=16)
    video: list[HashStr] = Field(default_factory=list, max_length=4)
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    thread_id: ThreadId | None = Field(None, description="The conversation to carry on (made when not given).")


def _case(body: AskRequest, jobs: Jobs) -> tuple[dict[str, Any], dict[str, str]]:
    """The keyword arguments of ``ask`` (stored paths) and each path's public name."""
    if body.job is not None:
        job = jobs.get(body.job)
        text, schema = job.body.text, job.body.schema_
        hashes = {"images": [h for i, h in job.media.items() if i.startswith("image")],
                  "audio": [h for i, h in job.media.items() if i.startswith("audio")],
                  "video": [h for i, h in job.media.items() if i.startswith("video")]}
    else:
        text, schema = body.text, body.schema_
        hashes = {"images": body.images, "audio": body.audio, "video": body.video}
    names: dict[str, str] = {}
    kwargs: dict[str, Any] = {"text": text, "schema": schema}
    for role, digests in hashes.items():
        paths = []
        for k, digest in enumerate(digests):
            path = find_media(jobs.settings, digest, f"{role}[{k}]")
            names[str(path)] = path.name
            paths.append(str(path))
        kwargs[role] = paths
    if text is None and not any(kwargs[r] for r in hashes):
        raise HTTPProblem(400, "nothing to ask about: give a job, or text or media hashes", "job")
    return kwargs, names


def _public(answer: Any, names: dict[str, str]) -> dict[str, Any]:
    """The answer as JSON, each stored path shown as its file's name."""
    data = answer.model_dump(mode="json")
    for c in data.get("citations", []):
        if c.get("path"):
            c["path"] = names.get(c["path"], Path(c["path"]).name)
    return data


def ask_router(jobs: Jobs) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["ask"])

    @router.post("/ask", summary="Ask a question about a job's inputs or stored media; cited, grounded answer")
    async def ask(body: AskRequest) -> dict[str, Any]:
        from muie.agent.ask.conversation import ask as ask_memory

        kwargs, names = _case(body, jobs)
        thread = body.thread_id or uuid.uuid4().hex

        def run() -> Any:
            return ask_memory(body.question, thread_id=thread, settings=jobs.settings, **kwargs)

        try:
            answer = await asyncio.wrap_future(jobs.pool.submit(run))
        except InputError as e:
            message = str(e)
            for path, name in names.items():
                message = message.replace(path, name)
            raise HTTPProblem(400, message, e.what if e.what not in names else names[e.what]) from None
        return _public(answer, names)

    return router

"""``muie serve``: extraction jobs over stored media, run in a bounded pool, watched live.

- ``POST /v1/jobs``: text, media hashes by role (``images``, ``audio``, ``video``), schema,
  tasks, model. Everything is checked before the job is queued (bad input is a 400 now,
  never a failed job later); answers the job (202) with its ``id``.
- ``GET /v1/jobs/{id}``: status (queued, running, done, failed), the agent's steps so
  far, the error or the result and the names of its pictures.
- ``GET /v1/jobs/{id}/events``: Server-Sent Events: ``status``, one ``step`` per trace
  step as the agent takes it (``id:`` is the step number: a client that reconnects with
  ``Last-Event-ID`` gets the rest), then ``result`` or ``error``, then the stream ends.
- ``GET /v1/jobs/{id}/result``: the contract's result JSON (409 while not done).
- ``GET /v1/jobs/{id}/render/{name}``: a picture ``agent.render.render_result`` drew.

Jobs run ``serve_workers`` at a time. The table keeps ``serve_max_jobs`` (the oldest
finished go first; 429 when all are unfinished); each job's record, result and pictures
are written (atomically) under ``<data_dir>/jobs/<id>/``, where an evicted job is still
found. In a result, each input's ``path`` is its stored file's name (``<hash>.<suffix>``),
never a path on the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from muie.agent.serve.media import find_media
from muie.agent.serve.protocol import HTTPProblem, Service
from muie.errors import InputError
from muie.files import write_atomic
from muie.request import Request
from muie.settings import Settings, data_dir

log = logging.getLogger("muie")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
RENDER_NAME = re.compile(r"^[a-z]+[0-9]*\.(png|html)$")
HashStr = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Status = Literal["queued", "running", "done", "failed"]
FINISHED = ("done", "failed")


class JobRequest(BaseModel):
    """What to extract: any of text and stored media (by hash), with a schema."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    model: str = Field("muie", description="muie (the server's reasoner) or muie-<reasoner>, as in /v1/models.")
    text: str | None = None
    images: list[HashStr] = Field(default_factory=list, max_length=16, description="Hashes from POST /v1/media.")
    audio: list[HashStr] = Field(default_factory=list, max_length=16)
    video: list[HashStr] = Field(default_factory=list, max_length=4)
    schema_: dict[str, Any] | None = Field(None, alias="schema", description="The label schema (default: muie's).")
    tasks: str | list[str] | None = Field(None, description="ner, re, ee (default: all).")


class JobView(BaseModel):
    """A job as ``GET /v1/jobs/{id}`` shows it."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    id: str
    status: Status
    model: str
    created: float
    started: float | None = None
    finished: float | None = None
    text: str | None = None
    media: dict[str, str] = Field(default_factory=dict, description="Input id (image0, audio0...) -> media hash.")
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    tasks: str | list[str] | None = None
    steps: list[dict[str, Any]] | None = Field(None, description="The agent's trace steps so far.")
    step_count: int = 0
    error: dict[str, Any] | None = None
    renders: list[str] = Field(default_factory=list, description="Names for /v1/jobs/{id}/render/{name}.")
    run_id: str | None = Field(None, description="The run as the store keeps it.")
    result: dict[str, Any] | None = None


@dataclass
class Job:
    id: str
    body: JobRequest
    request: Request | None
    media: dict[str, str]  # input id -> hash
    paths: dict[str, str]  # stored path -> how the client named it
    status: Status = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    renders: list[str] = field(default_factory=list)
    run_id: str | None = None
    result: str | None = None  # the result JSON

    def view(self, steps: bool = True, result: bool = True) -> JobView:
        return JobView(id=self.id, status=self.status, model=self.body.model, created=self.created,
                       started=self.started, finished=self.finished, text=self.body.text, media=self.media,
                       schema=self.body.schema_, tasks=self.body.tasks,
                       steps=list(self.steps) if steps else None, step_count=len(self.steps), error=self.error,
                       renders=self.renders, run_id=self.run_id,
                       result=json.loads(self.result) if result and self.result else None)

    def record(self, status: Status | None = None) -> str:
        """The job as kept on disk (no result: it has its own file)."""
        view = self.view(result=False)
        return view.model_copy(update={"status": status or view.status}).model_dump_json()


class Jobs:
    """The job table and the pool that runs it."""

    def __init__(self, settings: Settings, service: Service) -> None:
        self.settings, self.service = settings, service
        self.table: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(settings.serve_workers, thread_name_prefix="muie-job")

    @property
    def root(self) -> Path:
        """Where each job's record, result and pictures are written (made on first use)."""
        return data_dir(self.settings) / "jobs"

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- submitting
    def prepare(self, body: JobRequest) -> Job:
        """The job with its request checked (in a worker thread: media are probed)."""
        from muie.agent.api import make_request

        self.service.agent(body.model)  # an unknown model is a 404 now
        media: dict[str, str] = {}
        paths: dict[str, str] = {}
        files: dict[str, list[str]] = {"image": [], "audio": [], "video": []}
        for role, kind in (("images", "image"), ("audio", "audio"), ("video", "video")):
            for k, digest in enumerate(getattr(body, role)):
                path = find_media(self.settings, digest, f"{role}[{k}]")
                media[f"{kind}{k}"] = digest.lower()
                paths[str(path)] = f"{role}[{k}]"
                files[kind].append(str(path))
        try:
            request = make_request(text=body.text, images=files["image"], audio=files["audio"], video=files["video"],
                                   schema=body.schema_, tasks=body.tasks)
        except InputError as e:
            raise HTTPProblem(400, _renamed(str(e), paths), _renamed(e.what, paths)) from None
        return Job(id=uuid.uuid4().hex, body=body, request=request, media=media, paths=paths)

    def submit(self, job: Job) -> None:
        with self.lock:
            while len(self.table) >= self.settings.serve_max_jobs:
                old = next((j for j in self.table.values() if j.status in FINISHED), None)
                if old is None:
                    raise HTTPProblem(429, f"{len(self.table)} jobs are queued or running (MUIE_SERVE_MAX_JOBS); "
                                           "try again when one is done", None, "rate_limit_error")
                del self.table[old.id]
            self.table[job.id] = job
        self._save(job)
        self.pool.submit(self._run, job)

    # -- finding
    def get(self, job_id: str) -> Job:
        if not JOB_ID.match(job_id):
            raise HTTPProblem(400, f"job id {job_id[:80]!r} is not a job id (32 hex digits)", "id")
        with self.lock:
            job = self.table.get(job_id)
        if job is not None:
            return job
        return self._load(job_id)

    def _load(self, job_id: str) -> Job:
        """A job no longer in the table, from its record on disk."""
        folder = self.root / job_id
        try:
            view = JobView.model_validate_json((folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise HTTPProblem(404, f"no job {job_id} on this server", "id", "not_found_error") from None
        body = JobRequest(model=view.model, text=view.text, schema=view.schema_, tasks=view.tasks)
        job = Job(id=view.id, body=body, request=None, media=view.media,
                  paths={}, status=view.status, created=view.created, started=view.started, finished=view.finished,
                  steps=view.steps or [], error=view.error, renders=view.renders, run_id=view.run_id)
        if job.status not in FINISHED:  # the server stopped while it ran
            job.status, job.error = "failed", {"message": "the server stopped before the job finished", "status": 500}
        if job.status == "done":
            try:
                job.result = (folder / "result.json").read_text(encoding="utf-8")
            except OSError:
                job.status, job.error = "failed", {"message": "the result file is gone", "status": 500}
        return job

    def folder(self, job: Job) -> Path:
        return self.root / job.id

    # -- running
    def _save(self, job: Job, status: Status | None = None) -> None:
        folder = self.folder(job)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "job.json", job.record(status))

    def _run(self, job: Job) -> None:
        job.started, job.status = time.time(), "running"
        try:
            self._extract(job)
        except InputError as e:
            job.error = {"message": _renamed(str(e), job.paths), "param": _renamed(e.what, job.paths), "status": 400}
        except Exception as e:  # the job fails; the server goes on  # noqa: BLE001
            log.exception("job %s failed", job.id)
            job.error = {"message": f"{type(e).__name__}: {_renamed(str(e), job.paths)}", "status": 500}
        job.finished = time.time()
        job.request = None  # the record says what was asked
        final: Status = "failed" if job.error else "done"
        try:
            self._save(job, final)
        except OSError as e:
            log.warning("job %s could not be written: %s", job.id, e)
        job.status = final  # last: a reader who sees it finished sees everything

    def _extract(self, job: Job) -> None:
        from muie.agent.render import render_result

        assert job.request is not None
        agent = self.service.agent(job.body.model)
        def step(s: Any) -> None:
            job.steps.append(s.model_dump(mode="json"))

        if hasattr(agent, "run_kept"):  # the agent keeps the run in the store: ask() answers from it
            results, job.run_id = agent.run_kept(job.request, step)
            result = results[0]
        else:
            result = agent.run(job.request, step)
        folder = self.folder(job)
        try:
            job.renders = sorted(p.name for p in render_result(result, job.body.text, folder / "render"))
        except Exception as e:  # pictures are a courtesy; the result stands  # noqa: BLE001
            log.warning("job %s: pictures not drawn: %s", job.id, e)
        names = {i.id: Path(i.path).name for i in result.inputs if getattr(i, "path", None)}
        shown = result.model_copy(update={"inputs": [i.model_copy(update={"path": names[i.id]}) if i.id in names
                                                     else i for i in result.inputs]})
        payload = shown.to_json(indent=None)
        write_atomic(folder / "result.json", payload)
        job.result = payload


def _renamed(message: str, paths: dict[str, str]) -> str:
    for path, name in paths.items():
        message = message.replace(path, name)
    return message


def _sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(job: Job, first: int, poll: float = 0.1, heartbeat: float = 15.0) -> AsyncIterator[str]:
    sent, status, quiet = first, "", 0.0
    while True:
        finished = job.status in FINISHED  # read before the steps: a finished job's steps are all there
        if job.status != status:
            status = job.status
            yield _sse("status", {"id": job.id, "status": status})
        steps = job.steps
        while sent < len(steps):
            yield _sse("step", steps[sent], sent)
            sent, quiet = sent + 1, 0.0
        if finished:
            view = job.view(steps=False).model_dump(mode="json")
            yield _sse("error" if job.status == "failed" else "result", view)
            return
        await asyncio.sleep(poll)
        quiet += poll
        if quiet >= heartbeat:
            quiet = 0.0
            yield ": still working\n\n"


def jobs_router(jobs: Jobs) -> APIRouter:
    router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

    @router.post("", response_model=JobView, status_code=202, summary="Start an extraction over stored media")
    async def create(body: JobRequest) -> JobView:
        job = await run_in_threadpool(jobs.prepare, body)
        jobs.submit(job)
        return job.view(result=False)

    @router.get("/{job_id}", response_model=JobView, summary="A job: status, steps so far, result when done")
    async def get(job_id: str, steps: bool = Query(True, description="Include the trace steps.")) -> JobView:
        return jobs.get(job_id).view(steps=steps)

    @router.get("/{job_id}/events", summary="Server-Sent Events: status, each step, then the result or the error",
                response_class=StreamingResponse)
    async def events(job_id: str, last_event_id: str | None = Header(None)) -> StreamingResponse:
        job = jobs.get(job_id)
        first = int(last_event_id) + 1 if last_event_id and last_event_id.isdigit() else 0
        return StreamingResponse(_events(job, first), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/{job_id}/result", summary="The result JSON of a finished job")
    async def result(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job.status == "failed":
            err = job.error or {}
            raise HTTPProblem(int(err.get("status", 500)), f"job {job.id} failed: {err.get('message')}",
                              err.get("param"))
        if job.status != "done" or job.result is None:
            raise HTTPProblem(409, f"job {job.id} is {job.status}; the result comes when it is done", "id")
        return Response(job.result, media_type="application/json")

    @router.get("/{job_id}/render/{name}", summary="A picture of the result (image0.png, audio0.png, text.html...)",
                response_class=FileResponse)
    async def render(job_id: str, name: str) -> FileResponse:
        job = jobs.get(job_id)
        if not RENDER_NAME.match(name) or name not in job.renders:
            have = ", ".join(job.renders) or "none yet"
            raise HTTPProblem(404, f"job {job.id} has no picture {name[:80]!r} (it has: {have})", "name",
                              "not_found_error")
        kind = "image/png" if name.endswith(".png") else "text/html; charset=utf-8"
        return FileResponse(jobs.folder(job) / "render" / name, media_type=kind,
                            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    return router

"""``muie serve``: the FastAPI app (routes, auth, size limit, errors) over ``agent.serve_protocol``.

``create_app(settings)`` builds the app; ``run(host, port)`` serves it with uvicorn. The
extraction itself runs in a worker thread (the agent is thread-safe), one request's media
in a temporary folder removed when it is answered. Beside the OpenAI-compatible routes:
media kept by hash (``agent.serve_media``), extraction jobs watched live
(``agent.serve_jobs``), questions (``agent.serve_ask``) and the web page at ``/``
(``agent.serve_web``); see ``docs/http.md``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from muie.agent.serve.protocol import (
    ChatRequest,
    ExtractRequest,
    HTTPProblem,
    Media,
    Service,
    chat_case,
    chosen_tool,
    completion,
)
from muie.errors import InputError
from muie.settings import Settings, default_settings


def _error(status: int, message: str, param: str | None = None, kind: str = "invalid_request_error") -> Any:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": status}},
                        status_code=status)


class _Guard:
    """ASGI middleware: the bearer token (not for the web page's own files), and the body
    size limit (read bounded, then replayed)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        from muie.agent.serve.web import OPEN_PATHS

        self.app = app
        self.open_paths = OPEN_PATHS
        self.token = settings.serve_token.get_secret_value() if settings.serve_token else None
        self.limit = int(settings.serve_max_upload_mb * 1024 * 1024)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token is not None and not (scope["method"] == "GET" and scope["path"] in self.open_paths):
            given = headers.get("authorization", "")
            if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), self.token)):
                response = _error(401, "missing or wrong bearer token (Authorization: Bearer <token>)", None,
                                  "authentication_error")
                response.headers["WWW-Authenticate"] = "Bearer"
                return await response(scope, receive, send)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_large(scope, receive, send, int(declared))
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                return await self._too_large(scope, receive, send, size)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:  # type: ignore[type-arg]
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, scope: dict, receive: Any, send: Any, size: int) -> None:  # type: ignore[type-arg]
        response = _error(413, f"request body of {size} bytes or more is over the limit of {self.limit} bytes "
                               "(MUIE_SERVE_MAX_UPLOAD_MB)", None)
        await response(scope, receive, send)


def create_app(settings: Settings | None = None, agents: dict[str, Any] | None = None) -> Any:
    """The app. ``agents``: reasoner name -> a ready ``Agent`` (built on first use otherwise)."""
    from muie.agent.serve.ask import ask_router
    from muie.agent.serve.jobs import Jobs, jobs_router
    from muie.agent.serve.media import media_router
    from muie.agent.serve.web import web_router

    settings = settings or default_settings()
    service = Service(settings, agents)
    jobs = Jobs(settings, service)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        jobs.close()

    app = FastAPI(title="muie", lifespan=lifespan,
                  description="Grounded multimodal information extraction: OpenAI-compatible endpoints, media "
                              "uploads, extraction jobs watched live, questions, and a web page at /.")
    app.state.service = service
    app.state.jobs = jobs
    for router in (media_router(settings), jobs_router(jobs), ask_router(jobs), web_router()):
        app.include_router(router)

    @app.exception_handler(HTTPProblem)
    async def _problem(_: Request, e: HTTPProblem) -> Any:
        return _error(e.status, e.message, e.param, e.kind)

    @app.exception_handler(InputError)
    async def _bad_input(_: Request, e: InputError) -> Any:
        return _error(400, str(e), e.what)

    @app.exception_handler(RequestValidationError)
    async def _shape(_: Request, e: RequestValidationError) -> Any:
        errs = e.errors()
        where = ".".join(str(x) for x in errs[0]["loc"]) if errs else "body"
        return _error(422, "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in errs[:5]),
                      where)

    async def _run(media: Media, model: str, text: str | None, images: list[str], audio: list[str], schema: Any,
                   tasks: Any) -> str:
        try:
            return await run_in_threadpool(service.extract, model, text, images, audio, schema, tasks)
        except InputError as e:
            raise media.renamed(e) from None

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "muie"}
                                           for m in service.models()]}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest) -> Any:
        if body.stream:
            raise HTTPProblem(400, "stream: streaming is not supported; the answer is one result", "stream")
        service.agent(body.model)  # an unknown model is 404 before any work
        tool = chosen_tool(body)
        media = Media(settings)
        try:
            text, images, audio, schema = chat_case(body, media)
            payload = await _run(media, body.model, text, images, audio, schema, body.tasks)
        finally:
            media.close()
        return completion(body.model, payload, tool)

    @app.post("/v1/extract")
    async def extract(request: Request) -> Any:
        media = Media(settings)
        try:
            kind = request.headers.get("content-type", "")
            if kind.startswith("multipart/form-data") or kind.startswith("application/x-www-form-urlencoded"):
                model, text, schema, tasks, images, audio = await _form(request, media)
            else:
                try:
                    raw = json.loads(await request.body() or b"null")
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    raise HTTPProblem(400, f"body: not JSON ({e})", "body") from None
                try:
                    req = ExtractRequest.model_validate(raw)
                except Exception as e:  # pydantic's ValidationError: the body's shape
                    raise RequestValidationError(getattr(e, "errors", lambda: [])()) from None
                model, text, schema, tasks = req.model, req.text, req.schema_, req.tasks
                images = [media.url(u, f"images[{k}]", "image") for k, u in enumerate(req.images)]
                audio = [media.url(u, f"audio[{k}]", "audio") for k, u in enumerate(req.audio)]
            service.agent(model)
            payload = await _run(media, model, text, images, audio, schema, tasks)
        finally:
            media.close()
        return Response(payload, media_type="application/json")

    async def _form(request: Request, media: Media) -> tuple:  # type: ignore[type-arg]
        limit = media.limit
        form = await request.form(max_part_size=limit)
        fields: dict[str, str] = {}
        images: list[str] = []
        audio: list[str] = []
        for name, value in form.multi_items():
            if hasattr(value, "read"):  # an uploaded file
                if name not in ("image", "audio"):
                    raise HTTPProblem(400, f"file field {name!r}: files go in 'image' or 'audio'", name)
                data = await value.read()
                filename = value.filename or ""
                suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
                path = media.write(data, suffix, f"{name} {value.filename or ''}".strip())
                (images if name == "image" else audio).append(path)
            elif name in ("text", "schema", "tasks", "model"):
                fields[name] = str(value)
            else:
                raise HTTPProblem(400, f"field {name!r} is not read (text, schema, tasks, model, image, audio)", name)
        schema = None
        if "schema" in fields:
            try:
                schema = json.loads(fields["schema"])
            except json.JSONDecodeError as e:
                raise HTTPProblem(400, f"schema: not JSON ({e.msg} at character {e.pos})", "schema") from None
        return fields.get("model", "muie"), fields.get("text"), schema, fields.get("tasks"), images, audio

    return _Guard(app, settings)


def run(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")

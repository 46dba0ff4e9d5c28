"""The protocol of ``muie serve`` (``agent/serve.py``): request shapes, media, answers.

- ``POST /v1/chat/completions``: the last user message is the case: its text parts are
  the text, its ``image_url`` parts the images (data URLs; server paths only when
  ``serve_allow_paths``), its ``input_audio`` parts the recordings. The label schema is the
  request's ``schema`` field (``extra_body`` in the openai client) or a system message that
  is a schema JSON object; ``tasks`` likewise. The answer's content is the contract's result
  JSON; when the request offers tools, the answer calls the chosen one (``tool_choice``, or
  the only one) with the result JSON as its arguments, so a typed client (instructor in
  TOOLS mode with ``response_model=Result``) reads it back as a ``Result``.
- ``GET /v1/models``: ``muie`` (the server's reasoner) and ``muie-<reasoner>`` per reasoner.
- ``POST /v1/extract``: multipart (fields ``text``, ``schema``, ``tasks``, ``model``; files
  ``image`` and ``audio``, repeatable) or JSON (``text``, ``schema``, ``tasks``, ``model``,
  ``images`` and ``audio`` as data URLs); answers the result JSON.

A bearer token is asked for when ``serve_token`` is set (401 otherwise); a body or file
over ``serve_max_upload_mb`` is 413; bad input is 400 with the muie message naming the
input (422 for a body that does not fit the request's shape), in OpenAI's error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from muie.errors import InputError
from muie.reasoner import REASONERS
from muie.settings import Settings

_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
           "image/bmp": ".bmp", "image/tiff": ".tiff", "audio/wav": ".wav", "audio/x-wav": ".wav",
           "audio/wave": ".wav", "audio/flac": ".flac", "audio/mpeg": ".mp3", "audio/mp3": ".mp3",
           "audio/ogg": ".ogg", "audio/mp4": ".m4a", "audio/m4a": ".m4a"}


class HTTPProblem(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        self.status, self.message, self.param, self.kind = status, message, param, kind
        super().__init__(message)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = "muie"
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    stream: bool = False
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    tasks: str | list[str] | None = None


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = "muie"
    text: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    tasks: str | list[str] | None = None
    images: list[str] = Field(default_factory=list)
    audio: list[str] = Field(default_factory=list)


class Media:
    """Media of one request, written to a temporary folder that goes when the request does."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = Path(tempfile.mkdtemp(prefix="muie-serve-"))
        self.limit = int(settings.serve_max_upload_mb * 1024 * 1024)
        self.names: dict[str, str] = {}  # temporary file -> how the client named it

    def renamed(self, e: InputError) -> InputError:
        """The error with each temporary file named as the client named it."""
        what, reason = e.what, e.reason
        for path, name in self.names.items():
            what, reason = what.replace(path, name), reason.replace(path, name)
        return InputError(what, reason)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, data: bytes, suffix: str, what: str) -> str:
        if len(data) > self.limit:
            raise HTTPProblem(413, f"{what}: {len(data)} bytes, over the limit of {self.limit} bytes", what)
        path = self.dir / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(data)
        self.names[str(path)] = what
        return str(path)

    def url(self, url: str, what: str, kind: str) -> str:
        """A data URL or (when allowed) a path on this machine, as a local file path."""
        if url.startswith("data:"):
            head, sep, body = url.partition(",")
            if not sep or ";base64" not in head:
                raise HTTPProblem(400, f"{what}: a data URL must be base64 ('data:<type>;base64,...')", what)
            mime = head[5:].split(";")[0].lower()
            if mime and not mime.startswith(kind + "/"):
                raise HTTPProblem(400, f"{what}: a data URL of type {mime!r} where {kind} is expected", what)
            return self.write(_b64(body, what), _SUFFIX.get(mime, ""), what)
        if url.startswith(("http://", "https://")):
            raise HTTPProblem(400, f"{what}: the server fetches nothing from the network; send a data URL", what)
        path = url[7:] if url.startswith("file://") else url
        if not self.settings.serve_allow_paths:
            raise HTTPProblem(400, f"{what}: media by path is off on this server; send a data URL or an upload", what)
        if not Path(path).is_file():
            raise HTTPProblem(400, f"{what}: {path}: no such file", what)
        return path


def _b64(body: str, what: str) -> bytes:
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPProblem(400, f"{what}: not valid base64", what) from None


class Service:
    """The agents behind the server, one per reasoner, built on first use."""

    def __init__(self, settings: Settings, agents: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.agents: dict[str, Any] = dict(agents or {})
        self._lock = threading.Lock()

    def models(self) -> list[str]:
        return ["muie"] + [f"muie-{r}" for r in REASONERS]

    def agent(self, model: str) -> Any:
        if model == "muie":
            reasoner = self.settings.serve_reasoner
        elif model.startswith("muie-") and model[5:] in REASONERS:
            reasoner = model[5:]
        else:
            raise HTTPProblem(404, f"model {model!r} does not exist (available: {', '.join(self.models())})", "model",
                              "model_not_found")
        with self._lock:
            if reasoner not in self.agents:
                from muie.agent.api import Agent

                self.agents[reasoner] = Agent(reasoner, settings=self.settings, store=True)
            return self.agents[reasoner]

    def extract(self, model: str, text: str | None, images: list[str], audio: list[str], schema: Any,
                tasks: Any) -> str:
        from muie.agent.api import make_request

        agent = self.agent(model)
        request = make_request(text=text, images=images, audio=audio, schema=schema, tasks=tasks)
        return agent.run(request).to_json()


def chat_case(body: ChatRequest, media: Media) -> tuple[str | None, list[str], list[str], Any]:
    """(text, image paths, audio paths, schema) of a chat request."""
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise HTTPProblem(400, "messages: no user message to extract from", "messages")
    texts: list[str] = []
    images: list[str] = []
    audio: list[str] = []
    content = users[-1].content
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else (content or [])
    for k, part in enumerate(parts):
        what = f"messages[-1].content[{k}]"
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            if not isinstance(url, str):
                raise HTTPProblem(400, f"{what}: image_url needs a url", what)
            images.append(media.url(url, what, "image"))
        elif kind == "input_audio":
            a = part.get("input_audio") or {}
            fmt = str(a.get("format", "wav")).lower()
            if not isinstance(a.get("data"), str):
                raise HTTPProblem(400, f"{what}: input_audio needs base64 data", what)
            audio.append(media.write(_b64(a["data"], what), "." + fmt.strip("."), what))
        else:
            raise HTTPProblem(400, f"{what}: content part of type {kind!r} is not read (text, image_url, input_audio)",
                              what)
    schema = body.schema_
    for m in body.messages:
        if schema is None and m.role in ("system", "developer") and isinstance(m.content, str):
            try:
                data = json.loads(m.content)
            except json.JSONDecodeError:
                continue  # an instruction, not a schema
            if isinstance(data, dict) and data.keys() & {"entity_types", "relation_types", "event_types"}:
                schema = data
    text = "\n".join(t for t in texts if t.strip()) or None
    return text, images, audio, schema


def chosen_tool(body: ChatRequest) -> str | None:
    """The function the answer calls: ``tool_choice``'s, or the only tool offered."""
    if not body.tools or body.tool_choice == "none":
        return None
    if isinstance(body.tool_choice, dict):
        name = (body.tool_choice.get("function") or {}).get("name")
        if name:
            return str(name)
    names = [(t.get("function") or {}).get("name") for t in body.tools]
    if len(names) == 1 and names[0]:
        return str(names[0])
    raise HTTPProblem(400, "tools: several tools offered; name one in tool_choice", "tool_choice")


def completion(model: str, payload: str, tool: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None if tool else payload}
    if tool:
        message["tool_calls"] = [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                                  "function": {"name": tool, "arguments": payload}}]
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message,
                                         "finish_reason": "tool_calls" if tool else "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}

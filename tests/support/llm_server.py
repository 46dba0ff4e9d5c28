"""Real HTTP servers on localhost for the tests of the LLM reasoner and of ``muie serve``.

- ``llama_endpoint()``: llama-cpp-python's OpenAI-compatible server with the real
  Qwen2.5-Coder-1.5B-Instruct GGUF, started once per test process (a subprocess on a free
  port, stopped at exit); ``None`` when the server or the model is not installed.
- ``ScriptedLLM``: a small OpenAI-compatible server that answers from a script (an HTTP
  status, a delay, a body that is not JSON, an answer that breaks the schema, a tool
  call), one step per request, recording every request: the failure paths, for real.
- ``serve_in_thread(app)``: any ASGI app under uvicorn in a thread, on a free port.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

THREADS = 2
CTX = 4096


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 120.0,
               proc: subprocess.Popen | None = None) -> None:  # type: ignore[type-arg]
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {timeout} s")


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


_LLAMA: dict[str, Any] = {}


def llama_endpoint() -> str | None:
    """Base URL (``.../v1``) of the real LLM server, started on first use; None if not installed."""
    if "url" in _LLAMA:
        return _LLAMA["url"]
    from muie.tools.install.gguf import installed

    model = installed()
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        model = None
    if model is None:
        _LLAMA["url"] = None
        return None
    from muie.tools.install.gguf import start_server

    port = free_port()
    proc = start_server(port, THREADS, CTX, log=str(Path(os.environ.get("TMPDIR", "/tmp")) / f"muie-llama-{port}.log"))
    atexit.register(lambda: (proc.terminate(), proc.wait(10)))
    wait_ready(f"http://127.0.0.1:{port}/v1/models", proc=proc)
    _LLAMA["url"] = f"http://127.0.0.1:{port}/v1"
    return _LLAMA["url"]


@pytest.fixture(scope="session")
def qwen() -> str:
    """The real LLM server's base URL (the ``llm`` tests' fixture, in ``tests/conftest.py``)."""
    url = llama_endpoint()
    # make setup installs both: a missing one is a broken install, not a reason to skip
    assert url is not None, "llama-cpp-python's server or the Qwen GGUF is not installed (run make setup)"
    return url


class ScriptedLLM:
    """An OpenAI-compatible chat endpoint answering from ``script``, one step per request
    (the last step repeats). A step is a dict: ``{"status": 500}``, ``{"sleep": 2.0}``
    (then the next step's answer), ``{"raw": "not json"}`` (a body that is not JSON),
    ``{"content": "..."}`` (an assistant message, JSON mode), ``{"tool": name,
    "arguments": {...} | "..."}`` (a tool call, TOOLS mode)."""

    def __init__(self, script: list[dict[str, Any]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def step(self) -> dict[str, Any]:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def app(self) -> Any:
        app = FastAPI()

        @app.get("/v1/models")
        def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            self.requests.append(await request.json())
            step = self.step()
            if "sleep" in step:
                import asyncio

                await asyncio.sleep(step["sleep"])
                step = self.step()
            if "status" in step:
                return JSONResponse({"error": {"message": f"scripted {step['status']}", "type": "server_error"}},
                                    status_code=step["status"])
            if "raw" in step:
                return PlainTextResponse(step["raw"], media_type="application/json")
            message: dict[str, Any] = {"role": "assistant", "content": step.get("content")}
            finish = "stop"
            if "tool" in step:
                args = step["arguments"]
                message["tool_calls"] = [{"id": "call_0", "type": "function", "function": {
                    "name": step["tool"], "arguments": args if isinstance(args, str) else json.dumps(args)}}]
                finish = "tool_calls"
            return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
                    "model": "scripted", "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

        return app

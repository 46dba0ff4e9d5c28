"""``muie serve`` for real: the app under uvicorn on a free port, called over HTTP with the
openai client (chat completions, tool calling through instructor) and httpx (/v1/extract,
multipart and JSON), with the token, the size limit and every kind of bad input."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import httpx
import instructor
import openai
import pytest
from PIL import Image

from muie.agent.api import extract
from muie.agent.serve.app import create_app
from muie.domain import Result
from muie.settings import Settings
from tests.support.llm_server import ScriptedLLM, serve_in_thread
from tests.support.paths import ROOT

TOKEN = "s3cret-token"
EXAMPLES = ROOT / "examples" / "media"
SCHEMA = {"entity_types": ["person", "organization", "city"], "relation_types": ["employee_of"]}
TEXT = "Sundar Pichai works for Google in Mountain View."


@pytest.fixture(scope="module")
def server() -> str:
    s = Settings(serve_token=TOKEN, serve_max_upload_mb=1.0)
    with serve_in_thread(create_app(s)) as url:
        yield url


def client(url: str, token: str = TOKEN) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=token, max_retries=0, timeout=300)


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_token_is_required(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server + "/v1/models")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in r.json()["error"]["message"]
    with pytest.raises(openai.AuthenticationError):
        client(server, "wrong").models.list()
    assert {"muie", "muie-embedded", "muie-llm"} <= {m.id for m in client(server).models.list().data}


def test_chat_completion_answers_the_contract_json(server) -> None:  # type: ignore[no-untyped-def]
    answer = client(server).chat.completions.create(
        model="muie", messages=[{"role": "user", "content": TEXT}], extra_body={"schema": SCHEMA})
    assert answer.choices[0].finish_reason == "stop"
    result = Result.model_validate_json(answer.choices[0].message.content)
    names = {(e.text, e.type) for e in result.entities}
    assert ("Sundar Pichai", "person") in names and ("Google", "organization") in names
    direct = extract(text=TEXT, schema=SCHEMA)  # the same as the library gives
    assert result.model_dump(exclude={"trace"}) == direct.model_dump(exclude={"trace"})


def test_schema_as_a_system_message_and_tool_calling_through_instructor(server) -> None:  # type: ignore[no-untyped-def]
    """An agent that calls muie with instructor (TOOLS mode) gets a typed ``Result`` back."""
    typed = instructor.from_openai(client(server), mode=instructor.Mode.TOOLS)
    result = typed.chat.completions.create(
        model="muie-embedded", response_model=Result, max_retries=0,
        messages=[{"role": "system", "content": json.dumps(SCHEMA)}, {"role": "user", "content": TEXT}])
    assert isinstance(result, Result)
    assert "Sundar Pichai" in {e.text for e in result.entities}


def test_chat_with_an_image_as_a_data_url(server) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads((EXAMPLES / "schema.json").read_text())
    answer = client(server).chat.completions.create(
        model="muie", extra_body={"schema": schema, "tasks": "ner"},
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Eileen Collins flew for NASA."},
            {"type": "image_url", "image_url": {"url": data_url(EXAMPLES / "photo.png")}}]}])
    result = Result.model_validate_json(answer.choices[0].message.content)
    assert [i.modality for i in result.inputs] == ["text", "image"]
    nasa = [e for e in result.entities if e.text == "NASA"]
    assert any(g.kind == "region" for e in nasa for g in e.groundings)  # read on the sign in the photo


def test_extract_multipart_and_json(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server + "/v1/extract", headers=auth(), timeout=300,
                   data={"text": TEXT, "schema": json.dumps(SCHEMA), "tasks": "ner"})
    assert r.status_code == 200, r.text
    result = Result.model_validate(r.json())
    assert "Google" in {e.text for e in result.entities} and result.relations == []
    r = httpx.post(server + "/v1/extract", headers=auth(), timeout=300, json={"text": TEXT, "schema": SCHEMA})
    assert r.status_code == 200
    assert Result.model_validate(r.json()).entities == result.entities


def _problem(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    message = r.json()["error"]["message"]
    for w in words:
        assert w in message, (w, message)


def test_bad_input_is_a_clear_4xx(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    def post(path: str, headers: dict[str, str] | None = None, **kw: object) -> httpx.Response:
        return httpx.post(server + path, headers=auth() | (headers or {}), timeout=60, **kw)  # type: ignore[arg-type]

    _problem(post("/v1/extract", json={"text": "   "}), 400, "text", "empty")
    _problem(post("/v1/extract", data={"text": TEXT, "schema": "{not json"}), 400, "schema", "not JSON")
    _problem(post("/v1/extract", json={"text": TEXT, "schema": {"entity_types": "person"}}), 400, "schema")
    _problem(post("/v1/extract", data={"text": TEXT}, files={"image": ("broken.png", b"not a png", "image/png")}),
             400, "broken.png")
    _problem(post("/v1/extract", json={"text": TEXT, "colour": "red"}), 422, "colour")
    _problem(post("/v1/extract", content=b"{oops", headers={"content-type": "application/json"}), 400,
             "not JSON")
    _problem(post("/v1/extract", json={"images": ["https://example.com/cat.png"]}), 400, "images[0]", "network")
    _problem(post("/v1/extract", json={"images": [str(EXAMPLES / "photo.png")]}), 400, "images[0]", "path")
    _problem(post("/v1/extract", json={"images": ["data:image/png;base64,@@@"]}), 400, "base64")
    _problem(post("/v1/chat/completions", json={"model": "muie"}), 422, "messages")
    _problem(post("/v1/chat/completions", json={"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}),
             404, "gpt-9")
    _problem(post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}], "stream": True}),
             400, "stream")
    _problem(post("/v1/chat/completions", json={"messages": [{"role": "user", "content": [
        {"type": "video_url", "video_url": {"url": "x"}}]}]}), 400, "video_url")
    with pytest.raises(openai.BadRequestError, match="nothing to extract"):
        client(server).chat.completions.create(model="muie", messages=[{"role": "user", "content": " "}])


def test_uploads_over_the_limit_are_413(server) -> None:  # type: ignore[no-untyped-def]
    big = io.BytesIO()
    Image.effect_noise((1200, 1200), 60).save(big, format="PNG")  # noise does not compress: > 1 MB
    assert big.tell() > 1024 * 1024
    r = httpx.post(server + "/v1/extract", headers=auth(), timeout=60, data={"text": TEXT},
                   files={"image": ("noise.png", big.getvalue(), "image/png")})
    _problem(r, 413, "over the limit")
    r = httpx.post(server + "/v1/extract", headers=auth(), timeout=60,
                   json={"text": "x " * 600_000})
    _problem(r, 413, "MUIE_SERVE_MAX_UPLOAD_MB")


def test_the_llm_reasoner_is_served_the_same_way() -> None:
    """``muie-llm`` runs the LLM reasoner against its configured endpoint (here a scripted one)."""
    llm = ScriptedLLM([{"tool": "Extraction", "arguments": {
        "entities": [{"text": "Sundar Pichai", "type": "person"}, {"text": "Google", "type": "organization"}],
        "relations": [{"head": "Sundar Pichai", "type": "employee_of", "tail": "Google"}], "events": []}}])
    with serve_in_thread(llm.app()) as llm_url:
        s = Settings(llm_base_url=llm_url + "/v1", llm_model="scripted", serve_reasoner="llm")
        with serve_in_thread(create_app(s)) as url:
            answer = client(url, "none").chat.completions.create(
                model="muie", messages=[{"role": "user", "content": TEXT}], extra_body={"schema": SCHEMA})
    result = Result.model_validate_json(answer.choices[0].message.content)
    assert {e.text for e in result.entities} == {"Sundar Pichai", "Google"}
    assert [s.reasoner for s in result.trace if s.node == "reason"][0] == "llm"  # type: ignore[attr-defined]
    assert len(llm.requests) == 1


def test_muie_serve_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess

    from tests.support.cli import MUIE
    from tests.support.llm_server import free_port, wait_ready

    port = free_port()
    env = os.environ | {"MUIE_SERVE_TOKEN": TOKEN}
    proc = subprocess.Popen([str(MUIE), "serve", "--port", str(port), "--reasoner", "llm"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/models", timeout=60, proc=proc)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 401
        models = client(f"http://127.0.0.1:{port}").models.list()
        assert "muie-llm" in {m.id for m in models.data}
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run([str(MUIE), "serve", "--reasoner", "oracle"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "MUIE_SERVE_REASONER" in bad.stderr and len(bad.stderr.splitlines()) == 1

"""The jobs API of ``muie serve`` for real: uvicorn on a free port, httpx over loopback, the
embedded reasoner's real models. Upload media (kept by hash), start a job, follow its
Server-Sent Events, fetch the result and its pictures; every kind of bad upload refused
with nothing kept; the token; the OpenAPI schema."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from muie.agent.serve.app import create_app
from muie.domain import Result
from muie.settings import Settings
from tests.support.llm_server import serve_in_thread
from tests.support.paths import ROOT
from tests.support.video_clips import clip

TOKEN = "jobs-token"
EXAMPLES = ROOT / "examples" / "media"
CAPTION = (EXAMPLES / "caption.txt").read_text().strip()
SCHEMA = json.loads((EXAMPLES / "schema.json").read_text())
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def server(data: Path) -> str:
    s = Settings(data_dir=str(data), serve_token=TOKEN, serve_max_upload_mb=1.0, serve_max_pixels=1_000_000,
                 serve_max_seconds=5.0)
    with serve_in_thread(create_app(s)) as url:
        yield url


def stored(data: Path) -> list[Path]:
    return sorted(p for p in (data / "media").rglob("*") if p.is_file()) if (data / "media").is_dir() else []


def upload(url: str, name: str, body: bytes, kind: str = "application/octet-stream") -> httpx.Response:
    return httpx.post(url + "/v1/media", headers=AUTH, files={"file": (name, body, kind)}, timeout=60)


def problem(r: httpx.Response, status: int, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    message = r.json()["error"]["message"]
    for w in words:
        assert w in message, (w, message)
    return message


def events(url: str, job: str, last: int | None = None) -> list[tuple[str, int | None, Any]]:
    """The job's Server-Sent Events, read to the end of the stream: (event, id, data)."""
    headers = AUTH | ({"Last-Event-ID": str(last)} if last is not None else {})
    out: list[tuple[str, int | None, Any]] = []
    with httpx.stream("GET", f"{url}/v1/jobs/{job}/events", headers=headers, timeout=300) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in r.iter_lines():
            if not line:
                if "event" in fields:
                    out.append((fields["event"], int(fields["id"]) if "id" in fields else None,
                                json.loads(fields["data"])))
                fields = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    return out


def test_upload_job_events_result_pictures(server: str, data: Path) -> None:
    photo = (EXAMPLES / "photo.png").read_bytes()
    r = upload(server, "photo.png", photo, "image/png")
    assert r.status_code == 201, r.text
    info = r.json()
    assert (info["kind"], info["width"], info["height"], info["size"], info["suffix"]) == ("image", 640, 480,
                                                                                           len(photo), ".png")
    assert upload(server, "again.PNG", photo).json()["hash"] == info["hash"]  # the same bytes: the same media
    assert [p.name for p in stored(data)] == [info["hash"] + ".png"]
    assert httpx.get(f"{server}/v1/media/{info['hash']}", headers=AUTH).json() == info
    got = httpx.get(f"{server}/v1/media/{info['hash'].upper()}/content", headers=AUTH)
    assert got.content == photo and got.headers["content-type"] == "image/png"

    r = httpx.post(server + "/v1/jobs", headers=AUTH, timeout=60,
                   json={"text": CAPTION, "images": [info["hash"]], "schema": SCHEMA})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and job["media"] == {"image0": info["hash"]}

    seen = events(server, job["id"])
    kinds = [e for e, _, _ in seen]
    assert kinds[0] == "status" and kinds[-1] == "result", kinds
    steps = [(i, d) for e, i, d in seen if e == "step"]
    assert [i for i, _ in steps] == list(range(len(steps))) == [d["step"] for _, d in steps]
    nodes = [d["node"] for _, d in steps]
    assert nodes[0] == "perceive" and nodes[-1] == "finish" and "act" in nodes and "verify" in nodes
    final = seen[-1][2]
    assert final["status"] == "done" and final["step_count"] == len(steps)
    assert {"image0.png", "text.html"} <= set(final["renders"])

    result = Result.model_validate(httpx.get(f"{server}/v1/jobs/{job['id']}/result", headers=AUTH).json())
    assert result.model_dump() == Result.model_validate(final["result"]).model_dump()
    assert [i.path for i in result.inputs if i.modality == "image"] == [info["hash"] + ".png"]  # no server path
    cup = next(e for e in result.entities if e.text == "coffee cup")
    region = next(g for g in cup.groundings if g.kind == "region")
    assert region.mask is not None and region.bbox[0] > 320  # the cup is pasted on the right half
    view = httpx.get(f"{server}/v1/jobs/{job['id']}", headers=AUTH).json()
    assert view["status"] == "done" and len(view["steps"]) == len(steps) and view["result"] == final["result"]
    assert httpx.get(f"{server}/v1/jobs/{job['id']}?steps=false", headers=AUTH).json()["steps"] is None

    resumed = events(server, job["id"], last=len(steps) - 3)  # a client that reconnects gets the rest
    assert [i for e, i, _ in resumed if e == "step"] == [len(steps) - 2, len(steps) - 1]

    png = httpx.get(f"{server}/v1/jobs/{job['id']}/render/image0.png", headers=AUTH)
    assert png.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(png.content))
    assert picture.size == (640, 480)
    assert picture.convert("RGB").tobytes() != Image.open(EXAMPLES / "photo.png").convert("RGB").tobytes()
    page = httpx.get(f"{server}/v1/jobs/{job['id']}/render/text.html", headers=AUTH).text
    assert "coffee cup" in page and "default-src 'none'" in httpx.get(
        f"{server}/v1/jobs/{job['id']}/render/text.html", headers=AUTH).headers["content-security-policy"]
    for name in ("audio0.png", "..%2Fjob.json", "result.json"):
        assert httpx.get(f"{server}/v1/jobs/{job['id']}/render/{name}", headers=AUTH).status_code == 404

    ask = {"question": "where is the coffee cup?", "job": job["id"]}
    answer = httpx.post(server + "/v1/ask", headers=AUTH, timeout=300, json=ask).json()
    assert answer["source"] == "memory" and answer["run_id"] == view["run_id"], answer  # the job's run, kept
    cited = next(c for c in answer["citations"] if c["grounding"] and c["grounding"]["kind"] == "region")
    assert (cited["what"], cited["input"], cited["media"], cited["path"]) == ("coffee cup", "image0", info["hash"],
                                                                             info["hash"] + ".png")
    assert cited["grounding"]["bbox"] == list(region.bbox) and "coffee cup" in answer["answer"]
    again = httpx.post(server + "/v1/ask", headers=AUTH, timeout=300, json={
        "question": "where is NASA?", "text": CAPTION, "images": [info["hash"]], "schema": SCHEMA,
        "thread_id": answer["thread_id"]}).json()  # by the media's hash, in the same conversation
    assert again["thread_id"] == answer["thread_id"] and "NASA" in again["answer"]
    assert any(c["what"] == "NASA" and c["input"] == "image0" for c in again["citations"])
    problem(httpx.post(server + "/v1/ask", headers=AUTH, json={"question": "who?"}), 400, "nothing to ask about")
    problem(httpx.post(server + "/v1/ask", headers=AUTH, json=ask | {"job": "0" * 32}), 404, "no job")
    problem(httpx.post(server + "/v1/ask", headers=AUTH, json=ask | {"thread_id": "../../x"}), 422, "thread_id")

    folder = data / "jobs" / job["id"]
    assert json.loads((folder / "job.json").read_text())["status"] == "done"
    assert Result.model_validate_json((folder / "result.json").read_text()).entities == result.entities


def test_bad_uploads_are_refused_and_nothing_is_kept(server: str, data: Path) -> None:
    before = stored(data)
    noise = io.BytesIO()
    Image.effect_noise((1100, 1000), 60).save(noise, format="PNG")  # > 1 MiB: noise does not compress
    problem(upload(server, "noise.png", noise.getvalue(), "image/png"), 413, "over the limit")
    message = problem(upload(server, "notes.png", b"shopping list: eggs, milk\n" * 20, "image/png"), 400,
                      "notes.png")
    assert str(data) not in message
    problem(upload(server, "tool.exe", b"MZ\x90\x00" * 100), 415, "tool.exe", "not a media type")
    problem(upload(server, "../../etc/passwd", b"root:x:0:0\n"), 415)
    big = io.BytesIO()
    Image.new("RGB", (1200, 1000), "white").save(big, format="PNG")  # small in bytes, over 1 MP
    problem(upload(server, "wide.png", big.getvalue()), 422, "1200x1000", "MUIE_SERVE_MAX_PIXELS")
    problem(upload(server, "speech.wav", (EXAMPLES / "speech.wav").read_bytes()), 422, "7.9 s",
            "MUIE_SERVE_MAX_SECONDS")
    problem(upload(server, "empty.wav", b""), 400, "empty")
    cut = (EXAMPLES / "photo.png").read_bytes()[:200]  # the header reads, the pixels are not there
    problem(upload(server, "cut.png", cut), 400, "cut.png", "nothing could be decoded")
    problem(httpx.post(server + "/v1/media", headers=AUTH, data={"file": "not a file"}), 422, "file")
    assert stored(data) == before
    assert list((data / "tmp").iterdir()) == []  # the probe's scratch files are gone too

    for bad in ("abc", "z" * 64, "..%2F..%2Fetc%2Fpasswd", "a" * 65):
        r = httpx.get(f"{server}/v1/media/{bad}", headers=AUTH)
        assert 400 <= r.status_code < 500, (bad, r.status_code)
    problem(httpx.get(f"{server}/v1/media/{'0' * 64}", headers=AUTH), 404, "no media")
    problem(httpx.post(server + "/v1/jobs", headers=AUTH, json={"images": ["../photo.png"]}), 422, "images")
    problem(httpx.post(server + "/v1/jobs", headers=AUTH, json={"images": ["ab" * 32]}), 404, "images[0]")
    problem(httpx.post(server + "/v1/jobs", headers=AUTH, json={"text": "  "}), 400, "empty")
    problem(httpx.post(server + "/v1/jobs", headers=AUTH, json={"text": "x", "model": "gpt-9"}), 404, "gpt-9")
    problem(httpx.post(server + "/v1/jobs", headers=AUTH, json={"text": "x", "path": "/etc"}), 422, "path")
    problem(httpx.get(server + "/v1/jobs/..media", headers=AUTH), 400, "job id")
    assert httpx.get(server + "/v1/jobs/..%2F..%2Fmedia", headers=AUTH).status_code == 404
    problem(httpx.get(f"{server}/v1/jobs/{'f' * 32}/result", headers=AUTH), 404, "no job")


def test_audio_and_video_uploads_are_probed(server: str, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    clip(path, n=24)
    r = upload(server, "clip.mp4", path.read_bytes(), "video/mp4")
    assert r.status_code == 201, r.text
    v = r.json()
    assert (v["kind"], v["width"], v["height"], v["frames"], v["fps"]) == ("video", 320, 240, 24, 12.0)
    short = io.BytesIO()
    import soundfile

    soundfile.write(short, [0.0] * 16000, 16000, format="WAV")
    a = upload(server, "blob", short.getvalue(), "audio/wav").json()  # no suffix: the content type names it
    assert (a["kind"], a["suffix"], a["duration_s"], a["sample_rate"]) == ("audio", ".wav", 1.0, 16000)


def test_the_token_is_asked_for_everywhere_but_the_page(server: str) -> None:
    for method, path in [("GET", "/v1/models"), ("POST", "/v1/media"), ("GET", f"/v1/media/{'0' * 64}"),
                         ("POST", "/v1/jobs"), ("GET", f"/v1/jobs/{'0' * 32}"), ("GET", f"/v1/jobs/{'0' * 32}/events"),
                         ("POST", "/v1/ask"), ("GET", "/openapi.json")]:
        r = httpx.request(method, server + path)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (path, r.status_code)
        assert httpx.request(method, server + path, headers={"Authorization": "Bearer nope"}).status_code == 401
    for path in ("/", "/web/app.js", "/web/style.css"):
        r = httpx.get(server + path)
        assert r.status_code == 200 and "connect-src 'self'" in r.headers["content-security-policy"], path
    assert "muie" in httpx.get(server + "/").text
    assert httpx.get(server + "/web/../agent/serve.py").status_code in (401, 404)
    assert httpx.post(server + "/", headers={}).status_code == 401  # only reading the page is open


def test_the_openapi_schema_lists_the_routes(server: str) -> None:
    spec = httpx.get(server + "/openapi.json", headers=AUTH).json()
    paths = spec["paths"]
    for path, method in [("/v1/media", "post"), ("/v1/media/{digest}", "get"), ("/v1/media/{digest}/content", "get"),
                         ("/v1/jobs", "post"), ("/v1/jobs/{job_id}", "get"), ("/v1/jobs/{job_id}/events", "get"),
                         ("/v1/jobs/{job_id}/result", "get"), ("/v1/jobs/{job_id}/render/{name}", "get"),
                         ("/v1/ask", "post"), ("/v1/chat/completions", "post"), ("/v1/extract", "post")]:
        assert method in paths[path], path
    assert "/" not in paths and "/web/{name}" not in paths
    job = spec["components"]["schemas"]["JobRequest"]["properties"]
    assert {"text", "images", "audio", "video", "schema", "tasks", "model"} <= set(job)
    form = paths["/v1/media"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    assert "file" in spec["components"]["schemas"][form.rsplit("/", 1)[-1]]["properties"]


def test_finished_jobs_leave_the_table_first_and_are_still_found_on_disk(tmp_path: Path) -> None:
    s = Settings(data_dir=str(tmp_path), serve_max_jobs=2)
    app = create_app(s)
    with serve_in_thread(app) as url:
        ids = []
        for k in range(3):
            r = httpx.post(url + "/v1/jobs", json={"text": f"Sundar Pichai visited Paris {k} times.", "tasks": "ner"},
                           timeout=60)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
            t0 = time.time()
            while httpx.get(f"{url}/v1/jobs/{ids[-1]}").json()["status"] not in ("done", "failed"):
                assert time.time() - t0 < 120
                time.sleep(0.1)
        assert list(app.app.state.jobs.table) == ids[1:]  # the oldest finished one went first
        first = httpx.get(f"{url}/v1/jobs/{ids[0]}").json()  # evicted from the table: read from disk
        assert first["status"] == "done" and first["step_count"] > 0
        assert "Sundar Pichai" in {e["text"] for e in first["result"]["entities"]}
        assert httpx.get(f"{url}/v1/jobs/{ids[0]}/result").json() == first["result"]

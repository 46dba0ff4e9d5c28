"""A bounded load on ``muie serve`` over loopback: 500 requests, 8 at a time, a mix of the
cheap endpoints, uploads, Server-Sent Events and real small extraction jobs, with bad
requests among them (no token, a text file named .png) that must be refused and keep
nothing. No request may fail; the process's memory must stay flat. The figures are printed."""

from __future__ import annotations

import gc
import io
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from muie.agent.serve.app import create_app
from muie.settings import Settings
from tests.support.llm_server import serve_in_thread
from tests.support.paths import ROOT

TOKEN = "load-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = ROOT / "examples" / "media"
REQUESTS, CONCURRENCY = 500, 8
RSS_GROWTH_MB = 64


def rss_mb() -> float:
    """Resident memory of this process (server and client both), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tiny_png(k: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (k % 256, k // 256, 90)).save(out, format="PNG")  # one colour per k
    return out.getvalue()


def stored(data: Path) -> int:
    return sum(1 for p in (data / "media").rglob("*") if p.is_file())


def test_500_requests_8_at_a_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = Settings(data_dir=str(tmp_path), serve_token=TOKEN)
    with serve_in_thread(create_app(s)) as url, httpx.Client(
            base_url=url, headers=AUTH, timeout=120,
            limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)) as client:
        photo = client.post("/v1/media", files={"file": ("photo.png", (EXAMPLES / "photo.png").read_bytes())}).json()
        warm = client.post("/v1/jobs", json={"text": "Sundar Pichai works for Google.", "tasks": "ner"}).json()
        while client.get(f"/v1/jobs/{warm['id']}?steps=false").json()["status"] not in ("done", "failed"):
            time.sleep(0.1)
        jobs: list[str] = []

        def submit(k: int) -> httpx.Response:
            r = client.post("/v1/jobs", json={"text": f"Marie Curie met {k} students in Warsaw.", "tasks": "ner"})
            jobs.append(r.json()["id"])
            return r

        def events(_: int) -> httpx.Response:
            with client.stream("GET", f"/v1/jobs/{warm['id']}/events") as r:
                body = "".join(r.iter_text())
            assert body.rstrip().split("\n")[-2] == "event: result"
            return r

        # (name, call, expected status), one per request, by k % 20
        plan: list[tuple[str, Callable[[int], httpx.Response], int]] = [
            ("models", lambda k: client.get("/v1/models"), 200),
            ("media info", lambda k: client.get(f"/v1/media/{photo['hash']}"), 200),
            ("media bytes", lambda k: client.get(f"/v1/media/{photo['hash']}/content"), 200),
            ("job", lambda k: client.get(f"/v1/jobs/{warm['id']}"), 200),
            ("no token", lambda k: httpx.get(url + "/v1/models"), 401),
            ("result", lambda k: client.get(f"/v1/jobs/{warm['id']}/result"), 200),
            ("upload", lambda k: client.post("/v1/media", files={"file": (f"t{k}.png", tiny_png(k))}), 201),
            ("page", lambda k: client.get("/web/app.js"), 200),
            ("models", lambda k: client.get("/v1/models"), 200),
            ("extract", submit, 202),
            ("media info", lambda k: client.get(f"/v1/media/{photo['hash']}"), 200),
            ("render", lambda k: client.get(f"/v1/jobs/{warm['id']}/render/text.html"), 200),
            ("job", lambda k: client.get(f"/v1/jobs/{warm['id']}?steps=false"), 200),
            ("openapi", lambda k: client.get("/openapi.json"), 200),
            ("malformed", lambda k: client.post("/v1/media", files={"file": (f"n{k}.png", b"not an image " * 9)}),
             400),
            ("models", lambda k: client.get("/v1/models"), 200),
            ("media info", lambda k: client.get(f"/v1/media/{photo['hash']}"), 200),
            ("zeros", lambda k: client.post("/v1/media", files={"file": ("photo.png", b"\x00" * 10)}), 400),
            ("job", lambda k: client.get(f"/v1/jobs/{warm['id']}"), 200),
            ("events", events, 200),
        ]

        def one(k: int) -> tuple[str, float, str | None]:
            name, call, expected = plan[k % len(plan)]
            t0 = time.perf_counter()
            try:
                status = call(k).status_code
                error = None if status == expected else f"{name}: {status}, expected {expected}"
            except Exception as e:  # noqa: BLE001  (counted as an error, reported below)
                error = f"{name}: {type(e).__name__}: {e}"
            return name, time.perf_counter() - t0, error

        with ThreadPoolExecutor(CONCURRENCY) as pool:  # a first pass warms every path, then memory is measured
            list(pool.map(one, range(REQUESTS, REQUESTS + len(plan))))
        def settled() -> list[dict]:  # type: ignore[type-arg]
            """Every job submitted so far, once all are finished."""
            while True:
                states = [client.get(f"/v1/jobs/{j}?steps=false").json() for j in jobs]
                if all(j["status"] in ("done", "failed") for j in states):
                    gc.collect()
                    return states
                time.sleep(0.2)

        settled()
        before = rss_mb()
        media_before = stored(tmp_path)
        done, rss, wall = [], [], 0.0
        for half in (range(REQUESTS // 2), range(REQUESTS // 2, REQUESTS)):  # memory looked at halfway too
            t0 = time.perf_counter()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                done += list(pool.map(one, half))
            wall += time.perf_counter() - t0
            finished = settled()
            rss.append(rss_mb())
        after = rss[-1]
        media_after = stored(tmp_path)

    errors = [e for _, _, e in done if e]
    latency = sorted(dt for _, dt, _ in done)
    cheap = sorted(dt for name, dt, _ in done if name not in ("events", "extract"))
    p50, p95 = latency[len(latency) // 2], latency[int(len(latency) * 0.95)]
    uploads = sum(1 for name, _, _ in done if name == "upload")
    with capsys.disabled():
        print(f"\nload: {len(done)} requests, {CONCURRENCY} concurrent, {wall:.1f} s ({len(done) / wall:.0f}/s); "
              f"errors {len(errors)}; latency p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
              f"(cheap endpoints p50 {statistics.median(cheap) * 1000:.1f} ms); {len(jobs)} extraction jobs, "
              f"{sum(j['status'] == 'done' for j in finished)} done; RSS {before:.0f} -> {rss[0]:.0f} (halfway) "
              f"-> {after:.0f} MiB; "
              f"media files {media_before} -> {media_after}")
    assert errors == [], errors[:5]
    assert len(done) == REQUESTS and all(j["status"] == "done" for j in finished)
    assert len(jobs) == 1 + REQUESTS // 20  # one in the warm-up pass
    assert media_after - media_before == uploads  # the refused uploads kept nothing
    assert after - before < RSS_GROWTH_MB and after - rss[0] < RSS_GROWTH_MB / 2, (before, rss)

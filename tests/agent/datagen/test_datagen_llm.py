"""``muie datagen --mode llm`` against real OpenAI-compatible servers on localhost.

A scripted server answers each failure path over HTTP (a 429 with ``Retry-After``, a rate
limit that lasts, a body that is not JSON, an answer that is not JSON or breaks the
schema, words that contradict the gold); a slow one shows the concurrency limit and the
resume after a SIGKILL of the command mid-run. The real small LLM (Qwen2.5-Coder-1.5B
under llama.cpp's server) words two benchmark cases end to end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench.grounded_eval import benchmark
from muie.agent.datagen import Record, Reject, generate, rejects_path, round_trip, summary_path
from muie.agent.datagen.cases import jobs, load_annotated
from muie.agent.datagen.llm import Wording, check_wording
from muie.agent.scoring import load_cases
from muie.settings import Settings
from tests.support.cli import MUIE
from tests.support.llm_server import ScriptedLLM, serve_in_thread
from tests.support.paths import ROOT

pytestmark = pytest.mark.llm

WNUT = ROOT / "bench" / "data" / "ner-dev" / "wnut17.dev.conll"
GOOD = {"instruction": "Which animals does this caption name, and where are they in the picture?",
        "reasoning": "The cat is in image0; the giraffe is not shown."}
NEGATIVE = "image_negative-000"  # "This picture shows a giraffe and a cat.": only the cat is in image0


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("grounded")
    benchmark(folder, seed=0, per_kind=1)
    return folder


@pytest.fixture
def scripted():  # type: ignore[no-untyped-def]
    """Start a ScriptedLLM; ``delay`` seconds before each answer, ``retry_after`` on its 429s.
    The server records each request's arrival and how many were in flight at most."""
    started: list[Any] = []

    def start(script: list[dict[str, Any]], delay: float = 0.0, retry_after: str | None = None) -> ScriptedLLM:
        import asyncio

        llm = ScriptedLLM(script)
        app = llm.app()
        llm.arrivals, llm.in_flight, llm.most = [], 0, 0  # type: ignore[attr-defined]
        lock = threading.Lock()

        @app.middleware("http")
        async def shape(request, call_next):  # type: ignore[no-untyped-def]
            with lock:
                llm.arrivals.append(time.monotonic())  # type: ignore[attr-defined]
                llm.in_flight += 1  # type: ignore[attr-defined]
                llm.most = max(llm.most, llm.in_flight)  # type: ignore[attr-defined]
            try:
                await asyncio.sleep(delay)
                response = await call_next(request)
            finally:
                with lock:
                    llm.in_flight -= 1  # type: ignore[attr-defined]
            if response.status_code == 429 and retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response

        cm = serve_in_thread(app)
        llm.url = cm.__enter__() + "/v1"  # type: ignore[attr-defined]
        started.append(cm)
        return llm

    yield start
    for cm in started:
        cm.__exit__(None, None, None)


def settings(url: str, **kw: Any) -> Settings:
    base = dict(llm_base_url=url, llm_model="scripted", llm_mode="json", llm_max_retries=1,
                llm_validation_retries=1, llm_timeout_s=10.0, datagen_concurrency=1, datagen_backoff_s=0.2)
    return Settings(**(base | kw))


def one_case(bench: Path, tmp_path: Path, case_id: str = NEGATIVE) -> Path:
    line = next(ln for ln in (bench / "cases.jsonl").read_text().splitlines() if json.loads(ln)["id"] == case_id)
    src = tmp_path / "cases.jsonl"
    src.write_text(line + "\n")
    (tmp_path / "schema.json").write_text((bench / "schema.json").read_text())
    return src


def conll(tmp_path: Path, n: int) -> Path:
    """The first ``n`` sentences of WNUT-17 dev that name something, as a CoNLL file."""
    blocks = [b for b in WNUT.read_text(encoding="utf-8").split("\n\n") if "\tB-" in b][:n]
    src = tmp_path / "ner.conll"
    src.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return src


def answer(words: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(words)}


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_the_llm_words_the_record_and_the_gold_answers_it(bench: Path, tmp_path: Path, scripted: Any) -> None:
    llm = scripted([answer(GOOD)])
    out = tmp_path / "out.jsonl"
    s = settings(llm.url, datagen_cost_per_1k_input=0.01, datagen_cost_per_1k_output=0.03)
    summary = generate(one_case(bench, tmp_path), out, mode="llm", settings=s, media_root=bench)
    (rec,) = [Record.model_validate_json(ln) for ln in lines(out)]
    gold = load_cases(tmp_path / "cases.jsonl")[0].result
    assert round_trip(rec.answer, gold) == []
    assert rec.conversations[0].value.startswith("<image>\n" + GOOD["instruction"] + "\n\n")
    assert rec.answer.startswith(GOOD["reasoning"] + "\n\nEntities:\n")
    assert rec.meta.model == "scripted" and rec.meta.usage.prompt_tokens == 10  # type: ignore[union-attr]
    assert summary.tokens.total == 15 and summary.cost == pytest.approx((10 * 0.01 + 5 * 0.03) / 1000)
    (body,) = llm.requests
    user = body["messages"][-1]["content"]
    assert '"cat" in image0 (segment_image)' in user and "This picture shows a giraffe and a cat." in user
    assert body["response_format"] == {"type": "json_object"}


def test_a_429_is_retried_after_the_time_it_asks(bench: Path, tmp_path: Path, scripted: Any) -> None:
    llm = scripted([{"status": 429}, answer(GOOD)], retry_after="1")
    out = tmp_path / "out.jsonl"
    generate(one_case(bench, tmp_path), out, mode="llm", settings=settings(llm.url), media_root=bench)
    assert len(lines(out)) == 1 and not lines(rejects_path(out))
    first, second = llm.arrivals
    assert second - first >= 0.95  # Retry-After: 1, honoured


def test_a_lasting_rate_limit_leaves_the_case_for_a_rerun(bench: Path, tmp_path: Path, scripted: Any) -> None:
    limited = scripted([{"status": 429}], retry_after="0")
    src, out = one_case(bench, tmp_path), tmp_path / "out.jsonl"
    env = {**os.environ, "MUIE_LLM_BASE_URL": limited.url, "MUIE_LLM_MODEL": "scripted", "MUIE_LLM_MODE": "json",
           "MUIE_LLM_MAX_RETRIES": "1", "MUIE_DATAGEN_RATE_LIMIT_RETRIES": "1", "MUIE_DATAGEN_BACKOFF_S": "0.2"}
    cmd = [str(MUIE), "datagen", str(src), str(out), "--mode", "llm", "--media-root", str(bench), "-q"]
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    (line,) = run.stderr.splitlines()
    assert "1 record(s) not made (rate limited 1)" in line and "again" in line
    assert len(limited.requests) == 4  # (1 try + 1 client retry) x (1 + 1 runner retry after a pause)
    assert not lines(out) and not lines(rejects_path(out))  # not rejected: a rerun tries it
    good = scripted([answer(GOOD)])
    rerun = subprocess.run(cmd, cwd=tmp_path, env=env | {"MUIE_LLM_BASE_URL": good.url}, capture_output=True,
                           text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert len(lines(out)) == 1 and "1 written" in rerun.stdout


@pytest.mark.parametrize("step, why", [
    ({"raw": "this body is not JSON"}, "Expecting value"),
    ({"content": "Sure! Ask: which animals are in the picture?"}, "after 2 attempt(s)"),  # asked again once
    (answer({"instruction": 7, "reasoning": ""}), "instruction"),
])
def test_malformed_answers_are_rejected_and_logged(bench: Path, tmp_path: Path, scripted: Any, step: dict[str, Any],
                                                  why: str) -> None:
    llm = scripted([step])
    out = tmp_path / "out.jsonl"
    s = settings(llm.url)
    generate(one_case(bench, tmp_path), out, mode="llm", settings=s, media_root=bench)
    assert not lines(out)
    (rej,) = [Reject.model_validate_json(ln) for ln in lines(rejects_path(out))]
    assert rej.case == NEGATIVE and rej.kind == "invalid output" and why in rej.reason
    asked = len(llm.requests)
    again = generate(tmp_path / "cases.jsonl", out, mode="llm", settings=s, media_root=bench)
    assert len(llm.requests) == asked and again.this_run.skipped == 1  # logged once, not asked again


@pytest.mark.parametrize("words, problem", [
    ({"reasoning": "The giraffe is shown in image0."}, "places 'giraffe' in image0"),
    ({"reasoning": "There is no cat in image0."}, "says 'cat' is not in image0"),
    ({"instruction": "Find the animals in image3."}, "names image3"),
    ({"reasoning": "Call <Module>segment_image</Module> on the cat."}, "holds a tag"),
    ({"reasoning": "First:\nEntities:\nthe cat"}, "section title"),
])
def test_words_that_contradict_the_gold_are_rejected(bench: Path, tmp_path: Path, words: dict[str, str],
                                                     problem: str) -> None:
    cases, schema = load_annotated(one_case(bench, tmp_path))
    (job,) = jobs(cases, schema, "llm", 1, "cases.jsonl")
    assert check_wording(Wording(**GOOD), job) == []
    found = check_wording(Wording(**(GOOD | words)), job)
    assert any(problem in p for p in found), found


def test_a_contradicting_answer_is_logged_with_its_reason_and_cost(bench: Path, tmp_path: Path, scripted: Any) -> None:
    llm = scripted([answer(GOOD | {"reasoning": "Segment the giraffe in image0."})])
    out = tmp_path / "out.jsonl"
    summary = generate(one_case(bench, tmp_path), out, mode="llm", settings=settings(llm.url), media_root=bench)
    (rej,) = [Reject.model_validate_json(ln) for ln in lines(rejects_path(out))]
    assert rej.kind == "contradicts gold" and "places 'giraffe' in image0" in rej.reason
    assert rej.usage is not None and summary.tokens.total == 15 and summary.rejects == {"contradicts gold": 1}
    assert not lines(out)


def test_concurrency_is_the_limit_of_requests_in_flight(tmp_path: Path, scripted: Any) -> None:
    llm = scripted([answer({"instruction": "List the named things.", "reasoning": "Read the text."})], delay=0.6)
    out = tmp_path / "out.jsonl"
    t0 = time.perf_counter()
    summary = generate(conll(tmp_path, 6), out, mode="llm", settings=settings(llm.url, datagen_concurrency=3))
    seconds = time.perf_counter() - t0
    assert summary.this_run.written == 6 and len(llm.requests) == 6
    assert llm.most == 3  # type: ignore[attr-defined]
    assert seconds < 6 * 0.6  # less than one at a time would take


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_run_resumes_with_one_record_per_case(tmp_path: Path, scripted: Any, sig: int) -> None:
    """Killed (SIGKILL: nothing runs after) or interrupted (Ctrl-C: it stops, says so, writes
    its summary) mid-run, then run again: every case once, nothing torn, nothing asked twice."""
    n = 24  # 5 s of answers after the third: the run is still going when the signal comes, on any machine
    llm = scripted([answer({"instruction": "List the named things.", "reasoning": "Read the text."})], delay=0.4)
    src, out = conll(tmp_path, n), tmp_path / "out.jsonl"
    env = {**os.environ, "MUIE_LLM_BASE_URL": llm.url, "MUIE_LLM_MODEL": "scripted", "MUIE_LLM_MODE": "json",
           "MUIE_DATAGEN_CONCURRENCY": "2"}
    cmd = [str(MUIE), "datagen", str(src), str(out), "--mode", "llm", "-q"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(lines(out)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    assert proc.wait(10) == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    if sig == signal.SIGINT:
        (line,) = proc.stderr.read().splitlines()  # type: ignore[union-attr]
        assert "interrupted" in line and "run the same command again" in line
        assert json.loads(summary_path(out).read_text())["this_run"]["interrupted"] is True
    before = [Record.model_validate_json(ln) for ln in lines(out)]  # every whole line is a record
    assert 3 <= len(before) < n
    asked = len(llm.requests)
    rerun = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    after = [Record.model_validate_json(ln) for ln in lines(out)]
    assert [r.to_line() for r in after[: len(before)]] == [r.to_line() for r in before]  # kept as they were
    assert sorted(r.meta.case for r in after) == sorted(f"s{i}" for i in range(n))  # one record per case
    assert len({r.meta.key for r in after}) == n
    assert len(llm.requests) - asked == n - len(before)  # only what was missing was asked
    assert json.loads(summary_path(out).read_text())["this_run"]["skipped"] == len(before)


@pytest.mark.slow
def test_the_real_llm_words_benchmark_cases(bench: Path, tmp_path: Path, qwen: str) -> None:
    picked = {NEGATIVE, "mixed-000"}
    src = tmp_path / "cases.jsonl"
    src.write_text("".join(ln + "\n" for ln in (bench / "cases.jsonl").read_text().splitlines()
                           if json.loads(ln)["id"] in picked))
    schema = tmp_path / "small-schema.json"  # a short prompt: the types these cases use
    schema.write_text(json.dumps({"entity_types": ["person", "location", "organization", "animal", "object"],
                                  "relation_types": ["born_in", "work_for"]}))
    s = Settings(llm_base_url=qwen, llm_model="qwen", llm_mode="json", llm_timeout_s=600, llm_max_tokens=160,
                 llm_max_retries=0, llm_validation_retries=1, datagen_concurrency=1, datagen_cost_per_1k_input=0.0025,
                 datagen_cost_per_1k_output=0.01)
    out = tmp_path / "out.jsonl"
    summary = generate(src, out, mode="llm", schema=schema, media_root=bench, settings=s)
    gold = {c.id: c.result for c in load_cases(src)}
    recs = [Record.model_validate_json(ln) for ln in lines(out)]
    rejs = [Reject.model_validate_json(ln) for ln in lines(rejects_path(out))]
    assert not summary.this_run.failed and len(recs) + len(rejs) == 2
    assert recs, f"the real LLM's words were all rejected: {[r.reason for r in rejs]}"
    for r in recs:
        assert round_trip(r.answer, gold[r.meta.case]) == [] and r.meta.model == "qwen"
        assert r.meta.usage is not None and r.meta.usage.prompt_tokens > 100 and r.meta.usage.completion_tokens > 5
    assert summary.tokens.total > 0 and summary.cost > 0

"""``muie batch`` through the installed command, with real models on small real inputs: a
manifest on two workers with items that fail, a folder with media, a batch killed in the
middle and run again, and bad input to the batch as a whole.

The helpers here are used by ``test_batch_ray.py`` too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from muie.domain import Result
from tests.support.cli import MUIE, Run, assert_bad_input, muie
from tests.support.paths import ROOT

MEDIA = ROOT / "examples" / "media"
BATCH_TIMEOUT_S = 600  # each worker loads the models: generous on a busy machine, not a benchmark
TEXTS = [
    "Marie Curie was born in Warsaw and later worked in Paris.",
    "Sundar Pichai is the chief executive of Google.",
    "Rebels attacked a convoy near Kabul on Monday.",
    "Ada Lovelace worked with Charles Babbage in London.",
    "Angela Merkel met Emmanuel Macron in Berlin.",
    "Toyota sold its factory in Ohio to a company from Texas.",
    "Nelson Mandela was born in Mvezo and became president of South Africa.",
    "Tim Cook works for Apple in Cupertino.",
]


# --------------------------------------------------------------------------- helpers


def batch(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    t0 = time.perf_counter()
    proc = subprocess.run([str(MUIE), "batch", *args, "--no-progress"], cwd=cwd, capture_output=True, text=True,
                          timeout=BATCH_TIMEOUT_S, stdin=subprocess.DEVNULL, env=env)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - t0)


def result(out: Path, item_id: str) -> Result:
    """An item's result file, read as the contract's result."""
    return Result.model_validate_json((out / f"{item_id}.result.json").read_text(encoding="utf-8"))


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_manifest(path: Path, rows: list[Any]) -> None:
    """Rows as JSON lines; a string row is written as it is (a bad line)."""
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")


def names(res: Result) -> dict[str, str]:
    return {e.text: e.type for e in res.entities}


def check_workers(stats: list[dict[str, Any]], workers: int, items: int) -> None:
    """``workers`` distinct processes, each built its agent once and ran at least one of the ``items``."""
    assert len(stats) == workers, stats
    assert len({w["pid"] for w in stats}) == workers, stats
    assert all(w["agents_built"] == 1 for w in stats), stats
    assert all(w["items"] >= 1 for w in stats), stats
    assert sum(w["items"] for w in stats) == items, stats


def no_torn_files(out: Path) -> None:
    """Every result parses as a contract result, and no temporary file is left beside them."""
    for path in out.glob("*.result.json"):
        Result.model_validate_json(path.read_text(encoding="utf-8"))
    assert not list(out.glob(".*")), list(out.glob(".*"))


# --------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_manifest_on_two_workers_records_failures_and_retries_them(tmp_path: Path) -> None:
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "pichai.txt").write_text(TEXTS[1], encoding="utf-8")
    own_schema = {"entity_types": ["person", "city"], "relation_types": [], "event_types": {}}
    write_manifest(tmp_path / "items.jsonl", [
        {"id": "curie", "text": TEXTS[0]},
        {"id": "pichai", "text_file": "texts/pichai.txt"},
        "{not json",
        {"id": "late", "text_file": "texts/late.txt"},
        {"id": "lovelace", "text": TEXTS[3], "schema": own_schema, "tasks": "ner"},
    ])
    run = batch("items.jsonl", "--out", "out", "--workers", "2", cwd=tmp_path)
    out = tmp_path / "out"

    assert run.rc == 1, run.stderr
    assert run.stderr.strip().splitlines()[-1] == f"muie: 2 of 5 item(s) failed: see {Path('out') / 'failures.jsonl'}"
    assert "done" in run.stdout and "entities found" in run.stdout
    assert names(result(out, "curie")).get("Marie Curie") == "person"
    assert names(result(out, "pichai")).get("Google") == "organization"
    lovelace = result(out, "lovelace")  # its own schema and tasks
    assert names(lovelace).get("Ada Lovelace") == "person"
    assert {e.type for e in lovelace.entities} <= {"person", "city"}
    assert lovelace.relations == [] and lovelace.events == []
    failures = {f["id"]: f for f in jsonl(out / "failures.jsonl")}
    assert set(failures) == {"line3", "late"}
    assert failures["line3"]["input"].endswith("items.jsonl line 3")
    assert "not valid JSON" in failures["line3"]["reason"]
    assert failures["late"]["input"].endswith("items.jsonl line 4")
    assert "late.txt" in failures["late"]["reason"]
    s = summary(out)
    assert (s["items"], s["done"], s["skipped"], s["failed"], s["workers"]) == (5, 3, 0, 2, 2)
    assert s["entities"] == sum(len(result(out, i).entities) for i in ("curie", "pichai", "lovelace")) > 0
    assert s["items_per_s"] > 0 and s["seconds"] > s["load_seconds"] > 0 and s["work_seconds"] > 0
    check_workers(s["worker_stats"], workers=2, items=4)  # the bad line never reaches a worker
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.result.json")}

    # the missing file now exists and an input changed: a rerun retries what failed, runs again
    # the item whose input changed, and skips the rest
    (tmp_path / "texts" / "late.txt").write_text(TEXTS[4], encoding="utf-8")
    (tmp_path / "texts" / "pichai.txt").write_text(TEXTS[7], encoding="utf-8")
    run = batch("items.jsonl", "--out", "out", "--workers", "2", cwd=tmp_path)
    assert run.rc == 1, run.stderr
    s = summary(out)
    assert (s["done"], s["skipped"], s["failed"], s["workers"]) == (2, 2, 1, 2)
    assert [f["id"] for f in jsonl(out / "failures.jsonl")] == ["line3"]
    assert names(result(out, "late")).get("Angela Merkel") == "person"
    assert names(result(out, "pichai")).get("Tim Cook") == "person"
    unchanged = {"curie.result.json", "lovelace.result.json"}
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.result.json") if p.name in unchanged} == \
        {k: v for k, v in done_before.items() if k in unchanged}
    finished = [row["id"] for row in jsonl(out / "finished.jsonl")]
    assert sorted(finished) == ["curie", "late", "lovelace", "pichai", "pichai"]  # pichai twice: its input changed


def test_folder_items_with_media_and_the_output_folder_inside(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(MEDIA, lib / "media")  # caption.txt, photo.png, speech.wav, schema.json, README.md
    (lib / "note.txt").write_text(TEXTS[3], encoding="utf-8")
    (lib / "empty").mkdir()
    (lib / "empty" / "notes.md").write_text("nothing to extract here", encoding="utf-8")
    run = batch("lib", "--out", "lib/out", cwd=tmp_path)
    out = lib / "out"

    assert run.rc == 1, run.stderr
    s = summary(out)
    assert (s["items"], s["done"], s["failed"]) == (3, 2, 1)  # media, note, empty; out/ is not an item
    failures = jsonl(out / "failures.jsonl")
    assert [f["id"] for f in failures] == ["empty"] and "holds no text" in failures[0]["reason"]
    assert names(result(out, "note")).get("Ada Lovelace") == "person"
    media = result(out, "media")
    assert [i.modality for i in media.inputs] == ["text", "image", "audio"]
    schema_types = set(json.loads((MEDIA / "schema.json").read_text())["entity_types"])
    assert {e.type for e in media.entities} <= schema_types  # the folder's schema.json
    kinds = {g.kind for e in media.entities for g in e.groundings}
    assert {"region", "segment"} <= kinds, kinds
    check_workers(s["worker_stats"], workers=1, items=2)


def start_batch(cwd: Path, *args: str, store: str = "store") -> subprocess.Popen[str]:
    """A batch in a session of its own, so that a signal reaches it and its workers as a terminal's would;
    with a new store of its own, so that every item is worked (none answered from a run or tool results
    kept before) and the batch is still running when it is stopped."""
    env = {**os.environ, "MUIE_DATA_DIR": str(cwd / store)}
    return subprocess.Popen([str(MUIE), "batch", "items.jsonl", "--out", "out", "--no-progress", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True, env=env)


def stop_when_finished(proc: subprocess.Popen[str], out: Path, count: int, sig: signal.Signals) -> tuple[int, str]:
    """Send ``sig`` to the batch and its workers once ``count`` items are finished; its exit code and stderr."""
    try:
        deadline = time.monotonic() + BATCH_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "finished.jsonl").exists() and len(jsonl(out / "finished.jsonl")) >= count:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the batch ended before it could be stopped"
        os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # nothing of the batch is left running (once the dead are reaped)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("a worker outlived its batch")
    return proc.returncode, err


@pytest.mark.slow
def test_a_batch_stopped_or_killed_goes_on_where_it_stopped(tmp_path: Path) -> None:
    ids = [f"doc{k}" for k in range(len(TEXTS))]
    write_manifest(tmp_path / "items.jsonl", [{"id": i, "text": t} for i, t in zip(ids, TEXTS)])
    out = tmp_path / "out"

    # Ctrl-C: the workers stop, what is finished stays, the summary says so
    rc, err = stop_when_finished(start_batch(tmp_path, "--workers", "2"), out, 2, signal.SIGINT)
    assert rc == 130, err
    assert err.strip().splitlines()[-1].startswith("muie: interrupted: the results in out stay"), err[-3000:]
    first = [row["id"] for row in jsonl(out / "finished.jsonl")]
    s = summary(out)
    assert s["interrupted"] is True and s["done"] == len(first) >= 2
    no_torn_files(out)

    # killed outright (as by a crash), later on
    rc, _ = stop_when_finished(start_batch(tmp_path, store="store2"), out, len(first) + 2, signal.SIGKILL)
    assert rc == -signal.SIGKILL
    second = [row["id"] for row in jsonl(out / "finished.jsonl")]
    assert len(first) + 2 <= len(second) < len(ids)
    assert summary(out)["done"] == len(first)  # still the first run's summary: a killed run writes none

    run = batch("items.jsonl", "--out", "out", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    s = summary(out)
    assert (s["skipped"], s["done"], s["failed"], s["interrupted"]) == (len(second), len(ids) - len(second), 0, False)
    finished = [row["id"] for row in jsonl(out / "finished.jsonl")]
    assert sorted(finished) == sorted(ids)  # every item done once
    no_torn_files(out)
    assert sorted(p.name for p in out.glob("*.result.json")) == sorted(f"{i}.result.json" for i in ids)


def test_bad_input_to_the_batch_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_bad_input(muie("batch", "nope.jsonl", "--out", "out", cwd=tmp_path), "nope.jsonl", "no such")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    assert_bad_input(muie("batch", "empty.jsonl", "--out", "out", cwd=tmp_path), "empty.jsonl", "no items")
    write_manifest(tmp_path / "items.jsonl", [{"id": "a", "text": TEXTS[0]}])
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    assert_bad_input(muie("batch", "items.jsonl", "--out", "taken", cwd=tmp_path), "--out", "not a folder")
    assert_bad_input(muie("batch", "items.jsonl", "--out", "out", "--workers", "0", cwd=tmp_path), "--workers")
    assert_bad_input(muie("batch", "items.jsonl", "--out", "out", "--engine", "spark", cwd=tmp_path), "--engine")
    assert_bad_input(muie("batch", "items.jsonl", "--out", "out", "--tasks", "ner,xx", cwd=tmp_path), "--tasks")
    assert_bad_input(muie("batch", "items.jsonl", cwd=tmp_path), "--out")
    assert not (tmp_path / "out").exists()  # nothing written

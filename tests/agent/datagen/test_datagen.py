"""``muie datagen --mode template`` on the grounded benchmark's cases and on CoNLL data:
every record validates against the record model, and the whole output of a run reads
back into the gold (extraction and grounded items); reruns resume, a torn line is cut,
bad input is one line and exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.grounded_eval import benchmark
from muie.agent.datagen import Record, Reject, parse_answer, rejects_path, round_trip, summary_path
from muie.agent.datagen.answer import gold_view, render_answer
from muie.agent.scoring import load_cases
from muie.domain import Schema
from tests.support.cli import assert_bad_input, muie
from tests.support.paths import ROOT

WNUT = ROOT / "bench" / "data" / "ner-dev" / "wnut17.dev.conll"
PER_KIND = 2  # 7 kinds x 2 = 14 cases


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("grounded")
    benchmark(folder, seed=0, per_kind=PER_KIND)
    return folder


def records(path: Path) -> list[Record]:
    return [Record.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_template_run_on_the_benchmark_round_trips_the_whole_output(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    run = muie("datagen", str(bench / "cases.jsonl"), str(out), "--variants", "2", "--quiet", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    gold = {c.id: c for c in load_cases(bench / "cases.jsonl")}
    got = records(out)  # every line validates against the record model
    assert len(got) == 2 * len(gold) == 2 * 7 * PER_KIND
    assert sorted(r.id for r in got) == sorted(f"{c}#{v}" for c in gold for v in (0, 1))
    failures = {r.id: round_trip(r.answer, gold[r.meta.case].result) for r in got}
    assert {k: v for k, v in failures.items() if v} == {}
    for r in got:
        case = gold[r.meta.case]
        human = r.conversations[0].value
        for path in r.input_image + r.input_audio + r.input_video:
            assert (bench / path).is_file()
        assert human.count("<image>") == len(r.input_image) == sum(i.modality == "image" for i in case.result.inputs)
        if case.text:
            assert f"Text: {case.text}" in human
        assert "Entity types: person, organization, location" in human
        assert r.meta.modules == [s.call.tool for s in parse_answer(r.answer).view.steps]
    summary = json.loads(summary_path(out).read_text())
    assert summary["records"] == len(got) and summary["this_run"]["written"] == len(got)
    assert summary["modules"] == {t: sum(r.meta.modules.count(t) for r in got) for t in summary["modules"]}
    assert f"{len(got)} records from {len(gold)} cases" in run.stdout
    assert not rejects_path(out).read_text()


def test_each_kind_of_grounding_gets_its_tool(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    assert muie("datagen", str(bench / "cases.jsonl"), str(out), "-q", cwd=tmp_path).rc == 0
    by_case = {r.meta.case: parse_answer(r.answer).view for r in records(out)}
    gold = {c.id: c for c in load_cases(bench / "cases.jsonl")}
    # a pasted photo (a region with a mask): segment_image by the entity's words and type
    steps = by_case["image_paste-000"].steps
    assert {(s.ref, s.call.tool) for s in steps} == {(("cat", "animal"), "segment_image.v1"),
                                                     (("horse", "animal"), "segment_image.v1"),
                                                     (("coins", "object"), "segment_image.v1")}
    assert {s.call.arguments.entity_type for s in steps} == {"animal", "object"}  # type: ignore[union-attr]
    # a name on a sign (a region without a mask): read_text inside the words' box
    (sign,) = [s for s in by_case["image_ocr-000"].steps if s.call.tool == "read_text.v1"]
    initech = next(e for e in gold["image_ocr-000"].result.entities if e.text == "Initech")
    assert sign.ref == ("Initech", "organization")
    assert sign.call.arguments.box == initech.groundings[0].bbox  # type: ignore[union-attr]
    # a caption naming what the picture does not show: no call for it
    refs = [s.ref[0] for s in by_case["image_negative-001"].steps]
    assert "coffee cup" in refs and "Albert Einstein" not in refs
    assert by_case["image_negative-001"].entities[("Albert Einstein", "person")] == ("text",)
    # speech: segment_audio by the words said; event triggers too
    speech = by_case["audio_speech-001"]
    assert {(s.ref[0], s.trigger, s.call.tool) for s in speech.steps} >= {
        ("Ada Lovelace", False, "segment_audio.v1"), ("bought", True, "segment_audio.v1")}
    assert all(s.call.arguments.target == s.ref[0] for s in speech.steps)  # type: ignore[union-attr]
    # video: track_video for the moving thing, segment_audio on the video's sound track
    video = by_case["video_track-000"].steps
    assert {(s.call.tool, s.input) for s in video} == {("track_video.v1", "video0"), ("segment_audio.v1", "video0")}
    # one thing in three modalities: one entity, a call per medium
    hopper = [s for s in by_case["mixed-000"].steps if s.ref[0] == "Grace Hopper"]
    assert {(s.input, s.call.tool) for s in hopper} == {("image0", "segment_image.v1"), ("audio0", "segment_audio.v1")}


def test_the_round_trip_check_finds_what_a_record_gets_wrong(bench: Path) -> None:
    case = next(c for c in load_cases(bench / "cases.jsonl") if c.id == "mixed-000")
    schema = Schema.model_validate(json.loads((bench / "schema.json").read_text()))
    answer = render_answer(gold_view(case.result), schema)
    assert round_trip(answer, case.result) == []
    lines = answer.splitlines()
    dropped = "\n".join(ln for ln in lines if not (ln.startswith('"Grace Hopper"') and "image0:" in ln))
    assert any("missing" in p and "Grace Hopper" in p for p in round_trip(dropped, case.result))
    retyped = answer.replace('"Yale University" (organization)', '"Yale University" (location)')
    assert any(p.startswith("entities differ") for p in round_trip(retyped, case.result))
    aimed = answer.replace('"text": "Grace Hopper"', '"text": "Yale University"')
    assert any("looks for 'Yale University'" in p for p in round_trip(aimed, case.result))
    broken = answer.replace("</Instruction>", "", 1).replace('{"entity_type"', '{oops', 1)
    assert any("not valid JSON" in p for p in round_trip(broken, case.result))


def test_rerun_writes_nothing_new_and_a_fresh_run_is_byte_identical(bench: Path, tmp_path: Path) -> None:
    out, again = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert muie("datagen", str(bench / "cases.jsonl"), str(out), "-q", cwd=tmp_path).rc == 0
    first = out.read_bytes()
    rerun = muie("datagen", str(bench / "cases.jsonl"), str(out), "-q", cwd=tmp_path)
    assert rerun.rc == 0 and out.read_bytes() == first
    this_run = json.loads(summary_path(out).read_text())["this_run"]
    assert (this_run["written"], this_run["skipped"]) == (0, 7 * PER_KIND)
    assert muie("datagen", str(bench / "cases.jsonl"), str(again), "-q", cwd=tmp_path).rc == 0
    assert again.read_bytes() == first


def test_a_torn_last_line_is_cut_and_the_run_completed(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    assert muie("datagen", str(bench / "cases.jsonl"), str(out), "-q", cwd=tmp_path).rc == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:-3]) + lines[-3][: len(lines[-3]) // 2], encoding="utf-8")  # killed mid-write
    run = muie("datagen", str(bench / "cases.jsonl"), str(out), "-q", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    assert out.read_text(encoding="utf-8").splitlines(keepends=True) == lines  # the same records, whole, once each
    assert json.loads(summary_path(out).read_text())["this_run"]["written"] == 3


def test_conll_input_gives_text_records(tmp_path: Path) -> None:
    out = tmp_path / "ner.jsonl"
    run = muie("datagen", str(WNUT), str(out), "--limit", "60", "-q", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    gold = {c.id: c for c in load_cases(WNUT)}
    got = records(out)
    assert len(got) == 60
    assert all(round_trip(r.answer, gold[r.meta.case].result) == [] for r in got)
    assert all(not (r.input_image or r.input_audio or r.input_video) and r.meta.modules == [] for r in got)
    assert all("<Module>" not in r.answer for r in got)
    named = [r for r in got if r.meta.tasks == ["ner"]]
    assert named and all('" (' in r.answer for r in named)
    types = {t for r in got for _, t in parse_answer(r.answer).view.entities}
    human = got[0].conversations[0].value
    assert types and all(t in human.split("Entity types: ")[1].split("\n")[0] for t in types)  # from the data


def test_duplicates_and_cases_with_missing_media_are_logged_not_written(bench: Path, tmp_path: Path) -> None:
    cases = [json.loads(ln) for ln in (bench / "cases.jsonl").read_text().splitlines()][:3]
    twin = dict(cases[0], id="twin-of-" + cases[0]["id"])
    lost = json.loads(json.dumps(cases[1]))
    lost["id"] = "lost"
    lost["inputs"][-1]["path"] = "media/nowhere.png"
    src = tmp_path / "cases.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in [*cases, twin, lost]))
    shutil.copy(bench / "schema.json", tmp_path / "schema.json")
    out = tmp_path / "out.jsonl"
    run = muie("datagen", str(src), str(out), "--media-root", str(bench), "-q", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    assert [r.meta.case for r in records(out)] == [c["id"] for c in cases]
    rejects = {r.case: r for r in map(Reject.model_validate_json, rejects_path(out).read_text().splitlines())}
    assert rejects["twin-of-" + cases[0]["id"]].kind == "duplicate"
    assert rejects["lost"].kind == "bad case" and "media/nowhere.png" in rejects["lost"].reason
    assert "duplicate 1" in run.stdout and "bad case 1" in run.stdout


@pytest.mark.parametrize("args, names", [
    (["missing.jsonl", "out.jsonl"], ["missing.jsonl", "no such file"]),
    (["garbage.txt", "out.jsonl"], ["garbage.txt", "unknown format"]),
    (["bad.jsonl", "out.jsonl"], ["bad.jsonl", "line 1"]),
    (["ok.conll", "out.jsonl", "--mode", "gpt"], ["--mode", "gpt"]),
    (["ok.conll", "out.jsonl", "--variants", "0"], ["--variants"]),
    (["ok.conll", "out.jsonl", "--concurrency", "0"], ["--concurrency"]),
    (["ok.conll", "out.txt"], ["out.txt", ".jsonl"]),
    (["ok.conll", "nowhere/out.jsonl"], ["nowhere", "does not exist"]),
    (["ok.conll", "foreign.jsonl"], ["foreign.jsonl", "line 1", "not appending"]),
    (["ok.conll", "out.jsonl", "--schema", "missing.json"], ["missing.json"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], names: list[str]) -> None:
    (tmp_path / "garbage.txt").write_text("just some words\n")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    (tmp_path / "ok.conll").write_text("Paris\tB-LOC\nis\tO\nnice\tO\n")
    (tmp_path / "foreign.jsonl").write_text('{"hello": "world"}\n')
    assert_bad_input(muie("datagen", *args, cwd=tmp_path), *names)
    assert (tmp_path / "foreign.jsonl").read_text() == '{"hello": "world"}\n'
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.rejects.jsonl").exists()

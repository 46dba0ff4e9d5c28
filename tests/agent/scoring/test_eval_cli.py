"""``muie eval GOLD PRED``: loading and pairing the cases (``load_cases``, ``pair_cases``), then the
installed command: tables on stdout, the ``--json`` report, the input forms (JSON, JSONL, a
folder, CoNLL), and bad input as one stderr line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from muie.agent.scoring import evaluate, load_cases, pair_cases
from muie.domain import Result
from muie.errors import InputError
from tests.agent.scoring.test_scoring import TEXT, ent, gold_result, text_case

MUIE = Path(sys.executable).parent / "muie"


# --------------------------------------------------------------------------- loading and pairing


def write_jsonl(path: Path, cases: list[dict]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    return path


def test_jsonl_pairs_by_id_and_a_missing_prediction_is_a_warning(tmp_path):
    gold = load_cases(write_jsonl(tmp_path / "g.jsonl", [dict(gold_result(), id="a", kind="mixed"),
                                                          text_case("b"), text_case("c")]))
    pred = load_cases(write_jsonl(tmp_path / "p.jsonl", [text_case("c"), dict(gold_result(), id="a")]))
    report = evaluate(gold, pred)
    assert report.warnings == ["no prediction for gold case 'b': scored as an empty prediction"]
    assert report.overall.ner.fn == 1 and report.overall.ner.fp == 0
    assert [c.predicted for c in report.cases] == [True, False, True]


def test_pairing_errors(tmp_path):
    gold = load_cases(write_jsonl(tmp_path / "g.jsonl", [text_case("a"), text_case("b")]))
    with pytest.raises(InputError, match="line 2: unknown case id 'zz'"):
        pair_cases(gold, load_cases(write_jsonl(tmp_path / "p.jsonl", [text_case("a"), text_case("zz")])))
    anonymous = [{k: v for k, v in text_case("x").items() if k != "id"}]
    with pytest.raises(InputError, match="mismatch of case counts: 1 predictions for 2 gold"):
        pair_cases(gold, load_cases(write_jsonl(tmp_path / "q.jsonl", anonymous)))
    with pytest.raises(InputError, match="repeats"):
        pair_cases(gold, load_cases(write_jsonl(tmp_path / "r.jsonl", [text_case("a"), text_case("a")])))


def test_bad_files_name_the_file_the_line_and_the_place(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(text_case("a")) + "\n\n{oops\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3: not JSON") as e:
        load_cases(bad)
    assert e.value.what == str(bad)
    wrong = dict(text_case("a"))
    wrong["entities"] = [{"id": "E1", "text": "Brussels", "type": "location", "mentions": [{"start": 5, "end": 2}]}]
    with pytest.raises(InputError, match=r"line 1: not a contract result: entities\[0\]\.mentions\[0\]"):
        load_cases(write_jsonl(tmp_path / "w.jsonl", [wrong]))
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="item 0: a JSON int"):
        load_cases(tmp_path / "list.json")
    with pytest.raises(InputError, match="no such file"):
        load_cases(tmp_path / "nowhere.jsonl")


def test_conll_gold_becomes_text_cases(tmp_path):
    f = tmp_path / "gold.conll"
    f.write_text("Marie\tB-person\nCurie\tI-person\nvisited\tO\nWarsaw\tB-location\n.\tO\n\n"
                 "Hello\tO\nParis\tB-location\n", encoding="utf-8")
    cases = load_cases(f)
    assert [(c.id, c.text) for c in cases] == [("s0", "Marie Curie visited Warsaw ."), ("s1", "Hello Paris")]
    assert [(e.text, e.type) for e in cases[0].result.entities] == [("Marie Curie", "person"), ("Warsaw", "location")]
    assert Result.model_validate(cases[0].result.model_dump()).violations(cases[0].text) == []
    tabbed = tmp_path / "gold.txt"
    tabbed.write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    assert len(load_cases(tabbed)) == 2
    assert evaluate(cases, [c.result for c in cases]).overall.ner.f1 == 1.0


def test_a_folder_of_json_files_is_matched_by_file_name(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "p").mkdir()
    for name in ("one", "two"):
        (tmp_path / "g" / f"{name}.json").write_text(json.dumps(text_case("ignored")), encoding="utf-8")
    (tmp_path / "p" / "two.json").write_text(json.dumps(text_case("x")), encoding="utf-8")
    gold, pred = load_cases(tmp_path / "g"), load_cases(tmp_path / "p")
    assert [c.id for c in gold] == ["one", "two"]
    report = evaluate(gold, pred)
    assert report.warnings and "'one'" in report.warnings[0]
    assert report.cases[1].scores.ner.f1 == 1.0


# --------------------------------------------------------------------------- the command


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str


def muie(*args: str | Path, cwd: Path) -> Run:
    proc = subprocess.run([str(MUIE), "eval", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_bad_input(run: Run, *names: str) -> str:
    """Exit 2, nothing on stdout, one stderr line holding every one of ``names``."""
    assert run.rc == 2, (run.rc, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, lines
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def row(stdout: str, name: str) -> list[str]:
    return next(line.split() for line in stdout.splitlines() if line.startswith(name + " "))


def write_json(path: Path, obj: dict) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_identical_gold_and_prediction(tmp_path):
    gold = write_json(tmp_path / "gold.json", dict(gold_result(), text=TEXT, id="one"))
    pred = write_json(tmp_path / "pred.json", gold_result())
    run = muie(gold, pred, cwd=tmp_path)
    assert run.rc == 0, run.stderr
    assert run.stderr == ""
    assert row(run.stdout, "task")[:4] == ["task", "P", "R", "F1"]
    for task in ("NER", "RE"):
        assert row(run.stdout, task)[1:4] == ["1.00", "1.00", "1.00"]
    assert row(run.stdout, "image box acc@0.5")[3:] == ["1.00", "3/3"]
    assert row(run.stdout, "over-grounding")[1:] == ["0.00", "0/6"]


def test_a_worse_prediction_prints_lower_figures(tmp_path):
    pred = gold_result()
    ent(pred, "E4")["mentions"][0]["start"] += 1
    run = muie(write_json(tmp_path / "g.json", gold_result()), write_json(tmp_path / "p.json", pred), cwd=tmp_path)
    assert run.rc == 0, run.stderr
    assert row(run.stdout, "NER")[1:] == ["0.80", "0.80", "0.80", "4", "1", "1"]


def test_json_report_and_the_combination_tables(tmp_path):
    cases = [dict(gold_result(), id="mm"), text_case("t1"), text_case("t2")]
    gold = write_jsonl(tmp_path / "gold.jsonl", cases)
    out = tmp_path / "report.json"
    run = muie(gold, gold, "--json", out, "--by-combination", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["overall"]["cases"] == 3 and report["overall"]["ner"]["f1"] == 1.0
    assert report["overall"]["grounding"]["track"]["value"] == 1.0
    assert set(report["by_combination"]) == {"text", "text+image+audio+video"}
    assert "combination text (2 cases)" in run.stdout
    assert "combination text+image+audio+video (1 case)" in run.stdout


def test_a_broken_line_3_names_the_file_and_the_line(tmp_path):
    bad = tmp_path / "pred.jsonl"
    bad.write_text(json.dumps(text_case("a")) + "\n" + json.dumps(text_case("b")) + "\n{\"id\": \"c\", \n",
                   encoding="utf-8")
    gold = write_jsonl(tmp_path / "gold.jsonl", [text_case("a"), text_case("b"), text_case("c")])
    line = assert_bad_input(muie(gold, bad, cwd=tmp_path), str(bad), "line 3")
    assert "not JSON" in line


def test_json_that_is_not_a_result_names_the_place(tmp_path):
    bad = dict(text_case("a"))
    bad["entities"] = [{"id": "E1", "text": "Brussels", "mentions": []}]
    gold = write_jsonl(tmp_path / "gold.jsonl", [text_case("a")])
    pred = write_jsonl(tmp_path / "pred.jsonl", [bad])
    assert_bad_input(muie(gold, pred, cwd=tmp_path), str(pred), "line 1", "entities[0].type")


def test_an_unknown_case_id_and_a_count_mismatch(tmp_path):
    gold = write_jsonl(tmp_path / "gold.jsonl", [text_case("a"), text_case("b")])
    pred = write_jsonl(tmp_path / "pred.jsonl", [text_case("a"), text_case("nope")])
    assert_bad_input(muie(gold, pred, cwd=tmp_path), str(pred), "line 2", "'nope'")
    anon = write_jsonl(tmp_path / "anon.jsonl", [{k: v for k, v in text_case("a").items() if k != "id"}])
    assert_bad_input(muie(gold, anon, cwd=tmp_path), str(anon), "mismatch of case counts")


def test_missing_files_and_an_unwritable_report(tmp_path):
    gold = write_jsonl(tmp_path / "gold.jsonl", [text_case("a")])
    assert_bad_input(muie(gold, tmp_path / "none.jsonl", cwd=tmp_path), "none.jsonl", "no such file")
    out = tmp_path / "no" / "report.json"
    assert_bad_input(muie(gold, gold, "--json", out, cwd=tmp_path), "--json", str(out))
    assert not (tmp_path / "no").exists()


def test_folders_matched_by_file_name_with_a_missing_prediction(tmp_path):
    g, p = tmp_path / "gold", tmp_path / "pred"
    g.mkdir()
    p.mkdir()
    write_json(g / "first.json", gold_result())
    write_json(g / "second.json", text_case("x"))
    write_json(p / "first.json", gold_result())
    run = muie(g, p, cwd=tmp_path)
    assert run.rc == 0, run.stderr
    assert run.stderr.splitlines() == [
        "muie: warning: no prediction for gold case 'second': scored as an empty prediction"]
    assert row(run.stdout, "NER")[4:] == ["5", "0", "1"]
    write_json(p / "third.json", text_case("x"))
    assert_bad_input(muie(g, p, cwd=tmp_path), str(p / "third.json"), "'third'")


def test_conll_gold(tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text("Marie\tB-person\nCurie\tI-person\nvisited\tO\nWarsaw\tB-location\n.\tO\n\n"
                    "Hello\tO\nParis\tB-location\n", encoding="utf-8")
    pred = write_jsonl(tmp_path / "pred.jsonl", [
        {"id": "s0", "version": "1", "inputs": [{"id": "text", "modality": "text"}],
         "entities": [{"id": "A", "text": "Marie Curie", "type": "person",
                       "mentions": [{"input": "text", "start": 0, "end": 11}]}]},
        {"id": "s1", "version": "1", "inputs": [{"id": "text", "modality": "text"}],
         "entities": [{"id": "A", "text": "Paris", "type": "location",
                       "mentions": [{"input": "text", "start": 6, "end": 11}]}]},
    ])
    run = muie(gold, pred, cwd=tmp_path)
    assert run.rc == 0, run.stderr
    assert row(run.stdout, "NER")[1:] == ["1.00", "0.67", "0.80", "2", "0", "1"]

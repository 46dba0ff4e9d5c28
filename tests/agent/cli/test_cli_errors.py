"""The installed ``muie`` command on bad input: exit 2, one line on stderr naming the
input and the reason, nothing on stdout, nothing half-written, and fast (no model loads).
Plus the two commands that must succeed without a model: ``schema`` and ``--help``."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.cli import FAST_S, MUIE, assert_bad_input, muie


def test_the_command_is_installed():
    assert MUIE.is_file(), MUIE


# --------------------------------------------------------------------------- text input


def test_empty_text(tmp_path):
    line = assert_bad_input(muie("extract", "--text", "", cwd=tmp_path), "--text")
    assert "empty" in line


def test_whitespace_only_text_file(tmp_path):
    f = tmp_path / "blank.txt"
    f.write_text("   \n\t\n\n  ", encoding="utf-8")
    line = assert_bad_input(muie("extract", "--text-file", str(f), cwd=tmp_path), str(f))
    assert "empty" in line


def test_missing_text_file(tmp_path):
    f = tmp_path / "nowhere.txt"
    line = assert_bad_input(muie("extract", "--text-file", str(f), cwd=tmp_path), str(f))
    assert "no such file" in line


def test_folder_as_text_file(tmp_path):
    d = tmp_path / "a_folder"
    d.mkdir()
    assert_bad_input(muie("extract", "--text-file", str(d), cwd=tmp_path), str(d))


def test_binary_text_file(tmp_path):
    f = tmp_path / "photo.bin"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x80\x81garbage\xc3\x28")
    line = assert_bad_input(muie("extract", "--text-file", str(f), cwd=tmp_path), str(f))
    assert "UTF-8" in line


def test_both_text_and_text_file(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("Marie Curie was born in Warsaw.", encoding="utf-8")
    assert_bad_input(muie("extract", "--text", "Hello there.", "--text-file", str(f), cwd=tmp_path),
                     "--text", "--text-file")


def test_no_input_at_all(tmp_path):
    assert_bad_input(muie("extract", cwd=tmp_path), "--text")


# --------------------------------------------------------------------------- schema


def test_malformed_schema_json_names_the_file_and_the_line(tmp_path):
    f = tmp_path / "schema.json"
    f.write_text('{"entity_types": ["person",\n  ,]\n}\n', encoding="utf-8")
    line = assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--schema", str(f),
                                 cwd=tmp_path), str(f))
    assert "line 2" in line


def test_schema_json_that_is_a_list(tmp_path):
    f = tmp_path / "schema.json"
    f.write_text('["person", "location"]', encoding="utf-8")
    line = assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--schema", str(f),
                                 cwd=tmp_path), str(f))
    assert "list" in line


def test_schema_entity_types_not_a_list(tmp_path):
    f = tmp_path / "schema.json"
    f.write_text('{"entity_types": "person"}', encoding="utf-8")
    line = assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--schema", str(f),
                                 cwd=tmp_path), str(f))
    assert "entity_types" in line


def test_empty_schema_object(tmp_path):
    f = tmp_path / "schema.json"
    f.write_text("{}", encoding="utf-8")
    assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--schema", str(f),
                          cwd=tmp_path), str(f))


# --------------------------------------------------------------------------- options


def test_unknown_option(tmp_path):
    assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--bogus", cwd=tmp_path),
                     "--bogus")


def test_unknown_task(tmp_path):
    assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--tasks", "ner,dance",
                          cwd=tmp_path), "--tasks", "dance")


def test_a_broken_image_is_bad_input(tmp_path):
    img = tmp_path / "cat.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert_bad_input(muie("extract", "--text", "A cat.", "--image", str(img), cwd=tmp_path), str(img))


def test_a_broken_video_is_bad_input(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    assert_bad_input(muie("extract", "--text", "A cat.", "--video", str(clip), cwd=tmp_path), str(clip))


def test_out_into_a_folder_that_does_not_exist(tmp_path):
    out = tmp_path / "no" / "such" / "result.json"
    assert_bad_input(muie("extract", "--text", "Marie Curie was born in Warsaw.", "--out", str(out),
                          cwd=tmp_path), "--out", str(out))
    assert not (tmp_path / "no").exists()


# --------------------------------------------------------------------------- nothing half-written


BAD_WITH_OUT = {
    "empty text": ["--text", ""],
    "unknown task": ["--text", "Marie Curie was born in Warsaw.", "--tasks", "nope"],
    "image": ["--text", "A cat.", "--image", "cat.png"],
    "unknown option": ["--text", "Marie Curie was born in Warsaw.", "--bogus"],
    "missing text file": ["--text-file", "missing.txt"],
    "bad schema": ["--text", "Marie Curie was born in Warsaw.", "--schema", "bad.json"],
}


@pytest.mark.parametrize("case", list(BAD_WITH_OUT))
def test_existing_out_file_is_left_unchanged_on_bad_input(tmp_path, case):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    out = tmp_path / "result.json"
    before = b'{"version": "1", "entities": [], "note": "an earlier result"}\n\xe2\x9c\x93\n'
    out.write_bytes(before)
    listing = sorted(p.name for p in tmp_path.iterdir())

    run = muie("extract", *BAD_WITH_OUT[case], "--out", str(out), cwd=tmp_path)

    assert_bad_input(run)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing, "a temporary file was left behind"


# --------------------------------------------------------------------------- what must succeed


def test_schema_command_prints_a_json_schema(tmp_path):
    run = muie("schema", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    doc = json.loads(run.stdout)
    assert isinstance(doc, dict)
    assert doc.get("type") == "object"
    for key in ("entities", "relations", "events", "inputs"):
        assert key in doc["properties"]
    assert run.seconds < FAST_S


def test_extract_help(tmp_path):
    run = muie("extract", "--help", cwd=tmp_path)
    assert run.rc == 0, run.stderr
    for flag in ("--text", "--text-file", "--schema", "--tasks", "--out"):
        assert flag in run.stdout
    assert run.seconds < FAST_S


def test_bare_command_is_one_line_and_exit_2():
    proc = subprocess.run([str(MUIE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "command" in lines[0]

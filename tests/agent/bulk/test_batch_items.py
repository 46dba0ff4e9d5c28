"""Reading a batch's items (no model runs): manifest lines that are not items become items
that fail, named by their line; folder items by suffix; fingerprints follow the contents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from muie.agent.bulk.items import fingerprint, read_items
from muie.errors import InputError


def test_manifest_lines_that_are_not_items_fail_by_their_line(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "Ada Lovelace lived in London.", "image": "pics/a.png", "audio": ["a.wav"]},
        {"text": "No id: named by its line."},
        {"id": "c", "text": "x", "text_file": "c.txt"},
        {"id": "d", "imgae": ["typo.png"]},
        {"id": "../escape", "text": "x"},
        {"id": "a", "text": "the same id again"},
        [1, 2],
        {"id": "h"},
        {"id": 7, "text": "an integer id", "tasks": ["ner"], "schema": "schema.json"},
    ]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "m.jsonl").write_text(text + "\n{broken\n", encoding="utf-8")
    items = {i.id: i for i in read_items(tmp_path / "m.jsonl")}

    a = items["a"]
    assert a.error is None and a.source.endswith("m.jsonl line 1")
    assert a.image == [str(tmp_path / "pics" / "a.png")] and a.audio == [str(tmp_path / "a.wav")]
    assert items["line2"].error is None and items["line2"].text == "No id: named by its line."
    assert items["7"].error is None and items["7"].schema == str(tmp_path / "schema.json")
    errors = {k: v.error for k, v in items.items() if v.error}
    assert "text or text_file, not both" in errors["line3"]
    assert "unknown field(s) imgae" in errors["line4"]
    assert "not a plain file name" in errors["line5"]
    assert "given on line 1 too" in errors["line6"]
    assert "not an object" in errors["line7"]
    assert "no input" in errors["line8"]
    assert "not valid JSON" in errors["line11"]  # the blank line 10 is skipped
    assert len(items) == 10


def test_folder_items_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "story").mkdir()
    (tmp_path / "story" / "body.txt").write_text("text", encoding="utf-8")
    (tmp_path / "story" / "pic.JPG").write_bytes(b"x")
    (tmp_path / "story" / "talk.mp3").write_bytes(b"x")
    (tmp_path / "story" / "clip.mp4").write_bytes(b"x")
    (tmp_path / "story" / "schema.json").write_text("{}", encoding="utf-8")
    (tmp_path / "story" / "notes.md").write_text("ignored", encoding="utf-8")
    (tmp_path / "story" / ".hidden.png").write_bytes(b"x")
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "two" / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "ep1.wav").write_bytes(b"x")
    (tmp_path / "ep1.txt").write_text("the same stem", encoding="utf-8")
    (tmp_path / "solo.png").write_bytes(b"x")
    (tmp_path / "manifest.jsonl").write_text("{}", encoding="utf-8")  # not text or media: ignored
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.txt").write_text("the batch's own output", encoding="utf-8")
    items = {i.id: i for i in read_items(tmp_path, skip=tmp_path / "out")}

    assert sorted(items) == ["ep1.txt", "ep1.wav", "solo", "story", "two"]
    story = items["story"]
    assert story.error is None and story.text_file == str((tmp_path / "story" / "body.txt").resolve())
    assert [Path(p).name for p in story.image + story.audio + story.video] == ["pic.JPG", "talk.mp3", "clip.mp4"]
    assert story.schema == str((tmp_path / "story" / "schema.json").resolve())
    assert "2 text files" in str(items["two"].error)
    assert items["solo"].image and items["ep1.wav"].audio and items["ep1.txt"].text_file


def test_a_fingerprint_follows_the_contents_schema_tasks_and_reasoner(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Ada Lovelace lived in London.", encoding="utf-8")
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "a", "text_file": "a.txt"}) + "\n", encoding="utf-8")
    item = read_items(tmp_path / "m.jsonl")[0]
    base = fingerprint(item, None, None, "embedded")
    assert fingerprint(item, None, None, "embedded") == base
    assert fingerprint(item, None, "re,ner", "embedded") == fingerprint(item, None, ["ner", "re"], "embedded") != base
    assert fingerprint(item, {"entity_types": ["person"]}, None, "embedded") != base
    assert fingerprint(item, None, None, "llm") != base
    (tmp_path / "a.txt").write_text("Ada Lovelace lived in Paris.", encoding="utf-8")
    assert fingerprint(item, None, None, "embedded") != base
    (tmp_path / "a.txt").unlink()
    with pytest.raises(InputError, match="a.txt"):
        fingerprint(item, None, None, "embedded")

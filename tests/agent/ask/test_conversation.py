"""Questions about media, answered with their time spans and regions: a scripted
conversation on a clip with speech whose every word's time is known (espeak-ng, chunk
by chunk), the first question extracting, the next ones answered from memory; threads
kept across processes; ``muie chat`` in the terminal; the questions' typed reading."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from bench.grounded.common import Sentence
from bench.grounded.speech import assemble, write_wav
from muie.agent.ask.conversation import ask, history
from muie.agent.ask.questions import parse_question
from muie.domain import Segment
from muie.memory.store import Store
from muie.settings import Settings
from tests.support.cli import MUIE, assert_bad_input, muie
from tests.support.paths import ROOT

P, ORG, L = "person", "organization", "location"
SAID = [
    Sentence([("my name is", None), ("John Carter", P)]),
    Sentence([("I work for", None), ("Google", ORG), ("in", None), ("London", L)]),
    Sentence([("next week I will fly to", None), ("Tokyo", L)]),
]
SCHEMA = {"entity_types": [P, ORG, L], "relation_types": ["work_for"], "event_types": {}}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The clip, the time span of every chunk said, and a store of its own."""
    root = tmp_path_factory.mktemp("talk")
    samples, spoken = assemble(np.random.default_rng(7), SAID, ("en-us", 150, 50), lead=0.4, noise=False)
    path = root / "talk.wav"
    write_wav(path, samples)
    times = {w: t for s, ts in spoken for (w, _), t in zip(s.chunks, ts)}
    sentences = [(ts[0][0], ts[-1][1]) for _, ts in spoken]
    return path, times, sentences, Settings(data_dir=str(root / "data"))


def _covers(g: Segment, span: tuple[float, float], slack: float = 0.35) -> bool:
    return g.start_s <= span[0] + slack and g.end_s >= span[1] - slack


def test_three_questions_answered_with_their_time_spans_the_later_ones_from_memory(clip):
    path, times, sentences, settings = clip
    kw = dict(audio=[str(path)], schema=SCHEMA, settings=settings)

    a1 = ask("When is Google mentioned?", **kw)
    assert a1.source == "extraction" and a1.kind == "when"
    seg = a1.citations[0].grounding
    assert isinstance(seg, Segment) and seg.input == "audio0"
    g0, g1 = times["Google"]
    assert abs(seg.start_s - g0) <= 0.35 and abs(seg.end_s - g1) <= 0.35, (seg, times["Google"])
    assert "Google" in a1.answer and "0:0" in a1.answer

    a2 = ask("What did he say about London?", thread_id=a1.thread_id, **kw)
    assert a2.source == "memory" and a2.kind == "said_about" and a2.run_id == a1.run_id
    assert len(a2.citations) == 1 and "london" in a2.citations[0].what.lower()
    assert _covers(a2.citations[0].grounding, sentences[1]), (a2.citations[0].grounding, sentences[1])

    t = (sentences[2][0] + sentences[2][1]) / 2  # in the middle of the third sentence
    a3 = ask(f"Who is speaking at 0:{t:04.1f}?", thread_id=a1.thread_id, **kw)
    assert a3.source == "memory" and a3.kind == "who_speaks"
    assert "John Carter" in a3.answer
    spoken = [c.grounding for c in a3.citations if isinstance(c.grounding, Segment)]
    assert _covers(spoken[0], sentences[2]) and "tokyo" in a3.citations[0].what.lower()
    assert any(_covers(g, sentences[0]) for g in spoken[1:]), "the introduction is cited too"

    assert len(Store(settings).runs()) == 1, "one extraction for three questions"
    turns = history(a1.thread_id, settings)
    assert [m["role"] for m in turns] == ["user", "assistant"] * 3 and turns[-1]["content"] == a3.answer


def test_a_thread_keeps_its_media_and_what_it_talked_about_across_processes(clip, tmp_path):
    path, times, sentences, settings = clip
    r = _muie(settings, "ask", "where is London?", str(path), "--json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert first["kind"] == "where" and first["source"] == "memory"  # kept by the test before
    r = _muie(settings, "ask", "when is it said?", "--thread", first["thread_id"], "--json")
    assert r.returncode == 0, r.stderr
    again = json.loads(r.stdout)
    assert again["kind"] == "when" and "London" in again["answer"]  # "it": what the thread talked about
    seg = again["citations"][0]["grounding"]
    assert abs(seg["start_s"] - times["London"][0]) <= 0.35


def test_chat_in_the_terminal(clip):
    path, times, sentences, settings = clip
    r = _muie(settings, "chat", str(path), stdin="which places are mentioned?\nwhen is Tokyo said?\n\n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "London" in lines[0] and "Tokyo" in lines[0]
    assert "Tokyo" in lines[1] and "0:0" in lines[1]
    assert "--thread" in r.stderr


def test_rendered_answer_draws_what_it_cites(clip, tmp_path):
    path, _, _, settings = clip
    r = _muie(settings, "ask", "when is Google mentioned?", str(path), "--render", str(tmp_path / "pic"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "pic" / "audio0.png").stat().st_size > 1000


def test_bad_questions_and_media_are_bad_input(tmp_path):
    assert_bad_input(muie("ask", "   ", "examples/media/photo.png", cwd=ROOT), "question")
    assert_bad_input(muie("ask", "where is it?", str(tmp_path / "none.png"), cwd=ROOT), "none.png")
    assert_bad_input(muie("ask", "where is it?", "pyproject.toml", cwd=ROOT), "pyproject.toml")
    assert_bad_input(muie("ask", "where is it?", cwd=ROOT), "media")
    assert_bad_input(muie("runs", "show", "0123456789abcdef", cwd=ROOT), "0123456789abcdef")


@pytest.mark.parametrize("question, kind, target, etype, time_s", [
    ("who is speaking at 0:12?", "who_speaks", None, None, 12.0),
    ("Who speaks at 1:02.5", "who_speaks", None, None, 62.5),
    ("where is the cat?", "where", "cat", None, None),
    ("what did the man say about Google?", "said_about", "Google", None, None),
    ("When is NASA mentioned?", "when", "NASA", None, None),
    ("which people are mentioned?", "list", None, "person", None),
    ("who is mentioned at 3 s?", "list", None, "person", 3.0),
    ("list the companies", "list", None, "organization", None),
    ("what happened?", "events", None, None, None),
    ("what is said at 0:05?", "said_at", None, None, 5.0),
    ("where is she?", "where", "Eileen Collins", None, None),
])
def test_questions_are_read_into_typed_queries(question, kind, target, etype, time_s):
    q = parse_question(question, ["person", "organization", "location"], focus="Eileen Collins")
    assert (q.kind, q.target, q.entity_type, q.time_s) == (kind, target, etype, time_s)


def _muie(settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(MUIE), *args], input=stdin, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env=dict(os.environ, MUIE_DATA_DIR=settings.data_dir))


def test_a_question_about_what_is_said_extracts_only_the_recording(clip, tmp_path):
    path, times, _, settings = clip
    fresh = settings.model_copy(update={"data_dir": str(tmp_path / "data")})
    photo = str(ROOT / "examples" / "media" / "photo.png")
    a = ask("what is said about London?", images=[photo], audio=[str(path)], text="A photo.", settings=fresh)
    assert a.source == "extraction" and "London" in a.answer
    store = Store(fresh)
    (run,) = store.runs()
    assert [i["modality"] for i in run.inputs] == ["audio"]  # the tools it needs: no image tool ran
    b = ask("where is the coffee cup?", images=[photo], audio=[str(path)], text="A photo.", settings=fresh)
    assert b.source == "extraction" and len(store.runs()) == 2  # a picture question needs the picture
    c = ask("when is Tokyo said?", images=[photo], audio=[str(path)], text="A photo.", settings=fresh)
    assert c.source == "memory" and c.run_id == b.run_id  # the widest kept run answers it now
    assert abs(c.citations[0].grounding.start_s - times["Tokyo"][0]) <= 0.35

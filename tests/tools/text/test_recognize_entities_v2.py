"""recognize_entities.v2: the shipped entity model, through the tool the reasoner calls."""

from __future__ import annotations

import subprocess
import sys

import muie
from muie.domain import Schema
from muie.settings import Settings, default_settings
from muie.tools.base import ToolContext
from muie.tools.models import entity_model as em
from muie.tools.text.recognize_entities import RecognizeEntitiesArgs
from muie.tools.text.recognize_entities_v2 import RecognizeEntitiesV2Tool, split_sentences
from muie.training import train as training

TOOL = RecognizeEntitiesV2Tool()


def found(text: str, types: list[str], **kw) -> list[tuple[str, str]]:
    args = RecognizeEntitiesArgs(input="text", start=0, end=len(text), entity_types=types, **kw)
    (res,) = TOOL.run_batch([(args, ToolContext({"text": text}, default_settings()))])
    for c in res.entities:
        assert text[c.start:c.end] == c.text
    return [(c.text, c.type) for c in res.entities]


def test_the_shipped_model_is_one_file_in_the_package_and_loads_without_a_hub(tmp_path):
    assert em.WEIGHTS.is_file() and em.WEIGHTS.stat().st_size <= 64 * 2**20
    assert em.WEIGHTS.parent.parent == em.Path(em.__file__).parent  # inside the installed package
    probe = ("import time; t = time.perf_counter(); from muie.tools.models.entity_model import entity_model; "
             "m = entity_model(); print(m.threshold, m.meta['best_epoch'])")
    env = {"HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    threshold, epoch = done.stdout.split()
    assert 0 < float(threshold) < 1 and int(epoch) >= 1


# types no training sentence has (checked below), each beside a type it was trained on
UNSEEN_CASES = [
    ("Most web pages are written in JavaScript, and most data science in R or Python.",
     ["programming language", "person"], [("JavaScript", "programming language"), ("Python", "programming language")]),
    ("Guido van Rossum released Python in 1991, years before Java appeared.",
     ["programming language", "person"], [("Java", "programming language"), ("Guido van Rossum", "person")]),
    ("The Beatles and Queen both recorded at Abbey Road.", ["band", "location"], [("The Beatles", "band")]),
]


def test_finds_entities_of_types_it_was_never_trained_on():
    rows = training.read_rows(training.DATA) + training.read_rows(training.TYPED)
    trained = set(training.type_phrases(rows).values())
    assert {"programming language", "band"}.isdisjoint(trained)
    for text, types, expected in UNSEEN_CASES:
        got = found(text, types)
        for pair in expected:
            assert pair in got, (text, got)


def test_an_abbreviated_schema_gives_what_the_spelled_out_one_gives():
    text = "Angela Merkel met executives of Siemens in Munich on Tuesday."
    short = found(text, ["PER", "ORG", "LOC"])
    long = found(text, ["person", "organization", "location"])
    assert short and [(t, {"PER": "person", "ORG": "organization", "LOC": "location"}[k]) for t, k in short] == long
    assert ("Angela Merkel", "PER") in short and ("Munich", "LOC") in short


def test_a_long_run_on_text_is_read_to_its_end():
    filler = " ".join(["and then it rained again over the quiet fields"] * 45)  # 405 words, no sentence end
    text = f"{filler} until Barack Obama arrived in Chicago"
    got = found(text, ["person", "city"])
    assert ("Barack Obama", "person") in got and ("Chicago", "city") in got


def test_sentences_are_cut_at_ends_not_at_abbreviations():
    text = "Dr. Smith went to Washington. He met J. Doe there!  Then he left.\n\nNew paragraph"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Dr. Smith went to Washington.", "He met J. Doe there!", "Then he left.", "New paragraph"]


def test_the_agent_calls_the_entity_finder_muie_ner_model_names(monkeypatch):
    text = "Marie Curie was born in Warsaw."
    schema = Schema(entity_types=["person", "city"])
    for model, tool in (("learned", "recognize_entities.v2"), ("heuristic", "recognize_entities.v1")):
        monkeypatch.setenv("MUIE_NER_MODEL", model)
        result = muie.extract(text, schema=schema, agent=muie.Agent(settings=Settings.from_env()))
        acts = [s.model_extra["tool"] for s in result.trace if s.node == "act"]
        assert tool in acts and all(not a.startswith("recognize_entities.") or a == tool for a in acts)
        assert {(e.text, e.type) for e in result.entities} >= {("Marie Curie", "person"), ("Warsaw", "city")}

"""The shipped relation, trigger and argument models (``tools/models/weights``), through the
tools the reasoner calls: relation and event types that no training set names give the right
triples and arguments, and the agent finds the README's work_for with its default settings.

Each "unseen" name is checked against the training data itself: its phrase is no label of
any set, nor any other name a label is read as during training."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import pytest

import muie
from muie.calls import SpanRef
from muie.settings import Settings, default_settings
from muie.tools.base import ToolContext
from muie.tools.models import pair_model as pm
from muie.tools.models.onnx_session import read_meta
from muie.tools.text import detect_events_v2
from muie.tools.text.detect_events import DetectEventsArgs
from muie.tools.text.detect_events_v2 import DetectEventsV2Tool
from muie.tools.text.extract_relations import ExtractRelationsArgs
from muie.tools.text.extract_relations_v2 import ExtractRelationsV2Tool
from muie.tools.text.type_names import event_phrase, type_phrase
from muie.training import train_pairs
from muie.training.train_events import ARGUMENTS, TRIGGERS


@cache
def relation_names_trained() -> frozenset[str]:
    phrases = json.loads(train_pairs.PHRASES.read_text(encoding="utf-8"))
    names = {type_phrase(p[4]) for f in (train_pairs.DATA, train_pairs.KNOWLEDGENET, train_pairs.DEV)
             for r in train_pairs.read_rows(f) for p in r["pairs"]}
    names |= {n.lower() for v in phrases.values() for n in v}
    names |= {n.lower() for v in train_pairs.other_names(phrases).values() for n in v}
    return frozenset(names)


def _phrases(path: Path, key: str) -> set[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {x[-1] for line in f for x in json.loads(line)[key]}


@cache
def event_names_trained() -> frozenset[str]:
    return frozenset(_phrases(TRIGGERS, "spans"))


@cache
def argument_events_trained() -> frozenset[str]:
    return frozenset(p.split(" in ", 1)[1] for p in _phrases(ARGUMENTS, "pairs"))


def refs(text: str, names: list[str]) -> list[SpanRef]:
    return [SpanRef(id=n, type="entity", start=text.index(n), end=text.index(n) + len(n)) for n in names]


def test_the_shipped_files_are_in_the_package_and_load():
    for path in (pm.WEIGHTS, detect_events_v2.EVENTS, detect_events_v2.ARGUMENTS):
        assert path.is_file() and path.stat().st_size <= 64 * 2**20
        assert path.parent.parent == Path(pm.__file__).parent
    assert 0 < pm.pair_model().threshold < 1
    # the metadata read from the file alone (a replayed run's critique) is the session's
    assert read_meta(pm.WEIGHTS) == pm.pair_model().meta
    assert read_meta(detect_events_v2.ARGUMENTS) == pm.pair_model(detect_events_v2.ARGUMENTS).meta
    assert default_settings().relation_tool == "extract_relations.v2"
    assert default_settings().event_tool == "detect_events.v2"


UNSEEN_RELATIONS = [  # (sentence, entities, relation types, the triples expected)
    ("She attended Harvard University before moving to Chicago.", ["She", "Harvard University", "Chicago"],
     ["attended", "lives_in_city"], {("She", "attended", "Harvard University"), ("She", "lives_in_city", "Chicago")}),
    ("Taylor Swift signed with Republic Records in 2018.", ["Taylor Swift", "Republic Records"],
     ["signed_with", "headquartered_in"], {("Taylor Swift", "signed_with", "Republic Records")}),
    ("Sundar Pichai is an employee of Google.", ["Sundar Pichai", "Google"], ["employee_of", "headquartered_in"],
     {("Sundar Pichai", "employee_of", "Google")}),
    ("Siemens has its headquarters in Munich.", ["Siemens", "Munich"], ["headquartered_in", "employee_of"],
     {("Siemens", "headquartered_in", "Munich")}),
]


@pytest.mark.parametrize("text, names, types, expected", UNSEEN_RELATIONS)
def test_relation_types_no_training_set_names_give_the_right_triples(text, names, types, expected):
    assert not {type_phrase(t) for t in types} & relation_names_trained()
    args = ExtractRelationsArgs(input="text", start=0, end=len(text), relation_types=types, entities=refs(text, names))
    (res,) = ExtractRelationsV2Tool().run_batch([(args, ToolContext({"text": text}, default_settings()))])
    assert {(r.head, r.type, r.tail) for r in res.relations} == expected


UNSEEN_TRIGGERS = [  # (sentence, event type, its trigger)
    ("Pfizer recalled two million pill bottles in March.", "Recall", "recalled"),
    ("Microsoft invested ten billion dollars in OpenAI.", "Investment", "invested"),
    ("Samsung launched the Galaxy S24 in January.", "ProductLaunch", "launched"),
    ("Oracle sued Google over the Java code.", "Lawsuit", "sued"),
    ("Jeff Bezos resigned as chief executive of Amazon.", "Resign", "resigned"),
    ("She graduated from Harvard in 1999.", "Graduate", "graduated"),
    ("The startup Acme hired forty engineers last year.", "Hire", "hired"),
]


@pytest.mark.parametrize("text, etype, trigger", UNSEEN_TRIGGERS)
def test_event_types_no_training_set_names_give_their_triggers(text, etype, trigger):
    assert event_phrase(etype) not in event_names_trained() | argument_events_trained()
    schema = {etype: ["Agent"], "Attack": ["Attacker", "Target", "Place"], "Die": ["Victim"]}
    args = DetectEventsArgs(input="text", start=0, end=len(text), event_types=schema, entities=[])
    (res,) = DetectEventsV2Tool().run_batch([(args, ToolContext({"text": text}, default_settings()))])
    assert [(e.type, e.trigger.text) for e in res.events] == [(etype, trigger)]


UNSEEN_ARGUMENTS = [  # (sentence, entities, event type, its roles, the arguments expected)
    ("Apple acquired Beats for three billion dollars.", ["Apple", "Beats"], "Acquisition", ["Acquirer", "Acquired"],
     {("Acquirer", "Apple"), ("Acquired", "Beats")}),
    ("The hospital vaccinated 500 children against measles.", ["hospital", "children"], "Vaccination",
     ["Provider", "Recipient"], {("Provider", "hospital"), ("Recipient", "children")}),
    ("Kim Kardashian divorced Kanye West in 2022.", ["Kim Kardashian", "Kanye West"], "Divorce", ["Person"],
     {("Person", "Kim Kardashian"), ("Person", "Kanye West")}),
]


@pytest.mark.parametrize("text, names, etype, roles, expected", UNSEEN_ARGUMENTS)
def test_event_types_no_training_set_names_give_their_arguments(text, names, etype, roles, expected):
    assert event_phrase(etype) not in event_names_trained() | argument_events_trained()
    schema = {etype: roles, "Attack": ["Attacker", "Target", "Place"]}
    args = DetectEventsArgs(input="text", start=0, end=len(text), event_types=schema, entities=refs(text, names))
    (res,) = DetectEventsV2Tool().run_batch([(args, ToolContext({"text": text}, default_settings()))])
    assert [e.type for e in res.events] == [etype]
    assert {(a.role, a.entity) for a in res.events[0].arguments} == expected


def test_the_agent_finds_the_readme_work_for_with_its_defaults(monkeypatch):
    for var in ("MUIE_RELATION_MODEL", "MUIE_EVENT_MODEL", "MUIE_NER_MODEL"):
        monkeypatch.delenv(var, raising=False)
    text = "Apple chief executive Tim Cook met Angela Merkel in Berlin."
    result = muie.extract(text, agent=muie.Agent(settings=Settings.from_env()))  # the default schema
    names = {e.id: e.text for e in result.entities}
    triples = {(names[r.head], r.type, names[r.tail]) for r in result.relations}
    assert ("Tim Cook", "work_for", "Apple") in triples
    assert [(v.type, v.trigger.text) for v in result.events] == [("Meet", "met")]
    acts = {s.model_extra["tool"] for s in result.trace if s.node == "act"}
    assert {"extract_relations.v2", "detect_events.v2"} <= acts

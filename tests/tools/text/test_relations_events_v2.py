"""extract_relations.v2 and detect_events.v2 through the tools the reasoner calls, on small
real models that these tests train (seconds, from a few sentences): the encoder, the ONNX
files and their loading are the shipped models' own; what is checked is how the tools read
text, entities and schemas, and what they give back."""

from __future__ import annotations

import pytest

import muie
from muie.calls import SpanRef
from muie.domain import Schema
from muie.settings import Settings, default_settings
from muie.tools.base import ToolContext
from muie.tools.models import entity_model as em
from muie.tools.models import pair_model as pm
from muie.tools.text import detect_events_v2
from muie.tools.text.detect_events import DetectEventsArgs
from muie.tools.text.detect_events_v2 import DetectEventsV2Tool
from muie.tools.text.extract_relations import ExtractRelationsArgs
from muie.tools.text.extract_relations_v2 import ExtractRelationsV2Tool
from muie.tools.text.type_names import argument_phrase, event_phrase
from muie.training import train, train_pairs

FACTS = [
    ("Tim Cook works for Apple .", (0, 2), (4, 5), "employer"),
    ("Satya Nadella works for Microsoft .", (0, 2), (4, 5), "employer"),
    ("Apple is based in Cupertino .", (0, 1), (4, 5), "headquarters location"),
    ("Microsoft is based in Redmond .", (0, 1), (4, 5), "headquarters location"),
]
EVENTS = [  # (words, trigger, event type, [(argument, role)])
    ("Rebels bombed a police station in Kabul .", (1, 2), "Attack", [((0, 1), "Attacker"), ((6, 7), "Place")]),
    ("Soldiers attacked the village in Homs .", (1, 2), "Attack", [((0, 1), "Attacker"), ((5, 6), "Place")]),
    ("The company shipped satellites to Kazakhstan .", (2, 3), "Transport", [((3, 4), "Artifact"),
                                                                          ((5, 6), "Destination")]),
    ("Trucks carried food to Gaza .", (1, 2), "Transport", [((2, 3), "Artifact"), ((4, 5), "Destination")]),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Small relation, trigger and argument models trained here, as ``make model`` trains the real ones."""
    tmp = tmp_path_factory.mktemp("models")
    rel_rows = [{"set": "tiny", "tokens": t.split(), "pairs": [[*h, *tl, lab]], "mentions": [list(h), list(tl)],
                 "exhaustive": True} for t, h, tl, lab in FACTS] * 24
    train_pairs.train(rel_rows, rel_rows[:4], epochs=20, dim=32, out=tmp / "relations.onnx", cache=tmp / "c")
    trig_rows = [{"set": "tiny", "tokens": t.split(), "spans": [[*trig, event_phrase(e)]]}
                 for t, trig, e, _ in EVENTS] * 24
    train.train(trig_rows, [], epochs=20, dim=32, out=tmp / "events.onnx", cache=tmp / "c", max_width=4,
                use_heads=False)
    arg_rows = [{"set": "tiny", "tokens": t.split(), "heads": [list(trig)], "exhaustive": True,
                 "pairs": [[*trig, *a, argument_phrase(r, e)] for a, r in args],
                 "mentions": [list(a) for a, _ in args]} for t, trig, e, args in EVENTS] * 24
    train_pairs.train(arg_rows, arg_rows[:4], epochs=20, dim=32, out=tmp / "arguments.onnx", cache=tmp / "c")
    return tmp


@pytest.fixture
def use(models, monkeypatch):
    """The tools read the small models in place of the shipped files."""
    monkeypatch.setattr(pm, "WEIGHTS", models / "relations.onnx")
    monkeypatch.setattr(detect_events_v2, "EVENTS", models / "events.onnx")
    monkeypatch.setattr(detect_events_v2, "ARGUMENTS", models / "arguments.onnx")
    pm._load.cache_clear()
    em._load.cache_clear()
    yield models
    pm._load.cache_clear()
    em._load.cache_clear()


def refs(text: str, names: list[str]) -> list[SpanRef]:
    return [SpanRef(id=n, type="entity", start=text.index(n), end=text.index(n) + len(n)) for n in names]


def relations(text: str, names: list[str], types: list[str], threshold: float | None = None) -> list:
    args = ExtractRelationsArgs(input="text", start=0, end=len(text), relation_types=types,
                                entities=refs(text, names), threshold=threshold)
    (res,) = ExtractRelationsV2Tool().run_batch([(args, ToolContext({"text": text}, default_settings()))])
    return res.relations


def test_a_relation_is_read_between_entities_in_its_learned_direction(use):
    got = relations("Tim Cook works for Apple.", ["Tim Cook", "Apple"], ["employer", "headquarters location"],
                    threshold=0.0)  # the pair's best type, in its better direction
    assert [(r.head, r.type, r.tail) for r in got] == [("Tim Cook", "employer", "Apple")]
    assert 0 < got[0].score <= 1


def test_pairs_are_made_within_a_sentence_each_way_once(use):
    text = "Tim Cook works for Apple in Cupertino. Satya Nadella spoke."
    got = relations(text, ["Tim Cook", "Apple", "Cupertino", "Satya Nadella"], ["employer"], threshold=0.0)
    pairs = [frozenset((r.head, r.tail)) for r in got]
    # every pair of the first sentence, in one direction; none with the second sentence's entity
    assert sorted(map(sorted, pairs)) == [["Apple", "Cupertino"], ["Apple", "Tim Cook"], ["Cupertino", "Tim Cook"]]
    assert all(r.type == "employer" for r in got)


def test_entities_that_overlap_are_not_paired(use):
    text = "Apple Park is in Cupertino."
    args = ExtractRelationsArgs(input="text", start=0, end=len(text), relation_types=["located in"], threshold=0.0,
                                entities=[SpanRef(id="a", type="x", start=0, end=5),
                                          SpanRef(id="ap", type="x", start=0, end=10)])
    (res,) = ExtractRelationsV2Tool().run_batch([(args, ToolContext({"text": text}, default_settings()))])
    assert res.relations == []


def events(text: str, names: list[str], types: dict[str, list[str]], **kw) -> list:
    args = DetectEventsArgs(input="text", start=0, end=len(text), event_types=types, entities=refs(text, names), **kw)
    (res,) = DetectEventsV2Tool().run_batch([(args, ToolContext({"text": text}, default_settings()))])
    return res.events


SCHEMA_EVENTS = {"Attack": ["Attacker", "Place"], "Transport": ["Artifact", "Destination"]}


def test_triggers_and_arguments_of_the_schemas_types(use):
    text = "Rebels bombed a police station in Kabul."
    got = events(text, ["Rebels", "Kabul"], SCHEMA_EVENTS)
    assert [(e.type, e.trigger.text) for e in got] == [("Attack", "bombed")]
    assert text[got[0].trigger.start:got[0].trigger.end] == "bombed"
    assert {(a.role, a.entity) for a in got[0].arguments} == {("Attacker", "Rebels"), ("Place", "Kabul")}


def test_arguments_take_only_their_events_roles_and_their_sentences_entities(use):
    text = "Rebels bombed a police station in Kabul. Soldiers attacked the village in Homs."
    got = events(text, ["Rebels", "Kabul", "Soldiers", "Homs"], SCHEMA_EVENTS, role_threshold=0.0)
    assert [(e.type, e.trigger.text) for e in got] == [("Attack", "bombed"), ("Attack", "attacked")]
    for e, mine in zip(got, ({"Rebels", "Kabul"}, {"Soldiers", "Homs"})):
        # with no least score every entity of the sentence takes a role, one of its event's
        assert {a.entity for a in e.arguments} == mine
        assert {a.role for a in e.arguments} <= set(SCHEMA_EVENTS["Attack"])


def test_the_agent_calls_the_finders_the_settings_name(use, monkeypatch):
    text = "Tim Cook works for Apple. Rebels bombed a police station in Kabul."
    schema = Schema(entity_types=["person", "organization", "group", "city"], relation_types=["employer"],
                    event_types={"Attack": ["Attacker", "Place"]})
    for model in ("learned", "heuristic"):
        monkeypatch.setenv("MUIE_RELATION_MODEL", model)
        monkeypatch.setenv("MUIE_EVENT_MODEL", model)
        result = muie.extract(text, schema=schema, agent=muie.Agent(settings=Settings.from_env()))
        acts = {s.model_extra["tool"] for s in result.trace if s.node == "act"}
        v = "v2" if model == "learned" else "v1"
        assert {f"extract_relations.{v}", f"detect_events.{v}"} <= acts
        assert not {a for a in acts if a.startswith(("extract_relations.", "detect_events.")) and not a.endswith(v)}
        if model == "learned":
            names = {e.id: e.text for e in result.entities}
            assert ("Tim Cook", "employer", "Apple") in {(names[r.head], r.type, names[r.tail])
                                                         for r in result.relations}
            assert [v.trigger.text for v in result.events] == ["bombed"]

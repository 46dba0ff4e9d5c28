"""The agent on audio: speech through the text extraction, each item grounded to the
time segment where it was said; text and speech naming one thing give one entity;
silence gives an empty result; unreadable files are bad input (exit 2)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

from bench.grounded.common import SCHEMA, Gold, Sentence
from bench.grounded.speech import SR, assemble, speak, write_wav
from muie.agent.api import extract
from muie.agent.scoring.metrics import normalise, segment_iou
from muie.domain import Segment
from tests.support.cli import MUIE, assert_bad_input, muie

P, ORG, L, T = "person", "organization", "location", "TRIGGER"
SAID = [  # real names, as a news report says them; each chunk spoken on its own, so its time is exact
    Sentence([("Marie Curie", P), ("was born in", None), ("Warsaw", L)],
             relations=[("born_in", "Marie Curie", "Warsaw")]),
    Sentence([("Albert Einstein", P), ("met", T), ("Niels Bohr", P), ("in", None), ("Brussels", L)],
             events=[("Meet", "met", [("Entity", "Albert Einstein"), ("Entity", "Niels Bohr"),
                                      ("Place", "Brussels")])]),
    Sentence([("Satya Nadella", P), ("works for", None), ("Microsoft", ORG)],
             relations=[("work_for", "Satya Nadella", "Microsoft")]),
    Sentence([("Angela Merkel", P), ("traveled", T), ("from", None), ("Berlin", L), ("to", None), ("Paris", L)],
             events=[("Transport", "traveled", [("Agent", "Angela Merkel"), ("Origin", "Berlin"),
                                                ("Destination", "Paris")])]),
    Sentence([("Toyota", ORG), ("is based in", None), ("Japan", L)], relations=[("located_in", "Toyota", "Japan")]),
    Sentence([("Charles Darwin", P), ("sailed", T), ("to", None), ("Australia", L)],
             events=[("Transport", "sailed", [("Agent", "Charles Darwin"), ("Destination", "Australia")])]),
    Sentence([("Amazon", ORG), ("bought", T), ("Whole Foods", ORG)],
             events=[("Transfer-Ownership", "bought", [("Buyer", "Amazon"), ("Artifact", "Whole Foods")])]),
    Sentence([("Isaac Newton", P), ("was born in", None), ("England", L)],
             relations=[("born_in", "Isaac Newton", "England")]),
    Sentence([("Barack Obama", P), ("met", T), ("Justin Trudeau", P), ("in", None), ("Ottawa", L)],
             events=[("Meet", "met", [("Entity", "Barack Obama"), ("Entity", "Justin Trudeau"), ("Place", "Ottawa")])]),
]
VOICES = [("en-us", 150, 50), ("en-gb", 155, 45), ("en-us", 165, 55)]


@pytest.fixture(scope="module")
def spoken_cases(tmp_path_factory) -> list[tuple[dict, object]]:
    """Speech built chunk by chunk with espeak-ng, so each name's time is exact, and its extraction."""
    out = tmp_path_factory.mktemp("speech")
    runs = []
    for k, voice in enumerate(VOICES):
        rng = np.random.default_rng(k)
        sents = SAID[3 * k: 3 * k + 3]
        samples, spoken = assemble(rng, sents, voice)
        gold = Gold()
        path = out / f"news{k}.wav"
        gold.add_input({"id": "audio0", "modality": "audio", "path": path.name, "duration_s": write_wav(path, samples)})
        gold.add_speech(spoken, "audio0")
        runs.append((gold.result(None), extract(audio=[str(path)], schema=SCHEMA)))
    return runs


MUST_BE_HEARD = {"Marie Curie": P, "Angela Merkel": P, "Berlin": L, "Paris": L, "Toyota": ORG,
                 "Japan": L, "Amazon": ORG, "Isaac Newton": P, "England": L, "Barack Obama": P, "Ottawa": L}
"""Names that Whisper tiny.en hears in these voices with a margin, each of them (the ratio
over all 21 names is the grounded benchmark's figure, not a test's: 17/21 when measured
with v1's entities, 16/21 with v2's). "Warsaw" is heard too, but Whisper runs it into the
next sentence with no stop ("... born in Warsaw Albertine's met ..."), and the learned
entity model takes "Warsaw Albertine's" as one place (its model card's known weaknesses)."""


def test_names_said_are_entities_grounded_to_their_words(spoken_cases):
    found: dict[str, str] = {}
    total = 0
    for case, result in spoken_cases:
        assert result.violations() == []
        assert [i.modality for i in result.inputs] == ["audio"]
        for gold in case["entities"]:
            for g in gold["groundings"]:
                total += 1
                hits = [e for e in result.entities if normalise(e.text) == normalise(gold["text"])
                        and any(isinstance(s, Segment) and segment_iou(s, Segment.model_validate(g)) >= 0.5
                                for s in e.groundings)]
                if hits:
                    found[gold["text"]] = hits[0].type
    assert total == 21
    print(f"names found with tIoU >= 0.5: {len(found)}/{total}")
    assert {n: found.get(n) for n in MUST_BE_HEARD} == MUST_BE_HEARD  # each heard where it was said, typed right
    assert len(found) >= 14, sorted(found)


def test_speech_gives_relations_and_events_with_heard_triggers(spoken_cases):
    heard = [{v.type for v in r.events if not v.trigger.mentions and any(isinstance(g, Segment) for g in
                                                                         v.trigger.groundings)}
             for _, r in spoken_cases]
    assert "Transport" in heard[1] and "Meet" in heard[2], heard  # "Angela Merkel traveled", "Barack Obama met"
    for _, r in spoken_cases:
        ids = {e.id for e in r.entities}
        assert all(a.entity in ids for v in r.events for a in v.arguments)
        assert all(rel.head in ids and rel.tail in ids for rel in r.relations)
    assert sum(len(r.relations) for _, r in spoken_cases) >= 2


def test_one_thing_written_and_said_is_one_entity(tmp_path):
    x = speak("Maria Lopez works for Google in Berlin", "en-us", 150, 50)
    wav = tmp_path / "said.wav"
    write_wav(wav, np.concatenate([np.zeros(SR // 4, np.float32), x, np.zeros(SR // 4, np.float32)]))
    text = "Lopez is an engineer at Google."
    r = extract(text=text, audio=[str(wav)], schema=SCHEMA)
    assert r.violations(text) == []
    both = [e for e in r.entities if e.mentions and any(isinstance(g, Segment) for g in e.groundings)]
    names = {e.text for e in both}
    assert {"Lopez", "Google"} <= names, [(e.text, e.type, e.mentions, e.groundings) for e in r.entities]
    assert len([e for e in r.entities if "google" in e.text.lower()]) == 1
    berlin = [e for e in r.entities if e.text.lower().strip(".") == "berlin"]
    assert len(berlin) == 1 and not berlin[0].mentions and berlin[0].groundings  # heard only


def test_silence_gives_an_empty_result(tmp_path):
    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.zeros(3 * SR, np.float32), SR)
    r = extract(audio=[str(wav)], schema=SCHEMA)
    assert r.entities == [] and r.events == [] and r.relations == []
    assert r.inputs[0].modality == "audio" and abs(r.inputs[0].duration_s - 3.0) < 0.01


def test_command_line_audio_only_follows_the_contract(tmp_path):
    x = speak("Marie Curie met Albert Einstein in Paris", "en-gb", 150, 50)
    wav = tmp_path / "met.wav"
    write_wav(wav, x)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    proc = subprocess.run([str(MUIE), "extract", "--audio", str(wav), "--schema", str(schema),
                           "--render", str(tmp_path / "pics")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["inputs"][0]["modality"] == "audio" and data["inputs"][0]["path"] == str(wav)
    said = {normalise(e["text"]) for e in data["entities"]}
    assert {"marie curie", "albert einstein", "paris"} <= said
    assert all(e["mentions"] == [] and e["groundings"][0]["kind"] == "segment" for e in data["entities"])
    assert any(v["type"] == "Meet" for v in data["events"])
    png = tmp_path / "pics" / "audio0.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["empty", "text", "corrupt", "directory"])
def test_unreadable_audio_is_bad_input(tmp_path, kind):
    path = tmp_path / "bad.wav"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not a sound\n")
    elif kind == "corrupt":
        path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    else:
        path.mkdir()
    out = tmp_path / "result.json"
    assert_bad_input(muie("extract", "--audio", str(path), "--out", str(out), cwd=tmp_path), str(path))
    assert not out.exists()

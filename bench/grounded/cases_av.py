"""The audio, video and mixed case kinds: audio_speech, audio_negative, video_track, mixed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import speech, video
from .cases import PHOTOS, finish, image_input, paste_photos, pasted_provenance, pick, region
from .common import Gold, Sentence, TextBuilder
from .images import SOURCES, background, save_png

PEOPLE = ["John Smith", "Maria Lopez", "David Chen", "Sarah Johnson", "Ahmed Hassan", "Yuki Tanaka",
          "Anna Kowalski", "Peter Brown"]
ORGS = ["Acme Corporation", "Globex Corporation", "Initech", "Umbrella Corporation", "Northwind Traders",
        "Vandelay Industries"]
CITIES = ["Berlin", "Paris", "London", "Chicago", "Tokyo", "Madrid", "Toronto", "Nairobi", "Sydney", "Lisbon"]
BORN = [("Marie Curie", "Warsaw"), ("Alan Turing", "London"), ("Albert Einstein", "Ulm"),
        ("Ada Lovelace", "London"), ("Frida Kahlo", "Mexico City"), ("Nikola Tesla", "Smiljan")]

P, ORG, L, T = "person", "organization", "location", "TRIGGER"


def sentence(rng: np.random.Generator) -> Sentence:
    """One sentence stating a relation or an event, names drawn from the pools."""
    kind = int(rng.integers(6))
    p1, p2 = pick(rng, PEOPLE, 2)
    o1, o2 = pick(rng, ORGS, 2)
    c1, c2 = pick(rng, CITIES, 2)
    if kind == 0:
        who, where = BORN[int(rng.integers(len(BORN)))]
        return Sentence([(who, P), ("was born in", None), (where, L)], relations=[("born_in", who, where)])
    if kind == 1:
        return Sentence([(p1, P), ("works for", None), (o1, ORG)], relations=[("work_for", p1, o1)])
    if kind == 2:
        return Sentence([(o1, ORG), ("is based in", None), (c1, L)], relations=[("located_in", o1, c1)])
    if kind == 3:
        return Sentence([(p1, P), ("traveled", T), ("from", None), (c1, L), ("to", None), (c2, L)],
                        events=[("Transport", "traveled", [("Agent", p1), ("Origin", c1), ("Destination", c2)])])
    if kind == 4:
        return Sentence([(p1, P), ("met", T), (p2, P), ("in", None), (c1, L)],
                        events=[("Meet", "met", [("Entity", p1), ("Entity", p2), ("Place", c1)])])
    return Sentence([(o1, ORG), ("bought", T), (o2, ORG)],
                    events=[("Transfer-Ownership", "bought", [("Buyer", o1), ("Artifact", o2)])])


def consistent(sents: list[Sentence]) -> bool:
    """No trigger word twice (events are told apart by their trigger); no name with two types."""
    types: dict[str, str] = {}
    trig = [w for s in sents for w, t in s.chunks if t == T]
    return len(set(trig)) == len(trig) and all(types.setdefault(w, t) == t for s in sents for w, t in s.entities())


def sentences(rng: np.random.Generator, k: int, also: list[Sentence] = ()) -> list[Sentence]:
    while True:
        out = [sentence(rng) for _ in range(k)]
        if consistent(list(also) + out):
            return out


def audio_input(gold: Gold, rel: str, duration: float) -> None:
    gold.add_input({"id": "audio0", "modality": "audio", "path": rel, "duration_s": duration})


def audio_speech(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    sents = sentences(rng, int(rng.integers(1, 3)))
    samples, spoken = speech.assemble(rng, sents, speech.voice_for(rng))
    rel = f"media/{case_id}.wav"
    gold = Gold()
    audio_input(gold, rel, speech.write_wav(out / rel, samples))
    gold.add_speech(spoken, "audio0")
    return finish(case_id, "audio_speech", gold, None, transcript=" ".join(s.words() for s in sents))


def audio_negative(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    said = sentences(rng, int(rng.integers(1, 3)))
    said_names = {w for s in said for w, _ in s.entities()}
    while True:  # the text names at least one thing the audio never says
        (written,) = sentences(rng, 1, also=said)
        if {w for w, _ in written.entities()} - said_names:
            break
    tb = TextBuilder()
    tb.add(written)
    samples, spoken = speech.assemble(rng, said, speech.voice_for(rng))
    rel = f"media/{case_id}.wav"
    gold = Gold()
    gold.add_input({"id": "text", "modality": "text"})
    audio_input(gold, rel, speech.write_wav(out / rel, samples))
    gold.add_text(tb)
    gold.add_speech(spoken, "audio0")
    negatives = [{"entity": gold.eid(w), "text": w, "absent_from": "audio0"}
                 for w, _ in written.entities() if w not in said_names]
    return finish(case_id, "audio_negative", gold, tb.text, transcript=" ".join(s.words() for s in said),
                  negatives=negatives)


SAY = [["look at the", "{x}"], ["here comes the", "{x}"], ["watch the", "{x}", "move"]]


def video_track(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    src = SOURCES[pick(rng, PHOTOS, 1)[0]]
    style = "leave_return" if index == 0 else ["linear", "sine", "leave_return"][int(rng.integers(3))]
    talk = index == 0 or rng.random() < 0.5  # the first clip always has both the gap and a sound track
    n = int(rng.integers(36, 73))  # 3 to 6 s at 12 fps
    duration = n / video.FPS
    spoken, samples = [], None
    if talk:
        say = SAY[int(rng.integers(len(SAY)))]
        chunks = [(src.text, src.type) if w == "{x}" else
                  (w.removesuffix(" the") if not src.det else w, None) for w in say]
        sent = Sentence(chunks)
        samples, spoken = speech.assemble(rng, [sent], speech.voice_for(rng), lead=rng.uniform(0.2, 1.0),
                                          total=duration)
    rel = f"media/{case_id}.mp4"
    track = video.render(rng, src.name, style, n, out / rel, samples)
    gold = Gold()
    gold.add_input({"id": "video0", "modality": "video", "path": rel, "fps": video.FPS, "frames": n,
                    "width": video.VW, "height": video.VH, "duration_s": duration})
    gold.ground(src.text, src.type, {"kind": "track", "input": "video0", "score": 1.0, "frames": track})
    gold.add_speech(spoken, "video0")
    frames = [f["frame"] for f in track]
    gap = any(b - a > 1 for a, b in zip(frames, frames[1:]))
    return finish(case_id, "video_track", gold, None,
                  transcript=" ".join(s.words() for s, _ in spoken) if spoken else None,
                  provenance={"source": src.name, "path": style, "leaves_and_returns": gap, "has_speech": talk})


NAVY = "United States Navy"
HOPPER = [
    Sentence([("Grace Hopper", P), ("worked for the", None), (NAVY, ORG)],
             relations=[("work_for", "Grace Hopper", NAVY)]),
    Sentence([("Grace Hopper", P), ("was born in", None), ("New York City", L)],
             relations=[("born_in", "Grace Hopper", "New York City")]),
    Sentence([("Grace Hopper", P), ("worked at", None), ("Harvard University", ORG)],
             relations=[("work_for", "Grace Hopper", "Harvard University")]),
    Sentence([("Grace Hopper", P), ("studied at", None), ("Yale University", ORG)]),
]


def mixed(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    written, said = pick(rng, HOPPER, 2)
    tb = TextBuilder()
    tb.add(written)
    names = ["grace_hopper"] + (pick(rng, [p for p in PHOTOS if p != "grace_hopper"], 1) if rng.random() < 0.5 else [])
    canvas = background(rng)
    items = paste_photos(rng, names, canvas)
    img_rel, wav_rel = f"media/{case_id}.png", f"media/{case_id}.wav"
    save_png(canvas, out / img_rel)
    samples, spoken = speech.assemble(rng, [said], speech.voice_for(rng))
    gold = Gold()
    gold.add_input({"id": "text", "modality": "text"})
    image_input(gold, img_rel)
    audio_input(gold, wav_rel, speech.write_wav(out / wav_rel, samples))
    gold.add_text(tb)
    for n, _, m in items:
        gold.ground(SOURCES[n].text, SOURCES[n].type, region(m))
    gold.add_speech(spoken, "audio0")
    return finish(case_id, "mixed", gold, tb.text, transcript=said.words(),
                  provenance=pasted_provenance(items, gold, [True] * len(items)))

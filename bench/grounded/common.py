"""Gold building blocks: sentences with tagged chunks, RLE masks, and the case builder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from muie.domain import Result

# The label schema the benchmark's gold uses (written next to the cases as schema.json).
SCHEMA: dict[str, Any] = {
    "entity_types": ["person", "organization", "location", "animal", "object", "vehicle", "plant"],
    "relation_types": ["work_for", "located_in", "born_in"],
    "event_types": {
        "Transport": ["Agent", "Artifact", "Vehicle", "Origin", "Destination"],
        "Meet": ["Entity", "Place"],
        "Transfer-Ownership": ["Buyer", "Seller", "Artifact", "Place"],
    },
    "descriptions": {
        "animal": "animal, pet",
        "object": "thing, household object, coin, cup",
        "plant": "flower, plant, tree",
        "location": "country, city, region, place, building",
        "born_in": "born in, native of",
        "work_for": "works for, employed by, member of",
        "located_in": "located in, based in",
    },
}


def rng_for(seed: int, kind_index: int, case_index: int) -> np.random.Generator:
    """One independent generator per case: a case does not depend on how many others there are."""
    return np.random.default_rng([int(seed), kind_index, case_index])


def encode_mask(m: np.ndarray) -> dict[str, Any]:
    """A boolean HxW mask as COCO compressed RLE (counts as str)."""
    rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def mask_bbox(m: np.ndarray) -> list[int]:
    """Tight [x0, y0, x1, y1] (x1, y1 exclusive) of a non-empty boolean mask."""
    ys, xs = np.nonzero(m)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- sentences


@dataclass
class Sentence:
    """A sentence as chunks: (words, tag). Tag: None (plain words), an entity type, or "TRIGGER".

    Entities are identified by their words; relations and events name them by their words.
    The same chunks are written into a text (character spans) or spoken chunk by chunk
    (time segments), so the gold is exact either way.
    """

    chunks: list[tuple[str, str | None]]
    relations: list[tuple[str, str, str]] = field(default_factory=list)  # (type, head, tail)
    events: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)  # (type, trigger, args)

    def entities(self) -> list[tuple[str, str]]:
        return [(w, t) for w, t in self.chunks if t not in (None, "TRIGGER")]

    def words(self) -> str:
        tb = TextBuilder()
        tb.add(self)
        return tb.text


class TextBuilder:
    """Writes sentences into one text and remembers the span of every tagged chunk."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[tuple[Sentence, int, int, int]] = []  # (sentence, chunk index, start, end)

    def add(self, s: Sentence) -> None:
        if self.text:
            self.text += " "
        for i, (w, _) in enumerate(s.chunks):
            if i and w[:1] not in ",;:":
                self.text += " "
            if i == 0:
                w = w[:1].upper() + w[1:]
            start = len(self.text)
            self.text += w
            self.spans.append((s, i, start, len(self.text)))
        self.text += "."


# --------------------------------------------------------------------------- gold


class Gold:
    """Accumulates one gold result; entities are merged by their words (one real thing, one entity)."""

    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []
        self._by_text: dict[str, dict[str, Any]] = {}
        self.relations: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def add_input(self, inp: dict[str, Any]) -> None:
        self.inputs.append(inp)

    def entity(self, text: str, type_: str) -> str:
        e = self._by_text.get(text)
        if e is None:
            e = {"id": f"E{len(self.entities) + 1}", "text": text, "type": type_, "score": 1.0,
                 "mentions": [], "groundings": []}
            self.entities.append(e)
            self._by_text[text] = e
        elif e["type"] != type_:
            raise ValueError(f"entity {text!r} typed both {e['type']!r} and {type_!r}")
        return e["id"]

    def eid(self, text: str) -> str:
        return self._by_text[text]["id"]

    def mention(self, text: str, type_: str, start: int, end: int) -> str:
        eid = self.entity(text, type_)
        self._by_text[text]["mentions"].append({"input": "text", "start": start, "end": end})
        return eid

    def ground(self, text: str, type_: str, grounding: dict[str, Any]) -> str:
        eid = self.entity(text, type_)
        self._by_text[text]["groundings"].append(grounding)
        return eid

    def relation(self, type_: str, head: str, tail: str) -> None:
        r = {"id": f"R{len(self.relations) + 1}", "type": type_, "head": self.eid(head),
             "tail": self.eid(tail), "score": 1.0}
        if not any((x["type"], x["head"], x["tail"]) == (r["type"], r["head"], r["tail"]) for x in self.relations):
            self.relations.append(r)

    def event(self, type_: str, trigger: str, mentions: list, groundings: list, args: list[tuple[str, str]]) -> None:
        self.events.append({
            "id": f"V{len(self.events) + 1}", "type": type_, "score": 1.0,
            "trigger": {"text": trigger, "mentions": mentions, "groundings": groundings},
            "arguments": [{"role": role, "entity": self.eid(t)} for role, t in args],
        })

    def add_text(self, tb: TextBuilder) -> None:
        """Mentions, relations and events of every sentence written into the text input."""
        triggers: dict[tuple[int, str], list] = {}
        for s, i, start, end in tb.spans:
            w, tag = s.chunks[i]
            if tag == "TRIGGER":
                triggers.setdefault((id(s), w), []).append({"input": "text", "start": start, "end": end})
            elif tag is not None:
                self.mention(w, tag, start, end)
        for s in _unique([sp[0] for sp in tb.spans]):
            self._facts(s, lambda trig, s=s: (triggers.get((id(s), trig), []), []))

    def add_speech(self, spoken: list[tuple[Sentence, list[tuple[float, float]]]], input_id: str) -> None:
        """Segments, relations and events of every sentence spoken into an audio (or video) input."""
        for s, times in spoken:
            trig: dict[str, list] = {}
            for (w, tag), (t0, t1) in zip(s.chunks, times):
                seg = {"kind": "segment", "input": input_id, "start_s": t0, "end_s": t1, "score": 1.0}
                if tag == "TRIGGER":
                    trig.setdefault(w, []).append(seg)
                elif tag is not None:
                    self.ground(w, tag, seg)
            self._facts(s, lambda t, trig=trig: ([], trig.get(t, [])))

    def _facts(self, s: Sentence, trigger_of) -> None:
        for r in s.relations:
            self.relation(*r)
        for type_, trig, args in s.events:
            mentions, groundings = trigger_of(trig)
            self.event(type_, trig, mentions, groundings, args)

    def result(self, text: str | None) -> dict[str, Any]:
        """The contract JSON, checked with agent.domain.Result; raises on any violation."""
        res = Result.model_validate({"version": "1", "inputs": self.inputs, "entities": self.entities,
                                     "relations": self.relations, "events": self.events, "trace": []})
        bad = res.violations(text)
        if bad:
            raise ValueError("gold breaks the contract: " + "; ".join(bad))
        return res.model_dump(mode="json", exclude_none=True)


def _unique(xs: list) -> list:
    seen, out = set(), []
    for x in xs:
        if id(x) not in seen:
            seen.add(id(x))
            out.append(x)
    return out

"""The typed result model: round trips, the contract's JSON keys, the discriminated
groundings, ``Result.violations`` and the validators of every piece."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pydantic import TypeAdapter, ValidationError

from muie.domain import (
    RLE,
    Argument,
    AudioInput,
    Entity,
    Event,
    Grounding,
    ImageInput,
    Mention,
    Region,
    Relation,
    Result,
    Schema,
    Segment,
    TextInput,
    Track,
    TrackFrame,
    Trigger,
    VideoInput,
)

TEXT = "Barack Obama visited Paris. Rebels bombed the bridge in Paris."
IMG_W, IMG_H = 64, 48
VID_W, VID_H = 32, 24


def coco_rle(height: int, width: int, box: tuple[int, int, int, int]) -> RLE:
    """A real COCO compressed RLE, as pycocotools writes it (counts decoded to str)."""
    arr = np.zeros((height, width), dtype=np.uint8, order="F")
    x0, y0, x1, y1 = box
    arr[y0:y1, x0:x1] = 1
    enc = mask_utils.encode(np.asfortranarray(arr))
    counts = enc["counts"].decode("ascii") if isinstance(enc["counts"], bytes) else enc["counts"]
    return RLE(size=[int(s) for s in enc["size"]], counts=counts)


def span(word: str, nth: int = 0) -> Mention:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(word, start + 1)
    return Mention(input="text", start=start, end=start + len(word))


def full_result() -> Result:
    return Result(
        inputs=[
            TextInput(),
            ImageInput(id="image0", path="a.jpg", width=IMG_W, height=IMG_H),
            AudioInput(id="audio0", path="b.wav", duration_s=9.1),
            VideoInput(id="video0", path="c.mp4", fps=25.0, frames=250, width=VID_W, height=VID_H, duration_s=10.0),
        ],
        entities=[
            Entity(
                id="E1", text="Barack Obama", type="person", score=0.93, mentions=[span("Barack Obama")],
                groundings=[
                    Region(input="image0", bbox=[12, 10, 40, 30], mask=coco_rle(IMG_H, IMG_W, (12, 10, 40, 30)),
                           score=0.88),
                    Segment(input="audio0", start_s=1.2, end_s=1.95, score=0.8),
                    Track(input="video0", score=0.7, frames=[
                        TrackFrame(frame=0, time_s=0.0, bbox=[1, 2, 10, 12],
                                   mask=coco_rle(VID_H, VID_W, (1, 2, 10, 12))),
                        TrackFrame(frame=1, time_s=0.04, bbox=[2, 2, 11, 12]),
                    ]),
                ],
            ),
            Entity(id="E2", text="Paris", type="location", score=0.9, mentions=[span("Paris"), span("Paris", 1)]),
            Entity(id="E3", text="Rebels", type="organization", mentions=[span("Rebels")]),
            Entity(id="E4", text="bridge", type="facility", mentions=[span("bridge")]),
        ],
        relations=[Relation(id="R1", type="located_in", head="E4", tail="E2", score=0.7)],
        events=[
            Event(id="V1", type="Attack", score=0.8,
                  trigger=Trigger(text="bombed", mentions=[span("bombed")]),
                  arguments=[Argument(role="Attacker", entity="E3"), Argument(role="Target", entity="E4"),
                             Argument(role="Place", entity="E2")]),
        ],
    )


def _walk(obj, path="$"):
    """Every (path, value) pair in a parsed JSON document."""
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")


# --------------------------------------------------------------------------- round trip and JSON


def test_the_rle_helper_makes_a_real_coco_mask():
    rle = coco_rle(IMG_H, IMG_W, (12, 10, 40, 30))
    decoded = mask_utils.decode({"size": rle.size, "counts": rle.counts.encode("ascii")})
    assert decoded.shape == (IMG_H, IMG_W)
    assert int(decoded.sum()) == (40 - 12) * (30 - 10)
    assert rle.size == [IMG_H, IMG_W]


def test_full_result_round_trips_through_json():
    r = full_result()
    again = Result.model_validate_json(r.model_dump_json())
    assert again == r
    assert Result.model_validate_json(r.to_json()) == r
    assert Result.model_validate_json(r.to_json(indent=None)) == r


def test_full_result_follows_the_contract():
    r = full_result()
    assert r.violations(TEXT) == []
    assert r.violations() == []


def test_to_json_writes_exactly_the_contract_keys_and_no_nulls():
    doc = json.loads(full_result().to_json())
    nulls = [p for p, v in _walk(doc) if v is None]
    assert nulls == [], f"None written at {nulls}"

    assert set(doc) == {"version", "inputs", "entities", "relations", "events", "trace"}
    assert doc["version"] == "1"
    assert doc["trace"] == []

    text_in, image_in, audio_in, video_in = doc["inputs"]
    assert text_in == {"id": "text", "modality": "text"}  # no "path": null
    assert set(image_in) == {"id", "modality", "path", "width", "height"}
    assert set(audio_in) == {"id", "modality", "path", "duration_s"}
    assert set(video_in) == {"id", "modality", "path", "fps", "frames", "width", "height", "duration_s"}

    e1 = doc["entities"][0]
    assert set(e1) == {"id", "text", "type", "score", "mentions", "groundings"}
    assert e1["mentions"] == [{"input": "text", "start": 0, "end": 12}]
    region, segment, track = e1["groundings"]
    assert set(region) == {"kind", "input", "bbox", "mask", "score"}  # no "label": null
    assert set(region["mask"]) == {"size", "counts"}
    assert region["mask"]["size"] == [IMG_H, IMG_W]
    assert isinstance(region["mask"]["counts"], str)
    assert set(segment) == {"kind", "input", "start_s", "end_s", "score"}  # no "label": null
    assert set(track) == {"kind", "input", "score", "frames"}
    assert set(track["frames"][0]) == {"frame", "time_s", "bbox", "mask"}
    assert set(track["frames"][1]) == {"frame", "time_s", "bbox"}  # no "mask": null

    assert doc["relations"] == [{"id": "R1", "type": "located_in", "head": "E4", "tail": "E2", "score": 0.7}]
    ev = doc["events"][0]
    assert set(ev) == {"id", "type", "score", "trigger", "arguments"}
    assert set(ev["trigger"]) == {"text", "mentions", "groundings"}
    assert ev["arguments"][0] == {"role": "Attacker", "entity": "E3"}


def test_optional_label_is_written_only_when_set():
    r = Result(inputs=[ImageInput(id="image0", path="a.jpg", width=10, height=10)],
               entities=[Entity(id="E1", text="STOP", type="misc",
                                groundings=[Region(input="image0", bbox=[0, 0, 5, 5], label="STOP")])])
    g = json.loads(r.to_json())["entities"][0]["groundings"][0]
    assert g["label"] == "STOP"


# --------------------------------------------------------------------------- discriminated groundings


def test_groundings_are_told_apart_by_kind():
    r = Result.model_validate_json(full_result().to_json())
    kinds = [type(g) for g in r.entities[0].groundings]
    assert kinds == [Region, Segment, Track]
    assert [g.kind for g in r.entities[0].groundings] == ["region", "segment", "track"]

    adapter = TypeAdapter(Grounding)
    assert isinstance(adapter.validate_python({"kind": "segment", "input": "a", "start_s": 0, "end_s": 1}), Segment)
    assert isinstance(adapter.validate_python({"kind": "region", "input": "i", "bbox": [0, 0, 1, 1]}), Region)
    assert isinstance(adapter.validate_python(
        {"kind": "track", "input": "v", "frames": [{"frame": 0, "bbox": [0, 0, 1, 1]}]}), Track)


def test_a_grounding_without_or_with_an_unknown_kind_is_rejected():
    adapter = TypeAdapter(Grounding)
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "blob", "input": "a", "start_s": 0, "end_s": 1})
    with pytest.raises(ValidationError):
        adapter.validate_python({"input": "a", "start_s": 0, "end_s": 1})
    # the kind decides the shape: a segment's fields under kind=region do not validate
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "region", "input": "a", "start_s": 0, "end_s": 1})


def test_json_schema_declares_the_kind_discriminator():
    s = Result.model_json_schema()
    groundings = s["$defs"]["Entity"]["properties"]["groundings"]["items"]
    assert groundings["discriminator"]["propertyName"] == "kind"
    assert set(groundings["discriminator"]["mapping"]) == {"region", "track", "segment"}


def test_result_json_schema_properties():
    props = Result.model_json_schema()["properties"]
    for key in ("entities", "relations", "events", "inputs"):
        assert key in props


# --------------------------------------------------------------------------- violations


def _one_violation(r: Result, *words: str) -> str:
    bad = r.violations(TEXT)
    assert len(bad) == 1, bad
    for w in words:
        assert w in bad[0], (w, bad[0])
    return bad[0]


def test_violation_mention_text_differs_from_entity_text():
    r = full_result()
    r.entities[1].mentions[0] = Mention(input="text", start=0, end=5)  # "Barac", not "Paris"
    _one_violation(r, "E2", "Paris")


def test_violation_mention_past_the_end_of_the_text():
    r = full_result()
    r.entities[1].mentions.append(Mention(input="text", start=len(TEXT) - 2, end=len(TEXT) + 3))
    _one_violation(r, "E2", "beyond")


def test_violation_relation_names_an_unknown_entity():
    r = full_result()
    r.relations.append(Relation(id="R2", type="located_in", head="E1", tail="E99"))
    _one_violation(r, "R2")


def test_violation_event_argument_names_an_unknown_entity():
    r = full_result()
    r.events[0].arguments.append(Argument(role="Instrument", entity="E42"))
    _one_violation(r, "V1", "E42")


def test_violation_bbox_outside_the_image():
    r = full_result()
    r.entities[2].groundings.append(Region(input="image0", bbox=[10, 10, IMG_W + 5, 20]))
    _one_violation(r, "E3", "bbox")


def test_violation_mask_size_not_height_width():
    r = full_result()
    # a real mask, but [width, height] instead of [height, width]
    r.entities[2].groundings.append(Region(input="image0", bbox=[0, 0, 10, 10],
                                           mask=coco_rle(IMG_W, IMG_H, (0, 0, 10, 10))))
    _one_violation(r, "E3", "mask size")


def test_violation_segment_ends_after_the_audio():
    r = full_result()
    r.entities[3].groundings.append(Segment(input="audio0", start_s=8.0, end_s=12.0))
    _one_violation(r, "E4", "12.0")


def test_each_violation_is_reported_together():
    r = full_result()
    r.entities[1].mentions[0] = Mention(input="text", start=0, end=5)
    r.relations.append(Relation(id="R2", type="located_in", head="E1", tail="E99"))
    r.events[0].arguments.append(Argument(role="Instrument", entity="E42"))
    r.entities[2].groundings.append(Segment(input="audio0", start_s=8.0, end_s=12.0))
    assert len(r.violations(TEXT)) == 4


# --------------------------------------------------------------------------- schema


def test_schema_empty_is_rejected():
    with pytest.raises(ValidationError):
        Schema()
    with pytest.raises(ValidationError):
        Schema.model_validate({})
    with pytest.raises(ValidationError):
        Schema(entity_types=[], relation_types=[], event_types={})


@pytest.mark.parametrize("field", ["entity_types", "relation_types"])
def test_schema_duplicate_names_are_rejected(field):
    with pytest.raises(ValidationError):
        Schema.model_validate({field: ["person", "person"]})
    with pytest.raises(ValidationError):  # duplicates after stripping
        Schema.model_validate({field: ["person", " person "]})


@pytest.mark.parametrize("data", [
    {"entity_types": ["person", ""]},
    {"entity_types": ["   "]},
    {"relation_types": [""]},
    {"event_types": {"": ["Agent"]}},
    {"event_types": {"  ": []}},
    {"event_types": {"Attack": ["Attacker", " "]}},
    {"event_types": {"Attack": ["Attacker", "Attacker"]}},
])
def test_schema_blank_or_duplicate_names_are_rejected(data):
    with pytest.raises(ValidationError):
        Schema.model_validate(data)


def test_schema_event_types_with_roles_are_accepted():
    s = Schema(event_types={"Attack": ["Attacker", "Target", "Instrument", "Place"],
                            "Transport": ["Agent", "Artifact", "Origin", "Destination"]})
    assert s.event_types["Attack"] == ["Attacker", "Target", "Instrument", "Place"]
    assert s.entity_types == [] and s.relation_types == []
    assert Schema(event_types={"Die": []}).event_types == {"Die": []}


def test_schema_json_round_trip():
    s = Schema(entity_types=["person", "organization", "location", "misc"],
               relation_types=["work_for", "located_in"],
               event_types={"Attack": ["Attacker", "Target"]},
               descriptions={"person": "a human being"})
    again = Schema.model_validate_json(s.model_dump_json())
    assert again == s
    assert Schema.model_validate(json.loads(s.model_dump_json())) == s


def test_schema_rejects_unknown_keys():
    with pytest.raises(ValidationError):
        Schema.model_validate({"entity_types": ["person"], "entity_type": ["x"]})


# --------------------------------------------------------------------------- field validators


@pytest.mark.parametrize("start,end", [(5, 5), (6, 5), (0, 0)])
def test_mention_end_must_be_after_start(start, end):
    with pytest.raises(ValidationError):
        Mention(input="text", start=start, end=end)


def test_mention_negative_start_rejected():
    with pytest.raises(ValidationError):
        Mention(input="text", start=-1, end=3)


def test_bbox_with_x0_after_x1_is_rejected():
    with pytest.raises(ValidationError):
        Region(input="image0", bbox=[10, 0, 5, 5])
    with pytest.raises(ValidationError):
        Region(input="image0", bbox=[0, 10, 5, 5])  # y0 > y1
    with pytest.raises(ValidationError):
        TrackFrame(frame=0, bbox=[10, 0, 5, 5])
    with pytest.raises(ValidationError):
        Region(input="image0", bbox=[0, 0, 5])  # not four numbers
    assert Region(input="image0", bbox=[3, 3, 3, 3]).bbox == [3, 3, 3, 3]  # a degenerate box is allowed


def test_segment_with_end_before_start_is_rejected():
    with pytest.raises(ValidationError):
        Segment(input="audio0", start_s=2.0, end_s=1.0)
    assert Segment(input="audio0", start_s=1.0, end_s=1.0).end_s == 1.0

"""The one typed model of the domain, spoken by every package of muie.

Inputs, the label schema, entities / relations / events with their mentions and
groundings, and the trace. Serialised with ``model_dump(mode="json", exclude_none=True)``
this is exactly the result JSON of the extraction contract (version 1).

Coordinates are fixed once: character offsets ``[start, end)`` into the text input,
``[x0, y0, x1, y1]`` pixel boxes, COCO compressed RLE masks, seconds from the start.
This module imports nothing else from the project.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONTRACT_VERSION: Literal["1"] = "1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------- schema


class Schema(_Model):
    """The user's label schema. Type names are the user's and are used verbatim."""

    entity_types: list[str] = Field(default_factory=list)
    relation_types: list[str] = Field(default_factory=list)
    event_types: dict[str, list[str]] = Field(default_factory=dict)
    descriptions: dict[str, str] = Field(
        default_factory=dict,
        description="Optional: a short description per type or role name, used to type by meaning.",
    )

    @field_validator("entity_types", "relation_types")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        out = [n.strip() for n in v]
        if any(not n for n in out):
            raise ValueError("type names must be non-empty strings")
        if len(set(out)) != len(out):
            raise ValueError(f"type names must be unique, got {v}")
        return out

    @field_validator("event_types")
    @classmethod
    def _events(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, roles in v.items():
            if not name.strip():
                raise ValueError("event type names must be non-empty strings")
            if any(not r.strip() for r in roles) or len(set(roles)) != len(roles):
                raise ValueError(f"roles of event type {name!r} must be unique non-empty strings")
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> Schema:
        if not (self.entity_types or self.relation_types or self.event_types):
            raise ValueError("the schema names no entity, relation or event type")
        return self


# --------------------------------------------------------------------------- inputs


class TextInput(_Model):
    id: str = "text"
    modality: Literal["text"] = "text"
    path: str | None = None


class ImageInput(_Model):
    id: str
    modality: Literal["image"] = "image"
    path: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    damage: str | None = Field(None, description="What decoding found damaged in the file (a truncated or "
                               "corrupt part); what decoded was used. Absent when the file decoded cleanly.")


class AudioInput(_Model):
    id: str
    modality: Literal["audio"] = "audio"
    path: str
    duration_s: float = Field(ge=0)
    damage: str | None = Field(None, description="What decoding found damaged in the file (a truncated or "
                               "corrupt part); what decoded was used. Absent when the file decoded cleanly.")


class VideoInput(_Model):
    id: str
    modality: Literal["video"] = "video"
    path: str
    fps: float = Field(gt=0)
    frames: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    duration_s: float = Field(ge=0)
    damage: str | None = Field(None, description="What decoding found damaged in the file (a truncated or "
                               "corrupt part); what decoded was used. Absent when the file decoded cleanly.")


Input = Annotated[TextInput | ImageInput | AudioInput | VideoInput, Field(discriminator="modality")]


# --------------------------------------------------------------------------- groundings

BBox = Annotated[list[float], Field(min_length=4, max_length=4)]


class Mention(_Model):
    """A span ``[start, end)`` of characters in a text input."""

    input: str = "text"
    start: int = Field(ge=0)
    end: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Mention:
        if self.end <= self.start:
            raise ValueError(f"mention end {self.end} must be after start {self.start}")
        return self


class RLE(_Model):
    """A COCO compressed run-length mask, as pycocotools writes it."""

    size: Annotated[list[int], Field(min_length=2, max_length=2)]  # [height, width]
    counts: str


def _check_box(b: list[float]) -> list[float]:
    if b[0] > b[2] or b[1] > b[3]:
        raise ValueError(f"bbox {b} must be [x0, y0, x1, y1] with x0<=x1 and y0<=y1")
    return b


class Region(_Model):
    kind: Literal["region"] = "region"
    input: str
    bbox: BBox
    mask: RLE | None = None
    score: float = Field(default=1.0, ge=0, le=1)
    label: str | None = Field(default=None, description="Optional: what the tool saw (detector class, OCR words).")

    _box = field_validator("bbox")(classmethod(lambda cls, b: _check_box(b)))


class TrackFrame(_Model):
    frame: int = Field(ge=0)
    time_s: float | None = Field(default=None, ge=0)
    bbox: BBox
    mask: RLE | None = None

    _box = field_validator("bbox")(classmethod(lambda cls, b: _check_box(b)))


class Track(_Model):
    kind: Literal["track"] = "track"
    input: str
    score: float = Field(default=1.0, ge=0, le=1)
    frames: list[TrackFrame] = Field(min_length=1)


class Segment(_Model):
    kind: Literal["segment"] = "segment"
    input: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    score: float = Field(default=1.0, ge=0, le=1)
    label: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.end_s < self.start_s:
            raise ValueError(f"segment end {self.end_s} is before its start {self.start_s}")
        return self


Grounding = Annotated[Region | Track | Segment, Field(discriminator="kind")]


# --------------------------------------------------------------------------- extraction


class Entity(_Model):
    id: str
    text: str = Field(min_length=1)
    type: str = Field(min_length=1)
    score: float = Field(default=1.0, ge=0, le=1)
    mentions: list[Mention] = Field(default_factory=list)
    groundings: list[Grounding] = Field(default_factory=list)


class Relation(_Model):
    id: str
    type: str = Field(min_length=1)
    head: str
    tail: str
    score: float = Field(default=1.0, ge=0, le=1)


class Trigger(_Model):
    text: str = Field(min_length=1)
    mentions: list[Mention] = Field(default_factory=list)
    groundings: list[Grounding] = Field(default_factory=list)


class Argument(_Model):
    role: str = Field(min_length=1)
    entity: str


class Event(_Model):
    id: str
    type: str = Field(min_length=1)
    score: float = Field(default=1.0, ge=0, le=1)
    trigger: Trigger
    arguments: list[Argument] = Field(default_factory=list)


class TraceStep(_Model):
    """One thing the agent did: a node, a tool call, a check and what it changed."""

    model_config = ConfigDict(extra="allow")

    step: int = Field(ge=0)
    node: str
    summary: str = ""


class Result(_Model):
    version: Literal["1"] = CONTRACT_VERSION
    inputs: list[Input] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    trace: list[TraceStep] = Field(default_factory=list)

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, exclude_none=True)

    def violations(self, text: str | None = None) -> list[str]:
        """Every way this result breaks the contract (empty when it follows it)."""
        bad: list[str] = []
        inputs = {i.id: i for i in self.inputs}
        if len(inputs) != len(self.inputs):
            bad.append("input ids must be unique")
        ids = [e.id for e in self.entities]
        if len(set(ids)) != len(ids):
            bad.append("entity ids must be unique")
        ents = set(ids)

        def mentions(ms: list[Mention], label: str, where: str) -> None:
            for m in ms:
                if not isinstance(inputs.get(m.input), TextInput):
                    bad.append(f"{where}: mention names {m.input!r}, not a text input")
                if text is not None:
                    if m.end > len(text):
                        bad.append(f"{where}: mention [{m.start}, {m.end}) beyond the text ({len(text)} chars)")
                    elif text[m.start : m.end] != label:
                        bad.append(f"{where}: text[{m.start}:{m.end}] = {text[m.start:m.end]!r}, not {label!r}")

        def groundings(gs: list[Any], where: str) -> None:
            for g in gs:
                meta = inputs.get(g.input)
                if meta is None:
                    bad.append(f"{where}: grounding names unknown input {g.input!r}")
                    continue
                if isinstance(g, Region) and isinstance(meta, ImageInput):
                    x0, y0, x1, y1 = g.bbox
                    if x0 < 0 or y0 < 0 or x1 > meta.width or y1 > meta.height:
                        bad.append(f"{where}: bbox {g.bbox} outside {meta.width}x{meta.height}")
                    if g.mask is not None and g.mask.size != [meta.height, meta.width]:
                        bad.append(f"{where}: mask size {g.mask.size} != [{meta.height}, {meta.width}]")
                if isinstance(g, Segment) and isinstance(meta, (AudioInput, VideoInput)):
                    if g.end_s > meta.duration_s + 0.05:
                        bad.append(f"{where}: segment ends at {g.end_s} after the media's {meta.duration_s} s")

        for e in self.entities:
            where = f"entity {e.id} {e.text!r}"
            mentions(e.mentions, e.text, where)
            groundings(e.groundings, where)
        rel_ids = [r.id for r in self.relations]
        if len(set(rel_ids)) != len(rel_ids):
            bad.append("relation ids must be unique")
        for r in self.relations:
            if r.head not in ents or r.tail not in ents:
                bad.append(f"relation {r.id}: head/tail must be entity ids")
        for v in self.events:
            where = f"event {v.id}"
            mentions(v.trigger.mentions, v.trigger.text, where + " trigger")
            groundings(v.trigger.groundings, where + " trigger")
            for a in v.arguments:
                if a.entity not in ents:
                    bad.append(f"{where}: argument {a.role!r} names unknown entity {a.entity!r}")
        return bad

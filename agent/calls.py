"""Typed tool calls: one model per tool, its arguments and its result.

A reasoner emits calls as plain data (``{"tool": ..., "arguments": {...}}``), as an LLM
would; the validate node parses them into ``ToolCall``, a union discriminated by the
tool's versioned name. Results are typed too, so that every observation the reasoner
reads back has one shape per tool. Imports only the domain model.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextSpanArgs(_Args):
    """A slice ``[start, end)`` of a text input: the chunk a text tool works on."""

    input: str = "text"
    start: int = Field(ge=0)
    end: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "TextSpanArgs":
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class SpanRef(_Args):
    """An entity already found, as a text tool sees it: id, type and character span."""

    id: str
    type: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)


class RecognizeEntitiesArgs(TextSpanArgs):
    entity_types: list[str] = Field(min_length=1)
    threshold: float | None = Field(default=None, ge=0, le=1, description="Override the typing threshold.")


class ExtractRelationsArgs(TextSpanArgs):
    relation_types: list[str] = Field(min_length=1)
    entities: list[SpanRef] = Field(min_length=2)
    threshold: float | None = Field(default=None, ge=0, le=1)


class DetectEventsArgs(TextSpanArgs):
    event_types: dict[str, list[str]] = Field(min_length=1)
    entities: list[SpanRef] = Field(default_factory=list)
    entity_types: list[str] = Field(default_factory=list, description="Types for arguments not yet an entity.")
    threshold: float | None = Field(default=None, ge=0, le=1)


# --------------------------------------------------------------------------- results


class SpanCandidate(BaseModel):
    start: int
    end: int
    text: str
    type: str
    score: float = Field(ge=0, le=1)
    source: str = Field(description="Where the candidate came from: the model's label or 'noun_chunk'.")


class RecognizeEntitiesResult(BaseModel):
    entities: list[SpanCandidate] = Field(default_factory=list)
    sentences: list[tuple[int, int]] = Field(default_factory=list)


class RelationCandidate(BaseModel):
    type: str
    head: str
    tail: str
    score: float = Field(ge=0, le=1)
    evidence: str = Field(default="", description="The dependency path that supports it.")


class ExtractRelationsResult(BaseModel):
    relations: list[RelationCandidate] = Field(default_factory=list)


class ArgumentCandidate(BaseModel):
    role: str
    entity: str | None = None
    span: SpanCandidate | None = Field(default=None, description="An argument that is not yet an entity.")
    score: float = Field(ge=0, le=1)


class EventCandidate(BaseModel):
    type: str
    trigger: SpanCandidate
    score: float = Field(ge=0, le=1)
    arguments: list[ArgumentCandidate] = Field(default_factory=list)


class DetectEventsResult(BaseModel):
    events: list[EventCandidate] = Field(default_factory=list)


# --------------------------------------------------------------------------- calls


class RecognizeEntities(_Args):
    """Find entity mentions of the schema's types in a chunk of text."""

    tool: Literal["recognize_entities.v1"] = "recognize_entities.v1"
    arguments: RecognizeEntitiesArgs


class ExtractRelations(_Args):
    """Find relations of the schema's types between entities of a chunk of text."""

    tool: Literal["extract_relations.v1"] = "extract_relations.v1"
    arguments: ExtractRelationsArgs


class DetectEvents(_Args):
    """Find event triggers of the schema's types and their arguments in a chunk of text."""

    tool: Literal["detect_events.v1"] = "detect_events.v1"
    arguments: DetectEventsArgs


ToolCall = Annotated[Union[RecognizeEntities, ExtractRelations, DetectEvents], Field(discriminator="tool")]
ToolResult = Union[RecognizeEntitiesResult, ExtractRelationsResult, DetectEventsResult]

TOOL_CALL = TypeAdapter(ToolCall)
TOOL_NAMES: tuple[str, ...] = tuple(
    m.model_fields["tool"].default for m in (RecognizeEntities, ExtractRelations, DetectEvents)
)


class Observation(BaseModel):
    """A tool call the agent ran, and what came back (or the error it raised)."""

    call_id: int
    call: ToolCall
    result: ToolResult | None = None
    error: str | None = None
    seconds: float = 0.0

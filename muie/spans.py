"""What the text tools speak: a chunk of a text input, and the candidate spans,
relations and events they return."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from muie.calls import Args


class TextSpanArgs(Args):
    """A slice ``[start, end)`` of a text input: the chunk a text tool works on."""

    input: str = "text"
    start: int = Field(ge=0)
    end: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> TextSpanArgs:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class SpanCandidate(BaseModel):
    start: int
    end: int
    text: str
    type: str
    score: float = Field(ge=0, le=1)
    source: str = Field(description="Where the candidate came from: the model's label or 'noun_chunk'.")


class RelationCandidate(BaseModel):
    type: str
    head: str
    tail: str
    score: float = Field(ge=0, le=1)
    evidence: str = Field(default="", description="The dependency path that supports it.")


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

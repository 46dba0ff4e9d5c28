"""The shapes the MCP tools take and give, as Pydantic models: the SDK makes each tool's JSON
Schema from them. The label schema's shape is the project's ``Schema`` model; it is read with
the project's own parser, so that a malformed one is bad input naming what is wrong."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from muie.domain import Result, Schema

SchemaArg = Annotated[
    dict[str, Any] | None,
    WithJsonSchema({"anyOf": [Schema.model_json_schema(), {"type": "null"}], "description": (
        "The label schema: entity_types (names), relation_types (names), event_types (event name -> its "
        "argument roles), descriptions (optional: a few words per type or role, used to type by meaning). "
        "Type names are used verbatim, any names work. Leave it out for a general default schema.")}),
]
"""A label schema: shown to clients as ``Schema``'s JSON Schema, read by ``parse_schema``."""

ThreadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class InlineMedia(BaseModel):
    """A media file sent in the call itself, for a client whose files the server cannot read."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="The file's name with its suffix (photo.png, "
                      "talk.wav, clip.mp4): the suffix says whether it is an image, a recording or a video.")
    data: str = Field(min_length=1, description="The file's bytes, base64-encoded (a data: URL is read too).")


class RunInfo(BaseModel):
    """One kept extraction, as the runs list shows it."""

    run: str = Field(description="The run's id (a unique start of it is enough where a run is named).")
    created: str = Field(description="When it was made (UTC, ISO 8601).")
    reasoner: str
    inputs: list[str] = Field(description="Its inputs: media paths, or the input id ('text').")
    entities: int
    relations: int
    events: int
    seconds: float = Field(description="How long the extraction took.")


class RunsOutput(BaseModel):
    """The runs tool's answer: the latest runs, or one run and its result."""

    runs: list[RunInfo] = Field(default_factory=list, description="The kept runs, latest first (one when a "
                                "run was named).")
    result: Result | None = Field(None, description="The named run's result, as the extraction contract's JSON.")

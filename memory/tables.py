"""The store's tables (SQLModel): media, runs and what they found, and the tool-result cache.

A run's whole result is kept as its contract JSON (``Run.result``), and its items again
as rows that can be queried: entities, their groundings, relations, events and their
arguments, and the texts read off media (transcripts with word times, words read in
images). Rows of one run are written in one transaction with the run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel


def now() -> datetime:
    return datetime.now(UTC)


class MediaAsset(SQLModel, table=True):
    """A media file by its content: the same bytes under another name are the same asset."""

    __tablename__ = "media"
    hash: str = Field(primary_key=True, max_length=64, description="SHA-256 of the file's bytes.")
    kind: str = Field(max_length=8, description="image, audio, video or text.")
    path: str = Field(sa_column=Column(Text, nullable=False), description="Where it was last seen.")
    size: int
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                 description="What its probe says: width, height, duration_s, fps, frames.")
    first_seen: datetime = Field(default_factory=now)
    last_seen: datetime = Field(default_factory=now)


class Run(SQLModel, table=True):
    __tablename__ = "runs"
    id: str = Field(primary_key=True, max_length=32)
    created: datetime = Field(default_factory=now, index=True)
    reasoner: str = Field(max_length=64)
    text_hash: str | None = Field(default=None, max_length=64, index=True)
    text: str | None = Field(default=None, sa_column=Column(Text))
    schema_: dict[str, Any] = Field(sa_column=Column("schema", JSON, nullable=False))
    tasks: list[str] = Field(sa_column=Column(JSON, nullable=False))
    inputs: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False),
                                         description="The result's inputs, each with its media hash.")
    seconds: float = 0.0
    tool_calls: int = 0
    cached_calls: int = 0
    entities: int = 0
    relations: int = 0
    events: int = 0
    result: str = Field(sa_column=Column(Text, nullable=False), description="The result as the contract's JSON.")


class RunMedia(SQLModel, table=True):
    """Which media a run read, under which input id."""

    __tablename__ = "run_media"
    run_id: str = Field(foreign_key="runs.id", primary_key=True, max_length=32)
    input_id: str = Field(primary_key=True, max_length=32)
    media_hash: str = Field(foreign_key="media.hash", index=True, max_length=64)


class EntityRow(SQLModel, table=True):
    __tablename__ = "entities"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True, max_length=32)
    eid: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    type: str = Field(max_length=128, index=True)
    score: float = 1.0
    mentions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class GroundingRow(SQLModel, table=True):
    """Where an entity or an event's trigger is: a region, a time segment or a track."""

    __tablename__ = "groundings"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True, max_length=32)
    owner: str = Field(max_length=16, description="E3 (an entity) or V1 (an event's trigger).")
    input_id: str = Field(max_length=32)
    media_hash: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=8)
    start_s: float | None = None
    end_s: float | None = None
    x0: float | None = None
    y0: float | None = None
    x1: float | None = None
    y1: float | None = None
    label: str | None = Field(default=None, sa_column=Column(Text))
    score: float = 1.0
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False),
                                 description="The grounding as the contract has it.")


class RelationRow(SQLModel, table=True):
    __tablename__ = "relations"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True, max_length=32)
    rid: str = Field(max_length=16)
    type: str = Field(max_length=128)
    head: str = Field(max_length=16)
    tail: str = Field(max_length=16)
    score: float = 1.0


class EventRow(SQLModel, table=True):
    __tablename__ = "events"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True, max_length=32)
    vid: str = Field(max_length=16)
    type: str = Field(max_length=128)
    trigger: str = Field(sa_column=Column(Text, nullable=False))
    score: float = 1.0
    arguments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ReadText(SQLModel, table=True):
    """A text read off a media input: a transcript with word times, or the words read in an image."""

    __tablename__ = "read_texts"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True, max_length=32)
    input_id: str = Field(max_length=32)
    media_hash: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=8, description="speech or ocr.")
    text: str = Field(sa_column=Column(Text, nullable=False))
    words: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ToolResult(SQLModel, table=True):
    """A tool's result for one call, kept for the same media, tool, arguments and model version."""

    __tablename__ = "tool_cache"
    key: str = Field(primary_key=True, max_length=64, description="SHA-256 of everything the result depends on.")
    tool: str = Field(max_length=64, index=True)
    media_hash: str | None = Field(default=None, max_length=64, index=True)
    arguments: str = Field(sa_column=Column(Text, nullable=False), description="The call's arguments as JSON.")
    model_version: str = Field(max_length=64)
    result: str = Field(sa_column=Column(Text, nullable=False), description="The result model as JSON.")
    created: datetime = Field(default_factory=now)


Index("ix_groundings_owner", GroundingRow.run_id, GroundingRow.owner)


class KeptRequest(SQLModel, table=True):
    """A request's fingerprint and the run that answered it: the same request again is
    answered with that run's result (``memory.kept_runs``)."""

    __tablename__ = "kept_requests"
    fingerprint: str = Field(primary_key=True, max_length=64, description="SHA-256 of everything the result "
                             "depends on: text, media bytes, schema, tasks, reasoner, settings, muie's version.")
    run_id: str = Field(foreign_key="runs.id", max_length=32, index=True)
    created: datetime = Field(default_factory=now)

"""Configuration, in one place.

Every field has a default, a description, and an environment variable ``MUIE_<NAME>``
that overrides it. No other module reads the environment or holds a model path.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from agent.errors import InputError

ENV_PREFIX = "MUIE_"


class Settings(BaseModel):
    # the agent loop
    max_iterations: int = Field(6, ge=1, description="Reason/act/verify rounds before the agent stops.")
    max_call_retries: int = Field(2, ge=0, description="Times an invalid tool call goes back to the reasoner.")
    max_tool_calls: int = Field(4096, ge=1, description="Tool calls allowed in one run, all rounds together.")
    # text handling
    chunk_chars: int = Field(2000, ge=200, description="Longest chunk of text a text tool sees at once.")
    # embedded models
    spacy_model: Literal["auto", "md", "sm"] = Field(
        "auto", description="spaCy English pipeline: md (better), sm, or auto (md when installed)."
    )
    embedding_model: str | None = Field(
        None, description="Sentence-embedding model folder; default: the MiniLM that ships in a package."
    )
    # thresholds of the embedded reasoner, calibrated on the development sets
    entity_threshold: float = Field(0.30, ge=0, le=1, description="Least score of a typed entity mention.")
    noun_chunk_threshold: float = Field(0.45, ge=0, le=1, description="Least similarity of a noun chunk to a type.")
    nominal_threshold: float = Field(
        0.5, ge=0, le=1, description="Least similarity of a common noun ('a cat') to a type the NER model lacks."
    )
    relation_threshold: float = Field(0.55, ge=0, le=1, description="Least score of a relation.")
    event_threshold: float = Field(0.55, ge=0, le=1, description="Least similarity of a trigger to an event type.")
    argument_threshold: float = Field(
        0.30, ge=0, le=1, description="Least similarity of a noun phrase in an event's slot to an entity type."
    )
    role_threshold: float = Field(0.25, ge=0, le=1, description="Least score of an argument for a role.")
    # batching of model calls across concurrent runs
    batch_max: int = Field(512, ge=1, description="Most items in one batched model call.")
    batch_wait_ms: float = Field(
        50.0, ge=0, description="Longest wait for busy runs to join a batch (runs all parked go at once)."
    )

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is not None:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as e:
            err = e.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "settings"
            raise InputError(f"{ENV_PREFIX}{name.upper()}", err["msg"]) from None


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    return Settings.from_env()

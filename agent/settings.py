"""Configuration, in one place.

Every field has a default, a description, and an environment variable ``MUIE_<NAME>``
that overrides it. No other module reads the environment or holds a model path.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from agent.errors import InputError

ENV_PREFIX = "MUIE_"


class Settings(BaseModel):
    # the agent loop
    max_iterations: int = Field(8, ge=1, description="Reason/act/verify rounds before the agent stops.")
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
    pictured_nominal_threshold: float = Field(
        0.36, ge=0, le=1, description="Least similarity of a common noun to a type in text that describes a picture."
    )
    relation_threshold: float = Field(0.55, ge=0, le=1, description="Least score of a relation.")
    event_threshold: float = Field(0.55, ge=0, le=1, description="Least similarity of a trigger to an event type.")
    argument_threshold: float = Field(
        0.30, ge=0, le=1, description="Least similarity of a noun phrase in an event's slot to an entity type."
    )
    role_threshold: float = Field(0.25, ge=0, le=1, description="Least score of an argument for a role.")
    # audio
    whisper_model: Literal["tiny.en", "base"] = Field(
        "tiny.en", description="Whisper model for speech: tiny.en (ships by default) or base (better, slower)."
    )
    sound_threshold: float = Field(
        0.5, ge=0, le=1, description="Least YAMNet score of a sound taken as evidence of an event (e.g. a gunshot)."
    )
    visual_event_threshold: float = Field(
        0.6, ge=0, le=1, description="Least score of a thing seen taken as evidence of an event (e.g. a rifle)."
    )
    # embedded image segmenter (segment_image.v1)
    salient_model: Literal["small", "medium"] = Field(
        "medium", description="ISNet model of the salient-object masks: medium (16-bit weights; faster on CPU "
        "than small, whose 8-bit convolutions are slow there) or small."
    )
    region_min_score: float = Field(
        0.35, ge=0, le=1, description="Least score of an image region found by words; weaker matches give no region."
    )
    # full image models: real weights come only from checkpoint files named here
    sam_checkpoint: str | None = Field(
        None, description="SAM checkpoint file (a state dict, e.g. sam_vit_h_4b8939.pth)."
    )
    sam_model_type: Literal["vit_h", "vit_l", "vit_b", "tiny"] = Field(
        "vit_h", description="SAM architecture of the checkpoint; tiny is a small SAM of the same design, for tests."
    )
    imagebind_checkpoint: str | None = Field(None, description="ImageBind checkpoint file (imagebind_huge.pth).")
    imagebind_model: Literal["huge", "tiny"] = Field(
        "huge", description="ImageBind architecture of the checkpoint; tiny is a small one of its design, for tests."
    )
    image_model_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the full image models run: auto is CUDA when there is a GPU, else the CPU."
    )
    image_segmenter: Literal["embedded", "sam"] = Field(
        "embedded", description="Image segmenter: the embedded tools, or SAM (needs MUIE_SAM_CHECKPOINT)."
    )
    region_scorer: Literal["embedded", "imagebind"] = Field(
        "embedded", description="Region-text scorer: embedded tools, or ImageBind (needs MUIE_IMAGEBIND_CHECKPOINT)."
    )
    # batching of model calls across concurrent runs
    batch_max: int = Field(512, ge=1, description="Most items in one batched model call.")
    batch_wait_ms: float = Field(
        50.0, ge=0, description="Longest wait for busy runs to join a batch (runs all parked go at once)."
    )

    @field_validator("image_segmenter", "region_scorer")
    @classmethod
    def _backend_has_checkpoint(cls, v: str, info: ValidationInfo) -> str:
        needs = {"sam": "sam_checkpoint", "imagebind": "imagebind_checkpoint"}.get(v)
        if needs and not info.data.get(needs):
            raise ValueError(f"{v} needs a checkpoint file: set {ENV_PREFIX}{needs.upper()}")
        return v

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

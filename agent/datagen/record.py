"""The instruction-tuning record ``muie datagen`` writes, as REAMO trains on: LLaVA-style.

One JSON object a line::

    {"id": "mixed-000#0",
     "input_image": ["media/mixed-000.png"], "input_audio": ["media/mixed-000.wav"], "input_video": [],
     "conversations": [{"from": "human", "value": "<image>\\n<audio>\\nFind the ... Text: ..."},
                       {"from": "gpt", "value": "Entities:\\n- ...\\n\\nGrounding:\\n... <Module>...</Module>..."}],
     "meta": {"case": "mixed-000", "key": "...", "mode": "template", "variant": 0, ...}}

Paths are the gold's, as written (relative ones are relative to the media root the run was
given). The human turn holds one ``<image>`` / ``<audio>`` / ``<video>`` placeholder per
path of that list, in order, on its first lines. ``meta`` says where the record comes from
and what it holds (tasks, modalities, modules: the tools its meta-responses call), and,
in llm mode, the tokens it cost.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PLACEHOLDER = {"image": "<image>", "audio": "<audio>", "video": "<video>"}
MODES = ("template", "llm")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Turn(_Strict):
    from_: Literal["human", "gpt"] = Field(alias="from")
    value: str = Field(min_length=1)


class Usage(_Strict):
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)


class RecordMeta(_Strict):
    case: str = Field(description="Id of the annotated case it was made from.")
    key: str = Field(pattern=r"^[0-9a-f]{32}$", description="What makes it: case id, content, mode, variant.")
    mode: Literal["template", "llm"]
    variant: int = Field(ge=0)
    source: str = Field(description="The annotated file it was read from.")
    tasks: list[Literal["ner", "re", "ee"]] = Field(description="Tasks with items in the answer.")
    modalities: list[Literal["text", "image", "audio", "video"]]
    modules: list[str] = Field(description="Tools the meta-responses call, one entry per call.")
    model: str | None = Field(None, description="The LLM that wrote the wording (llm mode).")
    usage: Usage | None = None


class Record(_Strict):
    id: str = Field(min_length=1)
    input_image: list[str] = Field(default_factory=list)
    input_audio: list[str] = Field(default_factory=list)
    input_video: list[str] = Field(default_factory=list)
    conversations: list[Turn] = Field(min_length=2)
    meta: RecordMeta

    @model_validator(mode="after")
    def _well_formed(self) -> Record:
        roles = [t.from_ for t in self.conversations]
        if roles != ["human", "gpt"] * (len(roles) // 2) or len(roles) % 2:
            raise ValueError(f"turns must alternate human, gpt and end with gpt; got {roles}")
        first = self.conversations[0].value
        for modality, tag in PLACEHOLDER.items():
            paths = getattr(self, f"input_{modality}")
            if first.count(tag) != len(paths):
                raise ValueError(f"{len(paths)} {modality} path(s) but {first.count(tag)} {tag} placeholder(s)")
            if any(t.value.count(tag) for t in self.conversations[1:]):
                raise ValueError(f"{tag} placeholder outside the first human turn")
        return self

    @property
    def answer(self) -> str:
        return self.conversations[-1].value

    def to_line(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False)

    def content_hash(self) -> str:
        """What the record says (inputs and turns), whatever case and variant it came from: for dedupe."""
        body = self.model_dump(mode="json", by_alias=True, include={"input_image", "input_audio", "input_video",
                                                                    "conversations"})
        return digest(body)


class Reject(_Strict):
    """A case (or variant) that gave no record, and why; ``OUT.rejects.jsonl``, one a line."""

    key: str
    case: str
    variant: int = Field(ge=0)
    mode: Literal["template", "llm"]
    kind: Literal["invalid output", "contradicts gold", "duplicate", "bad case", "bad request"]
    reason: str
    usage: Usage | None = None

    def to_line(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


class Rejected(Exception):
    """The case gives no record; ``kind`` and ``reason`` go to the rejects file."""

    def __init__(self, kind: str, reason: str, usage: Usage | None = None) -> None:
        self.kind, self.reason, self.usage = kind, reason, usage
        super().__init__(f"{kind}: {reason}")


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]

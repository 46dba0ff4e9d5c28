"""What a reasoner is: it reads the state of a run and decides what to do next.

A reasoner returns tool calls as plain data, as an LLM would emit them; the graph
validates them. It may also return the extraction as it now stands (the draft), or say
that it is done. Reasoners are swappable: the embedded one runs offline on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field

from muie.calls import CallKey
from muie.draft import Draft
from muie.findings import Finding
from muie.request import Chunk, Request
from muie.tools import Observation


@dataclass(frozen=True)
class View:
    """What a reasoner sees of the run."""

    request: Request
    chunks: list[Chunk]
    draft: Draft
    observations: list[Observation] = field(default_factory=list)
    call_errors: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    history: list[CallKey] = field(default_factory=list)
    iteration: int = 0


class Decision(BaseModel):
    calls: list[dict[str, Any]] = Field(default_factory=list)
    draft: Draft | None = None
    done: bool = False
    note: str = ""


class Reasoner(Protocol):
    name: str

    def decide(self, view: View) -> Decision: ...

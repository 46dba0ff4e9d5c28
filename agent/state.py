"""The graph's typed state."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from muie.calls import CallKey
from muie.domain import TraceStep
from muie.draft import Draft
from muie.findings import Finding
from muie.request import Chunk, Request
from muie.tools import Observation, ToolCall


class AgentState(TypedDict, total=False):
    request: Request
    chunks: list[Chunk]
    draft: Draft
    pending: list[dict[str, Any]]  # tool calls as the reasoner emitted them (plain data)
    calls: list[ToolCall]  # the ones that validated, waiting to run
    call_errors: list[str]  # why the last emitted calls did not validate, for the reasoner
    observations: list[Observation]  # what the last round of tool calls returned
    history: list[CallKey]  # the key of every call that ran, all rounds
    findings: list[Finding]  # the verifier's open critique, for the reasoner
    critiqued: list[str]  # keys of findings already sent to the reasoner: each is sent once
    trace: Annotated[list[TraceStep], operator.add]
    iteration: int
    retries: int
    tool_calls: int
    done: bool
    model_seconds: float

"""The agent as a LangGraph state machine.

    perceive -> reason -> validate -> act -> absorb -> verify -> reason ... -> finish
                  ^          |                            |
                  +- invalid calls (bounded) -------------+- findings or more to do (bounded)
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from langgraph.graph import END, START, StateGraph

from muie.agent import nodes
from muie.agent.nodes import Deps
from muie.agent.state import AgentState


def after_reason(state: AgentState) -> Literal["validate", "verify"]:
    return "validate" if state.get("pending") else "verify"


def after_validate(state: AgentState) -> Literal["reason", "act", "verify"]:
    if state.get("call_errors"):
        return "reason"
    return "act" if state.get("calls") else "verify"


def after_verify(state: AgentState, deps: Deps) -> Literal["reason", "finish"]:
    if state["iteration"] >= deps.settings.max_iterations:
        return "finish"
    if state.get("tool_calls", 0) >= deps.settings.max_tool_calls:
        return "finish"
    if state.get("done") and not state.get("findings"):
        return "finish"
    return "reason"


def build_graph(deps: Deps):  # type: ignore[no-untyped-def]
    g = StateGraph(AgentState)
    for name in ("perceive", "reason", "validate", "act", "absorb", "verify", "finish"):
        g.add_node(name, partial(getattr(nodes, name), deps=deps))
    g.add_edge(START, "perceive")
    g.add_edge("perceive", "reason")
    g.add_conditional_edges("reason", after_reason)
    g.add_conditional_edges("validate", after_validate)
    g.add_edge("act", "absorb")
    g.add_edge("absorb", "verify")
    g.add_conditional_edges("verify", partial(after_verify, deps=deps), ["reason", "finish"])
    g.add_edge("finish", END)
    return g.compile()

"""A scripted reasoner: returns prepared decisions in order and records what it saw.
A test double for the graph's logic (retries, bounds, routing), never for extraction."""

from __future__ import annotations

from muie.reasoner.base import Decision, View


class ScriptedReasoner:
    name = "scripted"

    def __init__(self, decisions: list[Decision], repeat_last: bool = False) -> None:
        self.decisions = list(decisions)
        self.repeat_last = repeat_last
        self.views: list[View] = []

    def decide(self, view: View) -> Decision:
        self.views.append(view)
        if len(self.views) <= len(self.decisions):
            return self.decisions[len(self.views) - 1]
        if self.repeat_last:
            return self.decisions[-1]
        return Decision(done=True, note="script ended")

"""Reasoners: what decides the agent's next tool calls. The embedded one is the default."""

from muie.reasoner.base import Decision, Reasoner, View
from muie.reasoner.embedded import EmbeddedReasoner

__all__ = ["Decision", "EmbeddedReasoner", "Reasoner", "View"]

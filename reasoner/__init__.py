"""Reasoners: what decides the agent's next tool calls. The embedded one is the default."""

from reasoner.base import Decision, Reasoner, View
from reasoner.embedded import EmbeddedReasoner

__all__ = ["Decision", "EmbeddedReasoner", "Reasoner", "View"]

"""Reasoners: what decides the agent's next tool calls, chosen by name from a registry.

``REASONERS`` maps each name to the module and factory that build it (imported only when
that reasoner is asked for): the embedded one (the default, offline), ``llm`` (any
OpenAI-compatible endpoint) and ``local`` (a transformers model on this machine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from muie.errors import InputError
from muie.reasoner.base import Decision, Reasoner, View

if TYPE_CHECKING:  # pragma: no cover
    from muie.settings import Settings

REASONERS: dict[str, tuple[str, str]] = {
    "embedded": ("muie.reasoner.embedded", "EmbeddedReasoner"),
    "llm": ("muie.reasoner.llm", "LLMReasoner"),
    "local": ("muie.reasoner.local_vlm", "local_reasoner"),
}


def make_reasoner(name: str, settings: Settings) -> Reasoner:
    """The reasoner registered under ``name``, built with ``settings``."""
    if name not in REASONERS:
        raise InputError("reasoner", f"unknown reasoner {name!r} (available: {', '.join(REASONERS)})")
    module, factory = REASONERS[name]
    built: Reasoner = getattr(importlib.import_module(module), factory)(settings)
    return built


__all__ = ["REASONERS", "Decision", "Reasoner", "View", "make_reasoner"]

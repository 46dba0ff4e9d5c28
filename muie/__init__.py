"""muie: grounded multimodal universal information extraction.

    >>> import muie
    >>> result = muie.extract(text="Marie Curie was born in Warsaw.")
    >>> [(e.text, e.type) for e in result.entities]

This package is the contract every room of the project speaks (``muie.domain``,
``muie.errors``, ``muie.settings``, ...), importing nothing of the rest; the public API
below is resolved on first use, so ``import muie`` loads no model and no graph.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from muie.agent.api import Agent, extract, extract_batch
    from muie.domain import Entity, Event, Relation, Result, Schema
    from muie.settings import Settings

_PUBLIC = {"Agent": "muie.agent.api", "extract": "muie.agent.api", "extract_batch": "muie.agent.api",
           "Entity": "muie.domain", "Event": "muie.domain", "Relation": "muie.domain", "Result": "muie.domain",
           "Schema": "muie.domain", "Settings": "muie.settings"}

__all__ = ["Agent", "Entity", "Event", "Relation", "Result", "Schema", "Settings", "extract", "extract_batch"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'muie' has no attribute {name!r}")

"""muie: grounded multimodal universal information extraction.

    >>> import muie
    >>> result = muie.extract(text="Marie Curie was born in Warsaw.")
    >>> [(e.text, e.type) for e in result.entities]
"""

from agent.api import Agent, extract, extract_batch
from agent.domain import Entity, Event, Relation, Result, Schema
from agent.settings import Settings

__all__ = ["Agent", "Entity", "Event", "Relation", "Result", "Schema", "Settings", "extract", "extract_batch"]

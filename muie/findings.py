"""What the verifier finds: a typed finding, the fix it applies, and the critique it
sends back to the reasoner.

A finding says what is wrong, where, and how sure the check is. It may carry a ``fix``
the verifier applies itself (merge two entities that are one thing, drop a grounding
with no support, move a region to the entity it shows), or a ``replan``: a typed request
that the reasoner try again another way (a different tool, target or threshold). The
trace records every finding with what was done. Imports only the domain model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class Merge(BaseModel):
    """``drop`` is the same thing as ``keep``: its mentions and groundings move to ``keep``."""

    kind: Literal["merge"] = "merge"
    what: Literal["entity", "event"] = "entity"
    keep: str
    drop: str


class DropGrounding(BaseModel):
    """Grounding ``index`` of entity (or event trigger) ``owner`` has no support."""

    kind: Literal["drop_grounding"] = "drop_grounding"
    owner: str
    index: int = Field(ge=0)


class MoveGrounding(BaseModel):
    """Grounding ``index`` of ``owner`` shows entity ``to`` instead."""

    kind: Literal["move_grounding"] = "move_grounding"
    owner: str
    index: int = Field(ge=0)
    to: str


Fix = Annotated[Merge | DropGrounding | MoveGrounding, Field(discriminator="kind")]


class Replan(BaseModel):
    """What the reasoner is asked to try again, and where.

    - ``reground``: find entity ``entity`` in media input ``input`` with another tool
      (its region was wrong or missing);
    - ``reextract``: read ``[start, end)`` of text ``input`` again for entities (a name
      there that no entity covers);
    - ``refill``: look again for the arguments of event ``event`` in ``[start, end)``
      of text ``input`` (a role nothing filled).
    """

    goal: Literal["reground", "reextract", "refill"]
    input: str
    entity: str | None = None
    event: str | None = None
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)


class Finding(BaseModel):
    """Something a check found wrong: what, where, how sure, and what was done."""

    check: str
    message: str
    where: str = ""
    severity: Literal["info", "warning", "error"] = "error"
    confidence: float = Field(default=1.0, ge=0, le=1, description="How sure the check is.")
    action: str = Field(default="", description="What the verifier did about it, in words.")
    fix: Fix | None = None
    replan: Replan | None = None

    @property
    def key(self) -> str:
        """Stable identity of the finding across rounds: a critique is sent once."""
        return f"{self.check}|{self.where}|{self.replan.model_dump_json() if self.replan else self.message}"

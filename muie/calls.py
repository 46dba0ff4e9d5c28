"""What every tool call is made of: arguments that forbid unknown fields, and an entity as
a tool sees it."""

from __future__ import annotations


from pydantic import BaseModel, ConfigDict, Field



class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpanRef(Args):
    """An entity already found, as a text tool sees it: id, type and character span."""

    id: str
    type: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)

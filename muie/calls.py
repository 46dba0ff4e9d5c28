"""What every tool call is made of, whatever the tool.

- ``Args``: a tool's arguments; unknown fields are refused.
- ``Call``: ``{"tool": "<name>.v<n>", "arguments": {...}}``; each tool narrows ``tool`` to
  its own name and ``arguments`` to its own model (``muie.tools`` builds the union).
- ``CallKey``: a call as the run's history keeps it, computed by its tool: which tool, on
  which input, over which span, for which entity, at which threshold, given how many
  entities. A reasoner asks the history (``History``) what has run, and a call whose key
  ran is not asked again, so the loop always moves on.
- ``SpanRef``: an entity already found, as a text tool sees it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Call(Args):
    """A tool call: the tool's versioned name and its arguments."""

    tool: str
    arguments: Args


class SpanRef(Args):
    """An entity already found, as a text tool sees it: id, type and character span."""

    id: str
    type: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)


class CallKey(BaseModel):
    """A call's identity in the run's history."""

    model_config = ConfigDict(frozen=True)

    tool: str
    input: str
    span: tuple[float, float] | None = None
    """Characters ``[start, end)`` of a text, or seconds of an audio input; None: all of it."""
    entity: str | None = None
    """The entity the call is for (a region found again for it)."""
    threshold: float | None = None
    """A threshold the call overrides: a second, targeted pass is another call."""
    given: int | None = None
    """How many entities (or link targets) the call was given: more of them is another call."""

    def __str__(self) -> str:
        """``tool@input:start:end>entity~threshold#given``, as a prompt shows the history."""
        out = f"{self.tool}@{self.input}" + ("" if self.span is None else f":{self.span[0]:g}:{self.span[1]:g}")
        out += "" if self.entity is None else f">{self.entity}"
        out += "" if self.threshold is None else f"~{self.threshold:g}"
        return out + ("" if self.given is None else f"#{self.given}")

    def work(self) -> CallKey:
        """The same call, whatever it was given."""
        return self.model_copy(update={"given": None})


class History:
    """What ran in a run, asked by what it was."""

    def __init__(self, keys: Iterable[CallKey]) -> None:
        self.keys = set(keys)
        self._work = {k.work() for k in self.keys}

    def __contains__(self, key: CallKey) -> bool:
        return key in self.keys

    def ran(self, tool: str, input: str, span: tuple[float, float] | None = None, given: int | None = None) -> bool:
        """Whether ``tool`` ran on ``input`` (over ``span``): with exactly ``given`` entities when
        it is given, with any number of them when not."""
        key = CallKey(tool=tool, input=input, span=span, given=given)
        return key in self.keys if given is not None else key in self._work

    def with_keys(self, keys: Iterable[CallKey]) -> History:
        """This history and ``keys`` besides (calls to count as made)."""
        return History([*self.keys, *keys])

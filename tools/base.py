"""What every tool is: a versioned name, typed arguments and result, a batched run, and
the key of a call in the run's history.

A tool declares its call and result models (beside it, in its own module) and the
modality it serves; ``muie.tools`` lists the tools once and builds the registry (a dict
lookup, never if/elif) and the unions from that list. ``run_batch`` takes many calls at once,
possibly from several concurrent runs, so that the model behind the tool sees one batch.
Heavy models load lazily inside ``run_batch``, never at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

from muie.calls import CallKey
from muie.settings import Settings

Modality = Literal["text", "audio", "image", "video"]

A = TypeVar("A", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class ToolContext:
    """What a tool may read besides its arguments: the run's inputs and settings."""

    texts: dict[str, str]
    settings: Settings
    descriptions: dict[str, str] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)
    """Input id -> file path of the run's media inputs (audio, image, video)."""

    def chunk(self, input_id: str, start: int, end: int) -> str:
        return self.texts[input_id][start:end]


class Tool(Generic[A, R]):
    name: ClassVar[str]
    call_model: ClassVar[type[BaseModel]]
    result_model: ClassVar[type[BaseModel]]
    modality: ClassVar[Modality]
    """The inputs it works on: ``text`` (a chunk of a text), ``audio``, ``image`` or ``video``."""

    def key(self, args: A) -> CallKey:
        """The call's key in the run's history: the tool and its input; a tool whose calls
        differ by more (a span, an entity, a threshold, what they are given) says so."""
        return CallKey(tool=self.name, input=args.input)  # type: ignore[attr-defined]

    def check(self, args: A, ctx: ToolContext) -> None:
        """Raise ``CallError`` when the arguments cannot run against these inputs."""

    def run_batch(self, items: list[tuple[A, ToolContext]]) -> list[R]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The tool as a reasoner's catalogue shows it: name, purpose, argument schema."""
        args_model = self.call_model.model_fields["arguments"].annotation
        return {
            "name": self.name,
            "description": (self.call_model.__doc__ or "").strip(),
            "parameters": args_model.model_json_schema() if isinstance(args_model, type) else {},
        }


def readable_inputs(media: dict[str, str], probe: Callable[[str], Any]) -> list[str]:
    """Ids of the media inputs whose file ``probe`` reads (the others raise ``InputError``):
    for an error that names the inputs a call could have meant."""
    from muie.errors import InputError

    found = []
    for k, p in media.items():
        try:
            probe(p)
            found.append(k)
        except InputError:
            pass
    return found

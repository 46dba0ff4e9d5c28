"""What every tool is: a versioned name, typed arguments and result, and a batched run.

A tool declares its call model (from ``agent.calls``); the registry maps the call's
name to the tool (a dict lookup, never if/elif). ``run_batch`` takes many calls at once,
possibly from several concurrent runs, so that the model behind the tool sees one batch.
Heavy models load lazily inside ``run_batch``, never at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from muie.settings import Settings

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


_THREAD_LIMIT: list[int] = []


def limit_cpu_threads(n: int) -> None:
    """Hold the model sessions this process creates from now on to ``n`` threads each (a
    batch worker's share of the cores)."""
    _THREAD_LIMIT[:] = [max(1, n)]


def cpu_threads(default: int) -> int:
    """Threads for a model session: the process's limit when one is set, else ``default``."""
    return _THREAD_LIMIT[0] if _THREAD_LIMIT else default

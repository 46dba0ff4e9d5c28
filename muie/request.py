"""What the user asked for: the inputs, the schema and the tasks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from muie.derived import DerivedText
from muie.domain import Input, Schema

Task = Literal["ner", "re", "ee"]
Chunk = tuple[str, int, int]  # (text id, start, end): the user's text or a derived one
ALL_TASKS: tuple[Task, ...] = ("ner", "re", "ee")


class Request(BaseModel):
    """What the user asked for: the inputs, the schema and the tasks."""

    text: str | None = None
    documents: list[str] = Field(default_factory=list, description="A batch: independent texts, one result each.")
    inputs: list[Input] = Field(default_factory=list)
    schema_: Schema = Field(alias="schema")
    tasks: list[Task] = Field(default_factory=lambda: list(ALL_TASKS))
    derived: list[DerivedText] = Field(
        default_factory=list, description="Texts the run read off its media (speech); filled by the graph.")

    model_config = {"populate_by_name": True}

    @property
    def is_batch(self) -> bool:
        return bool(self.documents)

    @property
    def texts(self) -> dict[str, str]:
        """Text inputs by id: ``text``, or ``doc0``, ``doc1``... for a batch."""
        if self.documents:
            return {f"doc{i}": t for i, t in enumerate(self.documents)}
        return {"text": self.text} if self.text is not None else {}

    @property
    def all_texts(self) -> dict[str, str]:
        """The user's texts and the texts derived from media, by id: what the text tools read."""
        return self.texts | {d.id: d.text for d in self.derived}

    @property
    def media(self) -> dict[str, str]:
        """Media input id -> file path."""
        return {i.id: i.path for i in self.inputs if i.modality != "text" and i.path}

"""What a question about media gets back: an answer in words, and where it was found."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from muie.domain import Grounding


class Citation(BaseModel):
    """One piece of evidence behind an answer: an entity, event or spoken passage and where it occurs."""

    what: str = Field(description="The entity's name, the event's trigger, or the words said.")
    type: str | None = Field(None, description="Entity or event type, when the citation is one.")
    input: str = Field(description="Id of the input it was found in (text, image0, audio0, video0).")
    media: str | None = Field(None, description="Content hash of that input's media.")
    path: str | None = None
    grounding: Grounding | None = Field(None, description="The region, segment or track; none for a text span.")
    start: int | None = Field(None, description="Character span in the text, when it is text.")
    end: int | None = None


class Answer(BaseModel):
    question: str
    answer: str = Field(description="The answer in words, with the times and places it cites.")
    kind: str = Field(description="What the question was taken as (who_speaks, where, said_about, when, list, ...).")
    citations: list[Citation] = Field(default_factory=list)
    source: Literal["memory", "extraction"] = Field(
        description="memory: answered from results already kept; extraction: media were extracted first.")
    run_id: str | None = Field(None, description="The stored run the answer comes from.")
    answered_by: str = Field("embedded", description="embedded (a typed query over the results) or llm (the model "
                             "answered from them and cited them); a failed LLM leaves the embedded answer, with why.")
    thread_id: str | None = None

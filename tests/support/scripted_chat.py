"""A scripted chat model for a real LangGraph agent: each turn is a function of the conversation
so far that returns the model's message (a tool call, or the final answer). Only the model's
choices are scripted; the graph, the tools and what they answer are real."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

Turn = Callable[[list[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    script: list[Any] = Field(description="The turns, in order (each a Turn).")
    seen: list[list[BaseMessage]] = Field(default_factory=list, description="The conversation at each turn.")
    bound: list[str] = Field(default_factory=list, description="Names of the tools bound to the model.")

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound = [getattr(t, "name", str(t)) for t in tools]
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        if len(self.seen) >= len(self.script):
            raise AssertionError(f"the script has {len(self.script)} turns; a turn more was asked for")
        turn = self.script[len(self.seen)]
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=turn(list(messages)))])

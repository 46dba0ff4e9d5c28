"""Typed answers from any OpenAI-compatible endpoint, with every failure told apart.

``LLMClient.ask(messages, response_model)`` returns a validated Pydantic object. The
layers, innermost first:

- the ``openai`` client retries a timeout, a dropped connection, a rate limit (429, its
  ``Retry-After`` honoured) and a server error (5xx) with exponential backoff, at most
  ``llm_max_retries`` times;
- ``instructor`` parses the answer (tool calling or a JSON object, ``llm_mode``) into the
  response model; an answer that is not JSON or breaks the model's schema goes back to
  the LLM with the validation errors, at most ``llm_validation_retries`` times;
- whatever is still wrong becomes one ``LLMError`` that says what failed, where, and after
  how many attempts: the reasoner falls back on it, or fails the run with it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from muie.errors import MuieError
from muie.settings import Settings

M = TypeVar("M", bound=BaseModel)


class LLMError(MuieError):
    """The LLM endpoint gave no usable answer, retries spent. ``kind`` says which failure."""

    exit_code = 1

    def __init__(self, kind: str, endpoint: str, detail: str, attempts: int = 1) -> None:
        self.kind, self.endpoint, self.detail, self.attempts = kind, endpoint, detail, attempts
        super().__init__(f"LLM at {endpoint}: {kind} after {attempts} attempt(s): {detail}")


@dataclass
class Answer:
    """A typed answer and what it cost."""

    value: BaseModel
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMClient:
    """One endpoint, one model; thread-safe (the openai client is)."""

    def __init__(self, settings: Settings) -> None:
        import instructor
        from openai import OpenAI

        self.settings = settings
        # instructor logs each failed attempt as an error; they are this module's to report, once
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self.openai = OpenAI(base_url=settings.llm_base_url, api_key=key, timeout=settings.llm_timeout_s,
                             max_retries=settings.llm_max_retries)
        modes = {"tools": instructor.Mode.TOOLS, "json": instructor.Mode.JSON}
        mode = modes.get(settings.llm_mode, instructor.Mode.JSON)  # meta: plain text, no instructor
        self.typed = instructor.from_openai(self.openai, mode=mode)

    @property
    def endpoint(self) -> str:
        return f"{self.settings.llm_base_url} ({self.settings.llm_model})"

    def ask(self, messages: list[dict[str, Any]], response_model: type[M]) -> Answer:
        """The answer as ``response_model``, or ``LLMError``."""
        import openai
        from instructor.core.exceptions import InstructorError, InstructorRetryException

        s = self.settings
        t0 = time.perf_counter()
        try:
            value, completion = self.typed.chat.completions.create_with_completion(
                model=s.llm_model, messages=messages, response_model=response_model,
                max_retries=s.llm_validation_retries, max_tokens=s.llm_max_tokens, temperature=s.llm_temperature,
            )
        except InstructorRetryException as e:  # every attempt failed: the schema broken, or the API
            cause = _api_error(e)
            if cause is None:
                raise LLMError("invalid output", self.endpoint, _last_error(e), e.n_attempts) from e
            raise self._api(cause) from e
        except openai.APIError as e:
            raise self._api(e) from e
        except (InstructorError, ValidationError, json.JSONDecodeError, ValueError, AssertionError) as e:
            raise LLMError("invalid output", self.endpoint, f"{type(e).__name__}: {_short(str(e))}") from e
        usage = getattr(completion, "usage", None)
        return Answer(value=value, seconds=time.perf_counter() - t0,
                      prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                      completion_tokens=getattr(usage, "completion_tokens", 0) or 0)


    def complete(self, messages: list[dict[str, Any]]) -> tuple[str, float]:
        """The answer's plain text (meta-responses), and the seconds it took; or ``LLMError``."""
        import openai

        s = self.settings
        t0 = time.perf_counter()
        try:
            out = self.openai.chat.completions.create(model=s.llm_model, messages=messages,  # type: ignore[arg-type]
                                                      max_tokens=s.llm_max_tokens, temperature=s.llm_temperature)
        except openai.APIError as e:
            raise self._api(e) from e
        if not out.choices:
            raise LLMError("invalid response", self.endpoint, "no choices in the answer")
        return out.choices[0].message.content or "", time.perf_counter() - t0

    def _api(self, e: Exception) -> LLMError:
        """An error of the API itself (the openai client has retried what it retries)."""
        import openai

        s, tries = self.settings, self.settings.llm_max_retries + 1
        if isinstance(e, openai.APITimeoutError):
            return LLMError("timeout", self.endpoint, f"no answer in {s.llm_timeout_s:g} s", tries)
        if isinstance(e, openai.APIConnectionError):
            return LLMError("unreachable", self.endpoint, _short(str(e.__cause__ or e)), tries)
        if isinstance(e, openai.RateLimitError):
            return LLMError("rate limited", self.endpoint, _status_detail(e), tries)
        if isinstance(e, openai.APIStatusError):
            retried = e.status_code >= 500 or e.status_code in (408, 409)
            return LLMError(f"HTTP {e.status_code}", self.endpoint, _status_detail(e), tries if retried else 1)
        return LLMError("invalid response", self.endpoint, f"{type(e).__name__}: {_short(str(e))}", 1)


def _api_error(e: BaseException) -> Exception | None:
    """The openai error under an instructor error, if that is what it is."""
    import openai

    seen: set[int] = set()
    stack: list[BaseException | None] = [e.__cause__, e.__context__]
    stack += [a.exception for a in (getattr(e, "failed_attempts", None) or [])]
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, openai.APIError):
            return x
        stack += [x.__cause__, x.__context__]
    return None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _status_detail(e: Any) -> str:
    body = getattr(e, "body", None)
    return _short(json.dumps(body) if isinstance(body, (dict, list)) else str(body or e))


def _last_error(e: Any) -> str:
    attempts = getattr(e, "failed_attempts", None) or []
    last = attempts[-1].exception if attempts else e
    return _short(f"{type(last).__name__}: {last}")

"""REAMO's meta-response format, both ways: ``<Module>...</Module><Instruction>...</Instruction>``.

REAMO's LLM ends its answer with one such pair per decoder it invokes: the module's name
and what it should do. Here a module is a tool (``segment_image.v1``, or its bare name
``segment_image``, or one of REAMO's module names in ``prompts/llm_modules.yaml``), and
the instruction is the tool's arguments as a JSON object, or plain words for the tools
that look for a target ("image0: the coffee cup").

- ``render(calls)`` writes typed tool calls as that text (JSON arguments, with ``<``, ``>``
  and ``&`` escaped so that no argument can close a tag), so a fine-tuned model's
  training data can be written in this form;
- ``parse(text)`` reads it back into typed calls and never raises: each block that does
  not make a valid call (unknown module, arguments that are not JSON or break the call's
  model, a tag left open) is an error message naming the block, and parsing goes on.
  Text around and between the blocks is ignored; tags are matched ignoring case and spaces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from muie.prompts import load
from muie.tools import TOOL_CALL, TOOL_NAMES, ToolCall

_BLOCK = re.compile(
    r"<\s*module\s*>(?P<module>.*?)<\s*/\s*module\s*>\s*"
    r"(?:<\s*instruction\s*>(?P<instruction>.*?)(?:<\s*/\s*instruction\s*>|(?=<\s*module\s*>)|\Z))?",
    re.IGNORECASE | re.DOTALL,
)
_TARGET_FIELD = {"segment_image.v1": "text", "segment_audio.v1": "target"}
"""Tools whose plain-words instruction is the target's words."""
_INPUT_PREFIX = re.compile(r"^\s*(?P<input>[A-Za-z]+\d+)\s*[:,]\s*(?P<rest>.*)$", re.DOTALL)


@dataclass
class Parsed:
    """The calls read from a meta-response, and why each other block was not one."""

    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def render(calls: Iterable[ToolCall | dict[str, Any]]) -> str:
    """Typed calls (or plain call dicts) as meta-response text, one block per line."""
    lines = []
    for c in calls:
        call = c if isinstance(c, BaseModel) else TOOL_CALL.validate_python(c)
        args = call.arguments.model_dump(mode="json", exclude_defaults=True)
        body = json.dumps(args, ensure_ascii=False, sort_keys=True)
        body = body.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        lines.append(f"<Module>{call.tool}</Module><Instruction>{body}</Instruction>")
    return "\n".join(lines)


def tool_name(module: str) -> str | None:
    """The versioned tool a module name means, or None."""
    name = " ".join(module.split())
    if name in TOOL_NAMES:
        return name
    bare = {t.rsplit(".", 1)[0]: t for t in TOOL_NAMES}
    if name.lower() in bare:
        return bare[name.lower()]
    aliases = {k.lower(): v for k, v in load("llm_modules.yaml").items()}
    found = aliases.get(name.lower())
    return found if found in TOOL_NAMES else None


def parse(text: str) -> Parsed:
    """Every ``<Module>``/``<Instruction>`` block of ``text`` as a typed call, or an error."""
    out = Parsed()
    if not isinstance(text, str):
        out.errors.append(f"meta-response is {type(text).__name__}, not text")
        return out
    for k, m in enumerate(_BLOCK.finditer(text)):
        module = m.group("module").strip()
        tool = tool_name(module)
        if tool is None:
            out.errors.append(f"block {k}: unknown module {module[:60]!r} (known: {', '.join(TOOL_NAMES)})")
            continue
        instruction = m.group("instruction")
        if instruction is None:
            out.errors.append(f"block {k} ({tool}): no <Instruction> after the module")
            continue
        try:
            args = _arguments(tool, instruction.strip())
            out.calls.append(TOOL_CALL.validate_python({"tool": tool, "arguments": args}))
        except ValueError as e:  # not JSON, or words for a tool that takes none
            out.errors.append(f"block {k} ({tool}): {e}")
        except ValidationError as e:
            out.errors.append(f"block {k} ({tool}): " + "; ".join(
                f"{'.'.join(map(str, err['loc'][1:]))}: {err['msg']}" for err in e.errors()))
    return out


def _arguments(tool: str, instruction: str) -> dict[str, Any]:
    if instruction.startswith("{"):
        try:
            args = json.loads(instruction)
        except json.JSONDecodeError as e:
            raise ValueError(f"instruction is not valid JSON ({e.msg} at character {e.pos})") from None
        if not isinstance(args, dict):
            raise ValueError("instruction is not a JSON object")
        return args
    words = _INPUT_PREFIX.match(instruction)
    if tool not in _TARGET_FIELD or words is None or not words.group("rest").strip():
        raise ValueError("instruction is neither a JSON object of arguments nor 'input: target words'")
    return {"input": words.group("input"), _TARGET_FIELD[tool]: words.group("rest").strip()}

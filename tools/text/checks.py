"""Checks shared by the text tools: the chunk a call names must exist in the inputs."""

from __future__ import annotations

from muie.errors import CallError
from muie.spans import TextSpanArgs
from muie.tools.base import ToolContext


def check_span(args: TextSpanArgs, ctx: ToolContext) -> None:
    text = ctx.texts.get(args.input)
    if text is None:
        raise CallError(f"input {args.input!r} is not a text input (known: {sorted(ctx.texts)})")
    if args.end > len(text):
        raise CallError(f"span [{args.start}, {args.end}) runs past the end of {args.input!r} ({len(text)} chars)")
    if args.end - args.start > ctx.settings.chunk_chars * 2:
        raise CallError(f"span of {args.end - args.start} chars is too long; "
                        f"split it (at most {ctx.settings.chunk_chars})")

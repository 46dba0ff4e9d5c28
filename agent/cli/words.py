"""What the command line calls the inputs of the Python API: its flags.

Library errors name an input as the API takes it (``text``, ``tasks``, ``reasoner``); the
command line prints the same error with the flag that gives it.
"""

from __future__ import annotations

from muie.errors import InputError

CLI_WORDS = {"text": "--text", "tasks": "--tasks", "reasoner": "--reasoner", "schema": "--schema",
             "types": "--entity-types/--relation-types/--event-types"}
"""Inputs of the Python API -> the flags of the command line that give them."""
CLI_REASONS = {"give text or media (images, audio, video)":
               "give text (--text or --text-file) or media (--image, --audio, --video)",
               "give it as audio": "give it with --audio"}
"""Words of a reason that the command line says with its flags."""


def in_cli_words(e: InputError) -> str:
    """The one line the command line prints for bad input: the input by its flag."""
    reason = e.reason
    for plain, flags in CLI_REASONS.items():
        reason = reason.replace(plain, flags)
    return f"{CLI_WORDS.get(e.what, e.what)}: {reason}"

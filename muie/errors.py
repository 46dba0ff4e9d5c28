"""One error hierarchy.

- ``InputError``: the user's input is bad (missing file, malformed schema, empty text).
  The command line prints its one line and exits 2; nothing is written.
- ``CallError``: a tool call the reasoner emitted is invalid. It goes back to the
  reasoner as feedback, never to the user.
- Anything else is a programming error and is raised as it is.
"""

from __future__ import annotations


class MuieError(Exception):
    """Base of every error muie raises on purpose."""


class InputError(MuieError):
    """``what`` is the input by the name the caller gave it (a file's path, ``text``,
    ``tasks``, ``reasoner``); the command line says the same with its flags."""

    exit_code = 2

    def __init__(self, what: str, reason: str) -> None:
        self.what, self.reason = what, reason
        super().__init__(f"{what}: {reason}")



class CallError(MuieError):
    """A tool call that cannot run as emitted; the message is for the reasoner."""

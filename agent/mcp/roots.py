"""The folders ``muie mcp`` reads files from (``--root DIR``, repeatable; default the working
folder): a path a client names is resolved (links followed) and refused unless it lies in one
of them, so that an agent cannot read arbitrary files through the server. Media the server
keeps itself (inline uploads, under the data folder) are readable too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from muie.errors import InputError


class Roots:
    """Resolved folders; ``check`` turns a client's path into a readable file inside them.

    A relative path is taken from the first root. ``kept`` are folders the server writes
    itself (the data folder's media): readable, never named to a client as a root."""

    def __init__(self, folders: Sequence[str | Path], kept: Iterable[Path] = ()) -> None:
        if not folders:
            raise InputError("--root", "give at least one folder")
        out = []
        for f in folders:
            p = Path(f).expanduser()
            if not p.is_dir():
                raise InputError(f"--root {f}", "no such folder" if not p.exists() else "is not a folder")
            out.append(p.resolve())
        self.folders: list[Path] = out
        self.kept: list[Path] = [Path(k).resolve() for k in kept]

    def inside(self, path: Path) -> bool:
        """Whether the resolved ``path`` lies in a root or a kept folder."""
        return any(path.is_relative_to(r) for r in (*self.folders, *self.kept))

    def check(self, given: str, what: str | None = None) -> Path:
        """The resolved file ``given`` names; an ``InputError`` naming it when it lies outside
        the roots (checked first: nothing is said of files outside), is missing or is not a file."""
        name = what or given
        if not given or not given.strip():
            raise InputError(name, "an empty path")
        if "\x00" in given:
            raise InputError(name, "the path holds a NUL byte")
        p = Path(given).expanduser()
        resolved = (p if p.is_absolute() else self.folders[0] / p).resolve()
        if not self.inside(resolved):
            raise InputError(name, "is outside the folders this server reads (" + self.describe() + "); "
                             "give a file inside them, or send the media inline")
        if not resolved.exists():
            raise InputError(name, "no such file")
        if not resolved.is_file():
            raise InputError(name, "is not a regular file")
        return resolved

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.folders)

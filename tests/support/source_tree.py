"""The project's source as it is installed: a folder in which ``muie/`` holds the contract's
files and each room under its import name (``muie/agent`` -> ``agent/``...), as links.

mypy and import-linter find modules by folders, not through the editable install's
finder that maps ``muie.agent`` to ``agent/``; they read this tree instead.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.paths import ROOT

ROOMS = {"agent": "agent", "tools": "tools", "reasoner": "reasoner", "memory": "memory", "prompts": "prompts",
         "training": "training"}


def source_tree(into: Path, replace: dict[str, Path] | None = None) -> Path:
    """Build the tree under ``into`` and return it; ``replace`` maps a room name to another
    folder to link in its place (a test's deliberately broken copy)."""
    pkg = into / "muie"
    pkg.mkdir(parents=True)
    for f in (ROOT / "muie").iterdir():
        if f.name != "__pycache__":
            (pkg / f.name).symlink_to(f)
    for name, folder in ROOMS.items():
        (pkg / name).symlink_to((replace or {}).get(name, ROOT / folder), target_is_directory=True)
    return into

"""Where the tests find the project: its root, and the example media."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "examples" / "media"

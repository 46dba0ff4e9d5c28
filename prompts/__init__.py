"""Prompts and other words the reasoners use, as data files, loaded by name."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load(name: str) -> Any:
    """Load ``prompts/<name>`` (YAML or JSON) from the installed package."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)

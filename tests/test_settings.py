"""Configuration in one place: defaults, environment overrides, bad values as input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import InputError
from agent.settings import Settings


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("MUIE_MAX_ITERATIONS", "3")
    monkeypatch.setenv("MUIE_CHUNK_CHARS", "500")
    s = Settings.from_env()
    assert s.max_iterations == 3 and s.chunk_chars == 500
    assert Settings.from_env(max_iterations=9).max_iterations == 9  # explicit beats the environment


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("MUIE_MAX_ITERATIONS", "zero")
    with pytest.raises(InputError, match="MUIE_MAX_ITERATIONS"):
        Settings.from_env()


def test_bad_environment_is_exit_2_one_line(tmp_path):
    muie = Path(sys.executable).parent / "muie"
    env = {"PATH": "/usr/bin:/bin", "MUIE_CHUNK_CHARS": "10"}
    proc = subprocess.run([str(muie), "extract", "--text", "Marie Curie was born in Warsaw."],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "MUIE_CHUNK_CHARS" in lines[0]

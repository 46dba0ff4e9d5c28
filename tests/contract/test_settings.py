"""Configuration in one place: defaults, environment overrides, bad values as input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from muie.errors import InputError
from muie.settings import Settings


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


def test_a_configuration_file_under_the_environment(monkeypatch, tmp_path):
    cfg = tmp_path / "muie.toml"
    cfg.write_text('max_iterations = 5\nchunk_chars = 900\nllm_model = "qwen"\n')
    monkeypatch.setenv("MUIE_CONFIG", str(cfg))
    monkeypatch.setenv("MUIE_CHUNK_CHARS", "700")
    s = Settings.from_env()
    assert (s.max_iterations, s.chunk_chars, s.llm_model) == (5, 700, "qwen")  # the environment wins


def test_the_working_folders_muie_toml_is_read(monkeypatch, tmp_path):
    (tmp_path / "muie.toml").write_text("verify = false\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUIE_CONFIG", raising=False)
    assert Settings.from_env().verify is False


@pytest.mark.parametrize("body, reason", [
    ("max_iterations = 'zero'\n", "valid integer"),
    ("no_such_setting = 1\n", "unknown setting(s): no_such_setting"),
    ('llm_api_key = "sk-123"\n', "environment only"),
    ("max_iterations = \n", "not valid TOML"),
])
def test_a_bad_configuration_file_is_named(monkeypatch, tmp_path, body, reason):
    cfg = tmp_path / "muie.toml"
    cfg.write_text(body)
    monkeypatch.setenv("MUIE_CONFIG", str(cfg))
    with pytest.raises(InputError) as e:
        Settings.from_env()
    assert str(cfg) in str(e.value) and reason in str(e.value)

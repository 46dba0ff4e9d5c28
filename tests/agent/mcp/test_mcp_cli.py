"""``muie mcp``'s own bad input: one line naming the option, exit 2, before anything is served."""

from __future__ import annotations

from tests.support.cli import assert_bad_input, muie


def test_an_address_without_http_is_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    line = assert_bad_input(muie("mcp", "--port", "9000", cwd=tmp_path), "--port", "--http")
    assert "stdio" in line


def test_a_root_that_is_not_a_folder_is_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(muie("mcp", "--root", "nowhere", cwd=tmp_path), "--root nowhere", "no such folder")
    (tmp_path / "file.txt").write_text("x")
    assert_bad_input(muie("mcp", "--http", "--root", "file.txt", cwd=tmp_path), "--root file.txt", "not a folder")


def test_an_unknown_reasoner_is_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(muie("mcp", "--reasoner", "oracle", cwd=tmp_path), "--reasoner", "oracle", "embedded")

"""The archive commands' errors end them like every command's (``COMMAND_ERRORS``): one line on stderr
after "wirewatch: ", no traceback, exit 2 for a bad query and 1 for an archive that cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirewatch.streams.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WIREWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WIREWATCH_STORE", raising=False)
    return tmp_path / "data"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", '"open'], "wirewatch: bad query: a phrase is not closed"),
        (["search", "missile", "--since", "last week"], "wirewatch: bad query: since must be a date"),
        (["incidents", "--limit", "500"], "wirewatch: bad query: limit must be between 1 and 200"),
    ],
)
def test_a_bad_query_exits_2_saying_why(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_an_archive_that_cannot_be_opened_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("WIREWATCH_STORE", f"sqlite://{blocker}/archive.sqlite3")  # its folder is a file
    assert main(["search", "missile"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith(f"wirewatch: archive: cannot open the archive {blocker}/archive.sqlite3")
        and err.count("\n") == 1
    ), err


def test_a_good_query_on_an_empty_archive_exits_0(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "missile", "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert (data_dir / "archive.sqlite3").exists()

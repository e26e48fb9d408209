"""A file named on the command line that is missing or malformed ends ``ingest``, ``analyze`` and ``eval`` with
one line on stderr naming the file (and the line), exit 2, no traceback; ``analyze`` never reads a JSONL
file with a bad line as one plain-text article."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirewatch.streams.cli import main
from wirewatch.streams.cli.analysis import analyze_inputs

# Written for the project.
LAUNCH = '{"text": "North Korea fired a ballistic missile on Monday, Japan said."}'


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_DATA_DIR", str(tmp_path / "data"))
    # Read before any producer connects: nothing listens on port 9 (discard), nothing may be sent there.
    monkeypatch.setenv("WIREWATCH_BROKER", "kafka://127.0.0.1:9")


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{missing}"],
        ["ingest", "{missing}"],
        ["ingest", "--text", "{missing}"],
        ["eval", "alerts", "{missing}"],
        ["eval", "stance", "{missing}"],
    ],
)
def test_a_missing_file_exits_2_naming_it(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.jsonl"
    assert main([arg.replace("{missing}", str(missing)) for arg in argv]) == 2
    assert one_error_line(capsys) == f"wirewatch: cannot read {missing}: No such file or directory\n"


@pytest.mark.parametrize("what", ["alerts", "stance"])
def test_eval_of_a_file_with_a_line_that_is_not_json_exits_2_naming_the_line(
    what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"text": "A calm day.", "expect_alert": false}\nnot json\n')
    assert main(["eval", what, str(labelled), "--no-progress"]) == 2
    assert one_error_line(capsys).startswith(f"wirewatch: {labelled}:2: not JSON")


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [("not json", "not JSON"), ('{"title": "no text"}', "not an Article object with a text")],
)
def test_analyze_of_jsonl_with_a_bad_line_exits_2_naming_the_line(
    bad_line: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = tmp_path / "articles.jsonl"
    articles.write_text(f"{LAUNCH}\n\n{bad_line}\n")
    assert main(["analyze", str(articles)]) == 2
    assert one_error_line(capsys).startswith(f"wirewatch: {articles}:3: {message}")


def test_analyze_still_reads_jsonl_one_json_article_and_text_that_starts_with_a_brace(tmp_path: Path) -> None:
    jsonl = tmp_path / "two.jsonl"
    jsonl.write_text(f'{LAUNCH}\n{{"text": "A calm day.", "title": "Weather"}}\n')
    pretty = tmp_path / "one.json"
    pretty.write_text('{\n  "text": "A calm day.",\n  "url": "https://example.org/calm"\n}\n')
    braces = tmp_path / "notes.txt"
    braces.write_text("{draft} North Korea fired a missile.\nSecond line.\n")
    articles = analyze_inputs([str(jsonl), str(pretty), str(braces)], "analyze")
    assert [(a.title, a.text, a.url) for a in articles] == [
        ("", "North Korea fired a ballistic missile on Monday, Japan said.", None),
        ("Weather", "A calm day.", None),
        ("", "A calm day.", "https://example.org/calm"),
        ("", "{draft} North Korea fired a missile.\nSecond line.\n", None),
    ]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ('{"text": "We back the talks, Ana Ruiz said.", "speaker": "Ana Ruiz", "target": "diplomacy"}', "'stance'"),
        ('{"text": "We back the talks.", "speaker": "", "target": "diplomacy", "stance": "support"}', "'support'"),
    ],
)
def test_eval_stance_of_an_unlabelled_statement_exits_2_naming_it(
    statement: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an unlabelled statement used to be scored as "neutral" (a file of them scored accuracy 1.0)
    labelled = tmp_path / "statements.jsonl"
    labelled.write_text(statement + "\n")
    assert main(["eval", "stance", str(labelled), "--no-progress"]) == 2
    error = one_error_line(capsys)
    assert error.startswith(f"wirewatch: {labelled}: statement 1") and message in error

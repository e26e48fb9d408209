"""The repository explains itself: nothing in it points to documents or data outside the clone, and the
README's quick start uses the sample article shipped with the project (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
from pathlib import Path

import orjson
import pytest
from spacy.language import Language

from wirewatch.agents.detector import detect
from wirewatch.agents.nlp import entities_of
from wirewatch.streams.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "launch_report.txt"
#: How the sample says it was written for the project (its last line: neither its title nor evidence).
CREDIT = "Written for the wirewatch project as a sample article; the events, people and figures in it are invented."
#: What a file in the clone must not point to: the design note and the data directory next to the repo.
OUTSIDE = re.compile(r"DESIGN\.md|\.\./shared/|/work/shared")


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = [REPO / name for name in listed.splitlines()]
    return [
        p for p in paths if p.suffix in {".py", ".md", ".toml", ".json", ".txt", ".yml", ".cfg", ""} and p.is_file()
    ]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    offenders = []
    for path in tracked_text_files():
        if path.resolve() == me:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(REPO)}:{m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not offenders, offenders


def test_the_quick_start_ingests_the_shipped_sample() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "wirewatch ingest --text examples/launch_report.txt" in readme
    assert SAMPLE.read_text(encoding="utf-8").rstrip().endswith(CREDIT)


def test_the_sample_article_raises_a_launch_and_a_warning(nlp: Language) -> None:
    doc = nlp(SAMPLE.read_text(encoding="utf-8"))
    findings = detect(doc, entities_of(doc)).findings
    assert {(f.actor, f.kind, f.modality) for f in findings} == {
        ("North Korea", "srbm", "occurred"),
        ("North Korea", "icbm", "possible"),
    }


def test_the_sample_is_analysed_with_its_headline_as_title(capsys: pytest.CaptureFixture[str]) -> None:
    headline = "North Korea fires ballistic missile into the sea, neighbours say"
    assert main(["analyze", str(SAMPLE)]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert [a["title"] for a in out["articles"]] == [headline]
    assert [a["title"] for a in out["alerts"]] == [headline] * len(out["alerts"]) and out["alerts"]
    evidence = [e["text"] for a in out["alerts"] for e in a["evidence"]]
    assert evidence and not [e for e in evidence if headline in e or "wirewatch project" in e]
    assert evidence[0].startswith("SEOUL — North Korea fired")


# ---- the command line and the README agree ----------------------------------------------------------------
def commands() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command and subcommand of ``wirewatch`` (``("feeds", "check")``) with its parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if path and not subs:
            found[path] = parser
        for action in subs:
            for name, child in action.choices.items():
                walk(child, (*path, name))

    walk(build_parser(), ())
    return found


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}


def readme_units() -> list[str]:
    """The README in the pieces a reader takes one command's documentation from: each table row, each list
    item, each other paragraph."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", (REPO / "README.md").read_text(encoding="utf-8")):
        for piece in re.split(r"\n(?=\||- )", block):
            units.append(" ".join(piece.split()))
    return units


def names_command(unit: str, path: tuple[str, ...]) -> bool:
    return re.search(rf"\bwirewatch {path[0]}\b", unit) is not None and all(
        re.search(rf"\b{word}\b", unit) for word in path[1:]
    )


def test_every_option_of_every_command_is_in_the_readme() -> None:
    units = readme_units()
    missing = [
        f"wirewatch {' '.join(path)} {option}"
        for path, parser in commands().items()
        for option in sorted(options_of(parser))
        if not any(names_command(u, path) and re.search(rf"{option}(?![\w-])", u) for u in units)
    ]
    assert not missing, f"options the README does not document beside their command: {missing}"


def test_every_option_the_commands_table_names_exists() -> None:
    """Each ``--option`` a row of the README's commands table names is an option of that row's command."""
    known = commands()
    wrong = []
    for unit in readme_units():
        row = re.match(r"\| `wirewatch ([a-z]+)", unit)
        if not row:
            continue
        options = set().union(*(options_of(p) for path, p in known.items() if path[0] == row.group(1)))
        wrong += [f"{row.group(1)} {o}" for o in re.findall(r"--[a-z][\w-]*", unit) if o not in options]
    assert not wrong, f"options the README's commands table names that the command does not have: {wrong}"


def test_every_command_line_in_the_readme_parses() -> None:
    """The README's shell lines that run ``wirewatch`` are accepted by its parser as they are written."""
    parser = build_parser()
    lines, fence = [], None
    for text in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if text.startswith("```"):
            fence = text[3:].strip() if fence is None else None
        elif fence in ("sh", ""):
            lines += re.findall(r"^(?:[A-Z_]+=\S+ )*wirewatch ([a-z].*)$", text)
    assert len(lines) > 10
    for line in lines:
        command = re.split(r"\s+(?:#|\|)\s", line)[0]
        try:
            parser.parse_args(shlex.split(command))
        except SystemExit:
            pytest.fail(f"the README runs `wirewatch {command}`, which the command line refuses")

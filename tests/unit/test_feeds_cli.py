"""``wirewatch feeds list | check`` (the parser is mounted on a local argparse root, as the CLI package does)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import orjson
import pytest

from tests.feed_site import STORIES, Site
from wirewatch.streams.cli.feeds import add_parser as add_feeds_parser
from wirewatch.streams.cli.feeds import check, cmd_list
from wirewatch.streams.settings import Settings


def parse(*argv: str) -> argparse.Namespace:
    root = argparse.ArgumentParser(prog="wirewatch")
    add_feeds_parser(root.add_subparsers(dest="command", required=True))
    return root.parse_args(["feeds", *argv])


def test_list_shows_configured_feeds_and_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(
        '[[feed]]\nid = "courier"\ntype = "rss"\nurl = "https://e.test/rss.xml"\n'
        '[[feed]]\nid = "odd"\ntype = "gopher"\n'
    )
    args = parse("list", "--config", str(config))
    assert args.func is cmd_list
    assert cmd_list(Settings(data_dir=str(tmp_path)), args) == 0
    out = capsys.readouterr().out
    assert "courier" in out and "https://e.test/rss.xml" in out
    assert "odd" in out and "[unknown type]" in out
    assert "wirewatch.streams.feeds.jsonl:JsonlFeed" in out

    assert cmd_list(Settings(data_dir=str(tmp_path)), parse("list", "--config", str(config), "--json")) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [f["id"] for f in listed["feeds"]] == ["courier", "odd"]
    assert {"rss", "atom", "jsonl"} <= {t["name"] for t in listed["types"]}


def test_list_reports_a_broken_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text('[[feed]]\ntype = "rss"\n')
    assert cmd_list(Settings(data_dir=str(tmp_path)), parse("list", "--config", str(config))) == 2
    assert "option 'id' is required" in capsys.readouterr().out


async def test_check_url_prints_articles_and_keeps_no_state(site: Site, tmp_path: Path) -> None:
    out = io.StringIO()
    settings = Settings(data_dir=str(tmp_path))
    assert await check(settings, parse("check", f"{site.base}/rss.xml", "--max-items", "1"), out) == 0
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [a["title"] for a in lines] == [STORIES[1][0]] and lines[0]["feed"] == "check"
    assert not (tmp_path / "feeds.sqlite").exists()
    # Checked again: printed again (no dedupe state carried over), the server was asked twice.
    out2 = io.StringIO()
    assert await check(settings, parse("check", f"{site.base}/rss.xml"), out2) == 0
    assert len(out2.getvalue().splitlines()) == 2 and site.hits["rss"] == 2


async def test_check_configured_id_and_failure_exit_code(site: Site, tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(
        f'[[feed]]\nid = "observer"\ntype = "atom"\nurl = "{site.base}/atom.xml"\n'
        f'[[feed]]\nid = "down"\ntype = "rss"\nurl = "{site.base}/status/500"\n'
    )
    out = io.StringIO()
    settings = Settings(data_dir=str(tmp_path))
    assert await check(settings, parse("check", "observer", "--config", str(config)), out) == 0
    assert {orjson.loads(line)["feed"] for line in out.getvalue().splitlines()} == {"observer"}
    assert await check(settings, parse("check", "down", "--config", str(config)), io.StringIO()) == 1


async def test_check_unknown_target_is_a_config_error(tmp_path: Path) -> None:
    from wirewatch.streams.feeds import FeedConfigError

    with pytest.raises(FeedConfigError, match="is not a feed id"):
        await check(Settings(data_dir=str(tmp_path)), parse("check", "nope", "--config", str(tmp_path / "x.toml")))


async def test_check_of_jsonl_prints_only_articles_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Written for the project: one article, a line that is not JSON, an object without a text.
    path = tmp_path / "drop.jsonl"
    path.write_text('{"text": "The harbour reopened on Monday."}\nnot json\n{"title": "no text"}\n')
    out = io.StringIO()
    assert await check(Settings(data_dir=str(tmp_path)), parse("check", str(path)), out) == 0
    assert [orjson.loads(line)["text"] for line in out.getvalue().splitlines()] == ["The harbour reopened on Monday."]
    assert "3 item(s), 2 invalid" in capsys.readouterr().err

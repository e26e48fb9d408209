"""feeds.toml loading, option errors, the plugin registry (entry points) and the feed state."""

from __future__ import annotations

import random
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import orjson
import pytest

from wirewatch.streams.feeds import (
    FeedConfigError,
    FeedContext,
    FeedState,
    Schedule,
    build_feed,
    build_feeds,
    feed_types,
    load_config,
    parse_config,
)
from wirewatch.streams.feeds.config import FeedConfig
from wirewatch.streams.feeds.rss import RssFeed
from wirewatch.streams.feeds.runner import CallbackProducer, FeedRunner

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIST = REPO / "tests" / "plugin_dist"
EXAMPLE = REPO / "examples" / "feeds.toml"


def install_plugin_dist(target: Path, dist: Path = PLUGIN_DIST) -> list[str]:
    """Make ``dist`` (``tests/plugin_dist``, ``tests/sink_dist``) importable and discoverable as if
    pip-installed: a ``.dist-info`` with its entry points (read from its pyproject.toml) in ``target``.
    Returns the sys.path entries to add."""
    project = tomllib.loads((dist / "pyproject.toml").read_text())["project"]
    info = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in groups.items())
    )
    return [str(target), str(dist)]


def plugin_installed(monkeypatch: pytest.MonkeyPatch, target: Path, dist: Path, module: str) -> Iterator[None]:
    """Fixture body: ``dist`` installed in ``target`` for one test, its module forgotten afterwards."""
    for entry in install_plugin_dist(target, dist):
        monkeypatch.syspath_prepend(entry)
    yield
    sys.modules.pop(module, None)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from plugin_installed(monkeypatch, tmp_path / "site", PLUGIN_DIST, "wirewatch_feed_example")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return path


def test_config_tables_are_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[feed]]
id = "courier"
type = "rss"
url = "https://example.test/rss.xml"
interval = 120

[[feed]]
id = "drop"
type = "jsonl"
path = "/srv/drop"
""",
    )
    configs = load_config(path)
    assert configs == [
        FeedConfig("courier", "rss", {"url": "https://example.test/rss.xml", "interval": 120}),
        FeedConfig("drop", "jsonl", {"path": "/srv/drop"}),
    ]
    feeds = build_feeds(configs, FeedContext())
    assert isinstance(feeds[0], RssFeed) and feeds[0].schedule.interval == 120.0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[feed]]\ntype = "rss"\n', "feed #1: option 'id' is required"),
        ('[[feed]]\nid = "a"\n', "feed 'a': option 'type' is required"),
        ('[[feed]]\nid = "a"\ntype = "rss"\n[[feed]]\nid = "a"\ntype = "rss"\n', "feed id 'a' is used twice"),
        ('[[feed]]\nid = "has space"\ntype = "rss"\n', "may use letters, digits"),
        ('[feeds]\nid = "a"\n', "unknown top-level key(s) feeds"),
        ("[[feed]\nid=", "not valid TOML"),
    ],
)
def test_config_errors_name_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(FeedConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(write(tmp_path, toml))


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (FeedConfig("x", "gopher", {}), r"feed 'x': unknown type 'gopher' \(installed: .*jsonl.*rss"),
        (FeedConfig("x", "rss", {}), "feed 'x': option 'url' is required"),
        (
            FeedConfig("x", "rss", {"url": "https://e.test/", "intervall": 5}),
            r"feed 'x': unknown option\(s\) 'intervall'",
        ),
        (
            FeedConfig("x", "rss", {"url": "https://e.test/", "interval": -1}),
            "option 'interval' must be at least 0",
        ),
        (
            FeedConfig("x", "rss", {"url": "https://e.test/", "full_text": "yes"}),
            "'full_text' must be true or false",
        ),
        (FeedConfig("x", "jsonl", {"path": 5}), "feed 'x': option 'path' must be a string, not int 5"),
    ],
)
def test_feed_option_errors_name_feed_and_option(config: FeedConfig, message: str) -> None:
    with pytest.raises(FeedConfigError, match=message):
        build_feed(config, FeedContext())


def test_atom_is_an_alias_of_rss() -> None:
    feed = build_feed(FeedConfig("a", "atom", {"url": "https://e.test/atom.xml"}), FeedContext())
    assert isinstance(feed, RssFeed)
    assert {"rss", "atom", "jsonl"} <= set(feed_types())


def test_example_config_loads_and_builds() -> None:
    configs = load_config(EXAMPLE)
    feeds = build_feeds(configs, FeedContext())
    assert {c.type for c in configs} >= {"rss", "jsonl"}
    assert [f.id for f in feeds] == [c.id for c in configs]


def test_schedule_backoff_doubles_and_is_capped() -> None:
    schedule = Schedule(interval=300, jitter=0.0, backoff=10, max_backoff=60)
    assert [schedule.delay(n) for n in range(6)] == [300, 10, 20, 40, 60, 60]
    jittery = Schedule(interval=100, jitter=0.2)
    delays = [jittery.delay(0, random.Random(seed)) for seed in range(50)]
    assert all(80 <= d <= 120 for d in delays) and len(set(delays)) > 40


def test_state_remembers_ids_and_checkpoints_and_is_bounded(tmp_path: Path) -> None:
    state = FeedState(tmp_path / "s.sqlite", max_seen_per_feed=3)
    for i in range(5):
        state.mark("a", f"id{i}")
    state.mark("b", "id0")
    state.set("a", "etag", '"v1"')
    state.prune("a")
    assert state.count("a") == 3 and state.seen("a", "id4") and not state.seen("a", "id0")
    assert state.seen("b", "id0") and not state.seen("b", "id4")
    state.close()
    again = FeedState(tmp_path / "s.sqlite")
    assert again.get("a", "etag") == '"v1"' and again.get("b", "etag") is None and again.seen("a", "id3")
    again.close()


# ---- plugins --------------------------------------------------------------------------------------------
def test_plugin_is_discovered_through_entry_points(plugin: None) -> None:
    types = feed_types()
    assert types["bulletin"].target == "wirewatch_feed_example:BulletinFeed"
    assert types["bulletin"].source == "wirewatch-feed-example"
    assert any(ep.name == "bulletin" for ep in metadata.entry_points(group="wirewatch.feeds"))


async def test_plugin_feed_runs_with_dedupe(plugin: None, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[feed]]
id = "town-board"
type = "bulletin"
board = "Elland town hall"
notices = [
  { title = "Road closed", text = "Mill Lane is closed for resurfacing until Friday." },
  { title = "Blood drive", text = "The blood bank visits the town hall on Tuesday." },
]
""",
    )
    context = FeedContext()
    feeds = build_feeds(load_config(path), context)
    produced: list[dict] = []
    runner = FeedRunner(feeds, CallbackProducer(lambda k, v: produced.append(orjson.loads(v))), context)
    await runner.run_once()
    await runner.run_once()
    assert [a["title"] for a in produced] == ["Road closed", "Blood drive"]
    assert produced[0]["feed"] == "town-board" and produced[0]["meta"] == {"board": "Elland town hall"}
    assert runner.health()["town-board"]["duplicates"] == 2


def test_plugin_option_errors_name_the_feed(plugin: None) -> None:
    with pytest.raises(FeedConfigError, match="feed 'b': option 'board' is required"):
        build_feed(FeedConfig("b", "bulletin", {"notices": []}), FeedContext())
    with pytest.raises(FeedConfigError, match="option 'notices' #1 needs a text"):
        build_feed(FeedConfig("b", "bulletin", {"board": "x", "notices": [{"title": "t"}]}), FeedContext())


def test_broken_plugin_names_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[wirewatch.feeds]\nbroken = no_such_module_here:Feed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(FeedConfigError, match=r"feed 'x': cannot load type 'broken'.*no_such_module_here"):
        build_feed(FeedConfig("x", "broken", {}), FeedContext())


def test_plugin_cannot_shadow_a_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "shadow-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shadow\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[wirewatch.feeds]\nrss = shadow:Feed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert feed_types()["rss"].target == "wirewatch.streams.feeds.rss:RssFeed"


def test_parse_config_accepts_a_parsed_document() -> None:
    configs = parse_config({"feed": [{"id": "a", "type": "jsonl", "path": "/x"}]})
    assert configs == [FeedConfig("a", "jsonl", {"path": "/x"})]

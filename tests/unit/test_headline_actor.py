"""Who launched, when the passage leaves it to the article: the headline (its title, else its address) names
the article's main actor, the first half of a verb written apart ('test fired') is no subject, and an epithet
('the hermit kingdom') names its state. Every text here is written for the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents import lexicons
from wirewatch.agents.detector import analyze_docs
from wirewatch.agents.detector.actors import headline_actors
from wirewatch.agents.enrichment import enrich_articles
from wirewatch.agents.eval_alerts import detect_items
from wirewatch.agents.nlp import TextMeta
from wirewatch.streams.records import Article

from .detector_readings import rule_reading

#: a launch whose sentence names no launcher: "the military" could be anyone's
UNNAMED = "Two ballistic missiles were fired into the sea on Tuesday morning, the military said."
ADDRESS = "https://news.example.org/world/2026/03/north-korea-fires-two-missiles-into-sea"


@pytest.mark.parametrize(
    ("title", "url", "actors"),
    [
        ("Iran fires two missiles", ADDRESS, ["Iran"]),  # the title first
        (None, ADDRESS, ["North Korea"]),
        ("Markets rally after talks", "https://news.example.org/iranian-and-russian-envoys-meet", ["Iran", "Russia"]),
        (None, "https://news.example.org/2026/03/12/story-4411", []),
        (None, "https://news.example.org/rok-army-drills", []),  # three letters or fewer: some other word
        ("North Korea fires missile", None, ["North Korea"]),
        (None, None, []),
        # the launcher before a launch verb first, then the others in order
        ("Seoul says North Korea fires missile", None, ["North Korea", "South Korea"]),
        (None, "https://news.example.org/north-koreas-leader-oversees-launch", ["North Korea"]),  # possessive
        # a state's name in a place or a thing names no state; nor a section folder, nor an armed group
        (None, "https://news.example.org/asia/missile-lands-in-sea-of-japan-eez", []),
        ("Rocket splashes into the Indian Ocean", None, []),
        (None, "https://news.example.org/news/china/military/article/3211/missile-test", []),
        (None, "https://news.example.org/hezbollah-fires-rockets-at-northern-border", []),
        ("The North Face recalls jackets", None, []),  # 'the North' needs the article's own mention
        # no web address: a malformed one, a name given as an evaluation item's source
        (None, "http://[::1", []),
        (None, "written for wirewatch", []),
    ],
)
def test_the_headline_is_the_title_else_the_address(title: str | None, url: str | None, actors: list[str]) -> None:
    assert headline_actors(title, url) == actors


def test_a_users_state_and_non_actor_phrase_reach_the_headline(tmp_path: Path) -> None:
    user = {"states": {"Freedonia": {"aliases": ["Freedonian"]}}, "headline": {"non_actors": ["Freedonia Cup"]}}
    (tmp_path / "actors.json").write_text(json.dumps(user), encoding="utf-8")
    lexicons.configure(tmp_path)
    try:
        assert headline_actors("Freedonia fires missile", None) == ["Freedonia"]
        assert headline_actors(None, "https://news.example.org/freedonian-rocket-launched-at-dawn") == ["Freedonia"]
        assert headline_actors("Freedonia Cup rocket contest", None) == []
        assert headline_actors("Sea of Japan missile", None) == []  # the shipped phrases kept
    finally:
        lexicons.configure(None)
    assert headline_actors("Freedonia fires missile", None) == []


def test_a_text_that_names_no_launcher_takes_its_headlines(nlp: Language) -> None:
    metas = [
        TextMeta(),
        TextMeta(url=ADDRESS),
        TextMeta(url=ADDRESS, title="Iran fires two ballistic missiles"),
    ]
    detections = [d for _e, d in analyze_docs(nlp, [UNNAMED] * len(metas), meta=metas)]
    assert [[f.actor for f in d.findings] for d in detections] == [["unknown"], ["North Korea"], ["Iran"]]
    # a text that names its launcher keeps it
    [(_e, named)] = analyze_docs(nlp, ["Iran fired two ballistic missiles into the Gulf on Tuesday."], meta=metas[1:2])
    assert [f.actor for f in named.findings] == ["Iran"]


def test_the_enrich_path_reads_the_articles_title(nlp: Language) -> None:
    titled = Article.create(UNNAMED, title="North Korea fires two ballistic missiles")
    (record,) = enrich_articles(nlp, [titled])
    assert [s["actor"] for s in record["signals"] if s["alertable"]] == ["North Korea"]


def test_eval_reads_an_items_source_as_its_headline(nlp: Language) -> None:
    items = [{"id": "a", "text": UNNAMED}, {"id": "b", "text": UNNAMED, "source": ADDRESS}]
    assert [[f.actor for f in d.findings] for d in detect_items(nlp, items)] == [["unknown"], ["North Korea"]]


@pytest.mark.parametrize(
    ("text", "actor", "how"),
    [
        ("Iran Sunday test fired two new cruise missiles in the Gulf, state media said.", "Iran", "subject"),
        (
            "India's newest destroyer on Tuesday successfully test fired a BrahMos missile in the Arabian Sea.",
            "India",
            "subject",
        ),
        # the platform is no actor of its own, nor a reason to doubt the launch
        ("Early on Wednesday the navy's newest submarine test fired a ballistic missile.", None, "none"),
        ("The students test fired a rocket they had built in class.", None, "non_actor_subject"),
    ],
)
def test_the_first_half_of_a_verb_written_apart_is_no_subject(
    nlp: Language, text: str, actor: str | None, how: str
) -> None:
    assert rule_reading(nlp, text, "fired", lambda c, _sc: (c.actor, c.how)) == (actor, how)


@pytest.mark.parametrize(
    "text",
    [
        "Japan's defence ministry said the hermit kingdom fired two ballistic missiles on Sunday.",
        "Officials in Seoul said the reclusive regime launched a rocket carrying a satellite on Friday.",
    ],
)
def test_an_epithet_of_the_state_names_it_not_the_observer(nlp: Language, text: str) -> None:
    # the epithets are context aliases in actors.json: without them the observer named before was the launcher
    trigger = "fired" if "fired" in text else "launched"
    assert rule_reading(nlp, text, trigger, lambda c, _sc: c.actor) == "North Korea"

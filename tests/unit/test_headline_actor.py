"""Who launched, when the passage leaves it to the article: the headline (its title, else its address) names
the article's main actor, the first half of a verb written apart ('test fired') is no subject, and an epithet
('the hermit kingdom') names its state. Every text here is written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

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
    ],
)
def test_the_headline_is_the_title_else_the_address(title: str | None, url: str | None, actors: list[str]) -> None:
    assert headline_actors(title, url) == actors


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
            "MOSCOW - Russia's newest submarine on Wednesday test fired a Bulava ballistic missile, the ministry said.",
            "Russia",
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

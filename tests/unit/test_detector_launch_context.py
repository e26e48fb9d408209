"""How a sentence dates a launch and whether it tells the launch as its news: features of the learned decision
(`date:` and `role:` signals), read with the real spaCy pipeline. A launch cited in passing as background is
dated by a month or by nothing and hangs in a subordinate clause or a prepositional phrase; a launch reported
as news is dated by its day and is the main clause's event. A launch site named for satellites names no weapon.

Sentences here were written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.detector.candidates import weapons_in

from .detector_readings import rule_reading


def signal(nlp: Language, text: str, trigger: str, prefix: str) -> str:
    """The value of the ``prefix:`` signal the candidate of ``trigger`` gives its sentence."""

    def read(c, sc):  # type: ignore[no-untyped-def]
        return [s.split(":", 1)[1] for s in sc.signals if s.startswith(f"{prefix}:")][sc.rule.index(c)]

    return rule_reading(nlp, text, trigger, read)


@pytest.mark.parametrize(
    ("text", "trigger", "expected"),
    [
        pytest.param("North Korea fired two ballistic missiles into the sea on Tuesday.", "fired", "recent", id="day"),
        pytest.param("Iran test-fired a cruise missile last week, state media said.", "fired", "recent", id="week"),
        pytest.param("The army fired a short-range missile this morning.", "fired", "recent", id="this-morning"),
        pytest.param("Pakistan tested a ballistic missile on May 14.", "tested", "recent", id="day-date"),
        pytest.param(
            "The council imposed the sanctions after North Korea launched a missile in March.",
            "launched",
            "month",
            id="month",
        ),
        pytest.param(
            "Pyongyang fired an intercontinental ballistic missile last October.", "fired", "month", id="last-month-name"
        ),
        pytest.param("India tested the Agni-V missile in 2012.", "tested", "year", id="year"),
        pytest.param("Pakistan has not tested a missile since 2019.", "tested", "past", id="since-year"),
        pytest.param("North Korea fired a ballistic missile toward Japan.", "fired", "none", id="undated"),
        pytest.param(
            "The ministry said on Friday that the regime fired a missile in March.", "fired", "month", id="report-day"
        ),
    ],
)
def test_launch_dating(nlp: Language, text: str, trigger: str, expected: str) -> None:
    assert signal(nlp, text, trigger, "date") == expected


@pytest.mark.parametrize(
    ("text", "trigger", "expected"),
    [
        pytest.param("North Korea fired two ballistic missiles into the sea.", "fired", "main", id="main"),
        pytest.param(
            "Seoul said North Korea launched a ballistic missile from near its capital.",
            "launched",
            "main",
            id="reported",
        ),
        pytest.param(
            "The sanctions target the firms that built the missile Iran launched in March.",
            "launched",
            "relative",
            id="relative",
        ),
        pytest.param(
            "Talks have stalled since North Korea fired an intercontinental ballistic missile.",
            "fired",
            "adverbial",
            id="adverbial",
        ),
        pytest.param(
            "The council tightened sanctions after the missile launch.", "launch", "adjunct", id="prepositional"
        ),
        pytest.param(
            "Japan condemned the missile launch as a grave threat.", "launch", "main", id="object-of-main-verb"
        ),
    ],
)
def test_launch_role(nlp: Language, text: str, trigger: str, expected: str) -> None:
    assert signal(nlp, text, trigger, "role") == expected


@pytest.mark.parametrize(
    ("text", "weapons"),
    [
        pytest.param(
            "The test was conducted on Thursday at the Sohae Satellite Launching Station, state media said.",
            [],
            id="site-name",
        ),
        pytest.param("Engineers tested a new engine at the satellite launch site near Tongchang-ri.", [], id="site"),
        pytest.param(
            "North Korea launched a satellite from its Sohae Satellite Launching Station on Tuesday.",
            ["satellite"],
            id="satellite-launched-from-the-site",
        ),
    ],
)
def test_a_launch_site_named_for_satellites_names_no_weapon(nlp: Language, text: str, weapons: list[str]) -> None:
    """A test told without its object at a site named for satellite launches is no launch of a satellite: the
    site's name gives the sentence no weapon (the model still reads its launch words)."""
    doc = nlp(text)
    assert [w.text for w in weapons_in(next(iter(doc.sents)))] == weapons

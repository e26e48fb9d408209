"""Background the learned decision never alerts: a launch its own sentence dates to the past ('last fired ...
in April', 'has not launched since', a chronology entry), read with the real spaCy pipeline (a recent anchor or
a 'first ... since' keeps a launch current), and capability talk the rules read as such.

Sentences here were written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

from .detector_readings import findings_if_model_sure, rule_reading


def reading(nlp: Language, text: str, trigger: str, published_at: str | None = None) -> bool:
    """Whether the candidate's trigger word is dated to the past, as the rules read it (in an article published
    at ``published_at``)."""
    return rule_reading(nlp, text, trigger, lambda c, sc: c.dated_past, published_at)


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param(
            "Tehran last fired ballistic missiles at the militant camps in January, drawing protests.",
            "fired",
            id="last-fired",
        ),
        pytest.param(
            "It has been ages since the navy last test-fired a cruise missile from that pier.",
            "fired",
            id="time-since-last",
        ),
        pytest.param(
            "Pyongyang has not tested an intercontinental ballistic missile since 2017.", "tested", id="not-since"
        ),
        pytest.param(
            "Five years ago the army fired a cruise missile at the rebel base from a warship.",
            "fired",
            id="years-ago",
        ),
        pytest.param(
            "Coastal batteries routinely fire anti-ship missiles during the autumn drills.",
            "fire",
            id="habitual",
        ),
        pytest.param(
            "Aug. 2016: the North fires a ballistic missile from a submarine toward Japan.",
            "fires",
            id="chronology-entry",
        ),
        pytest.param(
            "The militia last fired rockets across the border in April, the army said on Tuesday.",
            "fired",
            id="recent-anchor-of-the-report-only",
        ),
        pytest.param(
            "The army said on Tuesday that the militia last fired rockets across the border in April.",
            "fired",
            id="recent-anchor-of-the-report-before",
        ),
        pytest.param(
            "Some 50 days have gone by since the latest missile launch by the North, a researcher counted.",
            "launch",
            id="time-counted-since-the-launch",
        ),
    ],
)
def test_a_launch_dated_to_the_past_is_read_as_past(nlp: Language, text: str, trigger: str) -> None:
    assert reading(nlp, text, trigger) is True


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param("North Korea fired a ballistic missile into the sea on Tuesday.", "fired", id="plain-launch"),
        pytest.param(
            "North Korea fired a ballistic missile on Tuesday, its first launch since March.",
            "fired",
            id="recent-anchor-beside-since",
        ),
        pytest.param(
            "Pyongyang tested a long-range missile for the first time since 2017, sending it high into space.",
            "tested",
            id="first-since",
        ),
        pytest.param(
            "The regime carried out its first underwater missile launch in three years, the military said.",
            "launch",
            id="first-in-years",
        ),
        pytest.param(
            "It was the first complete launch of the country's largest and most powerful liquid-fuelled"
            " intercontinental missiles since 2017, analysts said.",
            "launch",
            id="first-modifying-the-launch-far-from-since",
        ),
        pytest.param(
            "The launch, the regime's first intercontinental missile test in two years, drew condemnation in Tokyo.",
            "launch",
            id="first-in-two-years",
        ),
        pytest.param(
            "In 2017 the council imposed sanctions, and the North fired two missiles into the sea this morning.",
            "fired",
            id="old-date-in-another-clause-recent-anchor",
        ),
        pytest.param(  # the clause head stops within 4 steps (dating._clause_head, not document.governing_verb)
            "Recalling Kim's call last month for faster work on preparations for the satellite launch, officials"
            " said it could come soon.",
            "launch",
            id="date-on-a-verb-far-up-the-noun-phrase",
        ),
        pytest.param(
            "Japan's forces have stayed on high alert since the missile launch on Tuesday.",
            "launch",
            id="since-a-recent-launch",
        ),
    ],
)
def test_a_current_launch_is_not_read_as_past(nlp: Language, text: str, trigger: str) -> None:
    assert reading(nlp, text, trigger) is False


MONTH_DATED = "In August North Korea fired a ballistic missile over Japan, the ministry said."


@pytest.mark.parametrize(
    ("published_at", "past"),
    [
        pytest.param(None, False, id="no-article-date"),
        pytest.param("2017-09-15T08:00:00Z", False, id="weeks-before"),
        pytest.param("2017-10-31", False, id="two-months-before"),
        pytest.param("2017-11-01", True, id="three-months-before"),
        pytest.param("2017-12", True, id="months-before"),
        # a month after the article's, in no year: an upcoming one or last year's, nothing is read
        pytest.param("2018-01-05", False, id="a-later-month"),
    ],
)
def test_a_launch_dated_by_a_month_alone_is_past_only_against_the_article_date(
    nlp: Language, published_at: str | None, past: bool
) -> None:
    assert reading(nlp, MONTH_DATED, "fired", published_at) is past


def evidence_if_model_sure(nlp: Language, text: str) -> list[str]:
    return [e.text for f in findings_if_model_sure(nlp, text) for e in f.evidence]


def test_the_model_never_alerts_a_launch_dated_to_the_past(nlp: Language) -> None:
    text = (
        "Tehran last fired ballistic missiles at the militant camps in January, drawing protests. "
        "Pyongyang has not tested an intercontinental ballistic missile since 2017."
    )
    assert evidence_if_model_sure(nlp, text) == []


def test_the_model_still_decides_the_current_launch_beside_a_past_one(nlp: Language) -> None:
    current = "On Tuesday North Korea fired two short-range ballistic missiles into the sea."
    text = "Pyongyang has not tested an intercontinental ballistic missile since 2017. " + current
    assert evidence_if_model_sure(nlp, text) == [current]


def test_the_model_never_alerts_capability_talk(nlp: Language) -> None:
    text = (
        "The new missiles, capable of flying 5,000 kilometres at hypersonic speed, will go on combat duty next"
        " year, the minister said."
    )
    assert evidence_if_model_sure(nlp, text) == []


def test_the_model_still_decides_a_launch_of_a_capable_missile(nlp: Language) -> None:
    text = "Russia test-fired a Sarmat missile capable of carrying ten warheads on Tuesday, the ministry said."
    assert evidence_if_model_sure(nlp, text) == [text]


DATED_BEFORE = "In 2006 the North fired a long-range missile from its east coast, two years before the talks."


@pytest.mark.parametrize(
    ("follow_up", "trigger", "past"),
    [
        pytest.param("But the launch ended in failure over the sea.", "launch", True, id="the-launch"),
        pytest.param("The missile flew some 500 km before it broke up.", "flew", True, id="the-missile-flew"),
        pytest.param("It was launched from a pad near the coast.", "launched", True, id="pronoun-subject"),
        pytest.param(
            "On Tuesday the launch of a new missile drew protests.", "launch", False, id="its-own-recent-date"
        ),
        pytest.param("Japan says a missile fell into its waters.", "fell", False, id="no-reference-back"),
    ],
)
def test_a_launch_referred_back_to_takes_the_past_date_of_the_one_before(
    nlp: Language, follow_up: str, trigger: str, past: bool
) -> None:
    assert reading(nlp, f"{DATED_BEFORE} {follow_up}", trigger, "2016-02-07") is past


def test_a_reference_back_to_a_current_launch_stays_current(nlp: Language) -> None:
    text = "The North fired a long-range missile from its east coast on Monday. But the launch ended in failure."
    assert reading(nlp, text, "launch") is False


def test_the_model_never_alerts_a_word_for_a_class_of_acts_with_no_weapon(nlp: Language) -> None:
    text = "The envoy said the regime has hinted at a resumption of serious provocations in the coming weeks."
    assert evidence_if_model_sure(nlp, text) == []


def test_the_model_still_decides_a_provocation_that_names_its_weapon(nlp: Language) -> None:
    text = "The envoy said the regime's missile provocation on Tuesday drew protests."
    assert evidence_if_model_sure(nlp, text) == [text]

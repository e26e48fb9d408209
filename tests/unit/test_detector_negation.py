"""How far a negation reaches a launch word: the rules' denial reading, read off the dependency parse with the
real spaCy pipeline, and the learned decision's respect for it.

Sentences here were written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.detector import sentence_candidates
from wirewatch.agents.detector.modality import negation_of
from wirewatch.agents.nlp import entities_of

from .detector_readings import RULES, findings_if_model_sure, rule_reading


def reading(nlp: Language, text: str, trigger: str) -> str | None:
    """The negation reading of the candidate's trigger word."""
    return rule_reading(nlp, text, trigger, lambda c, sc: negation_of(c.trigger, sc.sent))


# --- denials the rules keep ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("South Korea's military said it had not detected any missile launch by the North.", "launch"),
        ("Tehran denied reports that it had tested a ballistic missile on Monday.", "tested"),
        ("The Pentagon said it was not tracking a missile launch of any kind.", "launch"),
        ("No missile launch took place on Monday, officials in Seoul said.", "launch"),
        ("A missile launch has not been detected, the defence ministry said.", "launch"),
        ("North Korea has not fired a ballistic missile since the launch in May.", "fired"),
    ],
)
def test_a_negation_of_the_launch_itself_is_a_denial(nlp: Language, text: str, trigger: str) -> None:
    assert reading(nlp, text, trigger) == "denied"


# --- negations of something else in the sentence --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param(
            "The missile programme will never stop, and North Korea has two missiles ready to be fired this week.",
            "fired",
            id="coordinated clause with its own subject",
        ),
        pytest.param(
            "Tokyo is not relaxing its alert even though the period set for Pyongyang's satellite launch is over.",
            "launch",
            id="adverbial clause",
        ),
        pytest.param(
            "The admiral denied the reports, saying the missiles would be launched within a few days.",
            "launched",
            id="participial adjunct of a denial verb",
        ),
        pytest.param(
            "It is not yet clear which missile Pakistan will test-fire during the exercise.",
            "fire",
            id="indirect question: which",
        ),
        pytest.param(
            "It is not known whether the rocket launched on Sunday reached orbit.",
            "launched",
            id="indirect question: whether",
        ),
        pytest.param(
            "The ministry would not say which type of rocket had been fired.",
            "fired",
            id="indirect question: what",
        ),
        pytest.param(
            "Washington was not involved in the accident during the launch of the Iranian rocket, the president said.",
            "launch",
            id="prepositional adjunct of another party's denial",
        ),
        pytest.param(
            "The missile launches did not demonstrate the full range of the system, an official said.",
            "launches",
            id="subject of another negated predicate",
        ),
        pytest.param(
            '"We do not rule out the use of our new missile against military targets," the minister said.',
            "of",
            id="hedge: not rule out",
        ),
        pytest.param(
            "If North Korea does not fire the missile this week, it may launch it next month.",
            "fire",
            id="negation inside a condition",
        ),
    ],
)
def test_a_negation_of_something_else_is_no_denial(nlp: Language, text: str, trigger: str) -> None:
    assert reading(nlp, text, trigger) is None


def test_a_demand_not_to_launch_is_a_suppression_not_a_denial(nlp: Language) -> None:
    text = "Washington urged Pyongyang not to go ahead with the planned launch of a long-range missile."
    assert reading(nlp, text, "launch") == "suppressed"


def test_a_hedge_contrasting_an_affirmed_word_is_contested(nlp: Language) -> None:
    text = "Observers called the satellite pictures indicative, but not certain, of work toward a missile test."
    assert reading(nlp, text, "test") == "contested"


def test_a_false_alert_about_a_launch_is_suppressed_as_denied(nlp: Language) -> None:
    doc = nlp("A regional broadcaster sent out a false alert about a rocket launch from the North on Sunday.")
    cands = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert {c.reason for sc in cands for c in sc.rule} == {"denied"}


# --- the learned decision ---------------------------------------------------------------------------------


def test_the_model_never_alerts_a_launch_the_rules_read_as_denied(nlp: Language) -> None:
    text = "South Korea's military said it had not detected any missile launch by the North."
    doc = nlp(text)
    cands = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert cands and all(c.negation == "denied" for sc in cands for c in sc.rule)
    assert findings_if_model_sure(nlp, text) == []


def test_the_model_still_decides_a_launch_whose_negation_is_elsewhere(nlp: Language) -> None:
    text = "The missile programme will never stop, and North Korea fired two ballistic missiles on Tuesday."
    assert [f.actor for f in findings_if_model_sure(nlp, text)] == ["North Korea"]

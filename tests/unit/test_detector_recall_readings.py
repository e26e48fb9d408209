"""Readings that held back true launches: a missile that splashes down is a launch word of its own, a civil cue
word must name the civil thing ('the Rockets' is a team, 'the rockets' are rockets; a research device is no
product), and a launch word civil copy also uses ('liftoff') does not make civil the launch of a state whose
satellite launches are military. Real spaCy pipeline; sentences written for the project, true launches and the
negatives the readings must keep."""

from __future__ import annotations

import pytest
from spacy.language import Language

from .detector_readings import rule_readings


def reasons(nlp: Language, text: str) -> dict[str, str | None]:
    """The rules' reason per trigger word (None: not held back)."""
    return rule_readings(nlp, text, lambda c, _sc: c.reason)


def test_a_missile_that_splashes_down_is_a_launch_word(nlp: Language) -> None:
    text = "The missile splashed down in the Sea of Japan about an hour later, the coast guard said."
    # a launch word of the rules' own, not the stand-in of a weapon sentence they made nothing of
    found = rule_readings(nlp, text, lambda c, _sc: c.stand_in)
    assert found.get("splashed") is False, found


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("A Patriot battery shot down the incoming missile near the base.", "shot"),
        ("Air defences shot down two cruise missiles over the capital overnight.", "shot"),
    ],
)
def test_shooting_a_missile_down_stays_no_launch_word(nlp: Language, text: str, trigger: str) -> None:
    assert reasons(nlp, text).get(trigger, "no_weapon") is not None


@pytest.mark.parametrize(
    ("text", "trigger", "reason"),
    [
        # rockets, not a team: the sports cue is the team's capitalised name
        (
            "State media showed the rockets hitting an island after North Korea fired six of them on Sunday.",
            "fired",
            None,
        ),
        ("Iran launched a Simorgh rocket on Thursday to put three research devices into orbit.", "launched", None),
        # the team and the product keep their readings
        ("The Rockets fired 18 three-pointers in the game against Denver.", "fired", "sports"),
        ("The company will launch its new rocket-shaped phone at a store in Seoul.", "launch", "product"),
    ],
)
def test_a_civil_cue_word_must_name_the_civil_thing(nlp: Language, text: str, trigger: str, reason: str | None) -> None:
    assert reasons(nlp, text)[trigger] == reason


@pytest.mark.parametrize(
    ("text", "trigger", "reason"),
    [
        (
            "North Korea said it would launch its rocket soon, but the window passed without word of a liftoff.",
            "launch",
            None,
        ),
        ("Iran's Simorgh rocket exploded a minute after lift-off on Thursday, state media said.", "exploded", None),
        # civil launches stay civil
        (
            "The Nuri rocket lifted off from the Naro Space Center after the countdown, South Korea said.",
            "lifted",
            "civilian_space",
        ),
        (
            "SpaceX launched a Falcon 9 rocket carrying 22 satellites minutes after liftoff was cleared.",
            "launched",
            "civilian_space",
        ),
    ],
)
def test_a_launch_word_of_civil_copy_does_not_make_a_counted_state_civil(
    nlp: Language, text: str, trigger: str, reason: str | None
) -> None:
    found = reasons(nlp, text)
    assert trigger in found, found
    assert found[trigger] == reason

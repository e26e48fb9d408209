"""What a launch word itself tests or launches: an engine on the ground, a missile-defence weapon or a target
missile, or no weapon at all ('launched an inquiry'), read off the trigger's own arguments with the real spaCy
pipeline; and the learned decision's respect for that reading (such a candidate never alerts).

Sentences here were written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.detector import sentence_candidates
from wirewatch.agents.nlp import entities_of

from .detector_readings import RULES, findings_if_model_sure, rule_reading


def reading(nlp: Language, text: str, trigger: str) -> str | None:
    """What the candidate's trigger word tests or launches, as the rules read it."""
    return rule_reading(nlp, text, trigger, lambda c, sc: c.tested)


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param(
            "Pakistan has tested a new solid-propellant rocket motor, its military said.", "tested", id="object"
        ),
        pytest.param("The country has run engine combustion tests every month since spring.", "tests", id="modifier"),
        pytest.param(
            "The static firing test showed the motor worked as designed, KCNA said.", "firing", id="test-noun"
        ),
        pytest.param("Engineers will fire all four engines of the rocket at the same time.", "fire", id="fire-engines"),
        pytest.param(
            "Analysts said Iran was preparing the test of a rocket engine at the site.", "test", id="of-object"
        ),
    ],
)
def test_an_engine_under_test_is_read_as_an_engine_test(nlp: Language, text: str, trigger: str) -> None:
    assert reading(nlp, text, trigger) == "engine"


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param("Poland will test its first Patriot missile defence system on Friday.", "test", id="object"),
        pytest.param("A long-range interceptor blasted off from the base on Tuesday.", "blasted", id="intransitive"),
        pytest.param("A target missile was launched from the atoll, the agency said.", "launched", id="passive"),
        pytest.param(
            "Israel launched its Iron Dome batteries into action overnight.", "launched", id="only-defence-weapons"
        ),
        pytest.param("The fighter jet fired an AIM-9X Sidewinder missile at the drone.", "fired", id="air-to-air-name"),
        pytest.param("The pilot fired an air-to-air missile at the balloon.", "fired", id="air-to-air"),
        pytest.param("The destroyer fired an SM-3 Block IIA missile over the Pacific.", "fired", id="named-block"),
        pytest.param("A PAC-3 missile was launched from the battery on Monday.", "launched", id="pac-3"),
        pytest.param("The cruiser fired a Standard Missile 6 at the drone.", "fired", id="standard-missile"),
    ],
)
def test_a_defence_weapon_or_target_launched_is_read_as_a_defence_test(nlp: Language, text: str, trigger: str) -> None:
    assert reading(nlp, text, trigger) == "defence"


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param(
            "Tehran test launched a new satellite carrier with its biggest solid-fuel engine yet.",
            "launched",
            id="engine-in-an-adjunct",
        ),
        pytest.param(
            "North Korea may try to launch a spy satellite next month, noting that it has been testing engines.",
            "launch",
            id="engine-tested-in-another-clause",
        ),
        pytest.param(
            "The rocket exploded in flight after a newly developed engine failed, North Korea said.",
            "exploded",
            id="engine-that-acts",
        ),
        pytest.param(
            "Over 200 missiles were fired from Iran towards Israel, and most of them were intercepted.",
            "fired",
            id="attack-that-was-intercepted",
        ),
        pytest.param("North Korea fired a ballistic missile into the sea on Tuesday.", "fired", id="plain-launch"),
    ],
)
def test_a_launch_whose_object_is_no_engine_or_defence_weapon_is_neither(
    nlp: Language, text: str, trigger: str
) -> None:
    assert reading(nlp, text, trigger) is None


def test_the_model_never_alerts_an_engine_or_defence_test(nlp: Language) -> None:
    text = (
        "Pakistan has tested a new solid-propellant rocket motor, its military said. "
        "Poland will test its first Patriot missile defence system on Friday."
    )
    assert findings_if_model_sure(nlp, text) == []


def test_the_model_still_decides_the_attack_beside_an_interception(nlp: Language) -> None:
    text = "Iran fired dozens of ballistic missiles at Israel overnight, and Patriot interceptors shot down most."
    assert [f.actor for f in findings_if_model_sure(nlp, text)] == ["Iran"]


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param("The ministry launched an inquiry into the crash on Monday.", "launched", id="inquiry"),
        pytest.param("The opposition leader fired a broadside at the cabinet on Tuesday.", "fired", id="broadside"),
        pytest.param("The army fired 300 rounds of artillery near the border overnight.", "fired", id="shells"),
        pytest.param("Activists launched hundreds of balloons over the border on Friday.", "launched", id="balloons"),
        pytest.param("Moscow launched a diplomatic offensive across Africa this week.", "launched", id="offensive"),
        pytest.param("The drones were launched from the capital, officials said.", "launched", id="passive-subject"),
    ],
)
def test_a_launch_verb_whose_object_is_no_weapon_launches_something_else(
    nlp: Language, text: str, trigger: str
) -> None:
    assert reading(nlp, text, trigger) == "other"


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param("Iran launched several waves of strikes at the bases overnight.", "launched", id="of-strikes"),
        pytest.param("The frigate fired the weapon at a target at sea on Tuesday.", "fired", id="weapon-noun"),
        pytest.param("The North fired two toward the sea on Monday, Seoul said.", "fired", id="number"),
        pytest.param("They launched it from a site near the coast at dawn.", "launched", id="pronoun"),
        pytest.param("The country fired a new booster on Sunday.", "fired", id="launched-noun"),
        pytest.param("North Korea fired a second on Tuesday, Seoul said.", "fired", id="ordinal"),
        pytest.param(
            "Seoul launched an investigation after the North fired two into the sea on Monday.",
            "launched",
            id="another-launch-word-in-the-sentence",
        ),
        pytest.param(
            "The North fired off a warning on Tuesday, then launched one into the sea.", "fired", id="figurative-first"
        ),
        pytest.param("Iran launched Kowsar from the Semnan site on Monday.", "launched", id="unknown-name"),
        pytest.param("Russia struck an energy plant overnight, officials said.", "struck", id="object-is-target"),
    ],
)
def test_a_launch_verb_that_may_launch_a_weapon_is_not_read_as_something_else(
    nlp: Language, text: str, trigger: str
) -> None:
    assert reading(nlp, text, trigger) != "other"


def test_the_model_never_alerts_a_launch_of_something_else(nlp: Language) -> None:
    text = "The ministry launched an inquiry into the crash on Monday. The senator fired a broadside at the cabinet."
    assert findings_if_model_sure(nlp, text) == []


ENGINE_AFTER = "Officials said the ground test of a new solid-fuel motor lasted about two minutes."


def what_each_sentence_tests(nlp: Language, text: str) -> list[list[str | None]]:
    doc = nlp(text)
    return [[c.tested for c in sc.rule] for sc in sentence_candidates(doc, entities_of(doc), config=RULES)]


@pytest.mark.parametrize(
    ("first", "tested"),
    [
        # 'the test' names no weapon and refers back: the next sentence says what was tested
        pytest.param("The army carried out the test on Friday near its western range.", ["engine"], id="the-test"),
        pytest.param("It was launched on Friday from the western range.", ["engine"], id="pronoun-subject"),
        # an indefinite test is no reference to the one the next sentence tells
        pytest.param("The army plans a test of its own next year.", [None], id="indefinite"),
        # a word for an attack beside an engine test is not that test
        pytest.param("The attack on the depot came hours later.", [None], id="attack-word"),
        # a definite cue word that is no launch word ('the range') is not a test either
        pytest.param("The army held a drill near the western range on Friday.", [None], id="no-launch-word"),
        # a sentence that names its weapon tells its own launch
        pytest.param("The army fired a ballistic missile on Friday.", [None], id="names-its-weapon"),
    ],
)
def test_a_test_referred_to_takes_what_the_next_sentence_tests(
    nlp: Language, first: str, tested: list[str | None]
) -> None:
    assert what_each_sentence_tests(nlp, f"{first} {ENGINE_AFTER}") == [tested, ["engine"]]


def test_a_test_referred_to_takes_what_the_sentence_before_tests(nlp: Language) -> None:
    text = "A target missile was launched from the atoll, the agency said. The test lasted about ten minutes."
    assert what_each_sentence_tests(nlp, text) == [["defence"], ["defence"]]


def test_only_a_sentences_own_reading_is_passed_on(nlp: Language) -> None:
    # the third sentence's neighbour inherited its reading; it passes nothing on, whatever the order
    text = f"{ENGINE_AFTER} The test was held on Friday. It was launched from the western range."
    assert what_each_sentence_tests(nlp, text) == [["engine"], ["engine"], [None]]
    text = f"It was launched from the western range. The test was held on Friday. {ENGINE_AFTER}"
    assert what_each_sentence_tests(nlp, text) == [[None], ["engine"], ["engine"]]


def test_a_test_referred_to_beside_an_engine_test_never_alerts(nlp: Language) -> None:
    text = f"The army carried out the test on Friday near its western range. {ENGINE_AFTER}"
    assert findings_if_model_sure(nlp, text) == []

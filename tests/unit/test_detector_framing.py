"""Launch words the sentence frames as no launch that happened or is announced, read with the real spaCy pipeline
(agents/detector/framing.py): a drill that rehearses a launch, the consequence of a hypothetical one, what a missile
can do when launched, a simulated, commemorated or habitual one; and a launch urged, banned or stopped. The learned
decision never alerts them, and a launch of the same shape that is reported stays the model's to decide.

Sentences here were written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

from .detector_readings import findings_if_model_sure, rule_reading


def framing(nlp: Language, text: str, trigger: str) -> str | None:
    return rule_reading(nlp, text, trigger, lambda c, sc: c.framed)


@pytest.mark.parametrize(
    ("text", "trigger", "framed"),
    [
        pytest.param(
            "The city will hold an evacuation drill next month in preparation for a possible missile launch by the"
            " North.",
            "launch",
            "rehearsal",
            id="drill-in-preparation-for-a-launch",
        ),
        pytest.param(
            "Hundreds of residents taking part in the drill were alerted to an incoming ballistic missile launch by"
            " sirens.",
            "launch",
            "rehearsal",
            id="drill-participants-alerted-to-a-launch",
        ),
        pytest.param(
            "A ballistic missile launch toward the island could quickly escalate into a regional war, the minister"
            " warned.",
            "launch",
            "hypothetical",
            id="consequence-of-an-indefinite-launch",
        ),
        pytest.param(
            "The new missile can hit targets 3,000 km away when launched from a mobile platform.",
            "launched",
            "capability",
            id="what-it-can-do-when-launched",
        ),
        pytest.param(
            "The navy said the destroyer had carried out a test of its cruise missiles using a computer simulation.",
            "test",
            "simulated",
            id="computer-simulation",
        ),
        pytest.param(
            "The parade ended with a mock launch of the new missile on a giant screen.",
            "launch",
            "simulated",
            id="a-mock-launch",
        ),
        pytest.param(
            "Scientists gathered to mark the 60th anniversary of the launch of the country's first ballistic missile.",
            "launch",
            "past",
            id="anniversary",
        ),
        pytest.param(
            "Such missile tests tend to take place in the spring, after the winter drills end.",
            "tests",
            "past",
            id="tend-to",
        ),
    ],
)
def test_a_launch_framed_as_no_launch_is_read_so(nlp: Language, text: str, trigger: str, framed: str) -> None:
    assert framing(nlp, text, trigger) == framed


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param(
            "The joint exercise included the launch of two ballistic missiles from a submarine, the navy said.",
            "launch",
            id="a-launch-inside-the-drill",
        ),
        pytest.param(
            "South Korea staged a military exercise on Friday in response to the North's ballistic missile launch.",
            "launch",
            id="a-drill-answering-a-launch",
        ),
        pytest.param(
            "A North Korean missile launch could come as early as next week, officials said.",
            "launch",
            id="a-possible-launch",
        ),
        pytest.param(
            "The launch of the missile could escalate tensions further, analysts said.",
            "launch",
            id="the-consequence-of-a-definite-launch",
        ),
        pytest.param(
            "North Korea launched a missile that can hit targets 3,000 km away on Tuesday.",
            "launched",
            id="a-launch-of-a-capable-missile",
        ),
        pytest.param(
            "The army fired two ballistic missiles into the sea on Monday in a simulation of a strike on enemy ports.",
            "fired",
            id="a-firing-in-a-simulated-strike",
        ),
        pytest.param(
            "The army fired two ballistic missiles on Monday in a simulated counterattack, state media said.",
            "fired",
            id="a-firing-in-a-simulated-counterattack",
        ),
        pytest.param("The navy test-fired two cruise missiles on Tuesday, the ministry said.", "fired", id="plain"),
    ],
)
def test_a_launch_told_as_such_is_not_framed(nlp: Language, text: str, trigger: str) -> None:
    assert framing(nlp, text, trigger) is None


def test_the_model_never_alerts_a_launch_framed_as_no_launch(nlp: Language) -> None:
    text = (
        "The city will hold an evacuation drill next month in preparation for a possible missile launch by the"
        " North. A ballistic missile launch toward the island could quickly escalate into a regional war, the"
        " minister warned."
    )
    assert findings_if_model_sure(nlp, text) == []


def test_the_model_never_alerts_a_launch_urged_or_stopped(nlp: Language) -> None:
    text = "North Korea will stop launches of intercontinental ballistic missiles from April, Kim said."
    assert findings_if_model_sure(nlp, text) == []


def test_the_model_still_decides_a_reported_launch_beside_a_framed_one(nlp: Language) -> None:
    reported = "On Tuesday North Korea fired two short-range ballistic missiles into the sea."
    text = "A ballistic missile launch toward the island could quickly escalate into a regional war. " + reported
    assert [e.text for f in findings_if_model_sure(nlp, text) for e in f.evidence] == [reported]


def test_an_aborted_launch_stays_the_models_to_decide(nlp: Language) -> None:
    """The rules read 'aborted' as a stopped launch, but an aborted launch occurred (the labels count it so)."""
    text = "North Korea aborted the launch of a ballistic missile seconds before liftoff on Tuesday."
    assert [e.text for f in findings_if_model_sure(nlp, text) for e in f.evidence] == [text]

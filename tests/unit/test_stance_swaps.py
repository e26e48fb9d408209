"""Readings that decide between favor and against where the rules cast no vote before and the learned words
had to (issue 14: favor and against swapped), on sentences written for the project and the real spaCy
pipeline. Each failed before its fix."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance.readings import extract_stances


def stances(nlp: Language, text: str, target: str) -> set[str]:
    doc = nlp(text)
    return {s.stance for s in extract_stances(doc, entities_of(doc)) if s.target == target}


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        # a verb that aims its instrument at someone: "target X WITH sanctions", "threaten X WITH force"
        ("Britain plans to target Tehran with new sanctions after the seizure.", "sanctions", "favor"),
        ("The minister wants to punish the regime with tougher sanctions.", "sanctions", "favor"),
        # a light noun passes on the judgement of its "of" phrase
        ("The ministry described the joint drills as a manifestation of madness.", "military_action", "against"),
        ("The ministry said the launch was a display of aggression.", "provocation", "against"),
        # a noun with "against" opposes its object, as a verb does ("a voice AGAINST the deal")
        ("The minister said he was the only voice against the nuclear deal with Iran.", "diplomacy", "against"),
        # verbs of rejecting and praising, and judgements of validity and conformity
        ("She rebuffed the latest overtures for talks by Seoul, the agency said.", "diplomacy", "against"),
        ("The senator lambasted the nuclear deal on Tuesday.", "diplomacy", "against"),
        ("The minister said the snapback of sanctions is null and void.", "sanctions", "against"),
        ("The spokesman said the satellite launch is in line with the space programme.", "provocation", "favor"),
        ("The spokesman said the satellite launch is not in line with its obligations.", "provocation", "against"),
        # a launch defended as self-defence is defended
        ("Pyongyang declared that all of its missile tests are self-defence measures.", "provocation", "favor"),
    ],
)
def test_the_rules_read_the_side(nlp: Language, text: str, target: str, expected: str) -> None:
    assert stances(nlp, text, target) == {expected}

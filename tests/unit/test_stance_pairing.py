"""Pairing a speaker with a target (stance stages 1-4), on sentences written for the project and the real spaCy
pipeline. Each failed before its fix: the target word went unread, or the speaker was no one (issue 14)."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance.pairs import Pair, clause_groups


def pairs_of(nlp: Language, text: str) -> list[Pair]:
    doc = nlp(text)
    return clause_groups(doc, entities_of(doc))[0]


def speakers(pairs: list[Pair], target: str) -> set[str]:
    return {p.speaker_canonical or p.speaker for p in pairs if p.target == target}


@pytest.mark.parametrize(
    ("text", "target", "speaker"),
    [
        # general vocabulary of talks, sanctions and the use of force that no term listed
        ("We are not considering any contact with Washington, the minister said.", "diplomacy", "minister"),
        ("She rebuffed the overtures by President Lee, calling them useless.", "diplomacy", "She"),
        ("The committee held consultations with both delegations, the spokesman said.", "diplomacy", "spokesman"),
        ("Smith described adding the militia to the terror list as urgent.", "sanctions", "Smith"),
        ("The ministry said its response was legitimate self-defence.", "military_action", "ministry"),
        ("The general warned that the army would respond militarily.", "military_action", "general"),
        # "without preconditions": conditions for talks
        ("Seoul is ready to sit down without preconditions, the envoy said.", "diplomacy", "envoy"),
        # "one" standing for the noun it repeats, read with its modifier
        ("The only way out is a diplomatic one, Smith said.", "diplomacy", "Smith"),
        ("Washington does not rule out any response, including a military one.", "military_action", "United States"),
        # the object of "meet" after "with"
        ("Kim will not meet with President Donald Trump, the minister said.", "diplomacy", "minister"),
    ],
)
def test_general_target_words_pair_the_speaker(nlp: Language, text: str, target: str, speaker: str) -> None:
    assert speaker in speakers(pairs_of(nlp, text), target)


def test_a_bare_one_is_no_target(nlp: Language) -> None:
    assert pairs_of(nlp, "Only one country voted for the plan, the envoy said.") == []


def test_an_unquoted_first_person_is_an_unnamed_speaker(nlp: Language) -> None:
    """A statement printed as is ("We oppose ..."): a speaker the passage does not name, not no one."""
    pairs = pairs_of(nlp, "We resolutely oppose the sanctions. We urge all sides to show restraint.")
    sanctions = [p for p in pairs if p.target == "sanctions"]
    assert [(p.speaker, p.resolved) for p in sanctions] == [("we", False)]


def test_an_unquoted_first_person_is_the_reporting_speakers(nlp: Language) -> None:
    """'We will not ..., the minister said' (direct speech without quotes): the minister's, no second speaker."""
    pairs = pairs_of(nlp, "We will never accept new sanctions, the minister said.")
    assert speakers(pairs, "sanctions") == {"minister"}


def test_a_quoted_first_person_stays_the_quotes_speaker(nlp: Language) -> None:
    assert speakers(pairs_of(nlp, '"We oppose the sanctions," Lee said.'), "sanctions") == {"Lee"}


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Kim’s response was “we will never negotiate with them.”", "Kim"),
        # a possessive pronoun: the person named before
        (
            "Foreign Minister Peter Holm spoke on Monday. His answer to the reporters was: “Sanctions must go.”",
            "Peter Holm",
        ),
    ],
)
def test_the_possessor_of_a_speech_noun_speaks_the_quote(nlp: Language, text: str, speaker: str) -> None:
    """'X's RESPONSE was "..."': no speaker verb, the quote is X's (was an unattributed quote)."""
    pairs = pairs_of(nlp, text)
    assert {p.speaker_canonical for p in pairs} == {speaker}

"""The rules' judgements from a general sentiment lexicon: a noun or adjective the stance lexicon does not list
judges what it is said of when VADER gives it a strong valence ("the sanctions were economic TERRORISM").

The sentences are written for wirewatch (not taken from any labelled set); parsed by the real pipeline.
"""

from __future__ import annotations

import dataclasses

import pytest
from spacy.language import Language

from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance import AGAINST, FAVOR, extract_stances, load_lexicon
from wirewatch.agents.stance.lexicon import GENERAL_EVALUATIVE_MIN, general_evaluative


def rule_stances(nlp: Language, text: str, *, general: bool = True) -> list[tuple[str, str, str]]:
    lexicon = load_lexicon()
    if not general:
        lexicon = dataclasses.replace(lexicon, general_evaluative={})
    doc = nlp(text)
    return [(s.speaker_canonical, s.target, s.stance) for s in extract_stances(doc, entities_of(doc), lexicon=lexicon)]


@pytest.mark.parametrize(
    ("text", "target", "stance"),
    [
        ("Minister Paul Grant said the new sanctions were economic terrorism.", "sanctions", AGAINST),
        ("Minister Paul Grant said the sanctions were horrible.", "sanctions", AGAINST),
        ("Minister Paul Grant said the talks were an excellent idea.", "diplomacy", FAVOR),
    ],
)
def test_a_strongly_valenced_noun_or_adjective_judges_the_target(
    nlp: Language, text: str, target: str, stance: str
) -> None:
    assert rule_stances(nlp, text) == [("Paul Grant", target, stance)]
    assert rule_stances(nlp, text, general=False) == []  # the judgement comes from the general lexicon


def test_a_verb_of_the_general_lexicon_judges_nothing(nlp: Language) -> None:
    # "kill" is strongly negative in VADER, but a verb says what happened, not what the speaker thinks of it
    assert general_evaluative()["kill"] < 0
    assert rule_stances(nlp, "Minister Paul Grant said the sanctions killed thousands.") == []


def test_weak_words_and_symbols_are_left_out() -> None:
    words = general_evaluative()
    assert GENERAL_EVALUATIVE_MIN > 1 and "disgrace" not in words  # VADER -2.2: below the threshold
    assert "terrorism" in words and "excellent" in words
    assert all(w.replace("-", "").isalpha() for w in words)  # no emoticons or abbreviations like ":("

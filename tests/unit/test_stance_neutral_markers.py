"""The learned polarity's features for a clause that takes no side: hedges and forecasts ("unlikely", "remains
to be seen"), calls on every side ("all parties"), replies to a question ("when asked"), no decision, a
question, and a target judged for whether it works ("sanctions will not work").

The sentences are written for wirewatch (not taken from any labelled set); parsed by the real pipeline.
"""

from __future__ import annotations

import dataclasses

import pytest
from spacy.language import Language

from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance import load_lexicon
from wirewatch.agents.stance.features import FeatureConfig, pair_strings
from wirewatch.agents.stance.lexicon import Lexicon
from wirewatch.agents.stance.pairs import clause_groups

MARKED = ("marker=", "efficacy")


def markers(nlp: Language, text: str, target: str, lexicon: Lexicon | None = None) -> set[str]:
    """The neutral-marker features of the one pair toward ``target`` in ``text``."""
    lex = lexicon or load_lexicon()
    doc = nlp(text)
    pairs = [p for p in clause_groups(doc, entities_of(doc), lex)[0] if p.target == target]
    assert len(pairs) == 1, [(p.speaker, p.target) for p in pairs]
    return {s for s in pair_strings(doc, pairs[0], FeatureConfig(), lex) if s.startswith(MARKED)}


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("Senator Ruth Cole said new sanctions are unlikely to work.", "sanctions", {"efficacy", "marker=hedge"}),
        ("Senator Ruth Cole said the sanctions will not work.", "sanctions", {"efficacy"}),
        (
            '"All parties should show restraint after the missile launch," said the spokesman Li Wei.',
            "provocation",
            {"marker=balanced"},
        ),
        (
            "Asked whether the talks would resume, Minister Anna Berg said no decision had been made on the talks.",
            "diplomacy",
            {"marker=asked", "marker=undecided"},
        ),
        (
            "Minister Anna Berg said it remains to be seen whether the talks will bring results.",
            "diplomacy",
            {"marker=hedge"},
        ),
        ('"Will the new sanctions change anything?" Minister Anna Berg asked.', "sanctions", {"marker=question"}),
    ],
)
def test_a_clause_that_takes_no_side_is_marked(nlp: Language, text: str, target: str, expected: set[str]) -> None:
    found = markers(nlp, text, target)
    assert expected <= {s for s in found if "|" not in s}
    # each group also crossed with the target
    assert {f"{m}|{target}" for m in expected if m.startswith("marker=")} <= found


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Minister Paul Grant said he strongly opposes the sanctions.", "sanctions"),
        ("Minister Paul Grant condemned the missile launch.", "provocation"),
        ("Minister Paul Grant said the sanctions hurt ordinary families.", "sanctions"),
        # "both" alone is no call on every side: "both countries" names the sides the sanctions are for
        ("Minister Paul Grant said both countries strongly support the new sanctions.", "sanctions"),
    ],
)
def test_a_clause_that_takes_a_side_has_no_marker(nlp: Language, text: str, target: str) -> None:
    assert markers(nlp, text, target) == set()


def test_the_markers_are_the_lexicons_data(nlp: Language) -> None:
    text = "Senator Ruth Cole said new sanctions are unlikely to work."
    bare = dataclasses.replace(load_lexicon(), neutral_markers={}, efficacy_verbs=frozenset())
    assert markers(nlp, text, "sanctions", bare) == set()


def test_each_marker_counts_as_marker_weight_words(nlp: Language) -> None:
    text = "Senator Ruth Cole said new sanctions are unlikely to work."
    doc = nlp(text)
    (pair,) = [p for p in clause_groups(doc, entities_of(doc))[0] if p.target == "sanctions"]
    for weight in (1, 3):
        strings = pair_strings(doc, pair, FeatureConfig(marker_weight=weight))
        assert strings.count("marker=hedge") == weight
        assert strings.count("efficacy") == weight


def test_the_marker_weight_is_part_of_the_models_spec() -> None:
    config = FeatureConfig(vector=True, marker_weight=1)
    assert config.spec()["marker_weight"] == 1
    assert FeatureConfig.from_spec(config.spec()) == config


@pytest.mark.parametrize(
    "text",
    [
        "Senator Ruth Cole said the sanctions will not work.",
        "Senator Ruth Cole said the talks are unlikely to succeed.",
    ],
)
def test_a_target_judged_for_whether_it_works_passes_no_rule_vote(nlp: Language, text: str) -> None:
    """Whether the target works is an assessment, not a side: the rules' vote ("work" keeps, "not" flips) is
    not passed to the model, and the reading's abstention says why."""
    doc = nlp(text)
    (pair,) = [p for p in clause_groups(doc, entities_of(doc))[0] if p.target in ("sanctions", "diplomacy")]
    strings = pair_strings(doc, pair, FeatureConfig())
    assert "efficacy" in strings
    assert "rule=0" in strings and "rule=-" not in strings and "rule=+" not in strings
    assert "rule_total=0" in strings and "abstain=efficacy" in strings


def test_a_judgement_of_what_the_target_does_keeps_its_vote(nlp: Language) -> None:
    doc = nlp("Senator Ruth Cole said the sanctions hurt ordinary families.")
    (pair,) = [p for p in clause_groups(doc, entities_of(doc))[0] if p.target == "sanctions"]
    strings = pair_strings(doc, pair, FeatureConfig())
    assert "rule=-" in strings and "abstain=efficacy" not in strings

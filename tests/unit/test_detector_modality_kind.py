"""What the rules read for the learned modality and kind: the voice that tells a launch, the modality cues
outside the launch's clause, the flight figures' bins, the kind sources, and the weapon words of the kind
classes. Passages here are written for the project (real spaCy pipeline)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from spacy.language import Language

from wirewatch.agents.alert_model import candidate_rows, passage_columns
from wirewatch.agents.detector import DetectorConfig, alert_model, kind_sources, sentence_candidates
from wirewatch.agents.detector.kinds import kind_of
from wirewatch.agents.detector.signals import figure_signals, modality_cues_outside, voice_of
from wirewatch.agents.nlp import entities_of

from .detector_readings import rule_reading

RULES = DetectorConfig(learned=False)


@pytest.mark.parametrize(
    ("text", "trigger", "voice"),
    [
        ("North Korea said on Monday that it will launch a reconnaissance satellite next week.", "launch", "own"),
        ("Pakistan is planning a missile test near Karachi, Indian intelligence officials said.", "test", "other"),
        ("Pakistan is planning a missile test near Karachi next week.", "test", "none"),
    ],
)
def test_the_voice_that_tells_a_launch(nlp: Language, text: str, trigger: str, voice: str) -> None:
    assert rule_reading(nlp, text, trigger, lambda c, _sc: voice_of(c)) == voice


@pytest.mark.parametrize(
    ("text", "trigger", "cues"),
    [
        # the hedge hangs from the sentence's other clause, not from the launch's
        (
            "Fuel trucks left the site where a missile sits on its launch pad, suggesting that a launch might be"
            " near, officials said on Tuesday.",
            "launch",
            ["modal_possible"],
        ),
        (
            "The navy announced a firing exercise and warned ships to stay away from the missile test area.",
            "test",
            ["threat"],
        ),
        ("North Korea fired two ballistic missiles into the sea on Sunday.", "fired", []),
    ],
)
def test_modality_cues_outside_the_launch_clause(nlp: Language, text: str, trigger: str, cues: list[str]) -> None:
    assert rule_reading(nlp, text, trigger, lambda c, sc: modality_cues_outside(c.trigger, sc.sent)) == cues


@pytest.mark.parametrize(
    ("text", "bins"),
    [
        (
            "The missile rose to an altitude of 5,800 kilometres and flew 950 km before it fell into the sea.",
            ["range_km:300-1000", "apogee_km:5500+"],
        ),
        ("The rocket flew about 40 km before it crashed.", ["range_km:0-300"]),
        ("North Korea fired two ballistic missiles into the sea on Sunday.", []),
    ],
)
def test_flight_figures_are_binned(nlp: Language, text: str, bins: list[str]) -> None:
    assert figure_signals(next(nlp(text).sents)) == bins


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        # the rules read srbm off the system's name: the named source speaks for it (and training may distrust it)
        ("The army fired two Scud missiles toward the border town on Saturday night.", [("named", "srbm")]),
        # the text states the class: the rules' reading of it is a source of its own
        ("The army fired two short-range ballistic missiles toward the border town.", [("rule", "srbm")]),
    ],
)
def test_a_kind_read_off_a_systems_name_is_the_named_source(nlp: Language, text: str, sources: list[Any]) -> None:
    doc = nlp(text)
    [sc] = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert [kind_sources(sc, c) for c in sc.rule] == [sources]


@pytest.mark.parametrize(
    ("text", "trigger", "kind"),
    [
        ("Officials said the country fired a mid-range ballistic missile on Tuesday.", "fired", "irbm"),
        ("The navy confirmed its first underwater-launched ballistic missile test in two years.", "test", "slbm"),
        ("The navy will fire a submarine ballistic missile from the Arctic next month.", "fire", "slbm"),
        # a hedged identification of a generic mention
        ("Officials said the missile fired on Tuesday might have been a hypersonic weapon.", "fired", "hypersonic"),
    ],
)
def test_weapon_words_of_the_kind_classes(nlp: Language, text: str, trigger: str, kind: str) -> None:
    assert rule_reading(nlp, text, trigger, lambda c, _sc: kind_of(c)) == kind


def test_qualifiers_are_read_by_the_modality_and_kind_models_only(nlp: Language) -> None:
    doc = nlp(
        "Fuel trucks left the site where a missile sits on its launch pad, suggesting that a launch might be near,"
        " officials said on Tuesday."
    )
    cands = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert "outside_mod:modal_possible" in cands[0].qualifiers
    spec = alert_model(DetectorConfig()).spec

    def cells(rows: Any) -> set[tuple[int, int, float]]:
        values, indices, indptr, _shape = rows.csr()
        return {
            (r, int(indices[j]), float(values[j]))
            for r in range(len(indptr) - 1)
            for j in range(indptr[r], indptr[r + 1])
        }

    with_qualifiers = cells(candidate_rows(cands, spec))
    without = cells(candidate_rows([replace(sc, qualifiers=[]) for sc in cands], spec))
    changed = {col for _r, col, _v in with_qualifiers ^ without}
    assert changed and changed <= set(passage_columns(spec))  # the block the alert model is fitted without

"""What the rules read for the learned modality and kind: the voice that tells a launch, the modality cues
outside the launch's clause, the flight figures' bins, the kind sources, and the weapon words of the kind
classes. Passages here are written for the project (real spaCy pipeline)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from spacy.language import Language

from wirewatch.agents.alert_model import candidate_rows, passage_columns
from wirewatch.agents.detector import DetectorConfig, alert_model, apply_decision, kind_sources, sentence_candidates
from wirewatch.agents.detector.assembly import neighbour_kinds
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
        # with a type suffix the name still names the system
        ("The army fired two Scud-type missiles toward the border town on Saturday night.", [("named", "srbm")]),
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
        # the carrier, the flight and the payload: a class of their own beside the range class
        ("North Korea said it tested a new hypersonic intermediate-range missile on Tuesday.", "tested", "hypersonic"),
        ("The army fired two missiles from a multiple rocket launcher on Sunday.", "fired", "rocket_artillery"),
        ("The navy plans to launch the missile from its new class of nuclear submarines.", "launch", "slbm"),
        # a launch word that says what it puts up
        ("Iran said on Friday that it had conducted a successful space launch.", "launch", "space_launch_vehicle"),
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


@pytest.mark.parametrize(
    ("text", "first_source"),
    [
        # the text's class words outrank the map's class of the name they go with
        ("The army test-fired a Taepodong-2 intercontinental missile on Tuesday.", ("rule", "icbm")),
        ("Russia struck the city with Oreshnik hypersonic missiles on Thursday.", ("rule", "hypersonic")),
        # a range class the launch's own class outranks does not: a Bulava is an slbm, whatever its range
        (
            "The navy test-fired a Bulava intercontinental ballistic missile from a nuclear submarine.",
            ("named", "slbm"),
        ),
    ],
)
def test_class_words_outrank_the_name_map(nlp: Language, text: str, first_source: tuple[str, str]) -> None:
    doc = nlp(text)
    [sc] = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert kind_sources(sc, sc.rule[0])[0] == first_source


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        # a lofted missile's apogee, or a flight past 5,500 km, proves an intercontinental missile
        (
            "The army fired a missile that climbed to an altitude of 4,100 km before it came down at sea.",
            [("flight", "icbm")],
        ),
        (
            "The air force launched an unarmed missile that flew 6,700 km to a test range in the ocean.",
            [("flight", "icbm")],
        ),
        # at the bounds
        ("The army fired a missile that climbed to an altitude of 3,000 km before it came down.", [("flight", "icbm")]),
        ("The army fired a missile that flew 5,500 km before it came down at sea.", [("flight", "icbm")]),
        # a distance between places is no flight
        ("The army fired a missile on Monday from a site 11,000 km away from Washington.", []),
        # figures under the bounds prove no class: the model decides
        ("The army fired a missile that climbed to an altitude of 2,000 km before it came down at sea.", []),
        ("The army fired a missile that flew 800 km before it came down at sea.", []),
        # the named system comes first, and weapon words with a class of their own need no figures
        ("The navy fired a Bulava missile that flew 6,000 km to a range in the north.", [("named", "slbm")]),
        ("The army fired a hypersonic missile that flew 6,000 km to a test range.", [("rule", "hypersonic")]),
    ],
)
def test_flight_figures_prove_a_class_the_words_do_not_give(nlp: Language, text: str, sources: list[Any]) -> None:
    doc = nlp(text)
    [sc] = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert [kind_sources(sc, c) for c in sc.rule] == [sources]


def test_a_sentence_naming_the_system_beside_a_launch_gives_its_kind(nlp: Language) -> None:
    doc = nlp(
        "The army launched two new missiles in a desert drill on Monday. They were identified by state media as"
        " DF-26 intermediate-range ballistic missiles."
    )
    cands = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert neighbour_kinds(cands) == ["irbm", None]
    generic = "ballistic_unspecified"
    apply_decision(cands, [0.9, 0.1], ["occurred", "occurred"], [generic, generic], 0.5, RULES)
    assert [c.kind_override for c in cands[0].rule] == ["irbm"]


@pytest.mark.parametrize(
    ("text", "trigger", "modality"),
    [
        # another party's word for the launcher's plan is an assessment: possible
        (
            "Pakistan is planning a missile test near Karachi next week, Indian intelligence officials said.",
            "test",
            "possible",
        ),
        # its report of the launcher's own threat stays a threat
        ("North Korea threatened to launch more missiles, South Korean officials said.", "launch", "threatened"),
        # and so does the launcher's own announcement of its plan, whoever reports it
        (
            "Iran has notified shipping authorities of its plans to launch a satellite this month, Turkish media"
            " reported.",
            "launch",
            "threatened",
        ),
    ],
)
def test_who_reads_a_plan(nlp: Language, text: str, trigger: str, modality: str) -> None:
    assert rule_reading(nlp, text, trigger, lambda c, _sc: c.modality) == modality


def test_the_alert_features_keep_the_weapon_words_plain_class(nlp: Language) -> None:
    # the class of the carrier or flight decides the finding's kind; the alert model's features read the plain one
    doc = nlp("North Korea said it tested a new hypersonic intermediate-range missile on Tuesday.")
    [sc] = sentence_candidates(doc, entities_of(doc), config=RULES)
    assert "kind:irbm" in sc.signals
    assert kind_of(sc.rule[0]) == "hypersonic"


@pytest.mark.parametrize(
    ("text", "trigger", "modality"),
    [
        # more launches under a verb that does not tell them in the past are still to come
        ("The general said his army needs to conduct more cruise missile tests before winter.", "tests", "threatened"),
        ("North Korea fired more missiles into the sea on Tuesday.", "fired", "occurred"),
        # the verb that reports a launch infers it from what was seen
        (
            "Fuel trucks have left the site where a missile sits on its pad, indicating that a launch is near.",
            "launch",
            "possible",
        ),
    ],
)
def test_launches_to_come_and_inferred(nlp: Language, text: str, trigger: str, modality: str) -> None:
    assert rule_reading(nlp, text, trigger, lambda c, _sc: c.modality) == modality

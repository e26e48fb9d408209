"""The detector's rules load as typed data (a bad entry is refused, naming it), and its stages work alone.

Sentences here were written for the project."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language

from wirewatch.agents import lexicons
from wirewatch.agents.detector import detect, lexicon
from wirewatch.agents.detector.candidates import weapons_in
from wirewatch.agents.detector.details import distances
from wirewatch.agents.detector.lexicon import DetectorCues, parse_cues, parse_watch_list
from wirewatch.agents.detector.modality import modality_of
from wirewatch.agents.detector.suppression import sentence_suppression
from wirewatch.agents.document import evidence_sentence, subject_of
from wirewatch.agents.nlp import entities_of


@pytest.fixture(autouse=True)
def no_user_dir() -> Iterator[None]:
    yield
    lexicons.configure(None)
    lexicon.cache_clear()


def shipped_cues() -> dict[str, Any]:
    return copy.deepcopy(lexicons.shipped("detector_cues.json"))


def test_the_shipped_rules_load_as_typed_frozen_data() -> None:
    cues = parse_cues(shipped_cues())
    assert isinstance(cues, DetectorCues)
    assert "launch" in cues.verb_triggers and cues.weapons[0].kind == "icbm"
    assert cues.count_words["two"] == 2 and cues.rule_score.base == 0.55
    with pytest.raises(AttributeError):
        cues.verb_triggers = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        cues.suppress_sentence["parade"] = "x"  # type: ignore[index]
    watch = parse_watch_list(lexicons.shipped("actors.json"))
    assert watch.states["North Korea"].space_launch_counts and "Hezbollah" in watch.non_state


def broken_cues(change: str) -> dict[str, Any]:
    data = shipped_cues()
    if change == "unknown key":
        data["launch_verbs"] = ["fire"]
    elif change == "missing key":
        del data["speech_verbs"]
    elif change == "word list of numbers":
        data["denial_verbs"] = ["deny", 3]
    elif change == "bad regex":
        data["suppress_sentence"]["parade"] = "(?:parade"
    elif change == "unknown weapon kind":
        data["weapons"][1]["kind"] = "orbital_bomb"
    elif change == "weapon without pattern":
        del data["weapons"][2]["pattern"]
    elif change == "unknown suppression kind":
        data["suppression_kinds"]["civil_cues"].append("balloon")
    elif change == "weight as text":
        data["rule_score"]["base"] = "0.55"
    elif change == "fractional count":
        data["headline_max_tokens"] = 16.5
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown key", r"detector_cues.json: unknown key\(s\) launch_verbs"),
        ("missing key", r"detector_cues.json: missing key\(s\) speech_verbs"),
        ("word list of numbers", "denial_verbs: expected a list of strings"),
        ("bad regex", "suppress_sentence 'parade': bad regular expression"),
        ("unknown weapon kind", r"weapons #2: unknown kind\(s\) orbital_bomb"),
        ("weapon without pattern", r"weapons #3: missing key\(s\) pattern"),
        ("unknown suppression kind", r"suppression_kinds: civil_cues: unknown kind\(s\) balloon"),
        ("weight as text", 'rule_score: base: expected a number, not "0.55"'),
        ("fractional count", "headline_max_tokens: expected a whole number, not 16.5"),
    ],
)
def test_a_bad_cue_entry_is_refused_with_its_name(change: str, message: str) -> None:
    with pytest.raises(lexicons.LexiconError, match=message):
        parse_cues(broken_cues(change))


def test_a_bad_actor_entry_is_refused_with_its_name() -> None:
    data = copy.deepcopy(lexicons.shipped("actors.json"))
    data["states"]["North Korea"]["alias"] = ["DPRK"]
    with pytest.raises(lexicons.LexiconError, match=r"actors.json: states 'North Korea': unknown key\(s\) alias"):
        parse_watch_list(data)
    data = copy.deepcopy(lexicons.shipped("actors.json"))
    data["non_state"]["Hezbollah"]["origins"] = "Lebanon"
    with pytest.raises(lexicons.LexiconError, match="non_state 'Hezbollah': origins: expected a list of strings"):
        parse_watch_list(data)
    with pytest.raises(lexicons.LexiconError, match=r"actors.json: missing key\(s\) states"):
        parse_watch_list({"non_state": {}})
    assert parse_watch_list({"states": {}}).non_state == {}  # optional parts may be left out


def test_a_users_bad_entry_stops_the_detector_with_a_clear_error(nlp: Language, tmp_path: Path) -> None:
    (tmp_path / "detector_cues.json").write_text(json.dumps({"suppress_sentence": {"parade": "[unclosed"}}))
    lexicons.configure(tmp_path)
    doc = nlp("North Korea fired a ballistic missile on Monday.")
    with pytest.raises(lexicons.LexiconError, match="suppress_sentence 'parade': bad regular expression"):
        detect(doc, entities_of(doc))
    lexicons.configure(None)
    assert detect(doc, entities_of(doc)).findings  # the shipped rules still load


# ----------------------------------------------------------------------------------- stages alone


def test_weapons_stage_finds_each_mention_with_its_kind(nlp: Language) -> None:
    doc = nlp("Pyongyang test-fired a Hwasong-18 and two cruise missiles, while Patriot batteries stood by.")
    mentions = [(w.text, w.kind, w.defence) for w in weapons_in(doc[:])]
    assert ("Hwasong-18", "icbm", False) in mentions
    assert ("cruise missiles", "cruise", False) in mentions
    assert any(defence for _text, _kind, defence in mentions)  # Patriot is a defence system


def test_details_stage_reads_range_and_apogee_and_skips_the_repeated_unit(nlp: Language) -> None:
    doc = nlp("The missile flew 380 kilometres (236 miles) and reached an altitude of 97 km.")
    assert distances(doc[:]) == (380, 97)
    assert distances(nlp("The talks lasted three hours.")[:]) == (None, None)


@pytest.mark.parametrize(
    ("text", "modality"),
    [
        ("North Korea fired a ballistic missile on Monday.", "occurred"),
        ("North Korea may launch an ICBM in the coming weeks.", "possible"),
        ("North Korea vowed to launch more missiles.", "threatened"),
    ],
)
def test_modality_stage_reads_the_launch_clause(nlp: Language, text: str, modality: str) -> None:
    doc = nlp(text)
    trigger = next(t for t in doc if t.lemma_ in ("fire", "launch"))
    assert modality_of(trigger, doc[:], "North Korea", None) == modality


def test_suppression_stage_depends_on_the_kind(nlp: Language) -> None:
    sent = nlp("The fireworks show ended with a rocket launch over the harbour.")[:]
    assert sentence_suppression(sent, "rocket_artillery") == "fireworks"
    assert sentence_suppression(sent, "icbm") is None  # civil cues never hide a named ICBM
    assert sentence_suppression(nlp("In the film, a missile is launched at the capital.")[:], "icbm") == (
        "fiction_or_hypothetical"
    )


def test_document_helpers_know_nothing_of_launches(nlp: Language) -> None:
    doc = nlp("Officials said North Korea fired and then tested a missile.\nA second line follows.")
    fired = next(t for t in doc if t.lower_ == "fired")
    tested = next(t for t in doc if t.lower_ == "tested")
    assert subject_of(fired, speech_verbs=()).text == "Korea"
    assert subject_of(tested, speech_verbs=()).text == "Korea"  # inherited through coordination
    evidence = evidence_sentence(doc[:], fired)
    assert evidence.text == "Officials said North Korea fired and then tested a missile."
    assert doc.text[evidence.start : evidence.end] == evidence.text

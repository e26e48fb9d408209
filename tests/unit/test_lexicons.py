"""User lexicon files extend the shipped ones (WIREWATCH_LEXICON_DIR)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language

from wirewatch.agents import lexicons
from wirewatch.agents.detector import detect
from wirewatch.agents.detector.kinds import _flight_classes
from wirewatch.agents.detector.lexicon import lexicon
from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance.lexicon import load_lexicon
from wirewatch.streams.app import load_nlp
from wirewatch.streams.settings import Settings

# A made-up state, so only the user's watch-list entry can make it an actor.
TEXT = "Freedonia fired two ballistic missiles into the sea on Monday, its neighbours said."


@pytest.fixture(autouse=True)
def no_user_dir() -> Iterator[None]:
    yield
    lexicons.configure(None)


def test_merge_extends_lists_and_objects_without_losing_shipped_entries() -> None:
    base = {"states": {"A": {"aliases": ["a"]}}, "cues": ["x"], "n": 1}
    extra = {"states": {"A": {"aliases": ["aa"]}, "B": {"aliases": ["b"]}}, "cues": ["x", "y"], "n": 2}
    assert lexicons.merge(base, extra) == {
        "states": {"A": {"aliases": ["a", "aa"]}, "B": {"aliases": ["b"]}},
        "cues": ["x", "y"],
        "n": 2,
    }
    assert base["cues"] == ["x"]


def test_user_actor_file_reaches_the_detector(nlp: Language, tmp_path: Path) -> None:
    doc = nlp(TEXT)
    before = {f.actor for f in detect(doc, entities_of(doc)).findings}
    assert "Freedonia" not in before
    (tmp_path / "actors.json").write_text(json.dumps({"states": {"Freedonia": {"aliases": ["Freedonia"]}}}))
    load_nlp(Settings(lexicon_dir=str(tmp_path)))  # what the worker and the CLI call
    doc = nlp(TEXT)
    assert {f.actor for f in detect(doc, entities_of(doc)).findings} == {"Freedonia"}
    assert "North Korea" in lexicons.load("actors.json")["states"]  # shipped entries kept


def test_bad_user_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "detector_cues.json").write_text("{not json")
    lexicons.configure(tmp_path)
    with pytest.raises(lexicons.LexiconError, match=r"detector_cues\.json"):
        lexicons.load("detector_cues.json")
    with pytest.raises(lexicons.LexiconError, match="not a directory"):
        lexicons.configure(tmp_path / "missing")


def test_user_flight_classes_are_checked(tmp_path: Path) -> None:
    def user_classes(name: str, classes: Any) -> None:
        (tmp_path / name).mkdir()
        (tmp_path / name / "weapon_kinds.json").write_text(json.dumps({"flight_classes": classes}))
        lexicons.configure(tmp_path / name)

    # a user's bound replaces the shipped one, the other stays; a class may have one bound only, and the
    # highest-ranked class a figure passes comes first
    user_classes("one_bound", {"icbm": {"min_range_km": 8000}, "irbm": {"min_range_km": 3000}})
    assert _flight_classes() == [("icbm", (8000.0, 3000.0)), ("irbm", (3000.0, None))]
    for name, classes, message in [
        ("no_bound", {"irbm": {}}, "'irbm' needs min_range_km or min_apogee_km"),
        ("typo", {"irbm": {"min_range": 3000}}, "'irbm' needs min_range_km or min_apogee_km"),
        ("not_a_number", {"irbm": {"min_range_km": "far"}}, "'irbm': bounds must be numbers"),
        ("unknown", {"orbital": {"min_apogee_km": 200}}, "flight_classes: unknown kind 'orbital'"),
        ("not_an_object", ["icbm"], "flight_classes: expected an object"),
    ]:
        user_classes(name, classes)
        with pytest.raises(lexicons.LexiconError, match=message):
            _flight_classes()


def test_user_stance_file_adds_a_target_term(nlp: Language, tmp_path: Path) -> None:
    from wirewatch.agents.stance import extract_stances

    text = 'Minister Ana Lopez said: "We firmly oppose the blockade of the northern ports."'

    def sanctions_stances() -> set[str]:
        doc = nlp(text)
        return {s.stance for s in extract_stances(doc, entities_of(doc)) if s.target == "sanctions"}

    assert sanctions_stances() == set()
    (tmp_path / "stance_targets.json").write_text(json.dumps({"targets": {"sanctions": {"terms": ["blockade"]}}}))
    load_nlp(Settings(lexicon_dir=str(tmp_path)))
    assert sanctions_stances() == {"against"}


def test_the_detector_and_the_stance_tagger_agree_on_who_speaks() -> None:
    """A verb by which the detector finds a speaker is one the stance tagger finds a speaker by too: the two
    word lists (detector_cues.json, stance_cues.json) must not drift apart."""
    cues, stance = lexicon().cues, load_lexicon()
    assert cues.commissive_verbs and cues.commissive_verbs <= stance.speaker_verbs
    assert not cues.commissive_verbs & cues.speech_verbs  # each verb in one list
    speakers = stance.speaker_verbs | stance.reporting_verbs | stance.quoting_verbs
    # the detector's own: 'according (to)', and verbs of evidence rather than of a statement
    detector_only = {"according", "show", "point", "assess", "estimate", "release", "inform", "notify"}
    assert cues.speech_verbs - detector_only <= speakers, cues.speech_verbs - detector_only - speakers

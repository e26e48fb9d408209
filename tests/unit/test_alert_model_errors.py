"""The error breakdown the trainer writes into the model card: false alarms and misses counted by the labels'
own classes. Labels here are written for the project."""

from __future__ import annotations

import numpy as np

from wirewatch.agents.learning.errors import (
    NO_CANDIDATE,
    NO_TAG,
    breakdown_markdown,
    candidate_shape,
    error_breakdown,
    note_tag,
)


def test_note_tags_are_read_off_the_start_of_the_note() -> None:
    assert note_tag("[civil-space] a company's satellite launch") == "civil-space"
    assert note_tag("  [historical] background") == "historical"
    assert note_tag("a launch reported today") == NO_TAG
    assert note_tag(None) == NO_TAG


def test_false_alarms_and_misses_are_counted_by_class() -> None:
    labels = [
        {"expect_alert": False, "modality": "historical", "kind": "icbm", "note": "[historical] 2017 test"},
        {"expect_alert": False, "modality": "historical", "kind": "icbm", "note": "[historical] 2006 test"},
        {"expect_alert": False, "modality": "occurred", "kind": "space_launch_vehicle", "note": "[civil-space] x"},
        {"expect_alert": True, "modality": "occurred", "kind": "icbm", "note": "launch"},
        {"expect_alert": True, "modality": "threatened", "kind": "cruise", "note": "threat"},
    ]
    outcomes = {
        "expected": np.array([False, False, False, True, True]),
        "predicted": np.array([True, False, True, True, False]),
        "modality_ok": np.array([False, False, False, True, False]),
        "kind_ok": np.array([False, False, False, False, False]),
    }
    tables = error_breakdown(labels, outcomes)
    assert tables["false alarms by note tag (negatives)"] == [("historical", 1, 2), ("civil-space", 1, 1)]
    assert tables["misses by modality (positives)"] == [("threatened", 1, 1), ("occurred", 0, 1)]
    assert tables["wrong modality by label (true positives)"] == [("occurred", 0, 1)]
    assert tables["wrong kind by label (true positives)"] == [("icbm", 1, 1)]
    lines = breakdown_markdown(tables)
    assert "| historical | 1 / 2 |" in lines and "### misses by kind (positives)" in lines


def test_a_candidate_shape_is_read_off_the_rules_signals() -> None:
    assert candidate_shape(["no_rule", "reason:no_weapon"], alone=True) == "launch word, no weapon word, only candidate"
    assert (
        candidate_shape(["no_rule", "reason:no_trigger"], alone=False)
        == "weapon word, no launch word, other candidates"
    )
    assert candidate_shape(["rule", "reason:alert"], alone=True) == "launch paired with a weapon, only candidate"
    assert candidate_shape(["rule", "reason:historical"], alone=True) == "paired, held by the rules, only candidate"
    assert candidate_shape(None, alone=False) == NO_CANDIDATE


def test_misses_are_counted_by_the_best_candidates_shape() -> None:
    labels = [{"expect_alert": True}, {"expect_alert": True}, {"expect_alert": True}, {"expect_alert": False}]
    outcomes = {
        "expected": np.array([True, True, True, False]),
        "predicted": np.array([False, True, False, False]),
        "modality_ok": np.array([False, True, False, False]),
        "kind_ok": np.array([False, True, False, False]),
    }
    shapes = ["launch word, no weapon word, only candidate"] * 2 + [NO_CANDIDATE, "launch paired with a weapon"]
    table = error_breakdown(labels, outcomes, shapes=shapes)["misses by the best candidate's shape (positives)"]
    assert table == [("launch word, no weapon word, only candidate", 1, 2), (NO_CANDIDATE, 1, 1)]
    assert "misses by the best candidate's shape (positives)" not in error_breakdown(labels, outcomes)

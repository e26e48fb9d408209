"""One taxonomy (agents/data/taxonomy.json): the detector's cues, the incidents' labels, the severity
ranks of ``alerts tail``, webhooks and settings, and the JSON Schemas all agree with it."""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from typing import Any

import pytest

from wirewatch.agents import detector, incidents, lexicons
from wirewatch.agents.taxonomy import TAXONOMY, TaxonomyError, parse_taxonomy
from wirewatch.streams import tail
from wirewatch.streams.records import json_schema
from wirewatch.streams.settings import Settings, SettingsError


def shipped() -> dict[str, Any]:
    return json.loads(files("wirewatch.agents").joinpath("data/taxonomy.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("schema", "field", "values"),
    [
        ("alert", "kind", TAXONOMY.kind_names),
        ("alert", "modality", TAXONOMY.modality_names),
        ("alert", "severity", TAXONOMY.severities),
        ("incident", "kind", TAXONOMY.kind_names),
        ("incident", "modality", TAXONOMY.modality_names),
        ("incident", "max_severity", TAXONOMY.severities),
    ],
)
def test_the_schemas_enums_are_the_taxonomys(schema: str, field: str, values: tuple[str, ...]) -> None:
    assert tuple(json_schema(schema)["properties"][field]["enum"]) == values


def test_every_kind_has_cues_and_every_cue_names_a_kind() -> None:
    cue_kinds = [weapon["kind"] for weapon in lexicons.load("detector_cues.json")["weapons"]]
    assert set(cue_kinds) == set(TAXONOMY.kind_names)


def test_the_detectors_kind_lists_name_taxonomy_kinds() -> None:
    cues = detector.lexicon().cues
    assert {w.kind for w in cues.weapons} == set(TAXONOMY.kind_names)
    for name in ("civil_cues", "civil_space_sentence", "civil_space_article"):
        assert getattr(cues.suppression_kinds, name) <= set(TAXONOMY.kind_names), name
    # the marks that date a year to a clause are temporal clause marks (a narrower list: "because" and
    # "although" introduce a clause, not a date)
    assert cues.year_clause_marks < cues.temporal_clause_marks


def test_the_code_reads_the_taxonomy() -> None:
    assert {k.name: k.label for k in TAXONOMY.kinds} == incidents.KIND_LABELS
    assert set(incidents.KIND_LABELS) == set(TAXONOMY.kind_names)
    assert TAXONOMY.kind_names == detector.KINDS and TAXONOMY.kind_family == detector.KIND_FAMILY
    assert tail.SEVERITY_RANK == detector.SEVERITY_RANK == {"low": 0, "medium": 1, "high": 2, "critical": 3}
    # The precedence the detector resolves kinds with: the more specific and longer-range first.
    assert sorted(TAXONOMY.kind_names, key=lambda k: -detector.KIND_RANK[k])[:3] == ["icbm", "slbm", "irbm"]
    assert detector.default_severity("icbm", "possible") == "high"
    assert detector.default_severity("srbm", "occurred") == "high"
    assert detector.default_severity("slbm", "occurred") == "critical"
    assert detector.default_severity("not-a-kind", "threatened") == "medium"  # the fallback
    assert detector.kind_family("not-a-kind") == TAXONOMY.wildcard_family


def test_settings_take_severities_from_the_taxonomy() -> None:
    assert Settings.from_env({"WIREWATCH_SEVERITY_MAP": '{"cruise": "low"}'}).severity_mapping() == {"cruise": "low"}
    with pytest.raises(SettingsError, match=re.escape("low|medium|high|critical")):
        Settings.from_env({"WIREWATCH_SEVERITY_MAP": '{"cruise": "severe"}'})


def broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(shipped())
    if change == "unknown key":
        data["kinds"][0]["colour"] = "red"
    elif change == "missing key":
        del data["modalities"][0]["rank"]
    elif change == "unknown family":
        data["kinds"][0]["family"] = "orbital"
    elif change == "severity misses a modality":
        del data["kinds"][1]["severity"]["possible"]
    elif change == "unknown severity":
        data["fallback_severity"]["occurred"] = "dire"
    elif change == "duplicate rank":
        data["kinds"][1]["rank"] = data["kinds"][0]["rank"]
    elif change == "top-level key":
        data["colours"] = []
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown key", r"kind #1: unknown key\(s\) colour"),
        ("missing key", r"modality #1: missing key\(s\) rank"),
        ("unknown family", "kind 'icbm': family 'orbital'"),
        ("severity misses a modality", "kind 'irbm': severity must map every modality"),
        ("unknown severity", "fallback_severity: severity must map"),
        ("duplicate rank", "same rank"),
        ("top-level key", r"taxonomy.json: unknown key\(s\) colours"),
    ],
)
def test_a_malformed_taxonomy_is_refused(change: str, message: str) -> None:
    parse_taxonomy(shipped())  # the shipped one is fine
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(broken(change))

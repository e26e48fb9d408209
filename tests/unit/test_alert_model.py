"""The learned alert decision: the shipped model in the detector, a user's model, bad model files, the
weapon-kind map. Passages here are written for the project."""

from __future__ import annotations

import io
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from spacy.language import Language

from wirewatch.agents import lexicons
from wirewatch.agents.alert_model import (
    FEATURE_VERSION,
    AlertModel,
    candidate_rows,
    passage_columns,
    passage_vote,
    shipped_model_dir,
)
from wirewatch.agents.detector import (
    KINDS,
    MODALITIES,
    DetectorConfig,
    alert_model,
    analyze_docs,
    apply_decision,
    detect,
    kind_sources,
    named_kind,
    sentence_candidates,
)
from wirewatch.agents.enrich import detector_config
from wirewatch.agents.eval_alerts import evaluate
from wirewatch.agents.learning.alerts_train import distrusted_kind_sources, load_items
from wirewatch.agents.learning.features import hashed_features
from wirewatch.agents.learning.linear import ModelFileError
from wirewatch.agents.nlp import entities_of
from wirewatch.streams.cli import main
from wirewatch.streams.settings import Settings

LAUNCH = "North Korea fired an intercontinental ballistic missile into the sea off its east coast on Friday."
QUIET = "The finance ministry published its budget for the coming year on Tuesday."


def test_weapon_kind_map_names_the_kind_of_well_known_systems() -> None:
    assert named_kind("the Hwasong-15 flew for 53 minutes") == "icbm"
    assert named_kind("a Hwasong 12 intermediate-range missile") == "irbm"
    assert named_kind("two KN-23 missiles") == "srbm"
    assert named_kind("a Pukguksong-3 from a barge") == "slbm"
    assert named_kind("Kalibr missiles from the Black Sea") == "cruise"
    assert named_kind("a Kinzhal") == "hypersonic" and named_kind("the Zircon") == "hypersonic"
    assert named_kind("the Simorgh rocket") == "space_launch_vehicle"
    assert named_kind("a Chollima-1 carrier rocket") == "space_launch_vehicle"
    assert named_kind("a Minuteman III test") == "icbm"
    # of several systems, the longer-range kind; a longer designation is not its prefix's system
    assert named_kind("a KN-23 and a Hwasong-15") == "icbm"
    assert named_kind("the Hwasong-150 project") is None
    assert named_kind("a new missile") is None


def test_every_kind_in_the_map_is_a_detector_kind() -> None:
    kinds = json.loads((Path(__file__).parents[2] / "agents" / "data" / "weapon_kinds.json").read_text())["kinds"]
    assert set(kinds) <= set(KINDS)


def test_the_shipped_model_decides_and_its_probability_is_the_confidence(nlp: Language) -> None:
    [(_entities, detection)] = analyze_docs(nlp, [LAUNCH])
    assert detection.findings, "a plain ICBM launch must alert"
    finding = detection.findings[0]
    # the finding's confidence is the model's calibrated probability for that sentence
    doc = nlp(LAUNCH)
    cands = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    model = alert_model(DetectorConfig())
    p, modality, _kind = model.predict(candidate_rows(cands, model.spec), [sc.index for sc in cands])
    assert finding.confidence == pytest.approx(round(float(p.max()), 3))
    assert p.max() >= model.threshold
    assert finding.modality == modality[int(p.argmax())] == "occurred"
    assert finding.kind == "icbm"
    [(_e, quiet)] = analyze_docs(nlp, [QUIET])
    assert quiet.findings == [] and quiet.signals == []  # no cue: no candidate, the model is not asked


def test_a_vote_pools_the_class_probabilities_of_candidates_within_the_window() -> None:
    proba = np.array([[0.6, 0.4], [0.1, 0.9], [0.7, 0.3]])
    # sentences 0 and 1 are next to each other, sentence 9 next to neither
    assert passage_vote(proba, [0, 1, 9]).tolist() == [1, 1, 0]
    assert passage_vote(proba, [0, 2, 9]).tolist() == [0, 1, 0]  # apart, each keeps its own
    assert passage_vote(proba, [0, 2, 9], window=3).tolist() == [1, 1, 0]
    with pytest.raises(ValueError, match="3 rows of probabilities for 2 sentence positions"):
        passage_vote(proba, [0, 1])


@pytest.mark.parametrize(
    ("text", "part", "alone", "voted"),
    [
        # the neighbour's hedge qualifies the sighting: the passage reports a possible launch
        (
            "Officials said North Korea may be preparing a launch of the new missile. Trucks carrying the missile"
            " were seen near the launch site on Monday.",
            "modality",
            ["possible", "occurred"],
            ["possible", "possible"],
        ),
        # the neighbour's named system specifies "the missile"
        (
            "Russia test-fired a Yars missile from the Plesetsk site on Wednesday. The missile hit its target in"
            " Kamchatka, the defence ministry said.",
            "kind",
            ["icbm", "ballistic_unspecified"],
            ["icbm", "icbm"],
        ),
        # a specific kind stays whatever its neighbour says
        (
            "North Korea fired a short-range ballistic missile into the sea on Monday, the military said."
            " Pyongyang vowed to launch more missiles in the coming weeks.",
            "kind",
            ["srbm", "ballistic_unspecified"],
            ["srbm", "ballistic_unspecified"],
        ),
    ],
)
def test_a_neighbours_vote_qualifies_the_modality_and_specifies_the_kind(
    nlp: Language, text: str, part: str, alone: list[str], voted: list[str]
) -> None:
    doc = nlp(text)
    cands = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    model = alert_model(DetectorConfig())
    rows = candidate_rows(cands, model.spec)
    column = {"modality": 1, "kind": 2}[part]
    assert model.predict(rows, [100 * i for i in range(len(cands))])[column] == alone  # too far apart to vote
    assert model.predict(rows, [sc.index for sc in cands])[column] == voted


def test_a_neighbours_occurred_does_not_make_an_announced_launch_happen(nlp: Language) -> None:
    """The vote only lowers a modality: the fuelling told beside the announcement may stay 'occurred' or be
    lowered, as the model's probabilities have it, but the announced launch stays threatened, and so does the
    article's alert."""
    doc = nlp(
        "Iran said it will launch a satellite-carrying rocket next month. The rocket is fuelled at the Semnan"
        " site, state television said."
    )
    cands = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    model = alert_model(DetectorConfig())
    rows = candidate_rows(cands, model.spec)
    assert model.predict(rows, [100 * i for i in range(len(cands))])[1] == ["threatened", "occurred"]
    assert model.predict(rows, [sc.index for sc in cands])[1][0] == "threatened"
    assert [f.modality for f in detect(doc, entities_of(doc)).findings] == ["threatened"]


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        ("The Syrian army fired a rocket at the town of Idlib on Tuesday.", []),
        ("The Syrian army fired rockets at the town of Idlib on Tuesday.", [("rule", "rocket_artillery")]),
        ("Hamas fired a rocket at Ashkelon on Tuesday.", [("rule", "rocket_artillery")]),  # a group's: a setting
    ],
)
def test_a_states_lone_rocket_gives_no_kind_before_the_model(nlp: Language, text: str, sources: list[Any]) -> None:
    doc = nlp(text)
    [sc] = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    assert [kind_sources(sc, c) for c in sc.rule] == [sources]


def test_a_states_lone_rocket_takes_the_models_kind(nlp: Language) -> None:
    doc = nlp("The Syrian army fired a rocket at the town of Idlib on Tuesday.")
    cands = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    model = alert_model(DetectorConfig())
    _p, _modality, kind = model.predict(candidate_rows(cands, model.spec), [sc.index for sc in cands])
    [finding] = detect(doc, entities_of(doc)).findings
    assert finding.kind == kind[0] != "rocket_artillery"


def test_the_rules_alone_still_run_when_the_model_is_off(nlp: Language) -> None:
    doc = nlp(LAUNCH)
    detection = detect(doc, entities_of(doc), config=DetectorConfig(learned=False))
    assert [f.kind for f in detection.findings] == ["icbm"]
    assert 0 < detection.findings[0].confidence < 1


def _user_model(tmp_path: Path, threshold: float) -> Path:
    target = tmp_path / f"model-{threshold}"
    shutil.copytree(shipped_model_dir(), target)
    meta = json.loads((target / "alert_model.json").read_text(encoding="utf-8"))
    meta["threshold"] = threshold
    (target / "alert_model.json").write_text(json.dumps(meta), encoding="utf-8")
    return target


def test_a_user_model_from_wirewatch_alert_model_is_used(nlp: Language, tmp_path: Path) -> None:
    never = _user_model(tmp_path, 1.5)  # no probability reaches it: nothing alerts
    settings = Settings.from_env({"WIREWATCH_ALERT_MODEL": str(never)})
    [(_e, detection)] = analyze_docs(nlp, [LAUNCH], config=detector_config(settings))
    assert detection.findings == []
    assert {s.reason for s in detection.signals} == {"model"}
    always = _user_model(tmp_path, 0.0)
    settings = Settings.from_env({"WIREWATCH_ALERT_MODEL": str(always)})
    # a sentence the rules hold back (a parade), but by no reading the model must respect (a cancelled launch is one)
    [(_e, detection)] = analyze_docs(nlp, ["The missile parade drew large crowds."], config=detector_config(settings))
    assert detection.findings, "threshold 0: every candidate sentence the rules do not rule out alerts"


def test_missing_and_corrupt_model_files_fail_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        DetectorConfig(alert_model=str(tmp_path / "nowhere"))
    broken = _user_model(tmp_path, 0.5)
    (broken / "kind.npz").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match=r"kind\.npz"):
        DetectorConfig(alert_model=str(broken))
    old = _user_model(tmp_path, 0.4)
    meta = json.loads((old / "alert_model.json").read_text(encoding="utf-8"))
    meta["spec"]["version"] = FEATURE_VERSION + 1
    (old / "alert_model.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFileError, match="retrain"):
        AlertModel.load(old, KINDS, MODALITIES)


def test_wirewatch_analyze_reports_a_bad_model_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(LAUNCH, encoding="utf-8")
    monkeypatch.setenv("WIREWATCH_ALERT_MODEL", str(tmp_path / "missing-model"))
    assert main(["analyze", str(article)]) == 2
    err = capsys.readouterr().err
    assert "model error" in err and "alert model directory not found" in err


def test_wirewatch_analyze_uses_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = tmp_path / "a.txt"
    article.write_text(LAUNCH, encoding="utf-8")
    assert main(["analyze", str(article)]) == 0
    out = json.loads(capsys.readouterr().out)
    signals = out["articles"][0]["signals"]
    alertable = [s for s in signals if s["alertable"]]
    assert alertable and alertable[0]["kind"] == "icbm"
    model = alert_model(DetectorConfig())
    assert alertable[0]["confidence"] >= round(model.threshold, 3)


def test_a_user_weapon_name_sets_the_kind_before_the_model(nlp: Language, tmp_path: Path) -> None:
    (tmp_path / "weapon_kinds.json").write_text(json.dumps({"kinds": {"slbm": ["Seastar-9"]}}), encoding="utf-8")
    text = "North Korea fired a Seastar-9 ballistic missile into the sea on Friday, the military said."
    try:
        lexicons.configure(tmp_path)
        assert named_kind(text) == "slbm"
        [(_e, detection)] = analyze_docs(nlp, [text])
    finally:
        lexicons.configure(None)
    assert [f.kind for f in detection.findings] == ["slbm"]
    assert named_kind(text) is None


def test_model_probabilities_are_numpy_only(nlp: Language) -> None:
    # the worker's path never needs scikit-learn: the loaded model predicts from its arrays
    model = alert_model(DetectorConfig())
    doc = nlp(LAUNCH)
    rows = candidate_rows(sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False)), model.spec)
    dense = rows.dense()
    assert np.allclose(model.alert.predict_proba(rows), model.alert.predict_proba(dense))


def test_eval_alerts_adds_bootstrap_intervals(nlp: Language, tmp_path: Path) -> None:
    items = [
        {"id": "a", "text": LAUNCH, "expect_alert": True, "kind": "icbm", "modality": "occurred"},
        {"id": "b", "text": QUIET, "expect_alert": False, "kind": "none", "modality": "none"},
        {
            "id": "c",
            "text": "Iran fired two ballistic missiles at the base overnight.",
            "expect_alert": True,
            "kind": "ballistic_unspecified",
            "modality": "occurred",
        },
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    out = io.StringIO()
    figures = evaluate(path, nlp=nlp, out=out, progress=False)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == figures
    for name in ("precision", "recall", "f1", "modality_accuracy", "kind_accuracy"):
        lo, hi = figures[f"{name}_ci"]
        assert lo <= figures[name] <= hi, name
    # no label names an actor: no actor figure, rather than a NaN that JSON cannot carry
    assert "actor_accuracy" not in figures and "actor_accuracy_ci" not in figures


SCUD = "Syria fired two Scud missiles at rebel positions on Monday."  # written for the project


def _scud_kinds(nlp: Language, distrusted: tuple[str, ...]) -> list[str | None]:
    doc = nlp(SCUD)
    cands = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    assert [sc.named_kind for sc in cands] == ["srbm"]
    apply_decision(cands, [0.99], ["occurred"], ["ballistic_unspecified"], 0.5, DetectorConfig(), distrusted)
    return [c.kind_override for sc in cands for c in sc.rule if c.reason is None]


def test_a_distrusted_kind_source_leaves_the_kind_to_the_model(nlp: Language) -> None:
    assert set(_scud_kinds(nlp, ())) == {"srbm"}  # the named system's kind comes first
    # the rules read srbm off the same name: no source of its own, so the model's kind is taken
    assert set(_scud_kinds(nlp, ("named:srbm",))) == {"ballistic_unspecified"}
    assert set(_scud_kinds(nlp, ("named:srbm", "rule:srbm"))) == {"ballistic_unspecified"}


def test_training_distrusts_a_kind_source_the_labels_contradict(nlp: Language, tmp_path: Path) -> None:
    # labels written for the project: the named system says srbm, the labels say ballistic_unspecified
    texts = [
        "Syria fired two Scud missiles at rebel positions on Monday.",
        "Iraq launched a Scud missile toward the coast overnight.",
        "Government forces fired Scud missiles at the northern city on Tuesday.",
        "North Korea fired a Hwasong-15 intercontinental ballistic missile on Friday.",
    ]
    kinds = ["ballistic_unspecified"] * 3 + ["icbm"]
    path = tmp_path / "labels.jsonl"
    rows = [
        {"id": f"s{i}", "source": f"https://example.org/{i}", "text": t, "expect_alert": True, "kind": k}
        for i, (t, k) in enumerate(zip(texts, kinds, strict=True))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load_items([path], nlp)
    everything = np.arange(len(rows))
    # the map says srbm for a Scud against three labels; named:icbm agrees with its label; the rules' own
    # kinds (rule:srbm here) are never dropped
    assert distrusted_kind_sources(data, everything) == ("named:srbm",)
    assert distrusted_kind_sources(data, everything[:2]) == ()  # seen on fewer than three items: kept
    # the bundle keeps the list: written, read back, used by the detector
    model = AlertModel.load(shipped_model_dir(), KINDS, MODALITIES)
    model.distrusted_kinds = ("named:srbm",)
    target = tmp_path / "model"
    shutil.copytree(shipped_model_dir(), target)
    model.save(target)
    assert AlertModel.load(target, KINDS, MODALITIES).distrusted_kinds == ("named:srbm",)


def test_the_passage_block_reads_the_other_candidates_and_only_modality_and_kind_use_it(nlp: Language) -> None:
    model = alert_model(DetectorConfig())
    cols = passage_columns(model.spec)
    two = nlp(LAUNCH + " Japan said the missile flew for about an hour before it fell into the sea.")
    cands = sentence_candidates(two, entities_of(two), config=DetectorConfig(learned=False))
    assert len(cands) == 2
    _values, indices, indptr, _shape = candidate_rows(cands, model.spec).csr()
    in_block = [
        int(np.sum((indices[lo:hi] >= cols.start) & (indices[lo:hi] < cols.stop)))
        for lo, hi in itertools.pairwise(indptr)
    ]
    assert all(n > 0 for n in in_block)  # each sentence sees the other's signals
    one = nlp(LAUNCH)
    [lone] = sentence_candidates(one, entities_of(one), config=DetectorConfig(learned=False))
    _v, indices, _p, _s = candidate_rows([lone], model.spec).csr()
    in_block = {int(i) - cols.start for i in indices if cols.start <= i < cols.stop}
    # a lone candidate: its own qualifiers only (whose voice tells it...), no other candidate's signals
    assert lone.qualifiers and in_block == set(hashed_features([f"q:{q}" for q in lone.qualifiers], len(cols)))
    assert not np.any(model.alert.weights[:, cols.start : cols.stop])  # the alert model ignores the block
    assert np.any(model.modality.weights[:, cols.start : cols.stop]) and np.any(
        model.kind.weights[:, cols.start : cols.stop]
    )

"""The reasons a suppressed launch candidate carries have one list (``Reason`` and ``SUPPRESSION_REASONS`` in
agents/detector/records.py): the detector emits no other, the modules that set or read a reason name it from
there, and the copies that depend on the words (the signals' display map, the lexicon patterns named after
reasons, the alert model's ``reason:`` features) agree with it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from spacy.language import Language

from tests.conftest import shared_path
from wirewatch.agents.detector import DetectorConfig, alert_model, analyze_docs, lexicon, sentence_candidates
from wirewatch.agents.detector.assembly import SHOWN_MODALITY
from wirewatch.agents.detector.records import NOT_SUPPRESSED, POLICY_REASONS, SUPPRESSION_REASONS, Reason
from wirewatch.agents.detector.suppression import TESTED_REASONS
from wirewatch.agents.eval_alerts import read_items
from wirewatch.agents.learning.errors import candidate_shape
from wirewatch.agents.learning.features import hashed_features
from wirewatch.agents.nlp import entities_of

REPO = Path(__file__).resolve().parents[2]
HOLDOUT = REPO / "tests" / "data" / "holdout_alerts.jsonl"
WRITTEN_TRAINING = REPO / "agents" / "learning" / "data" / "alerts_written.jsonl"
#: Modules that set, return or test a candidate's reason.
REASON_MODULES = [*sorted((REPO / "agents" / "detector").glob("*.py")), REPO / "agents" / "learning" / "errors.py"]
#: Sentences written for the project, for reasons the holdout passages rarely give (with unknown actors held back).
WRITTEN = [
    "Crowds watched fireworks and bottle rockets launched over the harbour for the new year.",
    "The toy company launched a new rocket-shaped product line for children on Monday.",
    "Students at the school launched model rockets in a science fair competition.",
    "A missile was launched toward the sea on Monday, officials said.",
]


def holdout_texts() -> list[str]:
    return [item["text"] for item in read_items(HOLDOUT)]


def test_the_list_names_each_reason_once_and_not_the_features_word_for_no_reason() -> None:
    assert len(SUPPRESSION_REASONS) == len(set(SUPPRESSION_REASONS))
    assert Reason.DENIED in SUPPRESSION_REASONS and Reason.MODEL in SUPPRESSION_REASONS
    assert NOT_SUPPRESSED not in SUPPRESSION_REASONS  # "reason:alert" would read as a suppression


def test_every_reason_the_detector_emits_is_in_the_list(nlp: Language) -> None:
    emitted: set[str] = set()
    for texts, config in ((holdout_texts(), None), (WRITTEN, DetectorConfig(alert_unknown_actor=False))):
        for _entities, detection in analyze_docs(nlp, texts, config=config):
            emitted |= {s.reason for s in detection.signals if s.reason is not None}
    assert emitted - set(SUPPRESSION_REASONS) == set()
    # the run reaches the rules' readings, the sentence tests and the settings
    assert {Reason.DENIED, Reason.HISTORICAL, Reason.FIREWORKS, Reason.NO_ACTOR} <= emitted


def test_the_copies_that_depend_on_the_words_agree_with_the_list() -> None:
    listed = set(SUPPRESSION_REASONS)
    assert set(SHOWN_MODALITY) <= listed
    assert set(POLICY_REASONS) <= listed
    assert set(TESTED_REASONS.values()) <= listed
    # sentence_suppression looks these reasons up as the names of the lexicon's patterns
    patterns = lexicon().res
    named = (Reason.ENGINE_TEST, Reason.PARADE, Reason.FIREWORKS, Reason.MODEL_ROCKET, Reason.SPORTS, Reason.PRODUCT)
    assert [reason for reason in named if reason not in patterns] == []
    # the error tables read the rules' reason features
    assert candidate_shape([f"reason:{Reason.NO_WEAPON}"], alone=True) == "launch word, no weapon word, only candidate"
    assert candidate_shape([f"reason:{Reason.NO_TRIGGER}"], alone=False).startswith("weapon word, no launch word")
    assert candidate_shape([f"reason:{NOT_SUPPRESSED}"], alone=False).startswith("launch paired with a weapon")


def test_the_shipped_alert_model_was_trained_on_the_reason_features_the_rules_emit(nlp: Language) -> None:
    """Over the shipped model's training passages (its card lists the files), every ``reason:`` feature the
    rules emit has a weight: a reason whose text changed would be a column the model never learned (weight 0)."""
    files = [shared_path("train/alerts.jsonl"), shared_path("eval/dev_alerts.jsonl"), WRITTEN_TRAINING]
    model = alert_model(DetectorConfig())
    dim = int(model.spec["hash_dim"])
    features: set[str] = set()
    for doc in nlp.pipe([item["text"] for path in files for item in read_items(path)]):
        for sc in sentence_candidates(doc, entities_of(doc)):
            features |= {f"r:{s}" for s in sc.signals if s.startswith("reason:")}
    reasons = {f.removeprefix("r:reason:") for f in features}
    assert reasons - set(SUPPRESSION_REASONS) - {NOT_SUPPRESSED} == set()
    assert {Reason.DENIED, Reason.HISTORICAL, NOT_SUPPRESSED} <= reasons
    untrained = [f for f in sorted(features) if all(model.alert.weights[0, c] == 0 for c in hashed_features([f], dim))]
    assert untrained == []
    ((unseen_column, _sign),) = hashed_features(["r:reason:no_such_reason"], dim).items()
    assert model.alert.weights[0, unseen_column] == 0  # the check can fail: an unseen feature has no weight


# ---- the code names reasons from the list, never as string literals -------------------------------------------


def _is_reason(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id in ("reason", "reasons")) or (
        isinstance(node, ast.Attribute) and node.attr == "reason"
    )


def _emitted_literals(node: ast.AST | None) -> list[str]:
    """String literals an expression can evaluate to (not those it only tests, as in ``a if x == "b" else c``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _emitted_literals(node.body) + _emitted_literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [s for value in node.values for s in _emitted_literals(value)]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for element in node.elts for s in _emitted_literals(element)]
    return []


def reason_literals(source: str) -> list[str]:
    """String literals used as a reason in ``source``: assigned to ``reason`` or ``x.reason``, compared with
    one, returned by ``sentence_suppression``, or the values of ``TESTED_REASONS``."""
    found: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_is_reason(t) for t in targets):
                found += _emitted_literals(node.value)
            if any(isinstance(t, ast.Name) and t.id == "TESTED_REASONS" for t in targets):
                found += [s for v in getattr(node.value, "values", []) for s in _emitted_literals(v)]
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_reason(side) for side in sides):
                found += [s for side in sides for s in _emitted_literals(side)]
        elif isinstance(node, ast.FunctionDef) and node.name == "sentence_suppression":
            found += [s for r in ast.walk(node) if isinstance(r, ast.Return) for s in _emitted_literals(r.value)]
    return found


def test_the_checker_finds_a_reason_written_as_a_literal() -> None:
    source = (
        'def f(c, neg):\n    reason = "denied" if neg == "denied" else None\n    if c.reason in ("model", None):\n'
        '        c.reason = neg or "capability"\n'
        'def sentence_suppression(sent):\n    return "parade"\n'
    )
    assert sorted(reason_literals(source)) == ["capability", "denied", "model", "parade"]


@pytest.mark.parametrize("module", REASON_MODULES, ids=lambda p: p.name)
def test_modules_name_reasons_from_the_list(module: Path) -> None:
    assert reason_literals(module.read_text(encoding="utf-8")) == []

"""``wirewatch eval stance``: speaker matching, the figures, and a run over a small file of our own."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents.eval_stance import evaluate, find_stance, score
from wirewatch.agents.stance import Evidence, Stance

EV = (Evidence("x", 0, 1),)


def stance(speaker: str, canonical: str, target: str, label: str, confidence: float = 0.6) -> Stance:
    return Stance(speaker, canonical, None, target, label, confidence, EV)


# --- matching ----------------------------------------------------------------------------------------------
def test_matches_canonical_surface_and_surname() -> None:
    found = [
        stance("Craft", "Kelly Craft", "diplomacy", "favor"),
        stance("the world leaders", "world leaders", "diplomacy", "against"),
        stance("Seoul", "South Korea", "provocation", "against"),
    ]
    text = "Craft, the world leaders and Seoul spoke."
    assert find_stance(found, "Kelly Craft", "diplomacy", text) == "favor"
    assert find_stance(found, "Ambassador Kelly Craft", "diplomacy", text) == "favor"  # surname
    assert find_stance(found, "the world leaders (Ann Lee, Bo Park)", "diplomacy", text) == "against"
    assert find_stance(found, "Seoul", "provocation", text) == "against"  # surface
    assert find_stance(found, "South Korea", "provocation", text) == "against"  # canonical
    assert find_stance(found, "Kelly Craft", "sanctions", text) == "neutral"  # nothing on that target
    assert find_stance(found, "Ann Lee", "provocation", text) == "neutral"  # someone else


def test_author_and_unresolved_speakers() -> None:
    found = [
        stance("", "", "sanctions", "against"),
        stance("he", "", "diplomacy", "favor"),
        stance("Lee", "Lee", "diplomacy", "against"),
    ]
    text = "He said talks must go on. Lee disagreed."
    assert find_stance(found, "", "sanctions", text) == "against"
    # a speaker the passage never names is the passage's unresolved "he"
    assert find_stance(found, "Tom Hart", "diplomacy", text) == "favor"
    # ... but a speaker it does name is matched by name only
    assert find_stance(found, "Lee", "diplomacy", text) == "against"
    assert find_stance(found, "", "diplomacy", text) == "neutral"
    # a bare description ("the spokesperson") stands for a person the passage does not name
    described = [stance("spokesperson", "spokesperson", "military_action", "against")]
    assert find_stance(described, "Mao Ning", "military_action", "The spokesperson said ...") == "against"
    named = [stance("Mao", "Mao", "military_action", "favor"), *described]
    assert find_stance(named, "Mao Ning", "military_action", "Mao said ... the spokesperson said") == "favor"


# --- figures -----------------------------------------------------------------------------------------------
def test_score_figures() -> None:
    pairs = [
        ("favor", "favor"),
        ("favor", "against"),
        ("against", "against"),
        ("against", "neutral"),
        ("neutral", "neutral"),
        ("neutral", "favor"),
    ]
    figures = score(pairs)
    assert figures["n"] == 6
    assert figures["accuracy"] == pytest.approx(3 / 6, abs=1e-4)
    favor = figures["per_class"]["favor"]
    assert favor["precision"] == pytest.approx(0.5) and favor["recall"] == pytest.approx(0.5)
    against = figures["per_class"]["against"]
    assert against["precision"] == pytest.approx(0.5) and against["recall"] == pytest.approx(0.5)
    assert figures["macro_f1"] == pytest.approx(0.5)
    assert score([])["n"] == 0


def test_evaluate_rejects_bad_json_naming_the_line(nlp: Language, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a"}\n\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":3:"):
        evaluate(path, nlp=nlp, out=io.StringIO(), progress=False)


# --- a run -------------------------------------------------------------------------------------------------
def test_evaluate_prints_mismatches_and_one_json_line(nlp: Language, tmp_path: Path) -> None:
    items = [
        {
            "id": "t1",
            "text": '"We oppose new sanctions," Ambassador Ana Ruiz said.',
            "speaker": "Ana Ruiz",
            "target": "sanctions",
            "stance": "against",
        },
        {
            "id": "t2",
            "text": "Minister Paul Grant urged both sides to resume talks.",
            "speaker": "Paul Grant",
            "target": "diplomacy",
            "stance": "favor",
        },
        {
            "id": "t3",
            "text": '"We must stop the strikes now," he said.',
            "speaker": "Tom Hart",
            "target": "military_action",
            "stance": "against",
        },
        {  # deliberately labelled wrong: the run must report it
            "id": "t4",
            "text": "Minister Paul Grant condemned the missile launch.",
            "speaker": "Paul Grant",
            "target": "provocation",
            "stance": "favor",
        },
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    out = io.StringIO()
    figures = evaluate(path, nlp=nlp, out=out, progress=True)  # not a tty: no bar
    lines = out.getvalue().strip().splitlines()
    assert json.loads(lines[-1]) == figures
    mismatches = [line for line in lines if line.startswith("MISMATCH")]
    assert len(mismatches) == 1 and "t4" in mismatches[0] and "got against" in mismatches[0]
    assert figures["n"] == 4
    assert figures["accuracy"] == pytest.approx(0.75)
    assert figures["per_class"]["against"]["recall"] == pytest.approx(1.0)
    assert figures["per_class"]["favor"]["recall"] == pytest.approx(0.5)
    # bootstrap intervals around the figures, and how often the labelled speaker was found at all
    low, high = figures["macro_f1_ci"]
    assert low <= figures["macro_f1"] <= high
    assert figures["accuracy_ci"][0] <= figures["accuracy"] <= figures["accuracy_ci"][1]
    assert set(figures["per_class"]["neutral"]) >= {"f1", "f1_ci"}
    assert figures["speaker_found"] == pytest.approx(1.0)  # Tom Hart: the passage's unresolved "he"

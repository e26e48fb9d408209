"""The alert model's context features, its training on passages written for the project, and two shapes
the learned decision once alerted on (observers of a launch, activity at a launch site). Passages here are
written for the project."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from spacy.language import Language

from wirewatch.agents import lexicons
from wirewatch.agents.detector import DetectorConfig, analyze_docs, sentence_candidates
from wirewatch.agents.learning.alert_context import ContextCues, context_cues, context_strings, parse_context_cues
from wirewatch.agents.learning.alerts_train import (
    WRITTEN_FLAG,
    Dataset,
    Item,
    alert_training_rows,
    load_items,
)
from wirewatch.agents.learning.parse_cache import parse
from wirewatch.agents.nlp import entities_of

WRITTEN = Path(__file__).parents[2] / "agents" / "learning" / "data" / "alerts_written.jsonl"

# The shapes seen in the demo: a neighbour's ministry confirms another state's launch, and imagery of a
# launch site shows activity. Written for the project; not the demo feed's own sentences.
OBSERVER = (
    "North Korea fired a ballistic missile into the sea off its east coast on Tuesday, South Korea's military"
    " said. Japan's defence ministry confirmed the launch and said it had protested through its embassy in"
    " Beijing."
)
SITE_ACTIVITY = "Satellite images show increased activity at the Tonghae launch site, a research group said."
SITE_ACTIVITY_IN_A_WARNING = (
    "A senior US official warned on Wednesday that Pyongyang could launch a long-range missile within weeks."
    " Satellite images show increased activity at the Sohae launch site, the official told reporters."
)


def _context(nlp: Language, text: str) -> list[str]:
    return context_strings(next(iter(nlp(text).sents)))


def test_context_names_tense_aspect_and_time_of_the_launch(nlp: Language) -> None:
    background = _context(nlp, "The country has launched eleven missiles so far this year, the most since 2017.")
    assert {"launch_aspect:perfect", "cue3:count_of_launches", "cue3:since", "cue3:year"} <= set(background)
    current = _context(nlp, "The army fired a missile toward the sea on Sunday.")
    assert {"launch_tense:past", "cue3:weekday"} <= set(current)
    assert "launch_aspect:perfect" not in current and "cue3:year" not in current


def test_context_tells_an_observer_from_the_launcher(nlp: Language) -> None:
    observer = _context(nlp, "Japan's defence ministry confirmed the launch on Monday.")
    assert "actor_role:observer_subject" in observer and "actor_role:launch_subject" not in observer
    launcher = _context(nlp, "Iran launched a satellite carrier on Monday.")
    assert "actor_role:launch_subject" in launcher and "actor_role:observer_subject" not in launcher
    site = _context(nlp, SITE_ACTIVITY)
    assert {"launch_modifies:site", "cue3:preparation"} <= set(site)


def test_context_names_tests_and_denials(nlp: Language) -> None:
    assert "cue3:engine_test" in _context(nlp, "The company carried out a static fire of the booster on Friday.")
    assert "cue3:defence_test" in _context(nlp, "An interceptor destroyed a target missile over the ocean.")
    assert "cue3:false_alarm" in _context(nlp, "The missile warning was sent by mistake, officials said.")


def test_an_observer_of_a_launch_is_not_its_actor(nlp: Language) -> None:
    # the observer's sentence may alert (it confirms the launch), but under the launcher: its stand-in
    # candidate looks for its actor before its own sentence, whose subject is the observer
    [(_e, detection)] = analyze_docs(nlp, [OBSERVER])
    actors = {f.actor for f in detection.findings}
    assert actors == {"North Korea"}, [(f.actor, f.kind, f.modality) for f in detection.findings]


def test_activity_at_a_launch_site_is_not_a_launch(nlp: Language) -> None:
    [(_e, alone), (_e2, warning)] = analyze_docs(nlp, [SITE_ACTIVITY, SITE_ACTIVITY_IN_A_WARNING])
    assert alone.findings == []
    # the warning is an alert; the imagery sentence adds no launch that 'occurred'
    assert warning.findings and all(f.modality != "occurred" for f in warning.findings), [
        (f.actor, f.modality, f.evidence) for f in warning.findings
    ]


def test_written_passages_are_marked_and_follow_the_label_format() -> None:
    items = [json.loads(line) for line in WRITTEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(items) >= 50
    assert all(x[WRITTEN_FLAG] is True and x["source"] == "written for wirewatch" for x in items)
    assert len({x["id"] for x in items}) == len(items)
    assert {x["expect_alert"] for x in items} == {True, False}
    for x in items:
        assert {"text", "kind", "modality", "actor", "note"} <= set(x)


def _item(label: dict[str, Any], group: str) -> Item:
    return Item(label, group, [], None, [])


def test_written_passages_train_in_every_fold_and_are_never_scored() -> None:
    real = [_item({"expect_alert": i % 2 == 0}, f"site{i}") for i in range(10)]
    written = [_item({"expect_alert": True, WRITTEN_FLAG: True}, "written") for _ in range(3)]
    data = Dataset(real + written, np.zeros(0, dtype=np.int64))
    assert data.scored.tolist() == list(range(10))
    folds = data.folds(np.arange(13), k=5, seed=0)
    tested = sorted(i for _train, test in folds for i in test.tolist())
    assert tested == list(range(10))  # every real item is tested once, no written one ever
    for train, test in folds:
        assert {10, 11, 12} <= set(train.tolist()) and not set(train.tolist()) & set(test.tolist())


def test_a_stand_in_beside_a_rule_candidate_does_not_teach_the_alert_model(nlp: Language, tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    rows = [
        {"id": "a", "source": "x/a", "text": OBSERVER, "expect_alert": True},
        {"id": "b", "source": "x/b", "text": SITE_ACTIVITY, "expect_alert": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load_items([path], nlp)
    observer, site = data.items
    kinds = ["rule" in sc.signals for sc in observer.cands]
    assert kinds == [True, False]  # the launch sentence has the rules' candidate, the confirmation a stand-in
    kept = alert_training_rows(data, np.arange(len(data.row_item))).tolist()
    # the positive passage's stand-in is left out; the negative passage's stand-in is a negative example
    assert kept == [observer.rows[0], *site.rows]


def test_the_written_passages_give_candidates(nlp: Language) -> None:
    """Each written passage reaches the model (a candidate sentence), or it could teach it nothing."""
    items = [json.loads(line) for line in WRITTEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = list(nlp.pipe([x["text"] for x in items]))
    rules = DetectorConfig(learned=False)
    missing = [
        x["id"]
        for x, doc in zip(items, docs, strict=True)
        if not sentence_candidates(doc, entities_of(doc), config=rules)
    ]
    assert len(missing) <= len(items) // 10, missing


def test_parsed_passages_are_kept_between_training_runs(nlp: Language, tmp_path: Path) -> None:
    texts = [OBSERVER, SITE_ACTIVITY]
    first = parse(nlp, texts, tmp_path)
    [stored] = list(tmp_path.iterdir())
    again = parse(nlp, texts, tmp_path)  # read back: tokens, entities and the tok2vec tensor
    assert [d.to_bytes() for d in again] == [d.to_bytes() for d in first]
    assert [e.text for e in again[0].ents] == [e.text for e in first[0].ents]
    assert np.array_equal(again[0].tensor, first[0].tensor)
    parse(nlp, [OBSERVER], tmp_path)  # other texts: another file
    assert len(list(tmp_path.iterdir())) == 2
    stored.write_bytes(b"not msgpack")  # a damaged file is parsed afresh and replaced
    assert [d.text for d in parse(nlp, texts, tmp_path)] == texts
    assert stored.read_bytes() != b"not msgpack"


# --- the cue families as data ---------------------------------------------------------------------------


def test_the_context_cues_load_as_typed_frozen_data() -> None:
    cues, families = context_cues()
    assert isinstance(cues, ContextCues) and "denial" in cues.cue_families and "fire" in cues.launch_verbs
    assert [name for name, _rx in families] == list(cues.cue_families)
    with pytest.raises(AttributeError):
        cues.launch_verbs = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        cues.cue_families["year"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown key", r"alert_context.json: unknown key\(s\) launch_verb"),
        ("missing key", r"alert_context.json: missing key\(s\) toward_preps"),
        ("bad regex", "cue_families 'year': bad regular expression"),
        ("words as text", "observer_verbs: expected a list of strings"),
    ],
)
def test_a_bad_context_cue_entry_is_refused_with_its_name(change: str, message: str) -> None:
    data = copy.deepcopy(lexicons.shipped("alert_context.json"))
    if change == "unknown key":
        data["launch_verb"] = ["fire"]
    elif change == "missing key":
        del data["toward_preps"]
    elif change == "bad regex":
        data["cue_families"]["year"] = "(?:19"
    elif change == "words as text":
        data["observer_verbs"] = "detect"
    with pytest.raises(lexicons.LexiconError, match=message):
        parse_context_cues(data)

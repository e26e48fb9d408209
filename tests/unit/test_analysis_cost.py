"""The shortcuts that keep the analysis after parsing cheap give exactly what the plain computations give:
the memo of feature hashes, the CSR arrays built once, the linear model's weights by column and its sums in
stored order, the topic detector run on all speakers at once, the per-doc entity memo for ``Span.ents``, the
alert features' reading of the doc's token columns."""

from __future__ import annotations

import re

import numpy as np
import pytest
from murmurhash import hash_unicode
from spacy.language import Language
from spacy.tokens import Span

from wirewatch.agents import alert_model as alert_features
from wirewatch.agents.detector import DetectorConfig, alert_model, sentence_candidates
from wirewatch.agents.detector.dating import _without_reporting_clause
from wirewatch.agents.document import ents_in, evidence_sentence, evidence_span
from wirewatch.agents.evidence import Evidence
from wirewatch.agents.learning import features
from wirewatch.agents.learning.alert_context import _actor_roles, _verb_aspect, context_cues, context_strings
from wirewatch.agents.learning.features import SparseRows, hashed_features
from wirewatch.agents.learning.linear import LinearModel
from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance.model import current_model
from wirewatch.agents.stance.topic import detect, detect_each

TEXT = (
    "North Korea fired two ballistic missiles toward the Sea of Japan on Monday, Japan's defence ministry said. "
    "The missiles flew about 600 kilometres, officials in Seoul said on Tuesday. "
    "Kim Min-su, the South Korean defence minister, said the launch violated sanctions and that talks should resume. "
    "Satellite images showed activity at the Sohae launch site in March 2023."
)


def _plain_hashed(strings: list[str], dim: int) -> dict[int, float]:
    """The hashing as it reads in the docstring, one string at a time, nothing remembered."""
    out: dict[int, float] = {}
    for s in strings:
        h = hash_unicode(s)
        out[abs(h) % dim] = out.get(abs(h) % dim, 0.0) + (1.0 if h >= 0 else -1.0)
    return {c: v for c, v in out.items() if v != 0.0}


def test_hashed_features_agree_with_murmurhash_cold_warm_and_after_the_memo_is_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strings = ["w:the", "w:launch", "w:the", "w:missile", "w:the", "w:test", "b:the launch", "r:rule", "r:rule"]
    monkeypatch.setattr(features, "_HASHES", {})
    cold = hashed_features(strings, 64)
    assert set(features._HASHES) == set(strings)  # the memo holds what it hashed, by the string
    assert all(features._HASHES[s] == hash_unicode(s) for s in strings)
    warm = hashed_features(strings, 64)
    for got in (cold, warm):
        assert got == _plain_hashed(strings, 64) and list(got) == list(_plain_hashed(strings, 64))
    assert hashed_features(strings, 7) == _plain_hashed(strings, 7)  # one memo serves every width
    monkeypatch.setattr(features, "_HASHES_LIMIT", 2)
    assert hashed_features(["x", "y", "z"], 64) == _plain_hashed(["x", "y", "z"], 64)
    assert hashed_features(strings, 64) == _plain_hashed(strings, 64)  # the memo was cleared on the way
    assert len(features._HASHES) <= len(set(strings))


def test_csr_arrays_are_built_again_after_a_row_is_added() -> None:
    rows = SparseRows(4)
    rows.add({1: 2.0})
    assert rows.csr()[0].tolist() == [2.0] and rows.csr() is rows.csr()
    rows.add({0: -1.0, 3: 1.0})
    data, indices, indptr, shape = rows.csr()
    assert data.tolist() == [2.0, -1.0, 1.0] and indices.tolist() == [1, 0, 3]
    assert indptr.tolist() == [0, 1, 3] and shape == (2, 4)


def test_sparse_row_rejects_a_column_outside_its_width_and_keeps_its_rows() -> None:
    rows = SparseRows(4)
    rows.add({1: 1.0})
    for bad in ({-1: 1.0, 2: 1.0}, {2: 1.0, 4: 1.0}):
        with pytest.raises(ValueError, match="outside"):
            rows.add(bad)
    assert rows.dense().tolist() == [[0.0, 1.0, 0.0, 0.0]]


def _add_at_logits(model: LinearModel, rows: SparseRows) -> np.ndarray:
    """The logits as np.add.at summed them before (every stored value in order, into its row)."""
    data, indices, indptr, (n, _w) = rows.csr()
    out = np.zeros((n, model.weights.shape[0]))
    np.add.at(out, np.repeat(np.arange(n), np.diff(indptr)), model.weights[:, indices].T * data[:, None])
    return out + model.bias


@pytest.mark.parametrize("part", ["alert", "modality", "kind"])
def test_the_shipped_alert_models_logits_are_the_add_at_sums_to_the_bit(part: str) -> None:
    model = getattr(alert_model(DetectorConfig()), part)
    assert np.array_equal(model._by_column, model.weights.T)
    # held once: the by-column block the sparse product gathers from is the weights themselves, contiguous
    assert np.shares_memory(model._by_column, model.weights) and model._by_column.flags.c_contiguous
    rng = np.random.default_rng(0)
    rows = SparseRows(model.n_columns - 96, dense_widths=(96,))
    for size in (40, 0, 300, 1):  # an empty row too
        cols = rng.choice(model.n_columns - 96, size, replace=False)
        rows.add({int(c): float(v) for c, v in zip(cols, rng.normal(size=size), strict=True)}, [rng.normal(size=96)])
    rows.add({}, [np.zeros(96)])
    got = model.logits(rows)
    assert np.array_equal(got, _add_at_logits(model, rows))
    assert np.allclose(got, rows.dense() @ model.weights.T + model.bias)


def test_topic_detector_on_all_speakers_at_once_gives_each_speakers_own_answer() -> None:
    topic = current_model().topic
    assert topic is not None
    groups = [
        ["named=sanctions", "w=sanction", "w=lift", "b=<s>_lift"],
        ["w=talk", "w=resume", "b=talk_resume"],
        [],
        ["named=provocation", "w=such", "w=action", "w=action"],
    ]
    assert detect_each(topic, groups) == [detect(topic, g) for g in groups]
    assert detect_each(topic, []) == []


def test_entity_memo_gives_span_ents_of_every_sentence(nlp: Language) -> None:
    doc = nlp(TEXT)
    spans = [*doc.sents, doc[0:5], doc[3:30], doc[:], doc[10:10]]
    assert any(s.ents for s in spans)
    for span in spans:
        assert [(e.start, e.end, e.label_) for e in ents_in(span)] == [(e.start, e.end, e.label_) for e in span.ents]


def test_alert_features_read_from_the_token_columns_are_those_of_the_tokens(nlp: Language) -> None:
    doc = nlp(TEXT)
    cands = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    assert len(cands) >= 2
    for sc in cands:
        for span in (sc.sent, sc.previous, sc.following):
            if span is not None:  # cold, then from the doc's memo
                words = [re.sub(r"\d", "0", t.lemma_.lower()) for t in span if t.lower_.strip()]
                assert alert_features._words(span) == words and alert_features._words(span) == words
        assert context_strings(sc.sent) == _token_context(sc.sent)


def _token_context(sent: Span) -> list[str]:
    """:func:`context_strings` as it read spaCy Token objects before."""
    cues, families = context_cues()
    out = [f"cue3:{name}" for name, rx in families if rx.search(sent.text)]
    out += [f"root_{f}" for f in _verb_aspect(sent.root)]
    out.append(f"root_lemma:{sent.root.lemma_.lower()}")
    for tok in sent:
        lemma = tok.lemma_.lower()
        if lemma in cues.launch_verbs and tok.pos_ in ("VERB", "AUX"):
            out += [f"launch_{f}" for f in _verb_aspect(tok)]
            subj = next((c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            out.append(f"launch_subj:{subj.ent_type_ or subj.pos_ if subj is not None else 'none'}")
        if lemma == "launch" and tok.dep_ in ("compound", "amod"):
            out.append(f"launch_modifies:{tok.head.lemma_.lower()}")
        if lemma in cues.observer_verbs and tok.pos_ == "VERB":
            obj = [c for c in tok.children if c.dep_ in ("dobj", "ccomp")]
            if obj:
                out.append(f"observed_{obj[0].dep_}")
    out += sorted(_actor_roles(sent))
    return sorted(set(out))


def test_the_sentence_without_its_reporting_clause_is_read_from_the_columns_as_from_the_tokens(nlp: Language) -> None:
    doc = nlp("North Korea last fired a missile in April, the ministry said on Tuesday.")
    sent = next(iter(doc.sents))
    trigger = next(t for t in sent if t.lemma_ == "fire")
    got = _without_reporting_clause(trigger, sent)
    assert "ministry" not in got and got.startswith("North Korea last fired a missile in April")
    kept = [t.text for t in sent if t.text in got.split()]
    assert got == " ".join(kept)


def test_evidence_span_memo_gives_the_char_span_of_the_evidence(nlp: Language) -> None:
    doc = nlp(TEXT)
    evidence = [evidence_sentence(s, s.root) for s in doc.sents] + [Evidence(TEXT[3:14], 3, 14)]  # mid-word
    for ev in evidence * 2:  # cold, then from the doc's memo
        span, fresh = evidence_span(doc, ev), doc.char_span(ev.start, ev.end, alignment_mode="expand")
        assert span is not None and fresh is not None and (span.start, span.end) == (fresh.start, fresh.end)

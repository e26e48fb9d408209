"""Selective parsing (issue 16): which sentences are parsed, and that they read as in a full parse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from spacy.language import Language
from spacy.tokens import Doc

from wirewatch.agents import lexicons
from wirewatch.agents.enrichment import analyze_doc
from wirewatch.agents.nlp import load_pipeline
from wirewatch.agents.parse_cues import inflections, parsed_whole
from wirewatch.agents.selective_parse import COMPONENT, FLAT_LABEL, is_selective, share_parsed

# Written for this project: sentences 2 and 6 have cues (a launch; a speaker and a stance target), the
# sentences on either side of them are context, sentences 0, 4 and 8 have no cue.
PASSAGE = (
    "The weather in the capital was mild on Monday. "
    "Farmers harvested rice across the southern provinces. "
    "North Korea fired two ballistic missiles into the sea on Tuesday, the military said. "
    "Tourism numbers rose by ten percent over the summer. "
    "Local football clubs began their new season at the weekend. "
    "Bakeries in the old town sold more bread than ever. "
    "The foreign minister said sanctions should be tightened. "
    "Prices of vegetables fell in markets across the region. "
    "Trains ran on time all week."
)
SELECTED = {1, 2, 3, 5, 6, 7}


@pytest.fixture(scope="module")
def selective() -> Language:
    return load_pipeline(parse="selective")


@pytest.fixture(scope="module")
def docs(nlp: Language, selective: Language) -> Iterator[tuple[Doc, Doc]]:
    with nlp.memory_zone(), selective.memory_zone():
        yield nlp(PASSAGE), selective(PASSAGE)


def parsed(sent: object) -> bool:
    return all(t.tag_ for t in sent)  # type: ignore[attr-defined]


def test_pipelines(nlp: Language, selective: Language) -> None:
    assert is_selective(selective) and not is_selective(nlp)
    assert {"tagger", "parser", "lemmatizer"}.isdisjoint(selective.pipe_names)
    assert selective.pipe_names == ["wirewatch_gazetteer", COMPONENT, "ner"]


def test_cue_sentences_and_the_one_before_are_parsed(docs: tuple[Doc, Doc]) -> None:
    full, selective = docs
    sents = list(selective.sents)
    assert [s.text for s in sents] == [s.text for s in full.sents]  # the senter splits these as the parser
    assert {i for i, s in enumerate(sents) if parsed(s)} == SELECTED
    assert not any(t.tag_ or t.lemma_ for i, s in enumerate(sents) if i not in SELECTED for t in s)
    # an unparsed sentence is a flat tree under its first word
    assert all(t.head.i == s.start and (t.dep_ == FLAT_LABEL or t.i == s.start) for s in sents[4:5] for t in s)


def test_parsed_sentences_read_as_in_a_full_parse(docs: tuple[Doc, Doc]) -> None:
    full, selective = docs
    for f_sent, s_sent in zip(full.sents, selective.sents, strict=True):
        if not parsed(s_sent):
            continue
        for f, s in zip(f_sent, s_sent, strict=True):
            assert (s.tag_, s.pos_, str(s.morph), s.lemma_, s.dep_, s.head.i) == (
                f.tag_,
                f.pos_,
                str(f.morph),
                f.lemma_,
                f.dep_,
                f.head.i,
            ), s.text
        rows = slice(s_sent.start, s_sent.end)
        np.testing.assert_allclose(selective.tensor[rows], full.tensor[rows], atol=1e-5)
    assert [(e.text, e.label_, e.ent_id_) for e in selective.ents] == [(e.text, e.label_, e.ent_id_) for e in full.ents]


def test_findings_are_those_of_a_full_parse(docs: tuple[Doc, Doc]) -> None:
    full, selective = docs
    want, got = analyze_doc(full), analyze_doc(selective)
    assert got.detection.signals and got.stances  # the passage has both
    assert [s.to_dict() for s in got.detection.signals] == [s.to_dict() for s in want.detection.signals]
    assert [s.to_dict() for s in got.stances] == [s.to_dict() for s in want.stances]
    assert got.entities == want.entities


def test_share_parsed_counts_tokens(selective: Language) -> None:
    component = selective.get_pipe(COMPONENT)
    component.tokens_seen = component.tokens_parsed = 0  # type: ignore[attr-defined]
    with selective.memory_zone():
        doc = selective(PASSAGE)
        expected = sum(len(s) for i, s in enumerate(doc.sents) if i in SELECTED) / len(doc)
    assert share_parsed(selective) == pytest.approx(expected)


def test_inflections_come_from_the_lemmatizer_tables(nlp: Language) -> None:
    lookups = nlp.get_pipe("lemmatizer").lookups  # type: ignore[attr-defined]
    exceptions, rules = lookups.get_table("lemma_exc"), lookups.get_table("lemma_rules")
    assert {"fire", "fired", "fires", "firing"} <= inflections("fire", exceptions, rules)
    assert {"flew", "flies", "flown"} <= inflections("fly", exceptions, rules)
    assert {"planned", "planning"} <= inflections("plan", exceptions, rules)


def test_a_users_cue_word_is_selected(selective: Language, tmp_path: Path) -> None:
    """The cues come from the lexicon files, user additions included: one source for detector and selection."""
    (tmp_path / "detector_cues.json").write_text(json.dumps({"speech_verbs": ["harvest"]}), encoding="utf-8")
    lexicons.configure(tmp_path)
    try:
        with selective.memory_zone():
            sents = list(selective(PASSAGE).sents)
            assert {i for i, s in enumerate(sents) if parsed(s)} == SELECTED | {0}
    finally:
        lexicons.configure(None)


def test_a_doc_with_cues_all_through_is_parsed_whole(nlp: Language, selective: Language) -> None:
    # written for this project: every sentence has a cue, so no senter pass is needed to know it
    dense = (
        "Iran fired a missile on Monday, officials said. Japan said the launch was a provocation. "
        "The ministry said talks on sanctions would go on."
    )
    with selective.memory_zone(), nlp.memory_zone():
        assert parsed_whole(selective.make_doc(dense), np.ones(3, dtype=bool))
        sparse = selective.make_doc(PASSAGE)
        one_cue = np.zeros(len(sparse), dtype=bool)
        one_cue[30] = True  # in sentence 2: sentences 4 to 8 are far from it
        assert not parsed_whole(sparse, one_cue)
        got, want = selective(dense), nlp(dense)
        assert [(t.tag_, t.dep_, t.head.i, t.lemma_) for t in got] == [
            (t.tag_, t.dep_, t.head.i, t.lemma_) for t in want
        ]
        assert [s.text for s in got.sents] == [s.text for s in want.sents]


def test_a_paragraph_break_ends_a_sentence_for_the_whole_doc_test(selective: Language) -> None:
    with selective.memory_zone():
        doc = selective.make_doc("Iran fired a missile\n\nRain fell\n\nJapan said so")
        cue = np.array([t.lower_ in ("fired", "said") for t in doc])
        assert not parsed_whole(doc, cue)  # two paragraph ends between the cues
        cue[[t.i for t in doc if t.text == "Rain"]] = True
        assert parsed_whole(doc, cue)


def test_according_to_selects_its_sentence(selective: Language) -> None:
    # written for this project: the stance tagger takes "according to X" as a speaker ("according" is a
    # speech cue of detector_cues.json)
    text = "Rain fell in the north. Shops were busy until late. According to the ministry, such moves are wrong."
    with selective.memory_zone():
        assert parsed(list(selective(text).sents)[2])


@pytest.mark.parametrize("text", ["", "   \n\n ", '"', "Hello."])
def test_texts_without_sentences_to_parse_are_analysed(nlp: Language, selective: Language, text: str) -> None:
    with selective.memory_zone(), nlp.memory_zone():
        got, want = analyze_doc(selective(text)), analyze_doc(nlp(text))
        assert (got.entities, got.stances, got.detection.signals) == (
            want.entities,
            want.stances,
            want.detection.signals,
        )

"""The document helpers the detector and the stance tagger share (``agents/document.py``), on sentences written
for the project and the real spaCy pipeline: one implementation, each caller's variant kept."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Token

from wirewatch.agents.detector.clauses import has_neg
from wirewatch.agents.document import doc_cache, evidence_sentence
from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance import load_lexicon, read_document
from wirewatch.agents.stance.cues import Scorer
from wirewatch.agents.stance.speakers import DocContext


def _word(doc: Doc, text: str) -> Token:
    return next(t for t in doc if t.text == text)


def _stance_negated(doc: Doc, tok: Token) -> bool:
    return Scorer(DocContext(doc, entities_of(doc), load_lexicon())).negated(tok)


def test_a_plain_negation_negates_for_both(nlp: Language) -> None:
    doc = nlp("Seoul did not back the sanctions.")
    back = _word(doc, "back")
    assert has_neg(back)
    assert _stance_negated(doc, back)


def test_a_negative_subject_denies_a_launch_but_flips_no_valence(nlp: Language) -> None:
    doc = nlp("None fired on Monday.")
    fired = _word(doc, "fired")
    assert has_neg(fired)  # the detector: nothing was fired
    assert not _stance_negated(doc, fired)


def test_a_contrasted_phrase_does_not_negate_the_stance_word_it_hangs_from(nlp: Language) -> None:
    doc = nlp("Seoul wants talks, not sanctions, with the North.")
    talks = _word(doc, "talks")
    assert not _stance_negated(doc, talks)  # ", not sanctions," contrasts: the talks are wanted
    assert has_neg(talks)  # the detector has no contrast exception


def test_the_stance_evidence_is_the_shared_evidence_sentence(nlp: Language) -> None:
    doc = nlp("Moon said talks must resume.\nThe ministry later opposed new sanctions.")
    readings, _ = read_document(doc, entities_of(doc))
    reading = next(r for r in readings if r.mention.root.text == "sanctions")
    assert reading.evidence == evidence_sentence(doc[:], reading.mention.root)
    assert reading.evidence.text == "The ministry later opposed new sanctions."


def test_the_memo_is_kept_under_a_neutral_key(nlp: Language) -> None:
    doc = nlp("A short line.")
    doc_cache(doc)["probe"] = 1
    assert doc.user_data["wirewatch.document"] == {"probe": 1}

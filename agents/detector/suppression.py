"""Sentence-level suppressions: fiction, false alarms, missile-defence tests, engine tests and parades,
fireworks and products, civilian space launches."""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span, Token

from ..document import doc_cache, span_text
from ..nlp import doc_text
from .lexicon import lexicon


def doc_is_civil_space(doc: Doc) -> bool:
    cache = doc_cache(doc)
    if "civil" not in cache:
        res = lexicon().res
        cache["civil"] = bool(
            res["civil_space"].search(doc_text(doc))
            and not res["military_context_overrides_civil"].search(doc_text(doc))
        )
    return bool(cache["civil"])


def _in_sibling_clause(match: re.Match[str], sent: Span, trigger: Token) -> bool:
    """The cue sits in a conjunct coordinated with the trigger's ('could stage a parade or test-fire a
    missile', 'the engine test and the launch'): it describes another event."""
    span = sent.doc.char_span(sent.start_char + match.start(), sent.start_char + match.end(), alignment_mode="expand")
    if span is None:
        return False
    conj_children = [c for c in trigger.children if c.dep_ == "conj"]
    own = {t.i for t in trigger.subtree} - {t.i for c in conj_children for t in c.subtree}
    if any(t.i in own for t in span):
        return False
    in_conj_child = any(t.i in {x.i for c in conj_children for x in c.subtree} for t in span)
    in_conj_head = trigger.dep_ == "conj" and all(t.i in {x.i for x in trigger.head.subtree} for t in span)
    return in_conj_child or in_conj_head


def sentence_suppression(sent: Span, kind: str, trigger: Token | None = None) -> str | None:
    lex = lexicon()
    res = lex.res
    text = span_text(sent)
    if res["fiction"].search(text) or res["hypothetical_cues"].search(text):
        return "fiction_or_hypothetical"
    if res["false_alarm"].search(text):
        return "denied"
    if res["intercept_test"].search(text):
        return "missile_defence"
    for key in ("engine_test", "parade"):
        m = res[key].search(text)
        if m and not (trigger is not None and _in_sibling_clause(m, sent, trigger)):
            return key
    kinds = lex.cues.suppression_kinds
    if kind in kinds.civil_cues:
        for key in ("fireworks", "model_rocket", "sports", "product"):
            if res[key].search(text) and not res["military_context_overrides_civil"].search(text):
                return key
    if (
        kind in kinds.civil_space_sentence
        and res["civil_space"].search(text)
        and not res["military_context_overrides_civil"].search(text)
    ):
        return "civilian_space"
    if kind in kinds.civil_space_article and doc_is_civil_space(sent.doc):
        return "civilian_space"
    return None

"""The clause around a trigger: its spine up to the first speech verb, the speech verb that reports it,
negated words (through document.negated_at), how far a negation reaches it, headlines."""

from __future__ import annotations

from spacy.tokens import Span, Token

from ..document import ancestor_ids, doc_memo, negated_at, span_text, subject_of
from ..nlp import TokenColumns, token_columns
from .lexicon import lexicon


# The stance tagger's speaker verbs differ (DocContext.is_speaker_verb: its own lexicon, attitude copulas).
def _is_speech_verb(i: int, cols: TokenColumns) -> bool:
    return cols.lemma[i] in lexicon().cues.speech_verbs and cols.pos[i] in ("VERB", "AUX")


def clause_chain(tok: Token, sent: Span) -> list[Token]:
    """The trigger and its ancestors up to (not including) the first speech verb: the clause spine."""
    memo = doc_memo(tok.doc, "chains")  # each candidate asks for its chain half a dozen times
    key = (tok.i, sent.start, sent.end)
    if key not in memo:
        memo[key] = _chain_above(tok, sent)
    return [tok, *memo[key]]  # ``tok`` itself first: callers tell it apart by identity


def _chain_above(tok: Token, sent: Span) -> list[Token]:
    """The ancestors of :func:`clause_chain`."""
    doc = tok.doc
    cols = token_columns(doc)
    out = []
    for anc in ancestor_ids(tok.i, sent, cols.heads):
        # "X said": X's claim starts a new clause; "launches are said to have taken place" does not
        if _is_speech_verb(anc, cols) and not any(cols.dep[c] == "auxpass" for c in cols.children[anc]):
            break
        out.append(doc[anc])
    return out


def commissive_head(tok: Token, sent: Span) -> Token | None:
    """The commissive verb ``tok`` is the act of ('Kim Yo Jong threatened to launch'): its subject speaks."""
    cols = token_columns(tok.doc)
    commissive = lexicon().cues.commissive_verbs
    for anc in ancestor_ids(tok.i, sent, cols.heads):
        if cols.lemma[anc] in commissive and cols.pos[anc] in ("VERB", "AUX"):
            return tok.doc[anc]
    return None


def speech_head(tok: Token, sent: Span) -> Token | None:
    doc = tok.doc
    cols = token_columns(doc)
    for anc in ancestor_ids(tok.i, sent, cols.heads):
        if _is_speech_verb(anc, cols):
            return doc[anc]
    # "according to X" attached anywhere in the sentence
    lower = cols.lower
    for i in range(sent.start, sent.end):
        if lower[i] == "according" and i + 1 < len(lower) and lower[i + 1] == "to":
            return doc[i]
    return None


def is_headline(sent: Span) -> bool:
    """A short line without final punctuation: headlines report in the present tense."""
    text = span_text(sent).strip()
    if not text or text[-1] in ".!?\"'”’)" or len(sent) > lexicon().cues.headline_max_tokens:
        return False
    return text[0].isupper()


def has_neg(tok: Token) -> bool:
    return has_neg_at(tok.i, token_columns(tok.doc))


#: How the detector's negation words attach when they deny a verb ("NO missile was fired": nsubj).
_NEGATION_WORD_DEPS = frozenset({"det", "nsubj", "advmod", "dep", "preconj"})


def has_neg_at(i: int, cols: TokenColumns) -> bool:
    """:func:`~wirewatch.agents.document.negated_at` with the detector's negation words."""
    return negated_at(i, cols, lexicon().cues.negation_words, _NEGATION_WORD_DEPS)


def verb_subject(tok: Token) -> Token | None:
    """:func:`~wirewatch.agents.document.subject_of` with the detector's speech verbs; the first half of a verb
    written apart ('Iran Sunday test fired two cruise missiles', 'the destroyer on Tuesday successfully test
    fired a missile': the parser makes 'test' a second subject) gives way to the subject before it."""
    cues = lexicon().cues
    subj = subject_of(tok, cues.speech_verbs)
    if subj is not None and subj.lemma_.lower() in cues.verb_prefix_nouns and subj.i + 1 == subj.head.i:
        before = [c for c in subj.head.children if c.dep_ in ("nsubj", "nsubjpass") and c.i < subj.i]
        if before:
            return before[-1]
    return subj


def negation_scope(tok: Token, sent: Span) -> list[Token]:
    """The trigger and those of its ancestors a negation on which reaches it: the climb stops below a
    coordinated clause with its own subject ('... will never stop, and Tehran has missiles ready to be
    fired'), an adverbial clause ('is not relaxing its alert even though the period set for the launch is
    over'), an indirect question ('nobody knows yet which rocket the navy will test'), a prepositional adjunct
    ('was not involved in the accident during launch preparations') and a predicate of which the launch is
    the subject ('the launches did not demonstrate the range'), unless that predicate says whether a launch
    happened or was seen (the lexicon's ``negation_scope``) or negates or denies it."""
    memo = doc_memo(tok.doc, "negation_scope")
    key = (tok.i, sent.start, sent.end)
    if key not in memo:
        memo[key] = _scope_above(tok, sent)
    return [tok, *memo[key]]


def _scope_above(tok: Token, sent: Span) -> list[Token]:
    """The ancestors of :func:`negation_scope`."""
    cues = lexicon().cues
    scope = cues.negation_scope
    reaching_subject = scope.subject_verbs | cues.negating_verbs | cues.denial_verbs
    doc = tok.doc
    out: list[Token] = []
    child = tok
    for anc in ancestor_ids(tok.i, sent, token_columns(doc).heads):
        head = doc[anc]
        dep = child.dep_
        if dep == "advcl":
            break
        if dep == "conj" and any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in child.children):
            break
        if dep in ("ccomp", "xcomp", "csubj", "pcomp") and child.left_edge.lower_ in scope.indirect_question_words:
            break
        if dep == "prep" and child.lower_ in scope.blocking_preps:
            break
        if dep in ("nsubj", "nsubjpass") and head.lemma_.lower() not in reaching_subject:
            break
        out.append(head)
        child = head
    return out

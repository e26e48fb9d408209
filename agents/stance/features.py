"""Stance stage 5: the features of a (speaker, target) pair, for the learned polarity.

Three kinds, all from the parse the enrich call has already made:

- the words of the speaker's clause: the evidence sentences, as lemma unigrams and bigrams, negation-aware
  (a word after a negator, up to the next punctuation, is marked ``~``: "not support" is not "support");
  crossed with the target ("lift" means one thing for sanctions and another for diplomacy), and (``words``)
  also alone (the shipped features leave them out: a word alone says nothing about a side of the target);
- the dependency path from the target mention up to its speaker verb ("oppose > sanctions");
- the rules' cues: their vote, why they abstained (question, refusal, hypothetical, no cue), negation of
  the mention, conditional, rhetorical question, quotation, the reporting verb, the lexicon's polarity
  words in the clause, and the marks of a clause that takes no side (a hedge, a call on all sides, a reply
  to a question, no decision, a question, a target judged for whether it works: the rules' vote on such a
  target is withheld, an assessment is no side), each counting as ``marker_weight`` words; and
  (``cue_weight``) the target and every cue feature count as that many words against the clause's words and
  path steps.

Optionally the mean of the pipeline's token vectors (tok2vec) over the evidence sentences.
``FEATURE_SPEC`` names the feature set; a model trained on another one is refused at load time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from spacy.tokens import Doc, Span, Token

from ..document import evidence_span
from ..learning.features import SparseRows, hashed_features, span_vector
from .lexicon import Lexicon, load_lexicon
from .pairs import Pair

HASH_DIM = 1 << 14
VECTOR_DIM = 96  # en_core_web_sm's tok2vec width
_PATH_STEPS = 6
#: How many words a neutral marker or an efficacy judgement counts as: a few such features among a clause's
#: hundred words are otherwise too weak to outweigh them (3 and 6 measure the same; 1 gains nothing: README,
#: Stance model)
MARKER_WEIGHT = 3


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature groups a model uses (the grouped cross-validation chooses: see the model card)."""

    words: bool = True  # the clause's words alone
    target_words: bool = True  # the clause's words crossed with the target
    path: bool = True
    cues: bool = True
    vector: bool = False
    marker_weight: int = MARKER_WEIGHT  # within ``cues``
    #: How many words the target and each cue feature count as, against the clause's words and path steps: a
    #: clause's hundred word and path features otherwise drown the rules' few cues, and with them the marks of a
    #: clause that takes no side (README, Stance model: 3 to 6 measure the same)
    cue_weight: int = 1

    def spec(self) -> dict[str, object]:
        """What a model trained on these features records; bump ``version`` when a feature changes (shipped
        and user models carry the spec they were trained on, and one of another version is refused)."""
        return {
            "features": "stance-pair",
            "version": 4,
            "hash_dim": HASH_DIM,
            "groups": ",".join(k for k, v in self.__dict__.items() if v is True),
            "vector_dim": VECTOR_DIM if self.vector else 0,
            "marker_weight": self.marker_weight,
            "cue_weight": self.cue_weight,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, object]) -> FeatureConfig:
        groups = set(str(spec.get("groups", "")).split(","))
        flags = {name: name in groups for name, f in cls.__dataclass_fields__.items() if f.type == "bool"}
        return cls(
            **flags,
            marker_weight=int(str(spec.get("marker_weight", MARKER_WEIGHT))),
            cue_weight=int(str(spec.get("cue_weight", 1))),
        )


def _sign_name(value: int) -> str:
    return "+" if value > 0 else "-" if value < 0 else "0"


def pair_strings(doc: Doc, pair: Pair, config: FeatureConfig, lexicon: Lexicon | None = None) -> list[str]:
    """The hashed-string features of ``pair`` (a list: counts matter)."""
    lex = lexicon or load_lexicon()
    target = pair.target
    out: list[str] = [f"target={target}"] * config.cue_weight
    if config.words or config.target_words:
        for word in _clause_words(doc, pair, lex):
            if config.words:
                out.append(f"w={word}")
            if config.target_words:
                out.append(f"{target}|w={word}")
    if config.path:
        for step in _path_steps(doc, pair):
            out.append(f"p={step}")
            out.append(f"{target}|p={step}")
    if config.cues:
        out += _cue_strings(doc, pair, lex, config.marker_weight) * config.cue_weight
    return out


def pair_vector(doc: Doc, pair: Pair) -> np.ndarray:
    """Mean tok2vec vector over the pair's evidence sentences."""
    spans = [evidence_span(doc, ev) for ev in pair.evidence()]
    vectors = [span_vector(s) for s in spans if s is not None and len(s)]
    return np.mean(vectors, axis=0) if vectors else np.zeros(VECTOR_DIM, dtype=np.float32)


def pair_rows(doc: Doc, pairs: list[Pair], config: FeatureConfig, lexicon: Lexicon | None = None) -> SparseRows:
    """One feature row per pair."""
    rows = SparseRows(HASH_DIM, (VECTOR_DIM,) if config.vector else ())
    for pair in pairs:
        sparse = hashed_features(pair_strings(doc, pair, config, lexicon), HASH_DIM)
        rows.add(sparse, (pair_vector(doc, pair),) if config.vector else ())
    return rows


def _clause_words(doc: Doc, pair: Pair, lex: Lexicon) -> Iterator[str]:
    """Lemma unigrams and bigrams of the evidence sentences, negation-marked, numbers folded."""
    for ev in pair.evidence():
        span = evidence_span(doc, ev)
        if span is None:
            continue
        negated = False
        prev = "<s>"
        for tok in span:
            if tok.is_punct or tok.is_quote:
                negated = False
                prev = "|"
                continue
            lemma = tok.lemma_.lower()
            if lemma in lex.negators or tok.dep_ == "neg":
                negated = True
                word = "NOT"
            elif tok.like_num:
                word = "<num>"
            elif tok.ent_type_ in ("PERSON", "GPE", "NORP", "ORG", "DATE"):
                word = f"<{tok.ent_type_}>"
            else:
                word = ("~" if negated else "") + lemma
            yield word
            yield f"{prev}_{word}"
            prev = word


def _path_steps(doc: Doc, pair: Pair) -> Iterator[str]:
    """Lemmas on the way up from each mention to its speaker verb (or the sentence root), with the role."""
    for reading in pair.readings:
        tok = reading.mention.root
        stop = reading.holder_verb
        for depth in range(_PATH_STEPS):
            head = tok.head
            if head.i == tok.i:
                break
            yield f"{tok.dep_}>{head.lemma_.lower()}"
            if depth == 0:
                yield f"head={head.lemma_.lower()}"
            if head.i == stop:
                break
            tok = head


def _cue_strings(doc: Doc, pair: Pair, lex: Lexicon, marker_weight: int) -> list[str]:
    out: list[str] = []
    total = 0
    for r in pair.readings:
        # "sanctions will not WORK": whether the target works is an assessment, not a side; the rules' vote
        # (work +1, negated) is not the speaker's
        efficacy = _judged_for_efficacy(r.mention.root, lex)
        vote = 0 if efficacy else r.vote
        total += vote * r.weight
        out.append(f"rule={_sign_name(vote)}")
        out.append(f"rule={_sign_name(vote)}|{pair.target}")
        out.append(f"abstain={'efficacy' if efficacy else r.abstain or 'no'}")
        if r.judged:
            out.append("judged")
        if r.conditional:
            out.append("conditional")
        if r.rhetorical:
            out.append("rhetorical")
        if r.negated:
            out.append("mention_negated")
        out.append("in_quote" if r.in_quote else "reported")
        if r.mention.polarity < 0:
            out.append("inverse_term")
        if efficacy:
            out += ["efficacy"] * marker_weight
        verb = doc[r.holder_verb].lemma_.lower() if r.holder_verb is not None else "<none>"
        out.append(f"verb={verb}")
    if pair.implied:
        out.append("implied")  # the detector's target, not a word of the text
        out.append(f"implied|{pair.target}")
    out.append(f"rule_total={_sign_name(total)}")
    out.append(f"readings={min(len(pair.readings), 3)}")
    if pair.reported:
        out.append("reported")
    if not pair.speaker:
        out.append("author")
    elif not pair.resolved:
        out.append("unresolved")
    for ev in pair.evidence():
        words = f" {ev.text.lower()} "
        for phrase, value in lex.padded_phrases:
            if phrase in words:
                out.append(f"phrase={_sign_name(value)}")
        span = evidence_span(doc, ev)
        for tok in span or ():
            value = lex.evaluative.get(tok.lemma_.lower())
            if value:
                out.append(f"eval={_sign_name(value)}")
        out += _neutral_markers(span, pair.target, lex) * marker_weight
    return out


def _neutral_markers(span: Span | None, target: str, lex: Lexicon) -> list[str]:
    """The groups of :attr:`Lexicon.neutral_markers` whose words the sentence has (a hedge, a call on all
    sides, a reply to a question, no decision), once per group, alone and with the target."""
    if span is None or not lex.neutral_markers:
        return []
    words = " " + " ".join(tok.lower_ for tok in span if not tok.is_punct) + " "
    found = [group for group, phrases in lex.neutral_markers.items() if any(p in words for p in phrases)]
    if span.text.rstrip(" \"'”’").endswith("?"):
        found.append("question")
    return [s for group in found for s in (f"marker={group}", f"marker={group}|{target}")]


def _judged_for_efficacy(mention: Token, lex: Lexicon) -> bool:
    """The target is the subject of a verb of working or failing ("sanctions will not WORK", "talks are
    unlikely to SUCCEED"): a judgement of whether it works, which the labels do not count as a side."""
    head = mention.head
    if mention.dep_ not in ("nsubj", "nsubjpass") or head.i == mention.i:
        return False
    if head.lemma_.lower() in lex.efficacy_verbs:
        return True
    # "sanctions are unlikely to work": the verb is the complement of the predicate the target is subject of
    complements = [c for c in head.children if c.dep_ in ("xcomp", "acomp")]
    complements += [g for c in complements for g in c.children if g.dep_ == "xcomp"]
    return any(c.dep_ == "xcomp" and c.lemma_.lower() in lex.efficacy_verbs for c in complements)

"""Stance cues: valences of governing words, negation, contrast and evaluative words on the dependency tree."""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Token

from ..document import negated_at
from .grammar import COPULAS, DESCRIBING_VERBS, NOMINAL_POS, OBJECT_DEPS, RELATIVE, SUBJECT_DEPS
from .speakers import DocContext

#: How a negator attaches when it flips the valence of the word it hangs from.
_NEGATOR_DEPS = frozenset({"det", "advmod", "preconj"})


def sign_of(x: float) -> int:
    return (x > 0) - (x < 0)


class Scorer:
    """Valences, negation and evaluations on the dependency tree."""

    def __init__(self, ctx: DocContext) -> None:
        self.ctx = ctx
        self.lex = ctx.lex
        # memos by token index: the answers depend only on the parse and the lexicon
        self._negated: dict[int, bool] = {}
        self._entries: dict[int, dict[str, int] | None] = {}  # predicate entries by token index

    def negated(self, tok: Token) -> bool:
        i = tok.i
        found = self._negated.get(i)
        if found is None:
            found = self._negated[i] = self._is_negated(i)
        return found

    def _is_negated(self, i: int) -> bool:
        return negated_at(i, self.ctx.columns, self.lex.negators, _NEGATOR_DEPS, contrast_pos=NOMINAL_POS)

    def valence(self, head: Token, role: str, via: Token | None = None) -> int:
        """The valence ``head`` gives a phrase in ``role`` (reached through its child ``via``); a copula
        lends its adjective's ('are destructive TO')."""
        ctx, lex, h = self.ctx, self.lex, head.i
        dep, lower, kids = ctx.dep, ctx.lower, ctx.children
        if role == "object" and ctx.lemma[h] in DESCRIBING_VERBS and describes(head, via):
            return 0  # "CONSIDERED the sanctions a declaration of war": a description, judged by its words
        if via is not None and dep[via.i] in OBJECT_DEPS:
            dep_specific = self._own_valence(head, dep[via.i])
            if dep_specific:
                return dep_specific
        own = self._own_valence(head, role)
        if not own and ctx.pos[h] == "VERB" and role not in ("object", "subject", "compound"):
            # "expressed concern OVER the launch", "return to compliance WITH the deal": the noun governs
            nouns = [c for c in kids[h] if dep[c] == "dobj"]
            nouns += [p for c in kids[h] if dep[c] == "prep" for p in kids[c] if dep[p] == "pobj"]
            for n in nouns:
                noun = ctx.doc[n]
                own = self._listed_valence(noun, role)
                if own:
                    own = -own if self.negated(noun) else own  # "saw NO point in resuming talks"
                    break
        if role == "subject" and any(
            (dep[c] == "aux" and (lower[c] in lex.prescriptive_modals or lower[c] in lex.intent_modals))
            or (dep[c] == "mark" and lower[c] in lex.goal_marks)
            for c in kids[h]
        ):
            own = own or self._listed_valence(head, "subject_must")  # "dialogue MUST continue"
        if (
            own < 0
            and via is not None
            and dep[via.i] == "xcomp"
            and any(dep[c] == "aux" and lower[c] == "to" for c in kids[via.i])
        ):
            return 0  # "must stop now TO GIVE space": a purpose clause, not what is stopped
        if own or role in ("object", "subject", "compound") or ctx.lemma[h] not in COPULAS:
            return own
        for c in kids[h]:
            if dep[c] == "acomp":
                v = self._own_valence(ctx.doc[c], role)
                if v:
                    return v
        return 0

    def _own_valence(self, head: Token, role: str) -> int:
        v = self._listed_valence(head, role)
        if not v and self.ctx.pos[head.i] in ("VERB", "AUX", "NOUN") and head.i not in self.ctx.mention_roots:
            # "campaigned AGAINST sanctions", "a voice AGAINST the deal"; but "retaliate against an attack" is no
            # opposition
            v = self.lex.default_prep_valence.get(role, 0)
        return v

    def _listed_valence(self, head: Token, role: str) -> int:
        i = head.i
        if i not in self._entries:  # memoised per token: the walks ask about several roles of a word
            self._entries[i] = self._predicate_entry(head)
        entry = self._entries[i]
        return int(entry.get(role, 0)) if entry is not None else 0

    def _predicate_entry(self, head: Token) -> dict[str, int] | None:
        """The lexicon's predicate entry for ``head``, if it has one."""
        entries = self.lex.predicates
        key = self.ctx.pred_key(head)
        lemma, pos = self.ctx.lemma[head.i], self.ctx.pos[head.i].lower()
        for k in (f"{key}/{pos}", key, f"{lemma}/{pos}", lemma):
            entry = entries.get(k)
            if entry is not None:
                return entry
        base = lemma.removeprefix("re").removeprefix("-")
        if pos == "verb" and base != lemma and len(base) >= 4 and base in entries:
            return entries[base]  # "REimpose sanctions", "RE-enter the talks"
        return None

    def word_eval(self, tok: Token) -> int:
        ctx, i = self.ctx, tok.i
        lemma = ctx.lemma[i]
        if lemma in self.lex.light_nouns:  # "an ACT of aggression", "the HEIGHT of absurdity"
            for prep in ctx.children[i]:
                if ctx.dep[prep] == "prep" and ctx.lower[prep] == "of":
                    for pobj in ctx.children[prep]:
                        if ctx.dep[pobj] == "pobj":
                            return self._evaluative(pobj)
        return self._evaluative(i)

    def _evaluative(self, i: int) -> int:
        """The listed judgement of token ``i``; else, for a noun or an adjective ("economic TERRORISM", "a
        HORRIBLE deal"), the general sentiment lexicon's."""
        ctx, lex = self.ctx, self.lex
        value = lex.evaluative.get(ctx.lemma[i], lex.evaluative.get(ctx.lower[i], 0))
        if not value and ctx.pos[i] in ("NOUN", "ADJ"):
            value = lex.general_evaluative.get(ctx.lemma[i], lex.general_evaluative.get(ctx.lower[i], 0))
        return value

    def modifier_eval(self, tok: Token, skip: Token | None = None) -> int:
        """Judgements of a noun by its modifiers: amod adjectives and relative clauses (but ``skip``, the
        branch the walk came up through)."""
        ctx = self.ctx
        dep, kids, doc = ctx.dep, ctx.children, ctx.doc
        total = 0
        for c in kids[tok.i]:
            if skip is not None and c == skip.i:
                continue
            if dep[c] == "amod":
                for a in [c, *(x for x in kids[c] if dep[x] == "conj")]:
                    if ctx.lemma[a] in self.lex.predicative_only:
                        continue  # "a POSSIBLE launch" hedges, "a deal is possible" judges
                    adj = doc[a]
                    total += self.word_eval(adj) * (-1 if self.negated(adj) else 1)
            elif dep[c] == "relcl" and any(ctx.lower[x] in RELATIVE for x in kids[c] if dep[x] in SUBJECT_DEPS):
                clause = doc[c]
                e = self.valence(clause, "subject") + self.predicate_eval(clause)
                total += -e if self.negated(clause) else e
            elif dep[c] == "relcl" and ctx.lemma[c] in DESCRIBING_VERBS:
                clause = doc[c]
                e = self.describe_eval(clause)  # "the launch, which she described as reckless"
                total += -e if self.negated(clause) else e
        return sign_of(total)

    def phrase_eval(self, tokens: Iterable[int]) -> int:
        """Valences of the listed phrases in the words of token indices ``tokens``."""
        lower = self.ctx.lower
        text = " " + " ".join(lower[t] for t in tokens) + " "
        return sum(v for p, v in self.lex.padded_phrases if p in text)

    def predicate_eval(self, head: Token) -> int:
        """Judgement a copula-like predicate passes on its subject (is useless / had no negative effect)."""
        ctx, h = self.ctx, head.i
        dep, kids, doc = ctx.dep, ctx.children, ctx.doc
        lemma = ctx.lemma[h]
        total = 0
        for ci in kids[h]:
            d = dep[ci]
            if d in ("acomp", "attr", "oprd") or (d == "dobj" and lemma in COPULAS):
                c = doc[ci]
                # "were proportionate and lawful": coordinated predicates judge together
                e = sum(self.word_eval(doc[x]) for x in (ci, *(x for x in kids[ci] if dep[x] == "conj")))
                e += self.modifier_eval(c)
                if d == "dobj" and not e:
                    e = self.phrase_eval(ctx.subtree(ci))
                else:
                    e += self.phrase_eval(ctx.subtree(ci))
                total += -sign_of(e) if self.negated(c) else sign_of(e)
            elif d in ("prep", "advmod") and lemma in COPULAS:
                total += self.phrase_eval(ctx.subtree(ci))
        if lemma not in COPULAS:
            objects = [t for c in kids[h] if dep[c] == "dobj" for t in ctx.subtree(c)]
            total += self.phrase_eval([h, *objects])
            if ctx.pred_key(head) in self.lex.causatives:
                # "only negotiations can bring lasting PEACE": the subject takes its effect's value
                for ci in kids[h]:
                    if dep[ci] == "dobj":
                        c = doc[ci]
                        e = self.word_eval(c) + self.modifier_eval(c)
                        total += -sign_of(e) if self.negated(c) else sign_of(e)
        return sign_of(total)

    def describe_eval(self, head: Token, skip: Token | None = None) -> int:
        """'described the launch as a grave provocation': the judgement in the 'as' phrase or complement
        (but ``skip``, the branch the target is in: the description judges its object, not itself)."""
        total = 0
        for c in head.children:
            if skip is not None and c.i == skip.i:
                continue
            if c.dep_ == "oprd" or (c.dep_ == "ccomp" and c.pos_ == "ADJ"):
                total += self.word_eval(c) + self.modifier_eval(c)
            elif c.dep_ == "prep" and c.lower_ == "as":
                for p in c.children:  # "as a grave provocation", "as constructive"
                    if not (p.is_punct or p.is_quote):
                        total += self.word_eval(p) + self.modifier_eval(p)
        return sign_of(total)

    def clause_eval(self, head: Token) -> int:
        """Judgement a main clause passes on a conditional under it ('I would be disappointed if ...')."""
        return sign_of(self.predicate_eval(head) + self.word_eval(head))

    def contrast(self, tok: Token) -> bool:
        lower = self.ctx.lower
        for marker in self.lex.contrast_markers:
            lo = tok.i - len(marker) + 1
            if lo >= 0 and tuple(lower[lo : tok.i + 1]) == marker:
                return True
        return False


def describes(verb: Token, via: Token | None = None) -> bool:
    """Whether a describing verb has its description ('called it A MISTAKE', 'regarded it AS ...'), also
    as a verbless clause ('considers [the sanctions UNJUST]') or an 'as' the parser hung on the object."""
    if via is not None and via.dep_ in ("ccomp", "xcomp") and via.pos_ in ("ADJ", "NOUN"):
        return True
    for c in verb.children:
        if c.dep_ == "oprd" or (c.dep_ == "prep" and c.lower_ == "as"):
            return True
        if c.dep_ == "dobj" and any(x.dep_ == "prep" and x.lower_ == "as" for x in c.children):
            return True
    return False


def denied_or_required_existence(tok: Token, scorer: Scorer) -> bool:
    """'there will be NO negotiations', 'there must never be another war': a speaker who denies or demands
    that something exist takes a side on it; a plain 'there will be talks' is a forecast, not a stance."""
    if scorer.ctx.dep[tok.i] != "attr":
        return False
    head = tok.head
    if head.lemma_.lower() != "be" or not any(c.dep_ == "expl" for c in head.children):
        return False
    required = any(c.dep_ == "aux" and c.lower_ in scorer.lex.prescriptive_modals for c in head.children)
    return required or scorer.negated(tok) or scorer.negated(head)

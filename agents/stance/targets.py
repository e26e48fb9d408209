"""Stance stage 2, targets: where the text names sanctions, diplomacy, denuclearization, military action or a
provocation (lexicon terms, verb objects, modified nouns, and pronouns a judging verb takes).
"""

from __future__ import annotations

import operator
from itertools import compress

from spacy.tokens import Token

from .cues import Scorer
from .grammar import COPULAS, DESCRIBING_VERBS, PRO_NOUN, SUBJECT_DEPS
from .lexicon import Lexicon, Term
from .records import Mention
from .speakers import DocContext


def find_mentions(ctx: DocContext) -> list[Mention]:
    """Target mentions, longest term first, left to right, without overlaps."""
    doc, lex = ctx.doc, ctx.lex
    lemmas, lowers, poses, deps, kids = ctx.lemma, ctx.lower, ctx.pos, ctx.dep, ctx.children
    vo_lemmas, mod_heads = lex.verb_object_lemmas, lex.modified_heads
    n = len(lowers)
    terms = lex.terms
    # the only tokens that can start a mention: cheap set lookups instead of visiting every token
    first_lemmas = lex.mention_lemmas
    starts = list(
        compress(range(n), map(operator.or_, map(first_lemmas.__contains__, lemmas), map(terms.__contains__, lowers)))
    )
    found: list[Mention] = []
    free = 0  # tokens before ``free`` belong to a mention found already
    for i in starts:
        if i < free:
            continue
        lemma, lower, pos = lemmas[i], lowers[i], poses[i]
        match: tuple[Term, int] | None = None
        for term in lex.candidate_terms(lemma, lower):
            j = i + len(term.words)
            if j > n:
                continue
            # (a plain loop, not all() over a generator: this runs for every candidate term of every start)
            for k, w, p in zip(range(i, j), term.words, term.pos, strict=True):
                if (w != lemmas[k] and w != lowers[k]) or (p is not None and poses[k] != p):
                    break
            else:
                match = (term, j)
                break
        if match is None:
            # only verbs and nouns the lexicon lists can be targets through their objects or modifiers
            if (pos == "VERB" and lemma in vo_lemmas) or (_is_noun(pos, lemma) and lemma in mod_heads):
                tok = doc[i]
                hit = _verb_object_target(tok, lex) or _modified_noun_target(tok, lex)
                if hit is not None:  # "vowed to continue LAUNCHING satellites", "nuclear and missile PROGRAMMES"
                    found.append(Mention(hit[0], hit[1], tok, i, i + 1))
            continue
        term, j = match
        # the root of a one-word span is that word (Span.root would build the span to find it)
        root = doc[i] if j == i + 1 and not doc.user_span_hooks else doc[i:j].root
        r = root.i
        excluded = poses[r] == "VERB" and any(deps[c] == "dobj" and lemmas[c] in lex.excluded_objects for c in kids[r])
        if not excluded:
            found.append(Mention(term.target, term.polarity, root, i, j))
        free = j
    return found


def _is_noun(pos: str, lemma: str) -> bool:
    """A noun, or the pro-form "one" standing for one ("a diplomatic ONE", which the tagger may call a number)."""
    return pos == "NOUN" or (pos == "NUM" and lemma == PRO_NOUN)


def _verb_object_target(tok: Token, lex: Lexicon) -> tuple[str, int] | None:
    """The target of a verb that is one only with certain objects ("launch" a missile, not a campaign); the
    object may also follow "with" ("will not MEET WITH Trump")."""
    if tok.pos_ != "VERB":
        return None
    objects_of = [c for c in tok.children if c.dep_ == "dobj"]
    objects_of += [
        o for c in tok.children if c.dep_ == "prep" and c.lower_ == "with" for o in c.children if o.dep_ == "pobj"
    ]
    for target, verbs in lex.verb_objects.items():
        objects = verbs.get(tok.lemma_.lower())
        if objects and any(
            c.lemma_.lower() in objects or f"@{c.ent_type_.lower()}" in objects for c in objects_of
        ):  # "@PERSON" stands for any person named as the object ("agreed to MEET Trump")
            return target, 1
    return None


def _modified_noun_target(tok: Token, lex: Lexicon) -> tuple[str, int] | None:
    """A noun that is a target through a modifier that need not stand next to it ("nuclear and missile
    programmes")."""
    if not _is_noun(tok.pos_, tok.lemma_.lower()):
        return None
    mods = [c for c in tok.children if c.dep_ in ("amod", "compound")]
    mods += [x for c in mods for x in c.children if x.dep_ == "conj"]
    words = {m.lemma_.lower() for m in mods} | {m.lower_ for m in mods}
    for spec in lex.modified_nouns:
        if tok.lemma_.lower() in spec["heads"] and words & spec["modifiers"]:
            return spec["target"], spec["polarity"]
    return None


def anaphoric_mentions(mentions: list[Mention], ctx: DocContext, scorer: Scorer) -> list[Mention]:
    """'Tokyo saw the launch. He CALLED IT unacceptable': a pronoun that a judging verb takes as its object,
    or the subject of an evaluative predicate, stands for the last target mentioned in the same or the
    previous sentence."""
    found: list[Mention] = []
    lex = ctx.lex
    if not mentions:
        return found
    for i in compress(range(len(ctx.lower)), map(lex.anaphors.__contains__, ctx.lower)):  # the few anaphors
        tok = ctx.doc[i]
        head = tok.head
        if tok.dep_ == "dobj" and head.pos_ == "VERB":
            judged = head.lemma_.lower() in DESCRIBING_VERBS or bool(scorer._listed_valence(head, "object"))
        elif tok.dep_ in SUBJECT_DEPS and head.lemma_.lower() in COPULAS:
            # "it is important TO keep talking" is extraposition: "it" stands for the infinitive
            judged = bool(scorer.predicate_eval(head)) and not any(c.dep_ in ("xcomp", "ccomp") for c in head.children)
        else:
            judged = False
        if not judged:
            continue
        before = [m for m in mentions if m.root.i < tok.i]
        if not before:
            continue
        ante = max(before, key=lambda m: m.root.i)
        if ctx.sent_index[ante.root.i] >= ctx.sent_index[tok.i] - 1:
            found.append(Mention(ante.target, ante.polarity, tok, tok.i, tok.i + 1))
    return found

"""Stance stage 3, readings: the rules' reading of every target mention (cues on the walk up to its speaker).

Pure logic over a parsed spaCy ``Doc``; every word list is data (``data/stance_targets.json`` and
``data/stance_cues.json``). The method, per target mention:

1. walk up the dependency tree from the mention, multiplying the valence of each governing word for the
   role the mention plays ("AVOID sanctions" -1, "sanctions cannot REPLACE diplomacy": subject +1 and
   negated), flipping on negation and contrast markers ("instead of"), and collecting the judgements of
   evaluative words on the way (DESTRUCTIVE sanctions, talks are USELESS, OFF THE TABLE);
2. stop at the first speaker verb (reporting or attitude verb) whose subject names the holder; inside a
   quotation, first-person subjects and verbless stretches belong to the quote's speaker, found from the
   reporting verb next to the quote or carried over from the previous quote;
3. resolve pronouns and role nouns ("he", "the Russian ambassador") to the last named speaker of the
   same affiliation, and aggregate one stance per (speaker, target) with all evidence sentences.

Found on statements the rules had not seen (``tests/data/holdout_stance.jsonl``): questions ("asked
WHETHER ...") and refusals ("DECLINED to condemn", "NOTED the decision") take no side; denying or demanding
existence does ("there will be NO talks"); a pronoun a judging verb takes stands for the last target ("called
IT unacceptable"); attitude copulas make speakers ("was CONCERNED by"); a person of unstated affiliation who
reports a state's standing position speaks for it ("Mao said China opposes ..."), unless an outside voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spacy.tokens import Doc, Span, Token

from ..document import evidence_sentence
from ..nlp import EntityMention
from .cues import Scorer, denied_or_required_existence, sign_of
from .grammar import CONTENT_PREPS, DESCRIBING_VERBS, OBJECT_DEPS, RELATIVE, STRIP, SUBJECT_DEPS
from .lexicon import Lexicon, load_lexicon
from .records import (
    ABSTAIN_CONDITIONAL,
    ABSTAIN_DECLINED,
    ABSTAIN_IMPLIED,
    ABSTAIN_NO_CUE,
    ABSTAIN_QUESTION,
    AGAINST,
    AUTHOR,
    FAVOR,
    IMPLIED,
    NEUTRAL,
    Mention,
    Reading,
    Speaker,
    Stance,
)
from .speakers import (
    DocContext,
    actor_of,
    find_reporters,
    reports_quote_of_another,
    speakers_for,
    spokesperson_of,
    states_position,
)
from .targets import anaphoric_mentions, find_mentions


def _read_mention(m: Mention, ctx: DocContext, scorer: Scorer) -> Reading:
    """Walk from a target mention to its speaker, scoring the cues on the way."""
    lex = ctx.lex
    # token attributes from the context's columns (no spaCy Token objects for them)
    dep, pos, lower, lemma, kids = ctx.dep, ctx.pos, ctx.lower, ctx.lemma, ctx.children
    tok = m.root
    t = tok.i
    sign = m.polarity * (-1 if scorer.negated(tok) else 1)
    votes: list[int] = []
    e = scorer.modifier_eval(tok)
    if e:
        votes.append(sign * e)
    judged = bool(votes)
    for c in kids[t]:
        if dep[c] in ("amod", "compound") and c < t and ctx.tag[c] == "VBG":
            v = scorer.valence(ctx.doc[c], "object")  # "opposed lifting sanctions" parsed with "lifting" as a modifier
            if v:
                sign *= v
                votes_from_modifier = True
                break
    else:
        votes_from_modifier = False
    # a target verb carries its own stance: "Tehran would NOT negotiate", "we WILL strike"
    cue = (
        votes_from_modifier
        or (
            pos[t] == "VERB"
            and (
                scorer.negated(tok)
                or any(dep[c] == "aux" and lower[c] in lex.intent_modals for c in kids[t])
                or any(dep[c] in SUBJECT_DEPS and lower[c] in lex.first_person for c in kids[t])
            )
        )
        or denied_or_required_existence(tok, scorer)
    )
    frozen = evaluated = judged_cue = conditional = False
    abstain: str | None = None  # why the rules take no side (their walk still finds the speaker)
    entered_as: str | None = None  # the role of the phrase by which the walk entered the current node
    holder: Speaker | None = None
    holder_verb: Token | None = None
    pronoun: Token | None = None
    unquoted_first: Token | None = None  # a first person subject outside quotes
    outer: list[Speaker] = []
    endorsers: list[Speaker] = []
    qi = ctx.quote_of[t]
    quote_speaker = ctx.quote_speakers[qi] if qi is not None else None
    node = tok
    span_ids = set(range(m.start, m.end))
    # not document.governing_verb: the walk scores every head up to the first speaker verb, not the first verb
    for _ in range(40):
        head = node.head
        if head.i == node.i:
            break
        rel = dep[node.i]
        via = node  # the child of ``head`` the walk comes up through
        role: str | None = None
        if rel in ("pobj", "pcomp") and (pos[head.i] in ("ADP", "SCONJ") or dep[head.i] in ("prep", "agent")):
            if not frozen and scorer.contrast(head):
                sign, cue = -sign, True
            role = lower[head.i]  # the preposition as written ("including" lemmatises to "include")
            if head.head.i == head.i:
                break
            via = head
            head = head.head
            if (
                dep[head.i] in ("prep", "prt", "advmod")
                and pos[head.head.i] == "VERB"
                and ctx.pred_key(head.head) == f"{lemma[head.head.i]} {lower[head.i]}"
            ):  # "pull OUT of the talks": the preposition hangs from the verb's particle
                via, head = head, head.head
            # "negotiations UNDER sanctions were pointless" judges the negotiations, not the sanctions: a
            # circumstantial phrase passes nothing up, but the walk goes on to find the speaker
            if not frozen and role not in CONTENT_PREPS and not scorer.valence(head, role, via):
                frozen = True
        elif rel in OBJECT_DEPS:
            role = "object"
        elif rel in SUBJECT_DEPS:
            role = "subject"
        elif rel == "compound":
            role = "compound"
        elif rel == "acl":
            role = "acl"  # "the right TO ENRICH uranium", "its refusal to negotiate"
        if head.i in span_ids:
            node = head
            continue
        # a target inside a conditional clause counts only through a judgement of the main clause
        n = node.i
        marks = {lower[c] for c in kids[n] if dep[c] == "mark"}
        if (
            rel in ("ccomp", "pcomp", "xcomp", "acl")
            and (marks | {lower[c] for c in kids[n] if dep[c] == "advmod" and c < n}) & lex.question_marks
        ):
            abstain = abstain or ABSTAIN_QUESTION  # "asked WHETHER talks were planned": no side
        h = head.i
        cancels = lex.neutralizers.get(ctx.pred_key(head)) or lex.neutralizers.get(lemma[h], ())
        if dep[via.i] in cancels or (dep[via.i] == "prep" and lower[via.i] in cancels):
            abstain = abstain or ABSTAIN_DECLINED  # "DECLINED to condemn the launch", "NOTED the decision"
        if rel == "advcl" and marks & lex.goal_marks:
            frozen = True  # "... until Pyongyang takes steps toward denuclearization": a sought end state
        if rel == "advcl" and marks & lex.conditional_marks:
            conditional = True
            if holder is not None and not evaluated:
                abstain = abstain or ABSTAIN_CONDITIONAL  # the holder's position is itself hypothetical
            if not frozen and not abstain:
                ev = scorer.clause_eval(head)
                if not ev:
                    abstain = ABSTAIN_CONDITIONAL
                else:
                    votes.append(sign * ev * (-1 if scorer.negated(head) else 1))
                    frozen = evaluated = judged = True
                    cue = False  # the chain so far is consumed by the main clause's judgement
        if abstain and not frozen:
            # the rules take no side from here on, but the walk goes on to find whose clause it is
            frozen, cue = True, False
        if rel == "conj":
            pass  # a conjunct shares its head's role; the head's own negation and cues are not its
        elif not frozen:
            v = scorer.valence(head, role, via) if role else 0
            if not v and not cue and rel == "ccomp" and entered_as == "subject":
                v = scorer.valence(head, "ccomp_subject")  # "warned that new SANCTIONS could push ..."
            if v:
                sign, cue = sign * v, True
            if scorer.negated(head):
                sign = -sign
        if not frozen and rel != "conj":
            evals = []
            if role == "subject":
                evals.append(scorer.predicate_eval(head))
                if pos[h] in ("ADJ", "NOUN") and dep[h] in ("ccomp", "xcomp", "oprd"):
                    # a verbless clause: "considers [the sanctions UNJUST]", "called [talks a MISTAKE]"
                    evals.append(sign_of(scorer.word_eval(head) + scorer.modifier_eval(head)))
            elif role == "object" and lemma[h] in DESCRIBING_VERBS:
                evals.append(scorer.describe_eval(head, skip=via))
            if pos[h] in ("NOUN", "PROPN"):
                evals.append(scorer.modifier_eval(head, skip=via))
            for ev in evals:
                if ev:
                    votes.append(sign * ev)
                    judged = True
                    # "the decision to PULL OUT of talks was a MISTAKE": the judgement covers the cue
                    judged_cue = judged_cue or cue
        asked_of = (  # "urged North Korea TO ABANDON ...": what a speaker asks of someone is not theirs
            dep[h] == "xcomp" and ctx.is_speaker_verb(head.head) and not any(dep[c] in SUBJECT_DEPS for c in kids[h])
        )
        if (
            ctx.is_speaker_verb(head)
            and not asked_of
            and not any(dep[c] == "aux" and lower[c] in lex.prescriptive_modals for c in kids[h])
        ):
            subj = ctx.subject(head)
            in_quote = ctx.quote_of[h] is not None
            if subj is not None and ctx.holds(head, subj):
                word = subj.lower_
                if word in lex.first_person and in_quote:
                    spk = quote_speaker
                    if holder is not None and spk is not None:
                        endorsers.append(spk)  # "I am announcing that the United States will withdraw"
                elif word in lex.first_person and qi is None and quote_speaker is None:
                    # "We oppose ...", printed without quotes: the one who says it further up ("we will not
                    # talk, the minister said"), else a speaker the passage does not name (a statement or
                    # transcript given as is), as a pronoun or an unattributed quote is
                    unquoted_first = unquoted_first or subj
                    spk = None
                elif word in lex.third_person:
                    pronoun = pronoun or subj
                    spk = None
                elif word in RELATIVE and subj.head.dep_ != "relcl":
                    spk = None
                else:
                    spk = ctx.speaker_of_subject(subj, quote_speaker)
                if spk is not None:
                    if holder is None:
                        if reports_quote_of_another(spk, quote_speaker, qi, in_quote):
                            # '"...," A said, B reported': the quote is A's (its nearest verb); B reports it
                            outer.append(spk)
                            spk = quote_speaker
                        holder, holder_verb = spk, head
                        frozen = True
                    else:
                        outer.append(spk)
        if rel != "conj":
            entered_as = role
        node = head
    if cue and not judged_cue:
        votes.append(sign)
    if not votes:
        abstain = abstain or ABSTAIN_NO_CUE
    sent = ctx.sents[ctx.sent_index[t]]
    # a rhetorical question denies what it asks ("Why would we agree to denuclearization?")
    sent_text = ctx.text[sent.start_char : sent.end_char]  # = sent.text, without rebuilding it from tokens
    stext = sent_text.strip(STRIP + "?").lower()
    rhetorical = sent_text.rstrip(STRIP.replace("?", "")).endswith("?") and stext.startswith(lex.rhetorical_openers)
    if rhetorical:
        votes = [-v for v in votes]
    total = sum(votes)
    if holder is None and unquoted_first is not None and pronoun is None:
        holder = Speaker(unquoted_first.lower_, "", None, True, unquoted_first.idx)
    speakers = speakers_for(tok, sent, holder, pronoun, outer, quote_speaker, ctx)
    if holder is not None and outer and holder_verb is not None and states_position(holder_verb, ctx):
        speakers += spokesperson_of(holder, outer[0], speakers, ctx)
    speakers += [e for e in endorsers if e not in speakers]
    reporters = find_reporters(tok, sent, speakers, outer, pronoun if holder is not None else None, quote_speaker, ctx)
    if speakers == [AUTHOR]:
        reporters += actor_of(tok, ctx)
    return Reading(
        speakers,
        sign_of(total),
        max(1, min(2, abs(total))),
        evidence_sentence(sent, tok),
        judged,
        m,
        abstain=abstain,
        conditional=conditional,
        rhetorical=rhetorical,
        negated=scorer.negated(tok),
        in_quote=qi is not None,
        holder_verb=holder_verb.i if holder_verb is not None else None,
        reporters=reporters,
    )


def read_mentions(doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None) -> list[Reading]:
    """The rules' reading of every target mention in ``doc``, abstentions included (their walk still finds
    the speaker and the evidence sentence). Call inside the memory zone that made ``doc``."""
    return read_document(doc, entities, lexicon, clauses=False)[0]


def read_document(
    doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None, *, clauses: bool = True
) -> tuple[list[Reading], list[Reading]]:
    """:func:`read_mentions`'s readings, and (``clauses``) one clause reading per sentence that has a
    speaker: the same walk from the sentence's reported content, with target :data:`IMPLIED` (a quote
    about "such actions" or "the operation" names no target; a learned detector supplies it). Clause
    readings carry no vote. Call inside the memory zone that made ``doc``."""
    lex = lexicon or load_lexicon()
    ctx = DocContext(doc, entities, lex)
    scorer = Scorer(ctx)
    mentions = find_mentions(ctx)
    mentions += anaphoric_mentions(mentions, ctx, scorer)
    ctx.mention_roots = {m.root.i for m in mentions}
    readings = [_read_mention(mention, ctx, scorer) for mention in mentions]
    if not clauses:
        return readings, []
    clause_readings = []
    anchors = [a for sent in ctx.sents if (a := _clause_anchor(sent, ctx)) is not None]
    anchors += _embedded_anchors(ctx, {a.i for a in anchors})
    for anchor in anchors:
        reading = _read_mention(Mention(IMPLIED, 0, anchor, anchor.i, anchor.i + 1), ctx, scorer)
        if reading.speakers == [AUTHOR] and not reading.reporters:
            continue  # the author's own sentence: no one's position
        reading.vote = 0
        reading.abstain = ABSTAIN_IMPLIED
        clause_readings.append(reading)
    return readings, clause_readings


def _clause_anchor(sent: Span, ctx: DocContext) -> Token | None:
    """The token a sentence's reported content hangs from: the complement of its speaker verb ("said
    *that* ..."), else the root of a quote in it, else the sentence root."""
    root = sent.root
    if ctx.speaker_verb_at(root.i):
        for c in ctx.children[root.i]:
            if ctx.dep[c] in ("ccomp", "xcomp", "dobj", "advcl") and ctx.quote_of[c] is None:
                if ctx.dep[c] == "advcl" and (ctx.speaker_verb_at(c) or ctx.lemma[c] in ctx.lex.quoting_verbs):
                    continue  # "..., CITING state media", "ADDING that ...": another report, not the content
                return ctx.doc[c]
        for i in range(sent.start, sent.end):
            if ctx.quote_of[i] is not None and ctx.quote_of[ctx.doc[i].head.i] is None:
                return ctx.doc[i]  # the top of the quoted words
    return root if not ctx.is_punct[root.i] else None


def _embedded_anchors(ctx: DocContext, taken: set[int]) -> list[Token]:
    """The content of speaker verbs below the sentence root ("threats by an official WHO ANNOUNCED that ...",
    "..., SAYING it shows ..."): their complement outside quotes, one per verb."""
    found = []
    for i in ctx.verb_candidates:
        if ctx.quote_of[i] is not None or ctx.dep[i] == "ROOT" or not ctx.speaker_verb_at(i):
            continue
        comp = next((c for c in ctx.children[i] if ctx.dep[c] in ("ccomp", "xcomp") and c not in taken), None)
        if comp is not None:
            taken.add(comp)
            found.append(ctx.doc[comp])
    return found


def is_authors_unjudged(reading: Reading) -> bool:
    """An author's own sentence shows a stance only through evaluative words."""
    return reading.speakers == [AUTHOR] and not reading.judged


def extract_stances(doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None) -> list[Stance]:
    """One stance per (speaker, target) found in ``doc``, with all evidence sentences (strongest first).

    ``entities`` are the doc's :func:`wirewatch.agents.nlp.entities_of` mentions (canonical names); without
    them the statistical ``doc.ents`` are used. Call inside the memory zone that made ``doc``.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for reading in read_mentions(doc, entities, lexicon):
        if reading.abstain or is_authors_unjudged(reading):
            continue
        mention = reading.mention
        for spk in reading.speakers:
            key = (spk.canonical or f"?{spk.surface}", mention.target)
            g = groups.setdefault(key, {"speaker": spk, "votes": [], "evidence": {}})
            if g["speaker"].affiliation is None and spk.affiliation:
                g["speaker"] = Speaker(g["speaker"].surface, spk.canonical, spk.affiliation, spk.person, 0)
            g["votes"].append(reading.vote * reading.weight)
            ev = reading.evidence
            strength = g["evidence"].get(ev, 0)
            g["evidence"][ev] = max(strength, abs(reading.vote) * reading.weight)
    stances: list[Stance] = []
    for (_, target), g in groups.items():
        votes: list[int] = g["votes"]
        pos = sum(v for v in votes if v > 0)
        neg = -sum(v for v in votes if v < 0)
        total = pos - neg
        label = FAVOR if total > 0 else AGAINST if total < 0 else NEUTRAL
        n = len(votes)
        agreement = abs(total) / (pos + neg) if pos + neg else 0.5
        confidence = round(max(0.3, agreement) * (1 - 0.4**n), 3)
        evidence = tuple(sorted(g["evidence"], key=lambda ev: (-g["evidence"][ev], ev.start)))
        spk: Speaker = g["speaker"]
        stances.append(Stance(spk.surface, spk.canonical, spk.affiliation, target, label, confidence, evidence))
    stances.sort(key=lambda s: (s.evidence[0].start if s.evidence else 0, s.speaker_canonical, s.target))
    return stances

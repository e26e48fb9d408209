"""How a trigger is told: negated, contested, conditional, historical, a capability, present-tense
narration, and its modality (occurred, possible, threatened)."""

from __future__ import annotations

import re

from spacy.tokens import Span, Token

from ..document import doc_memo, span_text
from ..nlp import token_columns
from .clauses import clause_chain, has_neg, has_neg_at, is_headline, negation_scope, speech_head
from .lexicon import lexicon


def negation_of(trigger: Token, sent: Span) -> str | None:
    """'denied', 'contested', 'suppressed' (avoid/ban...) or None for the trigger's clause spine."""
    memo = doc_memo(trigger.doc, "negation")  # asked once for the sentence, once for the candidate
    key = (trigger.i, sent.start, sent.end)
    if key not in memo:
        memo[key] = _find_negation(trigger, sent)
    return memo[key]


def _find_negation(trigger: Token, sent: Span) -> str | None:
    lex = lexicon()
    cues = lex.cues
    scope = negation_scope(trigger, sent)
    chain = clause_chain(trigger, sent)[: len(scope)]  # the clause spine, as far as a negation reaches
    if trigger.lower_ in ("none",):
        return "denied"
    for tok in chain:
        lemma = tok.lemma_.lower()
        if has_neg(tok) and not _negation_leaves_launch(tok):
            if lemma in cues.contest_nouns or _contrasted(tok):
                return "contested"
            if _demanded(tok):
                return "suppressed"  # "urged North Korea not to proceed with the launch": a demand
            return "denied"
        if tok.lower_ in ("none",) or (
            tok.dep_ == "pobj" and tok.head.lower_ == "of" and tok.head.head.lower_ == "none"
        ):
            return "denied"
        if tok is not trigger and lemma in cues.negating_verbs:
            return "suppressed"
        if tok.dep_ == "prep" and tok.lower_ == "against" and tok.head.lemma_.lower() in cues.warn_against_verbs:
            return "suppressed"  # "warned North Korea against further launches"
        if tok is not trigger and tok.pos_ == "NOUN" and lemma in cues.negating_nouns:
            return "suppressed"
    presupposing = set(cues.presupposing_nouns)
    temporal = set(cues.temporal_clause_marks)
    prev = trigger
    for anc in scope[1:]:
        if anc.pos_ in ("NOUN", "PROPN") and anc.lemma_.lower() in presupposing:
            break  # "rejected criticism of the launch": the launch itself is taken as given
        # "rejected talks after launching missiles": a temporal clause is not what is denied
        if (prev.dep_ == "prep" and prev.lower_ in temporal) or (
            prev.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in temporal for c in prev.children)
        ):
            break
        if anc.lemma_.lower() in cues.denial_verbs:
            return "denied"
        prev = anc
    return None


def _contrasted(tok: Token) -> bool:
    """A negated adjective contrasted with an affirmed one: "indicative, but not certain, of work toward a
    launch" hedges the launch rather than denying it."""
    head = tok.head
    return (
        tok.pos_ == "ADJ"
        and tok.dep_ == "conj"
        and any(c.dep_ == "cc" and c.lower_ == "but" for c in (*head.children, *tok.children))
        and not has_neg(head)
    )


def _demanded(tok: Token) -> bool:
    """The complement of a directive verb, in the infinitive or the bare subjunctive: "urged North Korea not
    to launch", "demanded that North Korea not proceed" (not "told reporters it had not detected...")."""
    if tok.head.lemma_.lower() not in lexicon().cues.negation_scope.directive_verbs:
        return False
    if tok.dep_ == "xcomp":
        return True
    auxiliaries = [c for c in tok.children if c.dep_ in ("aux", "auxpass") and c.tag_ != "TO"]
    return tok.dep_ == "ccomp" and tok.tag_ == "VB" and not auxiliaries


def _negation_leaves_launch(tok: Token) -> bool:
    """A negated word whose negation does not deny what hangs from it: a hedge ("we do not rule out the use
    of the missile": possible) and a negation inside an if/unless clause (hypothetical: :func:`conditional`)."""
    cues = lexicon().cues
    particles = [c.lemma_.lower() for c in tok.children if c.dep_ == "prt"]
    lemma = tok.lemma_.lower()
    if lemma in cues.negation_scope.hedge_verbs or any(
        f"{lemma} {p}" in cues.negation_scope.hedge_verbs for p in particles
    ):
        return True
    return any(c.dep_ == "mark" and c.lower_ in cues.conditional_marks for c in tok.children)


def conditional(trigger: Token, sent: Span) -> bool:
    """Inside an if/unless clause, or a generic 'any launch' (not a specific event)."""
    generic = set(lexicon().cues.generic_determiners)
    if any(c.lower_ in lexicon().cues.simulated_modifiers for c in trigger.children if c.dep_ == "amod"):
        return True  # "the simulated launch of an ICBM" in an exercise
    if trigger.pos_ in ("NOUN", "PROPN") and any(c.dep_ == "det" and c.lower_ in generic for c in trigger.children):
        return True
    if (
        trigger.pos_ in ("NOUN", "PROPN")
        and trigger.dep_ in ("nsubj", "nsubjpass")
        and any(c.tag_ == "MD" and c.lower_ in ("would", "'d") for c in trigger.head.children)
    ):
        return True  # "a North Korean ICBM launch would violate the resolutions": counterfactual
    marks = set(lexicon().cues.conditional_marks)
    for tok in clause_chain(trigger, sent):
        for child in tok.children:
            if child.dep_ == "mark" and child.lower_ in marks:
                return True
        if tok.dep_ in ("advcl",) and any(c.dep_ == "mark" and c.lower_ in marks for c in tok.children):
            return True
    return False


_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")


_YEAR_IN_TEXT = re.compile(r"1[89]\d\d|20\d\d")


_TEMPORAL_DEPS = frozenset(
    {
        "prep",
        "pobj",
        "pcomp",
        "npadvmod",
        "nummod",
        "compound",
        "appos",
        "nmod",
        "amod",
        "advmod",
        "tmod",
        "obl",
        "conj",
        "cc",
        "case",
    }
)


def historical(trigger: Token, sent: Span, pub_year: int | None) -> bool:
    """A year (or 'last year', 'usually'...) that dates the trigger's clause to the past."""
    lex = lexicon()
    chain = clause_chain(trigger, sent)
    chain_ids = {t.i for t in chain} | {c.i for t in chain for c in t.children if c.dep_ == "xcomp"}
    first_since = lex.res["first_since"]
    # only a token that is a year matters: look for one in the text before walking the tokens
    for tok in sent if _YEAR_IN_TEXT.search(span_text(sent)) else ():
        if not _YEAR.match(tok.text):
            continue
        year = int(tok.text)
        if pub_year is not None and year >= pub_year:
            continue
        if pub_year is None and _dates_a_later_thing(tok, chain_ids):
            continue  # undated article: "ahead of its 2024 election" dates the election, not the launch
        # walk from the year up to the clause spine through temporal dependencies only
        cur, ok = tok, True
        while cur.i not in chain_ids:
            if cur.head.i == cur.i:
                ok = False
                break
            # a temporal clause ("since the deal was signed in 2015") dates the event too
            temporal_clause = cur.dep_ in ("advcl", "ccomp") and any(
                c.dep_ == "mark" and c.lower_ in lex.cues.year_clause_marks for c in cur.children
            )
            if cur.dep_ not in _TEMPORAL_DEPS and not temporal_clause:
                ok = False
                break
            cur = cur.head
        if not ok:
            continue
        ahead = lex.cues.year_ahead.auxiliaries
        if pub_year is None and any(c.dep_ == "aux" and c.lower_ in ahead for c in cur.children):
            continue  # undated article: "launches will begin in 2020" are ahead of it
        window = sent.doc[max(sent.start, tok.i - 8) : tok.i + 1].text
        if first_since.search(window):
            continue  # "for the first time since 2017" dates a current event
        return True
    text = span_text(sent)
    m = lex.res["historical_date"].search(text)
    if m and first_since.search(text[max(0, m.start() - 48) : m.end()]):
        m = None  # "the first such test since the 1990s" dates a current event
    if m:
        span = sent.doc.char_span(sent.start_char + m.start(), sent.start_char + m.end(), alignment_mode="expand")
        if span is not None and any(a.i in chain_ids for t in span for a in [t, *t.ancestors][:4]):
            return True
    habitual = set(lex.cues.habitual_adverbs)
    return any(c.lower_ in habitual for t in chain for c in t.children if c.dep_ == "advmod")


def _dates_a_later_thing(year: Token, chain_ids: set[int]) -> bool:
    """The year modifies a noun, no date and not the launch's clause, that the launch comes before ('ahead of its
    2024 presidential election', 'before the 2028 vote'); 'during the 2018 Olympics' and 'the 2017 launch' still
    date the launch."""
    head = year.head
    if not (
        year.dep_ in ("nummod", "compound", "amod", "nmod")
        and head.i not in chain_ids
        and head.pos_ in ("NOUN", "PROPN")
        and head.ent_type_ != "DATE"
        and head.dep_ == "pobj"
    ):
        return False
    prep = head.head  # "before", or "of" in "ahead of"
    preps = lexicon().cues.year_ahead.preps
    return prep.lower_ in preps or (prep.lower_ == "of" and prep.head.lower_ in preps)


def modality_of(trigger: Token, sent: Span, actor: str | None, speaker_actor: str | None) -> str:
    lex = lexicon()
    cues = lex.cues
    chain = clause_chain(trigger, sent)
    possible = set(cues.possible_lemmas)
    threat = set(cues.threat_lemmas)
    modal_possible = set(cues.modal_possible)
    future = set(cues.modal_future)
    is_verb = trigger.pos_ in ("VERB", "AUX") or trigger.tag_.startswith("VB")
    saw_future = False
    saw_threat = False
    announced = False  # a threat word that is the launcher's own speech act ("vowed", "warned"), not a plan
    saw_possible = False
    marks = set(cues.temporal_clause_marks)
    cut = len(chain)
    for depth, tok in enumerate(chain):
        # "as he supervised the test": the main clause's vow or plan does not colour this event
        if tok.dep_ in ("advcl", "pcomp") and any(c.dep_ == "mark" and c.lower_ in marks for c in tok.children):
            cut = depth + 1
            break
        if tok.dep_ == "pcomp" and tok.head.lower_ in marks:
            cut = depth + 1
            break
    chain = chain[:cut]
    if not is_verb:
        # "will meet to discuss North Korea's latest launch": a verb about the launch (discuss, condemn)
        # does not lend it its tense; verbs of doing, planning or expecting do
        keep = set(cues.occurrence_light_verbs) | set(cues.verb_triggers) | threat | possible
        # "will deploy and test-launch missiles" parsed with "launch" modifying "missiles": the verb that
        # governs the weapon is the event's own verb
        weapon_modifier = trigger.dep_ in ("compound", "nmod", "amod") and bool(
            lex.generic_head.fullmatch(trigger.head.text)
        )
        for depth, tok in enumerate(chain[1:], 1):
            if tok.pos_ in ("VERB", "AUX"):
                # "respond with missile launches": the launches are the instrument of the verb's action
                instrument = chain[depth - 1].dep_ == "prep" and chain[depth - 1].lower_ == "with"
                if tok.lemma_.lower() not in keep and not instrument and not weapon_modifier:
                    chain = chain[:depth]
                break
    further = cues.further_modifiers
    if not is_verb and any(t.lower_ in further for t in trigger.subtree if t.i < trigger.i):
        # "needs to conduct more missile tests", "vowed to keep sending gifts in the form of further missile tests":
        # launches still to come, unless the verb that governs them tells them in the past ("fired more missiles")
        verb = next((t for t in trigger.ancestors if t.pos_ in ("VERB", "AUX")), None)
        if verb is not None and verb.tag_ not in ("VBD", "VBN"):
            saw_future = True
    if not is_verb:
        # "a new missile test may come ...": a modal right after the noun belongs to its predicate
        for nxt in trigger.doc[trigger.i + 1 : min(sent.end, trigger.i + 3)]:
            if nxt.tag_ == "MD" and nxt.lower_ in modal_possible:
                return "possible"
    for tok in chain:
        if tok.pos_ in ("VERB", "AUX"):
            modal = _preceding_modal(tok, sent)
            if modal is not None and modal.lower_ in modal_possible:
                return "possible"
            if modal is not None and (modal.lower_ in future or modal.lemma_.lower() in future):
                saw_future = True
    for depth, tok in enumerate(chain):
        lemma = tok.lemma_.lower()
        for child in tok.children:
            cl = child.lower_
            if child.dep_ in ("aux", "auxpass") and child.tag_ == "MD":
                if cl in modal_possible:
                    return "possible"
                if cl in future or child.lemma_.lower() in future:
                    saw_future = True
            if child.dep_ in ("advmod", "amod", "acomp") and child.lemma_.lower() in possible:
                saw_possible = True
            if child.dep_ == "aux" and cl == "going":
                saw_future = True
        if depth == 0:
            if not is_verb and any(
                c.lemma_.lower() in possible for c in tok.children if c.dep_ in ("amod", "compound")
            ):
                saw_possible = True
            # "a planned / scheduled launch" reads like "plans to launch"
            if not is_verb and any(
                c.lemma_.lower() in threat and c.tag_ == "VBN" for c in tok.children if c.dep_ == "amod"
            ):
                saw_threat = True
            continue
        if lemma in threat:
            saw_threat = True
            announced = announced or lemma in cues.announcement_lemmas
        elif lemma in possible:
            saw_possible = True
        if lemma == "be" and any(c.lemma_.lower() in possible for c in tok.children if c.dep_ in ("acomp", "attr")):
            saw_possible = True
    # preparations ("is preparing", "launch preparations") and expectations read as possible
    if trigger.dep_ == "compound" and trigger.head.lemma_.lower() in ("preparation", "window", "plan"):
        saw_possible = saw_possible or trigger.head.lemma_.lower() == "preparation"
        saw_threat = saw_threat or trigger.head.lemma_.lower() in ("plan", "window")
    reporting = speech_head(trigger, sent)
    if reporting is not None and reporting.i != trigger.i and reporting.lemma_.lower() in cues.inferential_verbs:
        # the verb that reports the launch infers it from what was seen ("fuel trucks left the site, indicating
        # that a test might be near", "activity at the site indicated a launch"): possible
        saw_possible = True
    if saw_threat and not announced:
        # the verb that reports the plan may be the launcher's own announcement ("notified Japan of plans to launch")
        announced = reporting is not None and reporting.lemma_.lower() in cues.announcement_lemmas
    own_voice = speaker_actor is None or actor is None or speaker_actor == actor
    if saw_possible and not saw_threat and speaker_actor is not None and speaker_actor == actor:
        # "North Korea said it was ready to launch": readiness declared by the launcher is a threat
        readiness = set(cues.readiness_lemmas)
        if any(t.lemma_.lower() in readiness for t in chain[1:]) and not _outside_possibility(chain):
            return "threatened"
    if saw_threat and not saw_possible:
        # another party's word for the launcher's plan ("Pakistan is planning a test, Indian intelligence sources
        # said") is an assessment; its report of the launcher's own threat or announcement stays a threat
        return "threatened" if own_voice or (announced and not saw_future) else "possible"
    if saw_possible:
        return "possible"
    if saw_future:
        return "threatened" if own_voice else "possible"
    return "occurred"


def _outside_possibility(chain: list[Token]) -> bool:
    """A modal of possibility or a non-readiness possible cue ('may be preparing', 'signs of')"""
    cues = lexicon().cues
    readiness = set(cues.readiness_lemmas)
    possible = set(cues.possible_lemmas) - readiness
    for tok in chain:
        if tok.lemma_.lower() in possible:
            return True
        for child in tok.children:
            if child.tag_ == "MD" and child.lower_ in cues.modal_possible:
                return True
            if child.dep_ in ("advmod", "amod", "acomp") and child.lemma_.lower() in possible:
                return True
    return False


def _preceding_modal(verb: Token, sent: Span) -> Token | None:
    """A modal a few tokens before the verb in its own clause ("may in the coming weeks launch"), which
    the parser sometimes attaches elsewhere."""
    for tok in reversed(sent.doc[max(sent.start, verb.i - 8) : verb.i]):
        if tok.tag_ == "MD":
            return tok
        if tok.lower_ in ("that", ";", ":", "which", "who", "and", "or", "but") or (
            tok.pos_ == "VERB" and tok.dep_ not in ("aux", "auxpass", "amod", "compound", "npadvmod")
        ):
            return None
    return None


def present_narrative(trigger: Token, sent: Span) -> bool:
    """'... as the missile is launched.': present-tense narration outside a headline (fiction, scenarios)."""
    if is_headline(sent):
        return False
    if trigger.tag_ in ("VBZ", "VBP") and not any(c.tag_ == "MD" for c in trigger.children):
        return not any(c.dep_ == "aux" for c in trigger.children)
    if trigger.tag_ == "VBN":
        aux = [c for c in trigger.children if c.dep_ == "auxpass"]
        return (
            bool(aux)
            and all(a.tag_ in ("VBZ", "VBP") for a in aux)
            and not any(c.dep_ == "aux" for c in trigger.children)
        )
    return False


def capability_scope(trig: Token, sent: Span) -> bool:
    """The trigger sits under 'capable of / ability to' (a capability, not an event)."""
    cues = lexicon().cues
    for tok in clause_chain(trig, sent)[:4]:
        if tok.lower_ in cues.capability_words:
            return True
        for child in tok.children:
            if child.lower_ in cues.capability_modifiers:
                return True
    return False


def unconfirmed_report(sent: Span) -> bool:
    """'could not confirm the reports', 'unconfirmed reports': the launch is contested."""
    verbs = lexicon().cues.contest_verbs
    unconfirmed = lexicon().cues.unconfirmed_words
    cols = token_columns(sent.doc)
    for i in range(sent.start, sent.end):
        if cols.lemma[i] in verbs and cols.pos[i] in ("VERB", "AUX") and has_neg_at(i, cols):
            return True
        if cols.lower[i] in unconfirmed:
            return True
    return False

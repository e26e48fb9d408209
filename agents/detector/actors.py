"""Who launched and who says so: the actor of a trigger (subject, modifiers, 'from X', the sentence, the
previous sentence), read past attributions, observers, targets and datelines; the speaker of a sentence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from spacy.tokens import Doc, Span, Token

from .. import lexicons
from ..document import (
    dateline_chars,
    dateline_tokens,
    depth_between,
    doc_cache,
    doc_memo,
    governing_verb,
    name_before,
    name_with_affiliation,
    span_text,
    subtree_bounds,
)
from ..nlp import doc_text, token_columns
from ..published import address_path
from .candidates import WeaponMention
from .clauses import commissive_head, speech_head, verb_subject
from .lexicon import lexicon
from .prefilter import trie_alternation


def alias_matches(text: str, base: int) -> list[tuple[int, int, str, str]]:
    """(start, end, alias, kind) in doc offsets; kind is 'alias', 'context' or 'place'."""
    lex = lexicon()
    out: list[tuple[int, int, str, str]] = []
    for m in lex.alias_re.finditer(text):
        alias = m.group(0)
        kind = "alias" if alias in lex.alias_to_actor else "context" if alias in lex.context_alias_to_actor else "place"
        out.append((base + m.start(), base + m.end(), alias, kind))
    return out


def _actor_of_alias(alias: str, kind: str, doc_states: set[str]) -> str | None:
    lex = lexicon()
    if kind == "alias":
        return lex.alias_to_actor[alias]
    if kind == "context":
        name = lex.context_alias_to_actor[alias]
        # "the North" means North Korea when North Korea is named in the article, or when the only states
        # named are its usual neighbours in such stories
        others = {s for s in doc_states if lex.actors.get(s) and lex.actors[s].state} - {name}
        return name if name in doc_states or others <= lex.context_neighbours.get(name, frozenset()) else None
    return lex.place_to_actor.get(alias)


def actor_in_span(doc: Doc, start: int, end: int, head: Token | None, doc_states: set[str]) -> str | None:
    """The actor named in doc[start:end] (token indices), preferring the one closest to ``head``."""
    if start >= end:
        return None
    cols = token_columns(doc)
    # = doc[start:end].start_char / .end_char, without making the Span
    first, last = cols.starts[start], cols.starts[end - 1] + len(cols.orth[end - 1])
    best: tuple[int, int, int, str] | None = None
    # aliases in the text, plus entity mentions whose canonical name is an alias ("Kim" → Kim Jong Un)
    matches = [
        (s, e, _actor_of_alias(alias, kind, doc_states))
        for s, e, alias, kind in alias_matches(doc_text(doc)[first:last], first)
    ]
    matches += [(s, e, a) for s, e, a in entity_actors(doc) if first <= s and e <= last]
    if not matches:
        return None
    datelines = dateline_chars(doc)
    for s, e, actor in matches:
        if any(lo <= s < hi for lo, hi in datelines):
            continue  # "SEOUL (AP) -" is where the story was filed
        if actor is None:
            continue
        sub = doc.char_span(s, e, alignment_mode="expand")
        depth = 99
        if head is not None and sub is not None:
            depth = min(depth_between(t, head.i, cols.heads) for t in range(sub.start, sub.end))
        # a named group beats the generic "militants" it is described as
        generic = 1 if actor == "militants" else 0
        cand = (generic, depth, s, actor)
        if best is None or cand < best:
            best = cand
    return best[3] if best else None


def resolve_actor(
    trigger: Token, sent: Span, weapons: list[WeaponMention], doc_states: set[str], previous: PreviousActor
) -> tuple[str | None, str]:
    """(actor, how): from the subject, the weapon's modifiers, 'from X', the sentence, the context."""
    lex = lexicon()
    doc = sent.doc
    is_verb = trigger.pos_ in ("VERB", "AUX") or trigger.tag_.startswith("VB")
    subj = verb_subject(trigger) if is_verb else None
    if not is_verb:
        gov = governing_verb(trigger, sent)
        # "a launch by X", "X's launch", "North Korean missile launch"
        for child in trigger.children:
            if child.dep_ == "poss" and child.pos_ == "PRON":
                # "its test": the nearest actor named before it
                actor = nearest_actor(sent, child, doc_states, before_only=True)
                if actor:
                    return actor, "possessive"
            if child.dep_ in ("poss", "compound", "amod", "nmod"):
                actor = actor_in_span(doc, *subtree_bounds(child), child, doc_states)
                if actor:
                    return actor, "modifier"
            if child.dep_ == "prep" and child.lower_ in ("by", "from"):
                actor = actor_in_span(doc, *subtree_bounds(child), child, doc_states)
                if actor:
                    return actor, "by"
        # "X conducted a test" names the launcher; "X detected the launch" an observer
        light = set(lex.cues.occurrence_light_verbs) - lex.cues.speech_verbs - lex.cues.watch_verbs
        if gov is not None and gov.lemma_.lower() in light and trigger.dep_ in ("dobj", "pobj", "attr", "nsubjpass"):
            subj = verb_subject(gov)  # "X conducted a test", "X pressed ahead with a launch"
    suppliers = set(lex.cues.supplier_modifiers)
    for w in weapons:  # "a North Korean missile", "Iran's Shahab-3"
        head = doc[w.tokens[-1]]
        for child in head.children:
            if child.dep_ in ("poss", "compound", "amod", "nmod") and child.i not in w.tokens:
                if child.lemma_.lower() in suppliers or child.lower_.rsplit("-", 1)[-1] in suppliers:
                    continue  # "U.S.-supplied missiles" were fired by someone else
                actor = actor_in_span(doc, *subtree_bounds(child), child, doc_states)
                if actor:
                    return actor, "weapon_modifier"
        for i in w.tokens:
            actor = actor_in_span(doc, i, i + 1, None, doc_states)
            if actor and doc[i].ent_type_ in ("NORP", "GPE"):
                return actor, "weapon_modifier"
    if subj is not None and subj.i != trigger.i:
        lo, hi = subtree_bounds(subj)
        actor = actor_in_span(doc, lo, hi, subj, doc_states)
        if actor:
            return actor, "subject"
        anaphoric = subj.lemma_.lower() in lex.anaphoric_subjects and any(
            c.dep_ == "det" and c.lower_ == "the" for c in subj.children
        )
        if subj.lower_ in ("it", "they", "we", "he", "she") or subj.pos_ == "PRON" or anaphoric:
            # "the country would fire": like a pronoun, it refers back to an actor named before
            speech = speech_head(trigger, sent)
            if speech is not None and speech.lower_ != "according":
                s2 = verb_subject(speech)
                if s2 is not None:
                    actor = actor_in_span(doc, *subtree_bounds(s2), s2, doc_states)
                    if actor:
                        return actor, "speaker_pronoun"
            # "it": the nearest actor named earlier in the sentence outside attributions, else before
            actor = nearest_actor(sent, trigger, doc_states, before_only=True)
            if actor:
                return actor, "pronoun_sentence"
            prev_actor = previous.get()
            if prev_actor:
                return prev_actor, "pronoun_previous"
        elif (
            (head := _subject_noun(subj)) is not None
            and head.pos_ in ("NOUN",)
            and head.lemma_.lower() not in lex.generic_subjects
            and not any(head.i in w.tokens or any(head.i == doc[i].head.i for i in w.tokens) for w in weapons)
            and not any(lo <= i < hi for w in weapons for i in w.tokens)
        ):
            return None, "non_actor_subject"
    origin = _origin_actor(trigger, doc_states)
    if origin:
        return origin, "origin"
    for w in weapons:  # "the launch of the Hwasong-18": a system only one state fields
        low = w.text.lower()
        owner = next((a for prefix, a in lex.system_prefixes if low.startswith(prefix)), None)
        if owner:
            return owner, "system"
    actor = nearest_actor(sent, trigger, doc_states, before_only=False)
    if actor:
        return actor, "sentence"
    prev_actor = previous.get()
    if prev_actor:
        return prev_actor, "previous"
    return None, "none"


def _subject_noun(subj: Token) -> Token | None:
    """The noun that says what the subject is: the subject itself, or for the first half of a verb written apart
    that the parser took for the subject ('the navy's newest submarine test fired') the noun before it, if any."""
    if subj.lemma_.lower() not in lexicon().cues.verb_prefix_nouns:
        return subj
    return next((c for c in reversed(list(subj.lefts)) if c.dep_ == "compound"), None)


def _origin_actor(trigger: Token, doc_states: set[str]) -> str | None:
    for child in trigger.children:
        if child.dep_ == "prep" and child.lower_ in lexicon().cues.origin_preps:
            actor = actor_in_span(trigger.doc, *subtree_bounds(child), child, doc_states)
            if actor and (child.lower_ == "from" or actor in lexicon().place_to_actor.values()):
                return actor
    return None


def _attribution_tokens(sent: Span) -> set[int]:
    """Tokens naming who speaks or watches ('South Korea's military said', 'according to Seoul', 'detected by
    Japan'): not the launcher."""
    lex = lexicon()
    watchers = lex.cues.speech_verbs | lex.cues.watch_verbs
    out: set[int] = set()
    for tok in sent:
        if tok.lemma_.lower() in watchers and tok.pos_ in ("VERB", "AUX"):
            for child in tok.children:
                if child.dep_ in ("nsubj", "nsubjpass") or (child.dep_ == "agent"):
                    out.update(range(*subtree_bounds(child)))
        if tok.lemma_.lower() in lex.cues.recipient_verbs and tok.pos_ == "VERB":
            for child in tok.children:
                if child.dep_ in ("dobj", "nsubjpass", "dative"):
                    out.update(range(*subtree_bounds(child)))
        if tok.lower_ == "according" and tok.i + 1 < sent.end and tok.nbor(1).lower_ == "to":
            out.update(range(tok.i, tok.nbor(1).right_edge.i + 1))
        if tok.lemma_.lower() in ("quote", "cite") and tok.pos_ == "VERB":
            for child in tok.children:
                if child.dep_ == "dobj":
                    out.update(range(*subtree_bounds(child)))
    return out


def _target_and_observer_tokens(sent: Span) -> set[int]:
    """Tokens of targets (:func:`_target_tokens`) and observers ('U.S. officials'): not launchers."""
    observers = set(lexicon().cues.observer_nouns)
    out = _target_tokens(sent)
    for tok in sent:
        if tok.pos_ == "NOUN" and tok.lemma_.lower() in observers:
            lo = tok.left_edge.i
            out.update(range(lo, tok.i + 1))
    return out


def _target_tokens(sent: Span) -> set[int]:
    """Tokens of targets: 'fired at northern Israel', 'rockets hit Haifa'; memoised per sentence (read for the
    excluded tokens and again by :func:`named_as_target_only`)."""
    memo = doc_memo(sent.doc, "targets")
    key = (sent.start, sent.end)
    if key not in memo:
        cues = lexicon().cues
        preps, verbs, target_verbs = set(cues.target_preps), set(cues.verb_triggers), set(cues.target_verbs)
        out: set[int] = set()
        for tok in sent:
            if tok.dep_ == "prep" and tok.lower_ in preps and tok.head.lemma_.lower() in verbs:
                out.update(range(*subtree_bounds(tok)))
            if tok.dep_ == "dobj" and tok.head.lemma_.lower() in target_verbs:
                out.update(range(*subtree_bounds(tok)))
        memo[key] = frozenset(out)
    return set(memo[key])  # a copy: _target_and_observer_tokens adds the observers to it


def named_as_target_only(sent: Span, actor: str, doc_states: set[str]) -> bool:
    """``actor`` is named in the sentence, and only as what a launch is aimed at or hit ('two rockets were
    launched toward an Israeli border village'): the article's main state is then no guess for the launcher."""
    spans = [
        span
        for s, e, alias, kind in sentence_aliases(sent)
        if _actor_of_alias(alias, kind, doc_states) == actor
        and (span := sent.doc.char_span(s, e, alignment_mode="expand")) is not None
    ]
    targets = _target_tokens(sent)
    return bool(spans) and all(any(t.i in targets for t in span) for span in spans)


def _conditional_clause_tokens(sent: Span) -> set[int]:
    """Tokens of if/unless clauses ('unless Washington halts the drills'): a condition, not a launcher."""
    marks = set(lexicon().cues.conditional_marks)
    out: set[int] = set()
    for tok in sent:
        if tok.dep_ == "mark" and tok.lower_ in marks and tok.head.dep_ == "advcl":
            out.update(range(*subtree_bounds(tok.head)))
    return out


def _excluded_tokens(sent: Span) -> set[int]:
    """Tokens that name no launcher (speakers, targets, datelines, conditions), memoised per sentence."""
    memo = doc_memo(sent.doc, "excluded")
    key = (sent.start, sent.end)
    if key not in memo:
        excluded = _attribution_tokens(sent) | _target_and_observer_tokens(sent)
        excluded |= dateline_tokens(sent) | _conditional_clause_tokens(sent)
        memo[key] = excluded
    return set(memo[key])


def sentence_aliases(sent: Span) -> list[tuple[int, int, str, str]]:
    """:func:`alias_matches` of a sentence, memoised per sentence."""
    memo = doc_memo(sent.doc, "sentence_aliases")
    key = (sent.start, sent.end)
    if key not in memo:
        memo[key] = alias_matches(span_text(sent), sent.start_char)
    return list(memo[key])


def nearest_actor(sent: Span, trigger: Token, doc_states: set[str], before_only: bool) -> str | None:
    matches = sentence_aliases(sent)
    if not matches:
        return None  # most sentences name no actor: skip the exclusion analysis
    excluded = _excluded_tokens(sent)
    best: tuple[int, str] | None = None
    for s, e, alias, kind in matches:
        span = sent.doc.char_span(s, e, alignment_mode="expand")
        if span is None or any(t.i in excluded for t in span):
            continue
        if before_only and span.start > trigger.i:
            continue
        if span.start > trigger.i and any(a.dep_ == "prep" for a in span.root.ancestors if a.i > trigger.i):
            continue  # after the verb, inside a prepositional phrase: a place or a target, not the launcher
        actor = _actor_of_alias(alias, kind, doc_states)
        if actor is None:
            continue
        # launchers are named before their verbs: any mention before the trigger beats one after it
        dist = trigger.i - span.start if span.start <= trigger.i else 1000 + span.start - trigger.i
        if best is None or dist < best[0]:
            best = (dist, actor)
    return best[1] if best else None


def _topic_actor(sent: Span, doc_states: set[str]) -> str | None:
    """What 'it'/'they' in the next sentence most likely means: the main subject's actor, else the first."""
    doc = sent.doc
    cols = token_columns(doc)
    for c in cols.children[sent.root.i]:
        if cols.dep[c] in ("nsubj", "nsubjpass"):
            child = doc[c]
            actor = actor_in_span(doc, *subtree_bounds(child), child, doc_states)
            if actor:
                return actor
    return nearest_actor(sent, doc[sent.start], doc_states, before_only=False)


def doc_states_of(doc: Doc, entities: Sequence[Any]) -> tuple[set[str], str | None]:
    """Watch-list actors named in the article and the most mentioned one."""
    lex = lexicon()
    counts: dict[str, int] = {}
    for ent in entities:
        canonical = getattr(ent, "canonical", None)
        if canonical in lex.actors:
            counts[canonical] = max(counts.get(canonical, 0), int(getattr(ent, "count", 1)))
    matches = alias_matches(doc_text(doc), 0)
    for _s, _e, alias, kind in matches:
        if kind == "alias":
            name = lex.alias_to_actor[alias]
            counts[name] = counts.get(name, 0) + 1
    named = set(counts)
    for _s, _e, alias, kind in matches:
        # "the North's news agency" counts for North Korea wherever "the North" resolves
        resolved = _actor_of_alias(alias, kind, named) if kind == "context" else None
        if resolved:
            counts[resolved] = counts.get(resolved, 0) + 1
    states = {n for n in counts if lex.actors[n].state}
    dominant = max(sorted(counts), key=lambda n: counts[n]) if counts else None
    return states | set(counts), dominant


def _headline_form(text: str) -> str:
    """``text`` as a news address spells it: lower case, no apostrophes, words apart ('North Korea's' and
    '/north-koreas-' are both 'north koreas')."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", re.sub(r"['\u2019]", "", text.lower())).split())


@cache
def _headline_names() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str], frozenset[str]]:
    """The watched states' names and aliases in headline form (:func:`_headline_form`), long enough to mean the
    state, with their states; the non-actor phrases (``headline.non_actors`` in ``actors.json``); the launch
    verbs a headline's launcher comes before ('North Korea fires', 'Iran test launches')."""
    lex = lexicon()
    rules = lex.headline
    names = {
        spelt: actor
        for alias, actor in lex.alias_to_actor.items()
        if lex.actors[actor].state and len(form := _headline_form(alias)) >= rules.min_alias_length
        for spelt in (form, form + "s")  # the possessive without its apostrophe: '/north-koreas-kim-'
    }
    # no phrase at all: a pattern that matches nothing
    non_actors = trie_alternation({_headline_form(p) for p in rules.non_actors}) or "(?!)"
    launch = frozenset(_headline_form(v) for v in lex.cues.verb_triggers)
    return (
        re.compile(r"\b(?:" + trie_alternation(names) + r")\b"),
        re.compile(r"\b(?:" + non_actors + r")\b"),
        names,
        launch,
    )


lexicons.on_change(_headline_names.cache_clear)


def _launch_word(word: str, launch: frozenset[str]) -> bool:
    """'fires', 'fired', 'launches', 'testing': a launch verb, inflected as a headline inflects it."""
    stems = {word, word[:-1], word[:-2], word[:-3], word[:-3] + "e", word[:-1] + "e"}
    return bool(stems & launch)


def headline_actors(title: str | None, url: str | None) -> list[str]:
    """The watched states an article's headline names: its title's, else (when it names none) its address's
    slug's (the path segment of the most words, three or more: '/world/asia/north-korea-fires-missile/', not
    the section '/news/china/'). A state named right before a launch verb comes first ('Seoul says North Korea
    fires missile'), then the others in order; a state's name inside a non-actor phrase ('missile lands in Sea
    of Japan') names none. The headline names the launcher a passage of the story may leave to the context
    ('The rocket was fired at dawn, the agency said')."""
    path = address_path(url)
    slugs = [_headline_form(segment) for segment in (path or "").split("/")]
    slug = max(reversed(slugs), key=lambda s: len(s.split()), default="")
    for headline in (_headline_form(title or ""), slug if len(slug.split()) >= 3 else ""):
        if actors := _states_named(headline):
            return actors
    return []


def _states_named(headline: str) -> list[str]:
    """The states a headline (in :func:`_headline_form`) names, as :func:`headline_actors` orders them."""
    names_re, non_actors_re, names, launch = _headline_names()
    headline = non_actors_re.sub(" ", headline)
    found: list[tuple[bool, int, str]] = []
    for m in names_re.finditer(headline):
        following = headline[m.end() :].split()[:2]
        found.append((not any(_launch_word(w, launch) for w in following), m.start(), names[m.group(0)]))
    return list(dict.fromkeys(actor for *_order, actor in sorted(found)))


def speaker_of(
    trigger: Token, sent: Span, doc: Doc, entities: Sequence[Any], previous_speaker: str | None = None
) -> str | None:
    """Who says it: the subject of the speech verb governing the trigger (else of the commissive verb whose act
    it is: 'Kim Yo Jong threatened to launch'), with affiliation. A subject that names no one ('satellite images
    show ...') passes to the next speech verb up ('..., the envoy told reporters'); a definite role noun ('the
    envoy') is ``previous_speaker`` when that speaker's phrase holds the noun ('The US special envoy')."""
    speech = speech_head(trigger, sent) or commissive_head(trigger, sent)
    seen: set[int] = set()
    while speech is not None and speech.i not in seen:
        seen.add(speech.i)
        subj = _speech_subject(speech, trigger)
        if subj is not None and subj.pos_ == "PRON":
            return None
        if subj is not None:
            name = name_with_affiliation(subj, doc, entities, _actor_anywhere) or _role_of(subj, previous_speaker)
            if name:
                return name
        speech = speech_head(speech, sent)  # the next speech verb up
    return None


def _speech_subject(speech: Token, trigger: Token) -> Token | None:
    if speech.lower_ == "according":
        pobj = [t for t in speech.nbor(1).subtree if t.dep_ == "pobj"]
        return pobj[0] if pobj else None
    subj = verb_subject(speech)
    if subj is None and speech.i > trigger.i:  # "..., Kim Yo Jong, the sister of ..., said"
        subj = name_before(speech, trigger.i)
    return subj


def _role_of(subj: Token, previous_speaker: str | None) -> str | None:
    """``previous_speaker`` when ``subj`` is a definite common noun its phrase holds ('the envoy' after 'The US
    special envoy (United States)')."""
    if not previous_speaker or subj.pos_ != "NOUN" or not any(c.lower_ == "the" for c in subj.children):
        return None
    return previous_speaker if subj.lower_ in previous_speaker.lower().split() else None


def entity_actors(doc: Doc) -> list[tuple[int, int, str]]:
    """(start, end, actor) for entity mentions whose canonical name is on the watch list; set by detect().
    Read only (not copied: it is read for every actor look-up)."""
    return doc_cache(doc).get("entity_actors", [])


class PreviousActor:
    """The actor 'it' / 'they' refers back to: the topic actor of the latest sentence that has one (see
    :func:`_topic_actor`), or an actor set by a launch sentence. Worked out only when a candidate asks for
    it, since most sentences are never looked back on."""

    def __init__(self, doc_states: set[str]) -> None:
        self._doc_states = doc_states
        self._value: str | None = None
        self._pending: list[Span] = []  # sentences passed since _value was known, oldest first

    def push(self, sent: Span) -> None:
        """A sentence passed: its topic actor, if any, replaces the current one."""
        self._pending.append(sent)

    def set(self, actor: str) -> None:
        self._value = actor
        self._pending.clear()

    def get(self) -> str | None:
        for sent in reversed(self._pending):  # the latest sentence with a topic actor wins
            actor = _topic_actor(sent, self._doc_states)
            if actor:
                self._value = actor
                break
        self._pending.clear()
        return self._value


# Not stance's _continued_quote_speaker: a yes/no from quote marks here; the stance finds the quote's speaker.
def quoted_continuation(sent: Span) -> bool:
    text = span_text(sent).lstrip()
    return text[:1] in ('"', "“", "'", "‘") or (text.count("“") + text.count('"')) % 2 == 1


def actor_of_text(speaker: str | None) -> str | None:
    if not speaker:
        return None
    for _s, _e, alias, kind in alias_matches(speaker, 0):
        actor = _actor_of_alias(alias, kind, set())
        if actor:
            return actor
    return None


def _actor_anywhere(doc: Doc, start: int, end: int, head: Token | None) -> str | None:
    """:func:`actor_in_span` with no article context: the affiliation of a speaker."""
    return actor_in_span(doc, start, end, head, set())

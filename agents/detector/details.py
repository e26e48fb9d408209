"""The details of a finding: count, range and apogee, location, time, weapon name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from spacy.tokens import Doc, Span, Token

from ..document import doc_memo, ents_in, span_text
from .actors import alias_matches
from .candidates import WeaponMention
from .clauses import clause_chain
from .lexicon import lexicon
from .prefilter import Cue


def _to_int(text: str) -> int | None:
    words = lexicon().cues.count_words
    t = text.lower().replace(",", "")
    if t.isdigit():
        return int(t)
    return words.get(t)


def launch_count(weapons: list[WeaponMention], doc: Doc) -> int | None:
    for w in weapons:
        head = doc[w.tokens[-1]]
        for child in head.children:
            if child.dep_ == "nummod" or (child.dep_ == "det" and child.lower_ in ("a", "an", "both")):
                value = _to_int(child.text)
                if value is not None:
                    return value
        # "a pair of cruise missiles", "a salvo of two missiles"
        if head.dep_ == "pobj" and head.head.lower_ == "of":
            quant = head.head.head
            value = _to_int(quant.text)
            if value is not None:
                return value
        if head.tag_ in ("NN", "NNP") and head.lower_.endswith(("missile", "rocket", "icbm")):
            return 1
    return None


def distances(sent: Span) -> tuple[float | None, float | None]:
    """(range_km, apogee_km) from '380 kilometres (236 miles)', 'altitude of 97 km', '300 miles'."""
    return _distances(sent, "range_cues")


def flown_distances(sent: Span) -> tuple[float | None, float | None]:
    """:func:`distances`, counting only a range the missile flew or can fly ('flew 6,700 km', 'a range of 13,000
    km'), not a distance between places ('the capital is 11,000 km away')."""
    return _distances(sent, "flown_range_cues")


def _distances(sent: Span, cues_key: str) -> tuple[float | None, float | None]:
    """The figures of ``sent`` whose range is told by the lexicon's ``cues_key`` pattern; memoised per sentence,
    as the signals, the kind sources of each candidate and the finding each read them."""
    memo = doc_memo(sent.doc, "distances")
    key = (sent.start, sent.end, cues_key)
    if key not in memo:
        memo[key] = _read_distances(sent, lexicon().res[cues_key])
    return memo[key]


def _read_distances(sent: Span, range_cues: Cue) -> tuple[float | None, float | None]:
    lex = lexicon()
    units = lex.cues.distance_units
    rng: float | None = None
    apogee: float | None = None
    text = span_text(sent)
    last_end = -10
    for m in lex.res["distance"].finditer(text):
        if m.start() - last_end <= 3 and text[last_end : m.start()].strip() in ("(", "", "or"):
            last_end = m.end()
            continue  # "(236 miles)" repeats the previous figure in another unit
        last_end = m.end()
        unit = m.group("unit").lower()
        factor = units.get(unit) or units.get(m.group("unit"), 1.0)
        if factor < 0.01 and unit == "m":
            continue  # a bare "m" is too ambiguous (million, metres)
        value = float(m.group("num").replace(",", "")) * factor
        km: float = round(value, 1)
        if km == int(km):
            km = int(km)
        before = text[max(0, m.start() - 40) : m.start()]
        after = text[m.end() : m.end() + 12]
        if lex.res["apogee_cues"].search(before[-28:]):
            apogee = apogee if apogee is not None else km
        elif (
            (range_cues.search(before[-30:]) or range_cues.search(after) or "range" in after)
            and "off the coast" not in after
            and "outside" not in after
        ):
            rng = rng if rng is not None else km
    return rng, apogee


def location_of(trigger: Token, weapons: list[WeaponMention], sent: Span) -> str | None:
    """'toward the Sea of Japan', 'into the sea off its east coast', 'from the Pyongyang area'.

    Directions (toward, into, off, over...) count as they are; other prepositions (from, near, in...)
    only with a named place in their phrase.
    """
    cues = lexicon().cues
    directional = set(cues.direction_preps_always)
    preps = set(cues.direction_preps) | directional
    heads = [trigger] + [sent.doc[w.tokens[-1]] for w in weapons]
    found: list[tuple[int, str]] = []
    for head in heads:
        for child in head.children:
            if child.dep_ != "prep" or child.lower_ not in preps:
                continue
            tokens = _phrase_tokens(child)
            if len(tokens) < 2:
                continue
            named = any(
                e.label_ in ("LOC", "GPE", "FAC") and tokens[0].i < e.start and e.end - 1 <= tokens[-1].i
                for e in ents_in(sent)
            ) or bool(alias_matches(" ".join(t.text for t in tokens), 0))
            if child.lower_ in directional or named:
                found.append((0 if child.lower_ in directional else 1, sent.doc[tokens[0].i : tokens[-1].i + 1].text))
    return min(found)[1] if found else None


def _phrase_tokens(prep: Token) -> list[Token]:
    """A prepositional phrase without its relative clauses, appositions and parentheses."""
    skip: set[int] = set()
    for tok in prep.subtree:
        if tok.dep_ in ("relcl", "acl", "appos", "advcl") or tok.text in ("(", ","):
            skip.update(t.i for t in tok.subtree)
    out = []
    for tok in prep.subtree:
        if tok.i < prep.i:
            continue  # a bad parse can hang words before the preposition under it
        if tok.i in skip:
            break  # keep the phrase contiguous
        out.append(tok)
    return out


def time_text(trigger: Token, sent: Span) -> str | None:
    chain_ids = {t.i for t in clause_chain(trigger, sent)}
    dates = [e for e in ents_in(sent) if e.label_ in ("DATE", "TIME")]
    if not dates:
        return None

    def near(e: Span) -> int:
        return 0 if any(a.i in chain_ids for a in [e.root, *list(e.root.ancestors)[:3]]) else 1

    best = sorted(dates, key=lambda e: (near(e), abs(e.start - trigger.i)))[0]
    prev = sent.doc[best.start - 1] if best.start > sent.start else None
    # relative expressions read with their preposition ("in the coming weeks"); dates read alone
    if prev is not None and prev.dep_ == "prep" and best[0].lower_ == "the":
        return sent.doc[prev.i : best.end].text
    return best.text


def weapon_name(weapons: list[WeaponMention], sent: Span, entities: Sequence[Any]) -> str | None:
    for ent in entities:
        if getattr(ent, "label", "") == "WEAPON" and sent.start_char <= ent.start < sent.end_char:
            return str(getattr(ent, "canonical", "") or ent.text)
    for w in weapons:
        if any(ch.isdigit() for ch in w.text) or (w.text[:1].isupper() and w.text.upper() != w.text):
            name = re.sub(r"\s+(?:missiles?|rockets?)$", "", w.text, flags=re.IGNORECASE)
            if name.lower() not in ("ballistic", "missile"):
                return name
    return None

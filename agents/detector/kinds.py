"""The kind of a candidate: the named missile system (``data/weapon_kinds.json``), the weapon words, or
the sentence's identification of a generic mention."""

from __future__ import annotations

import re
from functools import cache

from spacy.tokens import Span

from .. import lexicons
from ..document import span_text
from .candidates import SentenceCandidate, TriggerCandidate, weapons_in
from .lexicon import lexicon
from .records import KIND_RANK, KINDS


def kind_sources(sc: SentenceCandidate, c: TriggerCandidate) -> list[tuple[str, str]]:
    """Where a kind for candidate ``c`` of sentence ``sc`` can come from before the model, in order: the
    system the sentence names (``named``), a specific kind the rules read off the weapon words (``rule``; not when
    they read it off system names alone: that is the named source)."""
    out = [("named", sc.named_kind)] if sc.named_kind else []
    rule_kind = kind_of(c)
    if rule_kind == "ballistic_unspecified" or (rule_kind == "rocket_artillery" and lone_rocket(c)):
        return out
    said_by = [w for w in c.weapons if w.kind == rule_kind]
    if rule_kind == sc.named_kind and said_by and all(named_kind(w.text) == rule_kind for w in said_by):
        # the rules read the kind off system names alone ("two Scud missiles"): the named source already speaks
        # for them, and where training distrusts it (the labels' convention for the class differs), so for these
        return out
    return [*out, ("rule", rule_kind)]


def lone_rocket(c: TriggerCandidate) -> bool:
    """A state's rocket artillery read off one bare "rocket" alone: artillery is fired in salvos ("rockets",
    "a rocket launcher"), while "the rocket flew over Okinawa" is mostly a satellite rocket or a missile, so the
    word gives no kind and the model's is taken (by grouped CV: see the model card)."""
    actor = lexicon().actors.get(c.actor or "")
    if actor is not None and not actor.state:
        return False
    words = {w.text.lower() for w in c.weapons if not w.defence and w.kind == "rocket_artillery"}
    return words == {"rocket"}


@cache
def _weapon_kind_patterns() -> list[tuple[str, re.Pattern[str]]]:
    kinds = lexicons.load("weapon_kinds.json")["kinds"]
    out = []
    for kind, names in kinds.items():
        if kind not in KIND_RANK:
            raise lexicons.LexiconError(f"weapon_kinds.json: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        parts = [r"[-\s]?".join(re.escape(p) for p in re.split(r"[-\s]+", n)) for n in names]
        parts.sort(key=len, reverse=True)
        out.append((kind, re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-]*\w)", re.IGNORECASE)))
    return out


lexicons.on_change(_weapon_kind_patterns.cache_clear)


def named_kind(text: str) -> str | None:
    """The kind of the missile systems ``text`` names ('Hwasong-15' → icbm, from ``weapon_kinds.json``);
    of several, the highest ranked (longer range and more specific first); None when it names none."""
    found = [kind for kind, rx in _weapon_kind_patterns() if rx.search(text)]
    return max(found, key=lambda k: KIND_RANK[k]) if found else None


def kind_of(c: TriggerCandidate) -> str:
    actor = lexicon().actors.get(c.actor or "")
    if actor is not None and not actor.state:
        return "rocket_artillery"
    if c.kind_override is not None:
        return c.kind_override
    offensive = [w.kind for w in c.weapons if not w.defence]
    kind = max(offensive, key=lambda k: KIND_RANK[k], default="ballistic_unspecified")
    single_rocket = [w for w in c.weapons if w.text.lower() == "rocket"]
    if kind == "rocket_artillery" and single_rocket and actor and actor.space_launch_counts:
        # "a rocket launch" by North Korea or Iran, or "the rocket exploded" in a sentence about a
        # satellite or an orbit: a satellite rocket, not artillery
        res = lexicon().res
        about_space = res["orbit_cue"].search(span_text(c.sent)) or any(
            w.kind == "space_launch_vehicle" for w in weapons_in(c.sent)
        )
        if c.trigger.lemma_.lower() == "launch" or about_space:
            return "space_launch_vehicle"
    if kind == "ballistic_unspecified" and lexicon().res["submarine_launch"].search(span_text(c.sent)):
        return "slbm"  # "fired a ballistic missile from a submarine"
    if kind == "ballistic_unspecified":
        return identified_kind(c.sent) or kind
    return kind


def identified_kind(sent: Span) -> str | None:
    """'The missile, believed to be a KN-23, flew ...': the kind of the system a generic mention is
    identified as."""
    cue = lexicon().res["identification_cue"]
    text, base = span_text(sent), sent.start_char
    for w in weapons_in(sent):
        if w.defence or w.kind in ("ballistic_unspecified", "rocket_artillery"):
            continue
        if cue.search(text[max(0, w.start - base - 60) : w.start - base]):
            return w.kind
    return None

"""The priority lane's pre-filter: is an article likely a launch report? Microseconds per article, no model.

An article is a candidate when its title or text

* names a weapon: the ``weapons`` patterns of ``detector_cues.json`` (through the detector's lexicon),
  the ``WEAPON`` phrases of the gazetteer, or a rocket;
* or has a launch word (any form of the detector's ``verb_triggers`` and ``noun_triggers``) and names a
  watched actor (the aliases, context aliases and places of ``actors.json``, and gazetteer phrases whose
  id is one of those actors).

It errs towards yes: a candidate that raises nothing costs its place in the fast lane, while a launch
report it misses waits in the ordinary queue. Whatever the lane, an article gets the same analysis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from . import lexicons
from .detector import lexicon
from .nlp import shipped_gazetteer

LAUNCH_LISTS = ("verb_triggers", "noun_triggers")
#: Irregular forms of those verbs, which a match by stem cannot see.
IRREGULAR = ("shot",)


@dataclass(frozen=True)
class _Patterns:
    weapon: re.Pattern[str]
    actor: re.Pattern[str]
    launch: re.Pattern[str]


def _stems(words: Iterable[str]) -> re.Pattern[str]:
    # A lemma's inflections by prefix: "launch" covers launched and launches, "fire" fired and firing.
    stems = {w[:-1] if w.endswith("e") and len(w) > 3 else w for w in words}
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + ")", re.I)


def _alternation(phrases: Iterable[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


@cache
def _patterns() -> _Patterns:
    lex = lexicon()
    gazetteer = [g for g in shipped_gazetteer() if isinstance(g["pattern"], str)]
    weapons = "|".join(f"(?:{rx.pattern})" for _kind, rx in lex.weapons)
    weapon_names = _alternation(g["pattern"] for g in gazetteer if g["label"] == "WEAPON")
    actor_names = _alternation(g["pattern"] for g in gazetteer if g["id"] in lex.actors)
    cues = lex.cues
    return _Patterns(
        weapon=re.compile(rf"{weapons}|\b(?:{weapon_names}|rockets?)\b", re.IGNORECASE),
        actor=re.compile(rf"{lex.alias_re.pattern}|\b(?:{actor_names})\b"),
        launch=_stems([*(w for name in LAUNCH_LISTS for w in getattr(cues, name)), *IRREGULAR]),
    )


lexicons.on_change(_patterns.cache_clear)


def launch_candidate(title: str, text: str) -> bool:
    """True when the article may report, warn of or threaten a launch: send it to the priority lane."""
    p = _patterns()
    parts = [part for part in (title, text) if part]

    def found(rx: re.Pattern[str]) -> bool:
        return any(rx.search(part) for part in parts)

    return found(p.weapon) or (found(p.launch) and found(p.actor))

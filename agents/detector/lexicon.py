"""The detector's rules as typed data: ``data/detector_cues.json`` and ``data/actors.json`` (plus the
user's extensions) read once, checked and compiled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .. import lexicons
from .prefilter import _alternation, _Cue, _Prefixes, _prefixes, _trie_alternation


def _load_json(name: str) -> dict[str, Any]:
    return lexicons.load(name)  # shipped data file + the user's extension (WIREWATCH_LEXICON_DIR)


@dataclass(frozen=True)
class _Actor:
    name: str
    state: bool
    space_launch_counts: bool


@dataclass
class _Lexicon:
    cues: dict[str, Any]
    weapons: list[tuple[str, re.Pattern[str]]]
    defence: re.Pattern[str]
    actors: dict[str, _Actor]
    alias_re: re.Pattern[str]
    alias_to_actor: dict[str, str]
    context_alias_to_actor: dict[str, str]
    place_to_actor: dict[str, str]
    generic_subjects: frozenset[str]
    res: dict[str, _Cue]
    context_neighbours: dict[str, frozenset[str]]
    system_prefixes: list[tuple[str, str]]
    anaphoric_subjects: frozenset[str]
    weapon_prefixes: _Prefixes | None = None  # of the defence pattern (0) and the weapon patterns (1...)
    # the word-list cues as sets, for the per-token look-ups (``cues`` keeps the lists as loaded)
    cue_sets: dict[str, frozenset[str]] = field(default_factory=dict)


@cache
def lexicon() -> _Lexicon:
    """Load and compile the cue lists and the actor watch list once per process."""
    cues = _load_json("detector_cues.json")
    watch = _load_json("actors.json")
    actors: dict[str, _Actor] = {}
    aliases: dict[str, str] = {}
    context: dict[str, str] = {}
    places: dict[str, str] = {}
    for name, spec in watch["states"].items():
        actors[name] = _Actor(name, True, bool(spec.get("space_launch_counts")))
        aliases.update({a: name for a in [name, *spec.get("aliases", [])]})
        context.update({a: name for a in spec.get("context_aliases", [])})
        places.update({p: name for p in spec.get("places", [])})
    for name, spec in watch.get("non_state", {}).items():
        actors[name] = _Actor(name, False, False)
        aliases.update({a: name for a in [name, *spec.get("aliases", [])]})
        places.update({p: name for p in spec.get("origins", [])})
    everything = {**aliases, **context, **places}
    alias_re = re.compile(r"(?<![\w-])(?:" + _trie_alternation(everything) + r")(?![\w])")
    res = {key: re.compile(pattern, re.IGNORECASE) for key, pattern in cues["suppress_sentence"].items()}
    for key in (
        "historical_date",
        "first_since",
        "capability_cues",
        "hypothetical_cues",
        "civil_space",
        "military_context_overrides_civil",
        "apogee_cues",
        "range_cues",
        "orbit_cue",
        "submarine_launch",
        "identification_cue",
    ):
        res[key] = re.compile(cues[key], re.IGNORECASE)
    units = _alternation(cues["distance_units"])
    res["distance"] = re.compile(
        r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*-?\s*(?P<unit>" + units + r")\b",
        re.IGNORECASE,
    )
    weapons = [
        (w["kind"], re.compile(r"(?<![\w-])(?:" + w["pattern"] + r")(?![\w])", re.IGNORECASE)) for w in cues["weapons"]
    ]
    cue_prefixes = _prefixes([rx.pattern for rx in res.values()], words=True)
    res = {key: _Cue(rx, cue_prefixes, index) for index, (key, rx) in enumerate(res.items())}
    return _Lexicon(
        weapon_prefixes=_prefixes([cues["defence_weapons"], *(w["pattern"] for w in cues["weapons"])]),
        cues=cues,
        cue_sets={
            key: frozenset(value)
            for key, value in cues.items()
            if isinstance(value, list) and all(isinstance(v, str) for v in value)
        },
        weapons=weapons,
        defence=re.compile(r"(?<![\w-])(?:" + cues["defence_weapons"] + r")(?![\w])", re.IGNORECASE),
        actors=actors,
        alias_re=alias_re,
        alias_to_actor=aliases,
        context_alias_to_actor=context,
        place_to_actor=places,
        generic_subjects=frozenset(w.lower() for w in watch.get("generic_military_subjects", [])),
        anaphoric_subjects=frozenset(w.lower() for w in watch.get("anaphoric_subjects", [])),
        res=res,
        system_prefixes=[(p.lower(), name) for name, spec in watch["states"].items() for p in spec.get("systems", [])],
        context_neighbours={
            name: frozenset(spec.get("context_neighbours", [])) for name, spec in watch["states"].items()
        },
    )


lexicons.on_change(lexicon.cache_clear)

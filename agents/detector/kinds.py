"""The kind of a candidate: the named missile system (``data/weapon_kinds.json``), the weapon words, or
the sentence's identification of a generic mention."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from spacy.tokens import Span, Token

from .. import lexicons
from ..document import span_text
from .candidates import SentenceCandidate, TriggerCandidate, weapons_in
from .details import flown_distances
from .lexicon import lexicon
from .records import KIND_RANK, KINDS


def kind_sources(sc: SentenceCandidate, c: TriggerCandidate) -> list[tuple[str, str]]:
    """Where a kind for candidate ``c`` of sentence ``sc`` can come from before the model, in order: the
    system the sentence names (``named``), a specific kind the rules read off the weapon words (``rule``; not when
    they read it off system names alone: that is the named source), or, when the weapon words name no class,
    the class the sentence's flight figures prove (``flight``: :func:`flight_kind`)."""
    out = [("named", sc.named_kind)] if sc.named_kind else []
    rule_kind = kind_of(c)
    described = described_kind(c)
    over = _class_precedence().get(rule_kind, ())
    if described is not None and described != sc.named_kind and described not in over:
        # the text's own class words outrank the map's class of the name they go with ("the Taepodong-2
        # intercontinental missile", "Intermediate Range Ballistic Missile 'Agni-5'"): news classes a system
        # as its source does, and the map holds one class per name; not a range class the launch's own class
        # outranks ("a Bulava intercontinental ballistic missile" is slbm: see class_of)
        return [("rule", described), *out]
    if rule_kind == "ballistic_unspecified":
        flown = flight_kind(sc.sent)
        return [*out, ("flight", flown)] if flown is not None else out
    if rule_kind == "rocket_artillery" and lone_rocket(c):
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


def flight_kind(sent: Span) -> str | None:
    """The class a sentence's flight figures prove (``flight_classes`` of ``weapon_kinds.json``): a missile that
    "flew 13,000 km" or climbed to "an apogee of 6,000 km" is intercontinental. Read only where the weapon words
    name no class (:func:`kind_sources`), and only from a distance flown or a missile's range, not one between
    places (:func:`.details.flown_distances`)."""
    rng, apogee = flown_distances(sent)
    if rng is None and apogee is None:
        return None
    for kind, (min_range, min_apogee) in _flight_classes():
        if (rng is not None and min_range is not None and rng >= min_range) or (
            apogee is not None and min_apogee is not None and apogee >= min_apogee
        ):
            return kind
    return None


#: Kinds a weapon word gives that name no class of its own: a bare "missile", "rocket".
GENERIC_KINDS = frozenset({"ballistic_unspecified", "rocket_artillery"})
GENERIC = "ballistic_unspecified"


@cache
def _class_precedence() -> dict[str, tuple[str, ...]]:
    """``class_precedence`` of ``weapon_kinds.json``: per class (slbm, hypersonic), the range classes it outranks
    when a launch's weapon words give both."""
    raw = lexicons.load("weapon_kinds.json").get("class_precedence", {})
    out = {k: tuple(v) for k, v in raw.items() if not k.startswith("_")}
    for kind in {k for k, over in out.items() for k in (k, *over)}:
        if kind not in KIND_RANK:
            raise lexicons.LexiconError(f"weapon_kinds.json class_precedence: unknown kind {kind!r}")
    return out


@cache
def _flight_classes() -> list[tuple[str, tuple[float | None, float | None]]]:
    """``flight_classes`` of ``weapon_kinds.json``: per class, the range and the apogee (km) at or over which a
    flight proves it (either may be left out), the highest-ranked class first."""
    raw = lexicons.load("weapon_kinds.json").get("flight_classes", {})
    if not isinstance(raw, dict):
        raise lexicons.LexiconError("weapon_kinds.json flight_classes: expected an object of classes")
    out: list[tuple[str, tuple[float | None, float | None]]] = []
    for kind, bounds in raw.items():
        if kind.startswith("_"):
            continue
        if kind not in KIND_RANK:
            raise lexicons.LexiconError(f"weapon_kinds.json flight_classes: unknown kind {kind!r}")
        keys = ("min_range_km", "min_apogee_km")
        if not isinstance(bounds, dict) or not any(bounds.get(k) is not None for k in keys) or set(bounds) - set(keys):
            raise lexicons.LexiconError(
                f"weapon_kinds.json flight_classes: {kind!r} needs min_range_km or min_apogee_km (and no other key)"
            )
        try:
            low_range, low_apogee = (None if bounds.get(k) is None else float(bounds[k]) for k in keys)
        except (TypeError, ValueError) as exc:
            raise lexicons.LexiconError(f"weapon_kinds.json flight_classes: {kind!r}: bounds must be numbers") from exc
        out.append((kind, (low_range, low_apogee)))
    return sorted(out, key=lambda entry: KIND_RANK[entry[0]], reverse=True)


def class_of(kinds: Sequence[str]) -> str:
    """The kind of a launch its weapon words give ``kinds``: the highest ranked (longer range and more specific
    first), unless they also give a class that names how the missile is carried or flies (``class_precedence``:
    "a hypersonic intermediate-range missile" is hypersonic)."""
    kind = max(kinds, key=lambda k: KIND_RANK[k], default="ballistic_unspecified")
    for cls, over in _class_precedence().items():
        if cls in kinds and kind in over:
            return cls
    return kind


def described_kind(c: TriggerCandidate) -> str | None:
    """The class the candidate's weapon words give by description, not by a system's name ("intercontinental
    ballistic missile", "hypersonic missiles"; not "Hwasong-15", not a bare "missile"), or None."""
    said = [w.kind for w in c.weapons if not w.defence and w.kind not in GENERIC_KINDS and named_kind(w.text) is None]
    return class_of(said) if said else None


@cache
def _weapon_kind_patterns() -> list[tuple[str, re.Pattern[str]]]:
    kinds = lexicons.load("weapon_kinds.json")["kinds"]
    out = []
    for kind, names in kinds.items():
        if kind not in KIND_RANK:
            raise lexicons.LexiconError(f"weapon_kinds.json: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        parts = [r"[-\s]?".join(re.escape(p) for p in re.split(r"[-\s]+", n)) for n in names]
        parts.sort(key=len, reverse=True)
        # "Scud-type missiles", "a Hwasong-15-class missile": the name with a type suffix still names the system
        suffix = r"(?:-(?:type|class|series|like|style))?"
        out.append(
            (kind, re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")" + suffix + r"(?![\w-]*\w)", re.IGNORECASE))
        )
    return out


lexicons.on_change(_weapon_kind_patterns.cache_clear)
lexicons.on_change(_class_precedence.cache_clear)
lexicons.on_change(_flight_classes.cache_clear)


def named_kind(text: str) -> str | None:
    """The kind of the missile systems ``text`` names ('Hwasong-15' → icbm, from ``weapon_kinds.json``);
    of several, the highest ranked (longer range and more specific first); None when it names none."""
    found = [kind for kind, rx in _weapon_kind_patterns() if rx.search(text)]
    return max(found, key=lambda k: KIND_RANK[k]) if found else None


def kind_of(c: TriggerCandidate, *, classes: bool = True) -> str:
    """The kind of candidate ``c`` its words give. ``classes`` off: the weapon words' highest ranked class
    alone, without the carrier, flight and payload classes (:func:`class_of`, a launch from a submarine or a
    rocket launcher, a space launch): the reading the alert model's features take (by grouped CV the classes
    as alert features cost recall, the alert model having few examples of them; they decide the kind)."""
    actor = lexicon().actors.get(c.actor or "")
    if actor is not None and not actor.state:
        return "rocket_artillery"
    if c.kind_override is not None:
        return c.kind_override
    offensive = [w.kind for w in c.weapons if not w.defence]
    kind = class_of(offensive) if classes else max(offensive, key=lambda k: KIND_RANK[k], default=GENERIC)
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
    carried = _class_precedence().get("slbm", ()) if classes else (GENERIC,)
    if kind in carried and lexicon().res["submarine_launch"].search(span_text(c.sent)):
        return "slbm"  # "fired a ballistic missile from a submarine", "an ICBM launched from a submarine"
    if classes and kind == GENERIC and lexicon().res["rocket_launcher_launch"].search(span_text(c.sent)):
        return "rocket_artillery"  # "fired two missiles from a multiple rocket launcher"
    if classes and kind == GENERIC and space_launch(c.trigger):
        return "space_launch_vehicle"  # "conducted a successful space launch"
    if kind == "ballistic_unspecified":
        return identified_kind(c.sent) or kind
    return kind


def space_launch(trigger: Token) -> bool:
    """A launch word that says what it puts up: "a space launch", "an orbital launch" (``space_launch_modifiers``)."""
    words = lexicon().cues.space_launch_modifiers
    return any(c.dep_ in ("compound", "amod") and c.lower_ in words for c in trigger.children)


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

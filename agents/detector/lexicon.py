"""The detector's rules as typed data: ``data/detector_cues.json`` and ``data/actors.json`` (plus the
user's extensions) read once, checked and compiled."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from types import MappingProxyType
from typing import Any

from .. import lexicons
from ..taxonomy import TAXONOMY
from ..typed_data import Pattern, read_record
from .prefilter import Cue, Prefixes, alternation, prefixes_of, trie_alternation


@dataclass(frozen=True)
class WeaponCue:
    """One weapon pattern of ``weapons``: a match names a weapon of ``kind`` (a taxonomy kind)."""

    kind: str
    pattern: Pattern


@dataclass(frozen=True)
class RuleScore:
    """The rules' score of a candidate (its ``confidence`` when the learned model does not decide): a base,
    raised for a specific kind, an actor read off the grammar (less for one guessed), a past-tense occurrence,
    lowered for a trigger paired with its weapon by proximity only; kept within floor and ceiling."""

    base: float
    specific_kind: float
    grammatical_actor: float
    guessed_actor: float
    fallback_pairing: float
    past_tense_occurrence: float
    floor: float
    ceiling: float


@dataclass(frozen=True)
class SuppressionKinds:
    """The kinds each kind-dependent sentence suppression applies to (a civil cue in a sentence about an
    ICBM does not make it civil)."""

    civil_cues: frozenset[str]  # fireworks, model rockets, sports, products
    civil_space_sentence: frozenset[str]  # a civil space agency or company named in the sentence
    civil_space_article: frozenset[str]  # ... anywhere in an article with no military context


@dataclass(frozen=True)
class NegationScope:
    """Where a negation stops reaching a launch word (see :func:`.clauses.negation_scope`): adjunct
    prepositions, the verbs whose negation denies their subject, the words that open an indirect question,
    the verbs whose negation is a hedge ('rule out': lemma, then particle), and the verbs whose negated
    complement is a demand."""

    blocking_preps: frozenset[str]
    subject_verbs: frozenset[str]
    indirect_question_words: frozenset[str]
    hedge_verbs: frozenset[str]
    directive_verbs: frozenset[str]


@dataclass(frozen=True)
class YearAhead:
    """An undated article's year that is no past date of a launch (:func:`.modality.historical`): on a noun
    under one of ``preps`` ('ahead of its 2024 election'), or on a verb with one of ``auxiliaries``."""

    preps: frozenset[str]
    auxiliaries: frozenset[str]


@dataclass(frozen=True)
class DatedLaunch:
    """When a launch word is dated to the past in its own sentence (see :func:`.dating.dated_in_past`): the
    sentence cues of a recounted launch and of a recent anchor, the classes of a date that hangs from the
    launch's clause, the prepositions of a 'since' date, the 'first ... since' shape and the words of 'the
    first launch ...', how far and through which dependencies a date may hang, and how many months before the
    article's month a launch's month may lie and still be current; the words by which the next sentence refers
    back to a launch (see :func:`.dating.inherit_past_dates`)."""

    past_cues: Pattern
    recent_cues: Pattern
    recent_times: Pattern
    past_times: Pattern
    since_preps: frozenset[str]
    first_of_span: Pattern
    first_words: frozenset[str]
    reach: int
    clause_deps: frozenset[str]
    months_to_past: int
    reference_words: frozenset[str]  # determiners and pronouns that refer back to a launch told before


@dataclass(frozen=True)
class FramedLaunch:
    """How a sentence frames a launch word as no launch that happened or is announced (see
    :func:`.framing.framing_of`): a drill that rehearses it, the consequence of a hypothetical one, what a
    missile can do when launched, a simulated, commemorated or habitual one; the verbs of an aborted launch."""

    drill_nouns: frozenset[str]
    rehearsal_words: frozenset[str]
    indefinite_determiners: frozenset[str]
    consequence_modals: frozenset[str]
    capability_modals: frozenset[str]
    capability_marks: frozenset[str]
    simulation_nouns: frozenset[str]
    simulation_modifiers: frozenset[str]
    commemorating_nouns: frozenset[str]
    habitual_verbs: frozenset[str]
    aborted_verbs: frozenset[str]


@dataclass(frozen=True)
class DetectorCues:
    """``detector_cues.json``: word lists (matched against lower-cased lemmas or words), patterns and the
    numbers of the rules. What each list does is said where it is used."""

    weapons: tuple[WeaponCue, ...]
    defence_weapons: Pattern
    generic_weapon_head: Pattern  # a generic noun that heads a named system ('Minuteman III missile')
    verb_triggers: frozenset[str]
    weapon_subject_only_verbs: frozenset[str]
    verbs_needing_weapon_object: frozenset[str]
    noun_triggers: frozenset[str]
    category_triggers: frozenset[str]  # name a class of acts, not a launch ('provocations')
    candidate_cues: frozenset[str]
    noun_triggers_needing_compound_weapon: frozenset[str]
    flight_needs_compound: frozenset[str]
    compound_launch_heads_kept: frozenset[str]
    occurrence_light_verbs: frozenset[str]
    speech_verbs: frozenset[str]  # their subject is the speaker; what they report is a clause of its own
    # the first half of a verb written apart ('India test fired', parsed with 'test' as a second subject)
    verb_prefix_nouns: frozenset[str]
    # a speaker committing to an act of their own ("threatened / vowed to launch"): the subject is the speaker
    # too, but the act stays in the verb's clause, which gives it its modality
    commissive_verbs: frozenset[str]
    denial_verbs: frozenset[str]
    negating_verbs: frozenset[str]
    negating_nouns: frozenset[str]
    negation_words: frozenset[str]
    negation_scope: NegationScope
    year_ahead: YearAhead
    contest_nouns: frozenset[str]
    modal_possible: frozenset[str]
    modal_future: frozenset[str]
    possible_lemmas: frozenset[str]
    threat_lemmas: frozenset[str]
    announcement_lemmas: frozenset[str]
    inferential_verbs: frozenset[str]
    further_modifiers: frozenset[str]
    historical_date: Pattern
    habitual_adverbs: frozenset[str]
    first_since: Pattern
    capability_cues: Pattern
    capability_words: frozenset[str]
    capability_modifiers: frozenset[str]
    hypothetical_cues: Pattern
    conditional_marks: frozenset[str]
    suppress_sentence: Mapping[str, Pattern]
    suppression_kinds: SuppressionKinds
    civil_space: Pattern
    military_context_overrides_civil: Pattern
    headline_max_tokens: int
    count_words: Mapping[str, int]
    distance_units: Mapping[str, float]
    apogee_cues: Pattern
    range_cues: Pattern
    flown_range_cues: Pattern  # the range_cues of a distance the missile flew or can fly, not one between places
    direction_preps: frozenset[str]
    observer_nouns: frozenset[str]
    watch_verbs: frozenset[str]  # whose subject or agent watches a launch: 'detected by Japan'
    recipient_verbs: frozenset[str]  # whose object is told of a launch: 'notified Japan'
    target_preps: frozenset[str]
    target_verbs: frozenset[str]  # their direct object is what the launch hit, not who launched it
    temporal_clause_marks: frozenset[str]
    year_clause_marks: frozenset[str]
    generic_determiners: frozenset[str]
    warn_against_verbs: frozenset[str]
    contest_verbs: frozenset[str]
    unconfirmed_words: frozenset[str]
    simulated_modifiers: frozenset[str]
    direction_preps_always: frozenset[str]
    origin_preps: frozenset[str]
    orbit_verbs: frozenset[str]
    orbit_cue: Pattern
    tool_verbs: frozenset[str]
    presupposing_nouns: frozenset[str]
    submarine_launch: Pattern
    rocket_launcher_launch: Pattern
    space_launch_modifiers: frozenset[str]
    retaliation_verbs: frozenset[str]
    readiness_lemmas: frozenset[str]
    supplier_modifiers: frozenset[str]
    identification_cue: Pattern
    figurative_verbs: frozenset[str]
    figurative_preps: frozenset[str]
    defence_target_nouns: frozenset[str]
    ground_test_nouns: frozenset[str]
    ground_test_modifiers: frozenset[str]
    #: what a launch verb may launch in a sentence that names no weapon, beside the launch and cue nouns ('fired
    #: a booster'): any other noun it takes as its object is no weapon ('launched an investigation')
    launched_nouns: frozenset[str]
    dated_launch: DatedLaunch
    framed_launch: FramedLaunch
    rule_score: RuleScore


@dataclass(frozen=True)
class StateActor:
    """A state on the watch list: the names that mean it, and what its launches count as."""

    aliases: tuple[str, ...] = ()
    context_aliases: tuple[str, ...] = ()  # "the North": only when the article's other states allow it
    places: tuple[str, ...] = ()  # launch sites that name their state
    space_launch_counts: bool = False  # its satellite launches are military (a space launch vehicle alert)
    context_neighbours: tuple[str, ...] = ()  # states named alongside it that do not block context aliases
    systems: tuple[str, ...] = ()  # openings of the names of missile systems only it fields


@dataclass(frozen=True)
class NonStateActor:
    """An armed group: its rocket fire is ``rocket_artillery``, alerted only if the user asks."""

    aliases: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()  # places its fire comes from


@dataclass(frozen=True)
class HeadlineRules:
    """How a headline (a title, or the words of an address) names the state of an article that names none."""

    min_alias_length: int = 4  # shorter aliases ('ROK', 'US') are as often some other word in an address
    non_actors: tuple[str, ...] = ()  # phrases whose state name is a place or a thing ('Sea of Japan')


@dataclass(frozen=True)
class WatchList:
    """``actors.json``."""

    states: Mapping[str, StateActor]
    non_state: Mapping[str, NonStateActor] = field(default_factory=lambda: MappingProxyType({}))
    generic_military_subjects: frozenset[str] = frozenset()  # nouns that may stand for a state as a launcher
    anaphoric_subjects: frozenset[str] = frozenset()  # "the country": refers back like a pronoun
    headline: HeadlineRules = HeadlineRules()


_RECORDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        WeaponCue,
        RuleScore,
        SuppressionKinds,
        NegationScope,
        YearAhead,
        DatedLaunch,
        FramedLaunch,
        StateActor,
        NonStateActor,
        HeadlineRules,
    )
}


def parse_cues(data: Any, where: str = "detector_cues.json") -> DetectorCues:
    """``detector_cues.json`` (merged with the user's) as typed data; a bad entry is refused with its name.
    Kinds are checked against the taxonomy."""
    cues: DetectorCues = read_record(DetectorCues, data, where, _RECORDS)
    kinds = set(TAXONOMY.kind_names)
    named = [(f"weapons #{i + 1}", {w.kind}) for i, w in enumerate(cues.weapons)]
    named += [
        (f"suppression_kinds: {f.name}", getattr(cues.suppression_kinds, f.name)) for f in fields(SuppressionKinds)
    ]
    for entry, used in named:
        if used - kinds:
            unknown, known = ", ".join(sorted(used - kinds)), ", ".join(sorted(kinds))
            raise lexicons.LexiconError(f"{where}: {entry}: unknown kind(s) {unknown} (one of {known})")
    return cues


def parse_watch_list(data: Any, where: str = "actors.json") -> WatchList:
    """``actors.json`` (merged with the user's) as typed data; a bad entry is refused with its name."""
    return read_record(WatchList, data, where, _RECORDS)


@dataclass(frozen=True)
class WatchedActor:
    name: str
    state: bool
    space_launch_counts: bool


@dataclass(frozen=True)
class Lexicon:
    """The rules compiled: the typed cues, the weapon and cue patterns with their prefilters, the watch list
    as look-up tables."""

    cues: DetectorCues
    weapons: list[tuple[str, re.Pattern[str]]]
    defence: re.Pattern[str]
    actors: dict[str, WatchedActor]
    alias_re: re.Pattern[str]
    alias_to_actor: dict[str, str]
    context_alias_to_actor: dict[str, str]
    place_to_actor: dict[str, str]
    generic_subjects: frozenset[str]
    res: dict[str, Cue]
    context_neighbours: dict[str, frozenset[str]]
    system_prefixes: list[tuple[str, str]]
    anaphoric_subjects: frozenset[str]
    headline: HeadlineRules
    generic_head: re.Pattern[str]
    weapon_prefixes: Prefixes | None = None  # of the defence pattern (0) and the weapon patterns (1...)


@cache
def lexicon() -> Lexicon:
    """Load, check and compile the cue lists and the actor watch list once per process (shipped data file +
    the user's extension, WIREWATCH_LEXICON_DIR)."""
    cues = parse_cues(lexicons.load("detector_cues.json"))
    watch = parse_watch_list(lexicons.load("actors.json"))
    actors: dict[str, WatchedActor] = {}
    aliases: dict[str, str] = {}
    context: dict[str, str] = {}
    places: dict[str, str] = {}
    for name, state in watch.states.items():
        actors[name] = WatchedActor(name, True, state.space_launch_counts)
        aliases.update({a: name for a in [name, *state.aliases]})
        context.update({a: name for a in state.context_aliases})
        places.update({p: name for p in state.places})
    for name, group in watch.non_state.items():
        actors[name] = WatchedActor(name, False, False)
        aliases.update({a: name for a in [name, *group.aliases]})
        places.update({p: name for p in group.origins})
    everything = {**aliases, **context, **places}
    alias_re = re.compile(r"(?<![\w-])(?:" + trie_alternation(everything) + r")(?![\w])")
    res = {key: re.compile(pattern, re.IGNORECASE) for key, pattern in cues.suppress_sentence.items()}
    for key in (
        "historical_date",
        "first_since",
        "capability_cues",
        "hypothetical_cues",
        "civil_space",
        "military_context_overrides_civil",
        "apogee_cues",
        "range_cues",
        "flown_range_cues",
        "orbit_cue",
        "submarine_launch",
        "rocket_launcher_launch",
        "identification_cue",
    ):
        res[key] = re.compile(getattr(cues, key), re.IGNORECASE)
    units = alternation(cues.distance_units)
    res["distance"] = re.compile(
        r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*-?\s*(?P<unit>" + units + r")\b",
        re.IGNORECASE,
    )
    weapons = [(w.kind, re.compile(r"(?<![\w-])(?:" + w.pattern + r")(?![\w])", re.IGNORECASE)) for w in cues.weapons]
    cue_prefixes = prefixes_of([rx.pattern for rx in res.values()], words=True)
    res = {key: Cue(rx, cue_prefixes, index) for index, (key, rx) in enumerate(res.items())}
    return Lexicon(
        weapon_prefixes=prefixes_of([cues.defence_weapons, *(w.pattern for w in cues.weapons)]),
        cues=cues,
        weapons=weapons,
        generic_head=re.compile(cues.generic_weapon_head, re.IGNORECASE),
        defence=re.compile(r"(?<![\w-])(?:" + cues.defence_weapons + r")(?![\w])", re.IGNORECASE),
        actors=actors,
        alias_re=alias_re,
        alias_to_actor=aliases,
        context_alias_to_actor=context,
        place_to_actor=places,
        generic_subjects=frozenset(w.lower() for w in watch.generic_military_subjects),
        anaphoric_subjects=frozenset(w.lower() for w in watch.anaphoric_subjects),
        headline=watch.headline,
        res=res,
        system_prefixes=[(p.lower(), name) for name, state in watch.states.items() for p in state.systems],
        context_neighbours={name: frozenset(state.context_neighbours) for name, state in watch.states.items()},
    )


lexicons.on_change(lexicon.cache_clear)

"""The provocation-alert detector: sentences of a parsed article in, launch findings out.

Pure logic, no Kafka. A *signal* is every launch candidate the detector sees (with the reason it is
suppressed, if it is); a *finding* is an alertable signal after the candidates of one article that
describe the same event are merged. Lexicons live in ``data/detector_cues.json`` and the watch list of
actors in ``data/actors.json``: extend those, not this module.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from . import lexicons
from .alert_model import AlertModel, candidate_rows, load_alert_model
from .evidence import Evidence
from .nlp import TokenColumns, doc_ents, doc_sents, doc_text, entities_of, token_columns
from .taxonomy import TAXONOMY

KINDS = TAXONOMY.kind_names
MODALITIES = TAXONOMY.modality_names
MODALITY_RANK = TAXONOMY.modality_rank
SEVERITY_RANK = TAXONOMY.severity_rank
#: Which kind wins when one event is described with several: the more specific and longer-range first.
KIND_RANK = TAXONOMY.kind_rank
KIND_FAMILY = TAXONOMY.kind_family
UNKNOWN_ACTOR = "unknown"


def kind_family(kind: str) -> str:
    """The incident family of a kind (agents/data/taxonomy.json); an unknown kind is in the wildcard family."""
    return KIND_FAMILY.get(kind, TAXONOMY.wildcard_family)


default_severity = TAXONOMY.default_severity  # the taxonomy's per-kind, per-modality default


# --------------------------------------------------------------------------------------------- records


def _empty_details() -> dict[str, Any]:
    return {
        "count": None,
        "range_km": None,
        "apogee_km": None,
        "location": None,
        "time_text": None,
        "weapon_name": None,
    }


@dataclass(frozen=True)
class Finding:
    """One alertable launch event in one article."""

    kind: str
    modality: str
    actor: str
    speaker: str | None
    details: dict[str, Any]
    severity: str
    confidence: float
    evidence: tuple[Evidence, ...]

    def __hash__(self) -> int:  # details is a dict: hash by the stable fingerprint instead
        return hash(self.fingerprint())

    def fingerprint(self) -> str:
        """Stable across runs and processes: the same article text gives the same fingerprint."""
        key = "|".join(
            [
                self.actor,
                kind_family(self.kind),
                self.modality,
                *(f"{e.start}:{e.end}:{e.text}" for e in self.evidence),
            ]
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "modality": self.modality,
            "actor": self.actor,
            "speaker": self.speaker,
            "details": dict(self.details),
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "evidence": [e.to_dict() for e in self.evidence],
            "fingerprint": self.fingerprint(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`; extra keys (a signal's ``alertable``, ``reason``...) are ignored."""
        details = _empty_details()
        details.update(data.get("details") or {})
        return cls(
            kind=str(data["kind"]),
            modality=str(data["modality"]),
            actor=str(data.get("actor") or UNKNOWN_ACTOR),
            speaker=data.get("speaker"),
            details=details,
            severity=str(data.get("severity") or default_severity(data["kind"], data["modality"])),
            confidence=float(data.get("confidence") or 0.0),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()),
        )


@dataclass(frozen=True)
class Signal:
    """A detector candidate. Alertable signals are the (merged) findings; the others say why not."""

    finding: Finding
    alertable: bool
    reason: str | None = None
    trigger: str = ""

    def to_dict(self) -> dict[str, Any]:
        # A finding's dict plus the verdict, so consumers of news.enriched can rebuild the Finding.
        return {
            **self.finding.to_dict(),
            "alertable": self.alertable,
            "reason": self.reason,
            "trigger": self.trigger,
        }


@dataclass
class Detection:
    findings: list[Finding] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)

    def strongest(self) -> Finding | None:
        """The finding that ranks highest: modality (occurred > threatened > possible), then severity."""
        return max(self.findings, key=finding_rank, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "signals": [s.to_dict() for s in self.signals],
        }


def finding_rank(finding: Finding) -> tuple[int, int, int, float]:
    return (
        MODALITY_RANK.get(finding.modality, 0),
        SEVERITY_RANK.get(finding.severity, 0),
        KIND_RANK.get(finding.kind, 0),
        finding.confidence,
    )


@dataclass(frozen=True)
class DetectorConfig:
    """Settings: non-state rocket fire alerting, unresolved actors, and the kind → severity map.

    ``severity_map`` maps a kind to a severity for every modality, or to ``{"occurred": ..,
    "warning": ..}`` (warning = possible or threatened); kinds it leaves out follow the taxonomy.
    """

    alert_non_state_rockets: bool = False
    alert_unknown_actor: bool = True
    severity_map: Mapping[str, str | Mapping[str, str]] = field(default_factory=dict)
    min_confidence: float = 0.0
    #: the learned alert decision (:mod:`wirewatch.agents.alert_model`); off, the rules decide alone
    learned: bool = True
    #: directory of a user's retrained alert model (WIREWATCH_ALERT_MODEL); empty: the shipped one
    alert_model: str = ""

    def __post_init__(self) -> None:
        if self.learned:
            # load (once per process) and check the alert model now: a bad model file stops start-up with a
            # clear error instead of failing on the first article
            alert_model(self)

    def severity(self, kind: str, modality: str) -> str:
        mapped = self.severity_map.get(kind)
        if isinstance(mapped, str):
            return mapped
        if isinstance(mapped, Mapping):
            key = "occurred" if modality == "occurred" else "warning"
            if key in mapped:
                return str(mapped[key])
        return default_severity(kind, modality)


# --------------------------------------------------------------------------------------------- lexicons


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


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _trie_alternation(words: Iterable[str]) -> str:
    """The alternation of :func:`_alternation` factored by common prefixes: the regex engine follows one
    branch per position instead of trying every word. Branches part on distinct characters and a word's
    end is a greedy optional, so the longest word that matches (and passes a following look-ahead) still
    wins, as with the longest-first alternation."""
    trie: dict[str, Any] = {}
    for word in set(words):
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return emit(trie)


# Prefilters. The weapon patterns are compiled as ``(?<![\w-])(?:...)``: a match starts where a run of
# word characters and hyphens starts; most cue patterns open with ``\b``: a match starts where a run of
# word characters starts. Each pattern's possible openings (its first few characters, lower-cased) are
# read off its parse tree once; a text where no run starts with an opening of a pattern cannot match it,
# and a few byte-level look-ups are far cheaper than a regex scan per pattern.
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PREFIX_LEN = 8  # longest opening kept
_HEAD_LEN = 3  # openings are looked up by the first three characters of their first run
_PREFIX_LIMIT = 20000  # give up (always run the pattern) on patterns with more openings than this


def _table(run_chars: str) -> bytes:
    """Bytes to lower-cased run characters, everything else (UTF-8 bytes of non-ASCII too) to a space."""
    return bytes(
        c + 32 if 65 <= c <= 90 else c if c < 128 and (chr(c).isalnum() or chr(c) in run_chars) else 32
        for c in range(256)
    )


#: hyphen-joined runs (``(?<![\w-])`` patterns) and word runs (``\b`` patterns)
_TABLES = {True: _table("_"), False: _table("_-")}
_FIRST_CHAR = {True: re.compile(r"\w"), False: re.compile(r"[\w-]")}


_RUN_HEAD = operator.itemgetter(slice(0, _HEAD_LEN))  # run -> run[:_HEAD_LEN] (in C, for every run)


@lru_cache(maxsize=64)
def _run_heads(text: str, words: bool) -> tuple[bytes, frozenset[bytes]] | None:
    """``text`` as lower-cased runs with a leading space (so ``b" " + opening`` finds a run start) and
    the runs' heads; None when non-ASCII letters or digits could match ASCII letters case-insensitively
    ("K" for "k") or be word characters. Cached: the cue patterns of one sentence share it."""
    if not text.isascii() and any(c.isalnum() for c in _NON_ASCII.findall(text)):
        return None
    runs = b" " + text.encode("utf-8", "replace").translate(_TABLES[words])
    return runs, frozenset(map(_RUN_HEAD, runs.split()))


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (a memo key)
class _Prefixes:
    """Per pattern, lower-cased openings one of which every match starts with."""

    by_head: dict[bytes, tuple[tuple[bytes, int], ...]]  # run head → (b" " + opening, pattern index)
    short: tuple[tuple[bytes, int], ...]  # openings whose first run is shorter than a head
    always: frozenset[int]  # patterns whose openings are unknown: always run
    words: bool  # runs of word characters (``\b`` patterns), else of word characters and hyphens
    heads: frozenset[bytes] = frozenset()  # the keys of by_head (a set intersection walks the smaller set)

    def candidates(self, text: str) -> set[int] | None:
        """Indices of the patterns that may match in ``text``; None when all may."""
        found = _run_heads(text, self.words)
        if found is None:
            return None
        runs, heads = found
        out = set(self.always)
        by_head = self.by_head
        # a run opening like an opening, then the whole opening at a run start: both necessary
        for head in heads & self.heads:
            for needle, index in by_head[head]:
                if index not in out and needle in runs:
                    out.add(index)
        for needle, index in self.short:
            if index not in out and needle in runs:
                out.add(index)
        return out


def _prefixes(patterns: Sequence[str], words: bool = False) -> _Prefixes:
    """The :class:`_Prefixes` of ``patterns``: each compiled as ``(?<![\\w-])(?:pattern)``, or, with
    ``words``, each opening with ``\\b`` (a pattern that does not is always run)."""
    by_head: dict[bytes, list[tuple[bytes, int]]] = {}
    short: list[tuple[bytes, int]] = []
    always: set[int] = set()
    for index, pattern in enumerate(patterns):
        found = _openings(pattern, words)
        if found is None:
            always.add(index)
            continue
        for opening in sorted(found):
            needle = b" " + opening.encode("ascii").translate(_TABLES[words])
            head = needle.split()[0][:_HEAD_LEN]
            if len(head) < _HEAD_LEN:
                short.append((needle, index))
            else:
                by_head.setdefault(head, []).append((needle, index))
    return _Prefixes(
        {k: tuple(v) for k, v in by_head.items()}, tuple(short), frozenset(always), words, frozenset(by_head)
    )


@dataclass(frozen=True)
class _Cue:
    """A compiled cue pattern whose search first asks the pattern's openings whether it can match."""

    rx: re.Pattern[str]
    prefixes: _Prefixes  # of all the cues of the lexicon: one look-up per text serves them all
    index: int  # of this cue's pattern in ``prefixes``

    def search(self, text: str) -> re.Match[str] | None:
        maybe = _cached_candidates(self.prefixes, text)
        if maybe is not None and self.index not in maybe:
            return None
        return self.rx.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text)


@lru_cache(maxsize=64)
def _cached_candidates(prefixes: _Prefixes, text: str) -> frozenset[int] | None:
    """:meth:`_Prefixes.candidates`, memoised: one sentence is asked about many cues in a row."""
    found = prefixes.candidates(text)
    return None if found is None else frozenset(found)


def _openings(pattern: str, words: bool = False) -> set[str] | None:
    """Walk the parsed pattern, collecting its possible openings (lower-cased, so they serve case-sensitive
    patterns too); an opening is cut short wherever the next character is unknown (a class, a wildcard),
    which keeps it a necessary condition. None when a match may start with no run character (with
    ``words``: when the pattern does not open with ``\\b``)."""
    import re._constants as sre_c  # the regex parser: private, so any surprise disables the prefilter
    import re._parser as sre_p

    done: set[str] = set()
    repeats = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None))

    def chars(op: Any, av: Any) -> set[str] | None:
        if op is sre_c.LITERAL:
            return {chr(av)}
        if op is sre_c.IN:
            out: set[str] = set()
            for o, a in av:
                if o is sre_c.LITERAL:
                    out.add(chr(a))
                elif o is sre_c.RANGE and a[1] - a[0] < 64:
                    out.update(chr(c) for c in range(a[0], a[1] + 1))
                else:
                    return None  # negated classes, categories (\d, \w)
            return out
        return None

    def seq(items: Any, states: set[str]) -> set[str]:
        """The unfinished openings after ``items``, from the unfinished ``states`` before them."""
        for op, av in items:
            if not states:
                break
            if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
                continue  # zero-width: ignoring a condition only lets more through
            if op is sre_c.SUBPATTERN:
                states = seq(av[-1], states)
            elif op is sre_c.BRANCH:
                states = set().union(*(seq(branch, set(states)) for branch in av[1]))
            elif op in repeats:
                lo, hi, sub = av
                out = set(states) if lo == 0 else set()
                cur = states
                # an opening has at most _PREFIX_LEN characters, so more rounds add nothing new
                for i in range(1, min(hi, _PREFIX_LEN + 1) + 1):
                    cur = seq(sub, set(cur))
                    if i >= lo:
                        out |= cur
                if lo > _PREFIX_LEN + 1:
                    done.update(cur)  # cut short mid-repeat
                    out = set()
                states = out
            else:
                cs = chars(op, av)
                if cs is None:
                    done.update(states)
                    return set()
                nxt: set[str] = set()
                for st in states:
                    for c in cs:
                        low = c.lower()
                        if not c.isascii() or len(low) != 1 or (not st and not _FIRST_CHAR[words].match(c)):
                            done.add(st)  # (an empty opening, when it is the first character)
                        elif len(st) + 1 >= _PREFIX_LEN:
                            done.add(st + low)
                        else:
                            nxt.add(st + low)
                states = nxt
            if len(states) + len(done) > _PREFIX_LIMIT:
                raise OverflowError
        return states

    try:
        parsed = sre_p.parse(pattern, re.IGNORECASE)
        if words and (not len(parsed) or parsed[0] != (sre_c.AT, sre_c.AT_BOUNDARY)):
            return None  # a match may start inside a word
        done.update(seq(parsed, {""}))
    except Exception:  # an unexpected parse tree just means no prefilter for this pattern
        return None
    return None if "" in done else done


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
        (w["kind"], re.compile(r"(?<![\w-])(?:" + w["pattern"] + r")(?![\w])", re.IGNORECASE))
        for w in cues["weapons"]
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
        system_prefixes=[
            (p.lower(), name) for name, spec in watch["states"].items() for p in spec.get("systems", [])
        ],
        context_neighbours={
            name: frozenset(spec.get("context_neighbours", [])) for name, spec in watch["states"].items()
        },
    )


lexicons.on_change(lexicon.cache_clear)
lexicons.on_change(_cached_candidates.cache_clear)


# --------------------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Weapon:
    kind: str
    start: int  # char offsets in the doc
    end: int
    text: str
    defence: bool
    tokens: tuple[int, ...]  # token indices


@dataclass
class _Candidate:
    trigger: Token
    sent: Span
    weapons: list[_Weapon]
    modality: str
    actor: str | None
    reason: str | None
    speaker: str | None
    confidence: float
    via_fallback: bool = False
    how: str = "none"
    #: set by the learned decision: the kind it chose (weapon map or model) and its calibrated probability
    kind_override: str | None = None
    probability: float | None = None
    #: made for a cue sentence the rules made no candidate of: shown only if the model alerts on it
    stand_in: bool = False


@dataclass
class SentenceCandidate:
    """A sentence with a launch, missile or weapon cue: what the learned decision scores.

    ``rule`` are the rules' trigger-level candidates in it (each with the reason the rules suppress it, if
    they do); a sentence with a cue but no trigger/weapon pair has one stand-in candidate instead, with the
    reason ``no_trigger`` or ``no_weapon``. ``signals`` are the rules' findings as feature names.
    """

    sent: Span
    index: int  # position among the article's sentences
    rule: list[_Candidate]
    signals: list[str]
    named_kind: str | None = None  # the kind of the missile system the sentence names (weapon_kinds.json)
    previous: Span | None = None
    following: Span | None = None


def _weapons_in(sent: Span) -> list[_Weapon]:
    """Weapon mentions in a sentence, longest match first, non-overlapping (defence systems included)."""
    memo = _memo(sent.doc, "weapons")
    key = (sent.start, sent.end)
    if key not in memo:
        memo[key] = _find_weapons(sent)
    return list(memo[key])


def _find_weapons(sent: Span) -> list[_Weapon]:
    lex = lexicon()
    text, base = _text(sent), sent.start_char
    # most sentences name no weapon: word look-ups pick the few patterns worth a scan, often none
    maybe = lex.weapon_prefixes.candidates(text) if lex.weapon_prefixes is not None else None
    if maybe is not None and not maybe:
        return []
    found: list[tuple[int, int, str, bool]] = []
    if maybe is None or 0 in maybe:
        for m in lex.defence.finditer(text):
            found.append((m.start(), m.end(), "defence", True))
    for index, (kind, rx) in enumerate(lex.weapons, 1):
        if maybe is not None and index not in maybe:
            continue
        for m in rx.finditer(text):
            found.append((m.start(), m.end(), kind, False))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    chosen: list[tuple[int, int, str, bool]] = []
    for f in sorted(found, key=lambda f: -(f[1] - f[0])):
        if all(f[1] <= c[0] or f[0] >= c[1] for c in chosen):
            chosen.append(f)
    out = []
    for s, e, kind, defence in _merge_generic_heads(sorted(chosen), text):
        span = sent.doc.char_span(base + s, base + e, alignment_mode="expand")
        if span is None:
            continue
        if not defence and _figurative(span.root):
            continue  # "called the launch a missile aimed at the market leader"
        # "an intermediate-range ballistic missile target" is a defence-test target, not a launch
        nxt = sent.doc[span.end] if span.end < sent.end else None
        if nxt is not None and nxt.lower_ in ("target", "targets") and not defence:
            defence = True
        out.append(_Weapon(kind, base + s, base + e, text[s:e], defence, tuple(t.i for t in span)))
    return out


def _figurative(head: Token) -> bool:
    """A weapon noun used as a figure for something that is no weapon: the second object of a naming verb
    ('called the plan a missile'), or the object of 'like' / 'as' ('rose like a rocket', 'described the
    budget as a missile'). Naming a weapon ('called the Hwasong-18 its best missile') is literal."""
    cues = lexicon().cues
    verbs = set(cues["figurative_verbs"])
    gov = head.head
    if head.dep_ == "pobj" and gov.lower_ in cues["figurative_preps"]:
        if gov.lower_ == "like":
            return True
        gov = gov.head
    elif head.dep_ not in ("oprd", "dobj"):
        return False
    if gov.lemma_.lower() not in verbs:
        return False
    named = [c for c in gov.children if c.dep_ in ("dobj", "nsubjpass") and c.i != head.i and c.i < head.i]
    if not named and head.dep_ == "dobj":
        return False  # a single object: "saw the missile"
    lex = lexicon()
    for obj in named:
        text = " ".join(t.text for t in obj.subtree)
        if obj.pos_ == "PRON" or obj.tag_ in ("WDT", "WP") or lex.defence.search(text):
            return False  # "which officials describe as a hypersonic weapon": the thing named is the weapon
        if any(rx.search(text) for _k, rx in lex.weapons):
            return False
    return bool(named) or head.dep_ == "oprd"


_GENERIC_HEAD = re.compile(r"(?:ballistic )?(?:missiles?|rockets?)", re.IGNORECASE)


def _merge_generic_heads(
    mentions: list[tuple[int, int, str, bool]], text: str
) -> list[tuple[int, int, str, bool]]:
    """'Minuteman III' + 'missile', 'Patriot' + 'missiles': a named system and the generic noun it
    modifies are one mention of the system's kind."""
    out: list[tuple[int, int, str, bool]] = []
    for m in mentions:
        if out:
            s, e, kind, defence = out[-1]
            generic = m[2] in ("ballistic_unspecified", "rocket_artillery") and not m[3]
            if generic and not text[e : m[0]].strip() and _GENERIC_HEAD.fullmatch(text[m[0] : m[1]]):
                out[-1] = (s, m[1], kind, defence)
                continue
        out.append(m)
    return out


def _ancestor_ids(i: int, sent: Span, heads: list[int]) -> list[int]:
    """Indices of ``doc[i].ancestors`` inside ``sent`` (read off the head column: no Token objects)."""
    out = []
    for _ in range(len(heads)):  # as Token.ancestors: at most as many steps as tokens
        if heads[i] == i:
            break
        i = heads[i]
        if sent.start <= i < sent.end:
            out.append(i)
    return out


def _ancestors(tok: Token, sent: Span) -> list[Token]:
    doc = tok.doc
    return [doc[a] for a in _ancestor_ids(tok.i, sent, token_columns(doc).heads)]


def _is_speech_verb(i: int, cols: TokenColumns) -> bool:
    return cols.lemma[i] in lexicon().cue_sets["speech_verbs"] and cols.pos[i] in ("VERB", "AUX")


def _chain(tok: Token, sent: Span) -> list[Token]:
    """The trigger and its ancestors up to (not including) the first speech verb: the clause spine."""
    memo = _memo(tok.doc, "chains")  # each candidate asks for its chain half a dozen times
    key = (tok.i, sent.start, sent.end)
    if key not in memo:
        memo[key] = _chain_above(tok, sent)
    return [tok, *memo[key]]  # ``tok`` itself first: callers tell it apart by identity


def _chain_above(tok: Token, sent: Span) -> list[Token]:
    """The ancestors of :func:`_chain`."""
    doc = tok.doc
    cols = token_columns(doc)
    out = []
    for anc in _ancestor_ids(tok.i, sent, cols.heads):
        # "X said": X's claim starts a new clause; "launches are said to have taken place" does not
        if _is_speech_verb(anc, cols) and not any(cols.dep[c] == "auxpass" for c in cols.children[anc]):
            break
        out.append(doc[anc])
    return out


def _speech_head(tok: Token, sent: Span) -> Token | None:
    doc = tok.doc
    cols = token_columns(doc)
    for anc in _ancestor_ids(tok.i, sent, cols.heads):
        if _is_speech_verb(anc, cols):
            return doc[anc]
    # "according to X" attached anywhere in the sentence
    lower = cols.lower
    for i in range(sent.start, sent.end):
        if lower[i] == "according" and i + 1 < len(lower) and lower[i + 1] == "to":
            return doc[i]
    return None


def _is_headline(sent: Span) -> bool:
    """A short line without final punctuation: headlines report in the present tense."""
    text = _text(sent).strip()
    if not text or text[-1] in ".!?\"'”’)" or len(sent) > lexicon().cues["headline_max_tokens"]:
        return False
    return text[0].isupper()


# ------------------------------------------------------------------------------------------ actor logic


def _alias_matches(text: str, base: int) -> list[tuple[int, int, str, str]]:
    """(start, end, alias, kind) in doc offsets; kind is 'alias', 'context' or 'place'."""
    lex = lexicon()
    out: list[tuple[int, int, str, str]] = []
    for m in lex.alias_re.finditer(text):
        alias = m.group(0)
        kind = (
            "alias"
            if alias in lex.alias_to_actor
            else "context"
            if alias in lex.context_alias_to_actor
            else "place"
        )
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


def _actor_in_span(doc: Doc, start: int, end: int, head: Token | None, doc_states: set[str]) -> str | None:
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
        for s, e, alias, kind in _alias_matches(doc_text(doc)[first:last], first)
    ]
    matches += [(s, e, a) for s, e, a in _entity_actors(doc) if first <= s and e <= last]
    if not matches:
        return None
    datelines = _dateline_chars(doc)
    for s, e, actor in matches:
        if any(lo <= s < hi for lo, hi in datelines):
            continue  # "SEOUL (AP) -" is where the story was filed
        if actor is None:
            continue
        sub = doc.char_span(s, e, alignment_mode="expand")
        depth = 99
        if head is not None and sub is not None:
            depth = min(_depth_between(t, head.i, cols.heads) for t in range(sub.start, sub.end))
        # a named group beats the generic "militants" it is described as
        generic = 1 if actor == "militants" else 0
        cand = (generic, depth, s, actor)
        if best is None or cand < best:
            best = cand
    return best[3] if best else None


def _depth_between(i: int, head: int, heads: list[int]) -> int:
    """Steps up the tree from token ``i`` to token ``head`` (50 + steps to the root if not under it)."""
    depth = 0
    while i != head:
        if heads[i] == i:
            return 50 + depth
        i = heads[i]
        depth += 1
        if depth > 40:
            return 99
    return depth


def _subtree_bounds(tok: Token) -> tuple[int, int]:
    return tok.left_edge.i, tok.right_edge.i + 1


def _subject_of(tok: Token) -> Token | None:
    """The subject of a verb, inherited through coordination ("launched and flew") and xcomp."""
    cur = tok
    for _ in range(4):
        subjects = [c for c in cur.children if c.dep_ in ("nsubj", "nsubjpass", "csubj")]
        if subjects:
            # a dateline ("SEOUL, South Korea (AP) — North Korea fired") can parse as a second subject:
            # the one closest before the verb is the real one
            before = [c for c in subjects if c.i < cur.i]
            return max(before, key=lambda c: c.i) if before else subjects[0]
        for child in cur.children:
            if child.dep_ == "agent":
                pobj = [c for c in child.children if c.dep_ == "pobj"]
                if pobj:
                    return pobj[0]
        if cur.tag_ == "VBD":
            # a finite verb parsed without a subject ("— North Korea test-fired ..." as a modifier): the
            # proper noun right before it is its subject
            names = [
                c
                for c in cur.children
                if c.i < cur.i and c.dep_ in ("compound", "npadvmod", "dep") and c.pos_ == "PROPN"
            ]
            if names:
                return names[-1]
        # "acomp": "they were prepared / ready / poised to fire": the subject of the copula
        if cur.dep_ in ("conj", "xcomp", "advcl", "acl", "relcl", "pcomp", "acomp") and cur.head.i != cur.i:
            if cur.dep_ in ("acl", "relcl") and cur.tag_ == "VBN":
                return cur.head  # "missiles launched from X": the modified noun
            if cur.dep_ in ("acl", "relcl") and cur.tag_ == "VBD":
                return None  # a misparsed finite verb: its subject is not up the tree
            if cur.dep_ in ("acl", "relcl"):
                # "a plan to launch", "its attempt to launch": the planner is the subject of the plan's verb
                noun = cur.head
                if noun.dep_ == "poss" or any(c.dep_ == "poss" for c in noun.children):
                    return next((c for c in noun.children if c.dep_ == "poss"), noun)
                cur = noun
                while cur.pos_ not in ("VERB", "AUX") and cur.head.i != cur.i:
                    cur = cur.head
                if cur.lemma_.lower() in lexicon().cues["speech_verbs"]:
                    return None  # the reporter is not the planner
                continue
            cur = cur.head
            continue
        break
    return None


def _governing_verb(tok: Token, sent: Span) -> Token | None:
    cur = tok
    for _ in range(8):
        if cur.head.i == cur.i or not (sent.start <= cur.head.i < sent.end):
            return None
        cur = cur.head
        if cur.pos_ in ("VERB", "AUX"):
            return cur
    return None


# ------------------------------------------------------------------------------------------ main logic


def _trigger_tokens(sent: Span, weapons: list[_Weapon]) -> list[Token]:
    lex = lexicon()
    sets = lex.cue_sets
    doc = sent.doc
    cols = token_columns(doc)  # every word of the sentence is looked at: columns, not Token objects
    lemmas, lowers, poses, tags, deps, heads, kids = (
        cols.lemma, cols.lower, cols.pos, cols.tag, cols.dep, cols.heads, cols.children
    )
    weapon_tokens = {i for w in weapons for i in w.tokens}
    # "put three satellites into orbit": a launch told by its result
    orbit_verbs = sets["orbit_verbs"] if lex.res["orbit_cue"].search(_text(sent)) else frozenset()
    # "hit back with missiles", "respond with missile launches": the weapon sits in a with-phrase
    retaliation = {
        heads[t]
        for t in range(sent.start, sent.end)
        if deps[t] == "prep"
        and lowers[t] == "with"
        and lemmas[heads[t]] in sets["retaliation_verbs"]
        and any(doc[t].left_edge.i <= i <= doc[t].right_edge.i for i in weapon_tokens)
    }
    verb_triggers, noun_triggers = sets["verb_triggers"], sets["noun_triggers"]
    out = []
    for i in range(sent.start, sent.end):
        lemma = lemmas[i]
        text = lowers[i]
        if poses[i] in ("VERB", "AUX") or tags[i].startswith("VB"):
            if lemma in verb_triggers or text in verb_triggers or lemma in orbit_verbs or i in retaliation:
                if i in weapon_tokens or any(deps[c] == "prt" and lowers[c] == "down" for c in kids[i]):
                    continue  # "shoot down" is an interception
                out.append(doc[i])
        elif poses[i] in ("NOUN", "PROPN"):
            if lemma not in noun_triggers and text not in noun_triggers:
                continue
            if i in weapon_tokens:
                continue
            if deps[i] == "compound" and lemmas[heads[i]] not in sets["compound_launch_heads_kept"]:
                continue  # "launch pad", "launch site": not an event
            if lemma == "flight" and not any(lowers[c] in sets["flight_needs_compound"] for c in kids[i]):
                continue
            out.append(doc[i])
    return out


def _weapons_for(
    trigger: Token, sent: Span, weapons: list[_Weapon], n_triggers: int
) -> tuple[list[_Weapon], bool]:
    """Weapons the trigger is about: in its subtree, its subject, or its governing verb's arguments."""
    lex = lexicon()
    cues = lex.cues
    lemma = trigger.lemma_.lower()

    def within(lo: int, hi: int, exclude: tuple[int, int] | None = None) -> list[_Weapon]:
        out = []
        for w in weapons:
            if any(lo <= i < hi for i in w.tokens):
                if exclude and all(exclude[0] <= i < exclude[1] for i in w.tokens):
                    continue
                out.append(w)
        return out

    if trigger.pos_ in ("VERB", "AUX") or trigger.tag_.startswith("VB"):
        subj = _subject_of(trigger)
        if lemma in cues["weapon_subject_only_verbs"]:
            return (within(*_subtree_bounds(subj)) if subj is not None else []), False
        if lemma in cues["retaliation_verbs"] and lemma not in cues["verb_triggers"]:
            withs = [c for c in trigger.children if c.dep_ == "prep" and c.lower_ == "with"]
            return _dedupe([w for c in withs for w in within(*_subtree_bounds(c))]), False
        if lemma in cues["orbit_verbs"] and lemma not in cues["verb_triggers"]:
            objs = [c for c in trigger.children if c.dep_ in ("dobj", "prep")]
            found = [w for c in objs for w in within(*_subtree_bounds(c)) if w.kind == "space_launch_vehicle"]
            return _dedupe(found), False
        if lemma in cues["verbs_needing_weapon_object"]:
            objs = [c for c in trigger.children if c.dep_ in ("dobj", "prep")]
            found = [w for c in objs for w in within(*_subtree_bounds(c))]
            head = trigger.head
            if not found and trigger.dep_ in ("xcomp", "advcl") and head.lemma_.lower() in cues["tool_verbs"]:
                # "used ATACMS missiles to strike an air base": the weapon is the tool verb's object
                found = [w for c in head.children if c.dep_ == "dobj" for w in within(*_subtree_bounds(c))]
            return found, False
        # the verb's own arguments, not its clausal complements (another event's weapons)
        found = []
        for child in trigger.children:
            # another event's clause, except a free relative ("fired what was apparently an ICBM")
            clause = child.dep_ in ("ccomp", "advcl", "conj", "relcl", "parataxis") and child.pos_ in (
                "VERB",
                "AUX",
            )
            if clause and not any(t.lower_ == "what" for t in child.subtree if t.i < child.i):
                continue
            found.extend(within(*_subtree_bounds(child)))
        found.extend(within(trigger.i, trigger.i + 1))
        if not found and subj is not None and subj.i != trigger.i:
            found = within(*_subtree_bounds(subj))
        if not found and trigger.dep_ in ("acl", "relcl", "amod"):
            found = within(trigger.head.i, trigger.head.i + 1)  # "test-fired missiles" parsed as a modifier
        if found:
            return _dedupe(found), False
    else:
        found = within(*_subtree_bounds(trigger))
        if lemma in cues["noun_triggers_needing_compound_weapon"]:
            found = [w for w in found if w.tokens and all(i < trigger.i for i in w.tokens)]
            purpose = trigger.head if trigger.dep_ == "pobj" and trigger.head.lower_ == "for" else None
            if not found and purpose is not None and purpose.head.pos_ in ("VERB", "AUX"):
                # "stockpiling missiles for a strike": the weapon is the object of the verb it serves
                verb = purpose.head
                found = [w for c in verb.children if c.dep_ == "dobj" for w in within(*_subtree_bounds(c))]
            return found, False
        if trigger.dep_ == "conj" and trigger.head.pos_ in ("NOUN", "PROPN"):
            found += within(*_subtree_bounds(trigger.head))  # "an ICBM or satellite rocket launch"
        if not found and trigger.dep_ == "compound":
            found = within(*_subtree_bounds(trigger.head))
        if not found:
            gov = _governing_verb(trigger, sent)
            if gov is not None and gov.lemma_.lower() in cues["occurrence_light_verbs"]:
                for child in gov.children:
                    if child.dep_ in ("nsubj", "nsubjpass", "dobj", "attr"):
                        found.extend(within(*_subtree_bounds(child)))
        if found:
            return _dedupe(found), False
    if n_triggers == 1:
        near = sorted(weapons, key=lambda w: abs(w.tokens[0] - trigger.i))
        return near[:1], True
    return [], False


def _dedupe(ws: list[_Weapon]) -> list[_Weapon]:
    seen, out = set(), []
    for w in ws:
        if w.start not in seen:
            seen.add(w.start)
            out.append(w)
    return out


def _has_neg(tok: Token) -> bool:
    return _has_neg_at(tok.i, token_columns(tok.doc))


def _has_neg_at(i: int, cols: TokenColumns) -> bool:
    for c in cols.children[i]:
        dep = cols.dep[c]
        if dep == "neg":
            return True
        if cols.lower[c] in ("no", "none", "neither", "nor", "never") and dep in (
            "det",
            "nsubj",
            "advmod",
            "dep",
            "preconj",
        ):
            return True
    return False


def _negation(trigger: Token, sent: Span) -> str | None:
    """'denied', 'contested', 'suppressed' (avoid/ban...) or None for the trigger's clause spine."""
    memo = _memo(trigger.doc, "negation")  # asked once for the sentence, once for the candidate
    key = (trigger.i, sent.start, sent.end)
    if key not in memo:
        memo[key] = _find_negation(trigger, sent)
    return memo[key]


def _find_negation(trigger: Token, sent: Span) -> str | None:
    lex = lexicon()
    cues = lex.cues
    chain = _chain(trigger, sent)
    if trigger.lower_ in ("none",):
        return "denied"
    for tok in chain:
        lemma = tok.lemma_.lower()
        if _has_neg(tok):
            if lemma in cues["contest_nouns"]:
                return "contested"
            return "denied"
        if tok.lower_ in ("none",) or (
            tok.dep_ == "pobj" and tok.head.lower_ == "of" and tok.head.head.lower_ == "none"
        ):
            return "denied"
        if tok is not trigger and lemma in cues["negating_verbs"]:
            return "suppressed"
        if (
            tok.dep_ == "prep"
            and tok.lower_ == "against"
            and tok.head.lemma_.lower() in cues["warn_against_verbs"]
        ):
            return "suppressed"  # "warned North Korea against further launches"
        if tok is not trigger and tok.pos_ == "NOUN" and lemma in cues["negating_nouns"]:
            return "suppressed"
    presupposing = set(cues["presupposing_nouns"])
    temporal = set(cues["temporal_clause_marks"])
    prev = trigger
    for anc in _ancestors(trigger, sent):
        if anc.pos_ in ("NOUN", "PROPN") and anc.lemma_.lower() in presupposing:
            break  # "rejected criticism of the launch": the launch itself is taken as given
        # "rejected talks after launching missiles": a temporal clause is not what is denied
        if (prev.dep_ == "prep" and prev.lower_ in temporal) or (
            prev.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in temporal for c in prev.children)
        ):
            break
        if anc.lemma_.lower() in cues["denial_verbs"]:
            return "denied"
        prev = anc
    return None


def _conditional(trigger: Token, sent: Span) -> bool:
    """Inside an if/unless clause, or a generic 'any launch' (not a specific event)."""
    generic = set(lexicon().cues["generic_determiners"])
    if any(c.lower_ in lexicon().cues["simulated_modifiers"] for c in trigger.children if c.dep_ == "amod"):
        return True  # "the simulated launch of an ICBM" in an exercise
    if trigger.pos_ in ("NOUN", "PROPN") and any(
        c.dep_ == "det" and c.lower_ in generic for c in trigger.children
    ):
        return True
    if (
        trigger.pos_ in ("NOUN", "PROPN")
        and trigger.dep_ in ("nsubj", "nsubjpass")
        and any(c.tag_ == "MD" and c.lower_ in ("would", "'d") for c in trigger.head.children)
    ):
        return True  # "a North Korean ICBM launch would violate the resolutions": counterfactual
    marks = set(lexicon().cues["conditional_marks"])
    for tok in _chain(trigger, sent):
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
_TEMPORAL_MARKS = frozenset({"since", "after", "before", "when", "until", "while", "as"})


def _historical(trigger: Token, sent: Span, pub_year: int | None) -> bool:
    """A year (or 'last year', 'usually'...) that dates the trigger's clause to the past."""
    lex = lexicon()
    chain = _chain(trigger, sent)
    chain_ids = {t.i for t in chain} | {c.i for t in chain for c in t.children if c.dep_ == "xcomp"}
    first_since = lex.res["first_since"]
    # only a token that is a year matters: look for one in the text before walking the tokens
    for tok in sent if _YEAR_IN_TEXT.search(_text(sent)) else ():
        if not _YEAR.match(tok.text):
            continue
        year = int(tok.text)
        if pub_year is not None and year >= pub_year:
            continue
        # walk from the year up to the clause spine through temporal dependencies only
        cur, ok = tok, True
        while cur.i not in chain_ids:
            if cur.head.i == cur.i:
                ok = False
                break
            # a temporal clause ("since the deal was signed in 2015") dates the event too
            temporal_clause = cur.dep_ in ("advcl", "ccomp") and any(
                c.dep_ == "mark" and c.lower_ in _TEMPORAL_MARKS for c in cur.children
            )
            if cur.dep_ not in _TEMPORAL_DEPS and not temporal_clause:
                ok = False
                break
            cur = cur.head
        if not ok:
            continue
        window = sent.doc[max(sent.start, tok.i - 8) : tok.i + 1].text
        if first_since.search(window):
            continue  # "for the first time since 2017" dates a current event
        return True
    text = _text(sent)
    m = lex.res["historical_date"].search(text)
    if m and first_since.search(text[max(0, m.start() - 48) : m.end()]):
        m = None  # "the first such test since the 1990s" dates a current event
    if m:
        span = sent.doc.char_span(
            sent.start_char + m.start(), sent.start_char + m.end(), alignment_mode="expand"
        )
        if span is not None and any(a.i in chain_ids for t in span for a in [t, *t.ancestors][:4]):
            return True
    habitual = set(lex.cues["habitual_adverbs"])
    return any(c.lower_ in habitual for t in chain for c in t.children if c.dep_ == "advmod")


def _modality(trigger: Token, sent: Span, actor: str | None, speaker_actor: str | None) -> str:
    lex = lexicon()
    cues = lex.cues
    chain = _chain(trigger, sent)
    possible = set(cues["possible_lemmas"])
    threat = set(cues["threat_lemmas"])
    modal_possible = set(cues["modal_possible"])
    future = set(cues["modal_future"])
    is_verb = trigger.pos_ in ("VERB", "AUX") or trigger.tag_.startswith("VB")
    saw_future = False
    saw_threat = False
    saw_possible = False
    marks = set(cues["temporal_clause_marks"])
    cut = len(chain)
    for depth, tok in enumerate(chain):
        # "as he supervised the test": the main clause's vow or plan does not colour this event
        if tok.dep_ in ("advcl", "pcomp") and any(
            c.dep_ == "mark" and c.lower_ in marks for c in tok.children
        ):
            cut = depth + 1
            break
        if tok.dep_ == "pcomp" and tok.head.lower_ in marks:
            cut = depth + 1
            break
    chain = chain[:cut]
    if not is_verb:
        # "will meet to discuss North Korea's latest launch": a verb about the launch (discuss, condemn)
        # does not lend it its tense; verbs of doing, planning or expecting do
        keep = set(cues["occurrence_light_verbs"]) | set(cues["verb_triggers"]) | threat | possible
        # "will deploy and test-launch missiles" parsed with "launch" modifying "missiles": the verb that
        # governs the weapon is the event's own verb
        weapon_modifier = trigger.dep_ in ("compound", "nmod", "amod") and bool(
            _GENERIC_HEAD.fullmatch(trigger.head.text)
        )
        for depth, tok in enumerate(chain[1:], 1):
            if tok.pos_ in ("VERB", "AUX"):
                # "respond with missile launches": the launches are the instrument of the verb's action
                instrument = chain[depth - 1].dep_ == "prep" and chain[depth - 1].lower_ == "with"
                if tok.lemma_.lower() not in keep and not instrument and not weapon_modifier:
                    chain = chain[:depth]
                break
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
        elif lemma in possible:
            saw_possible = True
        if lemma == "be" and any(
            c.lemma_.lower() in possible for c in tok.children if c.dep_ in ("acomp", "attr")
        ):
            saw_possible = True
    # preparations ("is preparing", "launch preparations") and expectations read as possible
    if trigger.dep_ == "compound" and trigger.head.lemma_.lower() in ("preparation", "window", "plan"):
        saw_possible = saw_possible or trigger.head.lemma_.lower() == "preparation"
        saw_threat = saw_threat or trigger.head.lemma_.lower() in ("plan", "window")
    own_voice = speaker_actor is None or actor is None or speaker_actor == actor
    if saw_possible and not saw_threat and speaker_actor is not None and speaker_actor == actor:
        # "North Korea said it was ready to launch": readiness declared by the launcher is a threat
        readiness = set(cues["readiness_lemmas"])
        if any(t.lemma_.lower() in readiness for t in chain[1:]) and not _outside_possibility(chain):
            return "threatened"
    if saw_threat and not saw_possible:
        return "threatened" if own_voice or not saw_future else "possible"
    if saw_possible:
        return "possible"
    if saw_future:
        return "threatened" if own_voice else "possible"
    return "occurred"


def _outside_possibility(chain: list[Token]) -> bool:
    """A modal of possibility or a non-readiness possible cue ('may be preparing', 'signs of')"""
    cues = lexicon().cues
    readiness = set(cues["readiness_lemmas"])
    possible = set(cues["possible_lemmas"]) - readiness
    for tok in chain:
        if tok.lemma_.lower() in possible:
            return True
        for child in tok.children:
            if child.tag_ == "MD" and child.lower_ in cues["modal_possible"]:
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


def _present_narrative(trigger: Token, sent: Span) -> bool:
    """'... as the missile is launched.': present-tense narration outside a headline (fiction, scenarios)."""
    if _is_headline(sent):
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


def _resolve_actor(
    trigger: Token, sent: Span, weapons: list[_Weapon], doc_states: set[str], previous: _PreviousActor
) -> tuple[str | None, str]:
    """(actor, how): from the subject, the weapon's modifiers, 'from X', the sentence, the context."""
    lex = lexicon()
    doc = sent.doc
    is_verb = trigger.pos_ in ("VERB", "AUX") or trigger.tag_.startswith("VB")
    subj = _subject_of(trigger) if is_verb else None
    if not is_verb:
        gov = _governing_verb(trigger, sent)
        # "a launch by X", "X's launch", "North Korean missile launch"
        for child in trigger.children:
            if child.dep_ == "poss" and child.pos_ == "PRON":
                # "its test": the nearest actor named before it
                actor = _nearest_actor(sent, child, doc_states, before_only=True)
                if actor:
                    return actor, "possessive"
            if child.dep_ in ("poss", "compound", "amod", "nmod"):
                actor = _actor_in_span(doc, *_subtree_bounds(child), child, doc_states)
                if actor:
                    return actor, "modifier"
            if child.dep_ == "prep" and child.lower_ in ("by", "from"):
                actor = _actor_in_span(doc, *_subtree_bounds(child), child, doc_states)
                if actor:
                    return actor, "by"
        light = set(lex.cues["occurrence_light_verbs"]) - set(lex.cues["speech_verbs"])
        if (
            gov is not None
            and gov.lemma_.lower() in light
            and trigger.dep_ in ("dobj", "pobj", "attr", "nsubjpass")
        ):
            subj = _subject_of(gov)  # "X conducted a test", "X pressed ahead with a launch"
    suppliers = set(lex.cues["supplier_modifiers"])
    for w in weapons:  # "a North Korean missile", "Iran's Shahab-3"
        head = doc[w.tokens[-1]]
        for child in head.children:
            if child.dep_ in ("poss", "compound", "amod", "nmod") and child.i not in w.tokens:
                if child.lemma_.lower() in suppliers or child.lower_.rsplit("-", 1)[-1] in suppliers:
                    continue  # "U.S.-supplied missiles" were fired by someone else
                actor = _actor_in_span(doc, *_subtree_bounds(child), child, doc_states)
                if actor:
                    return actor, "weapon_modifier"
        for i in w.tokens:
            actor = _actor_in_span(doc, i, i + 1, None, doc_states)
            if actor and doc[i].ent_type_ in ("NORP", "GPE"):
                return actor, "weapon_modifier"
    if subj is not None and subj.i != trigger.i:
        lo, hi = _subtree_bounds(subj)
        actor = _actor_in_span(doc, lo, hi, subj, doc_states)
        if actor:
            return actor, "subject"
        anaphoric = subj.lemma_.lower() in lex.anaphoric_subjects and any(
            c.dep_ == "det" and c.lower_ == "the" for c in subj.children
        )
        if subj.lower_ in ("it", "they", "we", "he", "she") or subj.pos_ == "PRON" or anaphoric:
            # "the country would fire": like a pronoun, it refers back to an actor named before
            speech = _speech_head(trigger, sent)
            if speech is not None and speech.lower_ != "according":
                s2 = _subject_of(speech)
                if s2 is not None:
                    actor = _actor_in_span(doc, *_subtree_bounds(s2), s2, doc_states)
                    if actor:
                        return actor, "speaker_pronoun"
            # "it": the nearest actor named earlier in the sentence outside attributions, else before
            actor = _nearest_actor(sent, trigger, doc_states, before_only=True)
            if actor:
                return actor, "pronoun_sentence"
            prev_actor = previous.get()
            if prev_actor:
                return prev_actor, "pronoun_previous"
        elif (
            subj.pos_ in ("NOUN",)
            and subj.lemma_.lower() not in lex.generic_subjects
            and not any(subj.i in w.tokens or any(subj.i == doc[i].head.i for i in w.tokens) for w in weapons)
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
    actor = _nearest_actor(sent, trigger, doc_states, before_only=False)
    if actor:
        return actor, "sentence"
    prev_actor = previous.get()
    if prev_actor:
        return prev_actor, "previous"
    return None, "none"


def _origin_actor(trigger: Token, doc_states: set[str]) -> str | None:
    for child in trigger.children:
        if child.dep_ == "prep" and child.lower_ in ("from", "in", "at", "near", "off"):
            actor = _actor_in_span(trigger.doc, *_subtree_bounds(child), child, doc_states)
            if actor and (child.lower_ == "from" or actor in lexicon().place_to_actor.values()):
                return actor
    return None


def _attribution_tokens(sent: Span) -> set[int]:
    """Tokens naming who speaks ('South Korea's military said', 'according to Seoul'): not the launcher."""
    lex = lexicon()
    out: set[int] = set()
    for tok in sent:
        if tok.lemma_.lower() in lex.cues["speech_verbs"] and tok.pos_ in ("VERB", "AUX"):
            for child in tok.children:
                if child.dep_ in ("nsubj", "nsubjpass") or (child.dep_ == "agent"):
                    out.update(range(*_subtree_bounds(child)))
        if tok.lower_ == "according" and tok.i + 1 < sent.end and tok.nbor(1).lower_ == "to":
            out.update(range(tok.i, tok.nbor(1).right_edge.i + 1))
        if tok.lemma_.lower() in ("quote", "cite") and tok.pos_ == "VERB":
            for child in tok.children:
                if child.dep_ == "dobj":
                    out.update(range(*_subtree_bounds(child)))
    return out


def _target_and_observer_tokens(sent: Span) -> set[int]:
    """Tokens of targets ('fired at northern Israel') and observers ('U.S. officials'): not launchers."""
    cues = lexicon().cues
    preps, observers = set(cues["target_preps"]), set(cues["observer_nouns"])
    verbs = set(cues["verb_triggers"])
    out: set[int] = set()
    for tok in sent:
        if tok.dep_ == "prep" and tok.lower_ in preps and tok.head.lemma_.lower() in verbs:
            out.update(range(*_subtree_bounds(tok)))
        if tok.pos_ == "NOUN" and tok.lemma_.lower() in observers:
            lo = tok.left_edge.i
            out.update(range(lo, tok.i + 1))
    return out


def _dateline_tokens(sent: Span) -> set[int]:
    """'TOKYO -', 'SEOUL, March 4 (Reuters) -': where the story was filed, not who launched."""
    memo = _memo(sent.doc, "dateline_tokens")
    key = (sent.start, sent.end)
    if key not in memo:
        memo[key] = _find_dateline(sent)
    return memo[key]


def _find_dateline(sent: Span) -> set[int]:
    text = _text(sent)
    if "—" not in text and "–" not in text and " -" not in text:
        return set()  # no dash (nor spaced hyphen) to end a dateline: skip the token walk
    doc = sent.doc
    for tok in sent[:14]:
        if tok.i == sent.start:
            continue
        # a spaced hyphen or a dash, not the hyphen of "nuclear-powered"
        dash = tok.text in ("—", "–") or (
            tok.text in ("-", "--") and bool(doc[tok.i - 1].whitespace_) and bool(tok.whitespace_)
        )
        if not dash:
            continue
        head = doc[sent.start : tok.i]
        if any(t.pos_ in ("VERB", "AUX") for t in head):
            return set()  # a clause before the dash is not a dateline
        first = sent[0]
        if (first.is_upper and len(first.text) > 2) or "(" in head.text:
            return set(range(sent.start, tok.i + 1))
        return set()
    return set()


def _dateline_chars(doc: Doc) -> list[tuple[int, int]]:
    """Char ranges of the datelines of the document's sentences (memoised per document)."""
    cache = _doc_cache(doc)
    if "datelines" not in cache:
        ranges = []
        text = doc_text(doc)
        for sent in doc_sents(doc):
            # the dash test of _find_dateline, on the article text (no slice): most sentences fail it
            start, end = sent.start_char, sent.end_char
            if text.find("—", start, end) < 0 and text.find("–", start, end) < 0 and text.find(" -", start, end) < 0:
                continue
            toks = _dateline_tokens(sent)
            if toks:
                ranges.append((doc[min(toks)].idx, doc[max(toks)].idx + len(doc[max(toks)])))
        cache["datelines"] = ranges
    return list(cache["datelines"])


def _conditional_clause_tokens(sent: Span) -> set[int]:
    """Tokens of if/unless clauses ('unless Washington halts the drills'): a condition, not a launcher."""
    marks = set(lexicon().cues["conditional_marks"])
    out: set[int] = set()
    for tok in sent:
        if tok.dep_ == "mark" and tok.lower_ in marks and tok.head.dep_ == "advcl":
            out.update(range(*_subtree_bounds(tok.head)))
    return out


def _excluded_tokens(sent: Span) -> set[int]:
    """Tokens that name no launcher (speakers, targets, datelines, conditions), memoised per sentence."""
    memo = _memo(sent.doc, "excluded")
    key = (sent.start, sent.end)
    if key not in memo:
        excluded = _attribution_tokens(sent) | _target_and_observer_tokens(sent)
        excluded |= _dateline_tokens(sent) | _conditional_clause_tokens(sent)
        memo[key] = excluded
    return set(memo[key])


def _sentence_aliases(sent: Span) -> list[tuple[int, int, str, str]]:
    """:func:`_alias_matches` of a sentence, memoised per sentence."""
    memo = _memo(sent.doc, "sentence_aliases")
    key = (sent.start, sent.end)
    if key not in memo:
        memo[key] = _alias_matches(_text(sent), sent.start_char)
    return list(memo[key])


def _nearest_actor(sent: Span, trigger: Token, doc_states: set[str], before_only: bool) -> str | None:
    matches = _sentence_aliases(sent)
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
            actor = _actor_in_span(doc, *_subtree_bounds(child), child, doc_states)
            if actor:
                return actor
    return _nearest_actor(sent, doc[sent.start], doc_states, before_only=False)


def _doc_states(doc: Doc, entities: Sequence[Any]) -> tuple[set[str], str | None]:
    """Watch-list actors named in the article and the most mentioned one."""
    lex = lexicon()
    counts: dict[str, int] = {}
    for ent in entities:
        canonical = getattr(ent, "canonical", None)
        if canonical in lex.actors:
            counts[canonical] = max(counts.get(canonical, 0), int(getattr(ent, "count", 1)))
    matches = _alias_matches(doc_text(doc), 0)
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


# ------------------------------------------------------------------------------------------ speakers


def _speaker(trigger: Token, sent: Span, doc: Doc, entities: Sequence[Any]) -> str | None:
    """Who says it: the subject of the speech verb governing the trigger, with affiliation."""
    speech = _speech_head(trigger, sent)
    if speech is None:
        return None
    if speech.lower_ == "according":
        pobj = [t for t in speech.nbor(1).subtree if t.dep_ == "pobj"]
        subj = pobj[0] if pobj else None
    else:
        subj = _subject_of(speech)
    if subj is None or subj.pos_ == "PRON":
        return None
    return _name_with_affiliation(subj, doc, entities)


def _name_with_affiliation(subj: Token, doc: Doc, entities: Sequence[Any]) -> str | None:
    lo, hi = _subtree_bounds(subj)
    phrase = doc[lo:hi]
    first, last = phrase.start_char, phrase.end_char
    for ent in entities:  # the entity layer knows "Craft" is Kelly Craft
        if getattr(ent, "label", "") == "PERSON" and first <= ent.start < last:
            name = str(getattr(ent, "canonical", "") or ent.text)
            affiliation = _affiliation(name, doc) or _affiliation(ent.text, doc)
            return f"{name} ({affiliation})" if affiliation else name
    person = None
    for ent in _ents_in(phrase):
        if ent.label_ == "PERSON":
            person = ent
            break
    if person is None:
        # an organisation or a state: "KCNA (North Korea)", "South Korea's military", "Iran"
        actor = _actor_in_span(doc, lo, hi, subj, set())
        surface = doc[subj.left_edge.i : subj.i + 1].text
        if subj.pos_ == "PROPN" or subj.ent_type_ in ("ORG", "GPE", "NORP") or actor:
            if actor and actor not in surface:
                return f"{surface} ({actor})"
            return surface
        return None
    name = _full_name(person, doc, entities)
    affiliation = _affiliation(name, doc)
    return f"{name} ({affiliation})" if affiliation else name


def _full_name(person: Span, doc: Doc, entities: Sequence[Any]) -> str:
    surname = person.text.split()[-1]
    for ent in entities:
        if getattr(ent, "label", "") == "PERSON" and getattr(ent, "text", "") == person.text:
            canonical = getattr(ent, "canonical", "")
            if canonical:
                return canonical
    longest = person.text
    for ent in _ents_in(doc[:]):
        if ent.label_ == "PERSON" and ent.text.split()[-1] == surname and len(ent.text) > len(longest):
            longest = ent.text
    return longest


def _affiliation(name: str, doc: Doc) -> str | None:
    """A state named right before the person's fullest mention ('US Ambassador ... Kelly Craft')."""
    cache = _memo(doc, "affiliation")
    if name not in cache:
        cache[name] = _find_affiliation(name, doc)
    return cache[name]


def _find_affiliation(name: str, doc: Doc) -> str | None:
    for m in re.finditer(re.escape(name), doc_text(doc)):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is None:
            continue
        lo = max(span.sent.start, span.start - 8)
        hi = min(span.sent.end, span.end + 10)
        before = _actor_in_span(doc, lo, span.start, span.root, set())
        if before:
            return before
        after = doc[span.end : hi]
        if after.text[:2].startswith(","):
            actor = _actor_in_span(doc, span.end, hi, None, set())
            if actor:
                return actor
    return None


# ------------------------------------------------------------------------------------------ details


def _to_int(text: str) -> int | None:
    words = lexicon().cues["count_words"]
    t = text.lower().replace(",", "")
    if t.isdigit():
        return int(t)
    return words.get(t)


def _count(weapons: list[_Weapon], doc: Doc) -> int | None:
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


def _distances(sent: Span) -> tuple[float | None, float | None]:
    """(range_km, apogee_km) from '380 kilometres (236 miles)', 'altitude of 97 km', '300 miles'."""
    lex = lexicon()
    units = lex.cues["distance_units"]
    rng: float | None = None
    apogee: float | None = None
    text = _text(sent)
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
            (
                lex.res["range_cues"].search(before[-30:])
                or lex.res["range_cues"].search(after)
                or "range" in after
            )
            and "off the coast" not in after
            and "outside" not in after
        ):
            rng = rng if rng is not None else km
    return rng, apogee


def _location(trigger: Token, weapons: list[_Weapon], sent: Span) -> str | None:
    """'toward the Sea of Japan', 'into the sea off its east coast', 'from the Pyongyang area'.

    Directions (toward, into, off, over...) count as they are; other prepositions (from, near, in...)
    only with a named place in their phrase.
    """
    cues = lexicon().cues
    directional = set(cues["direction_preps_always"])
    preps = set(cues["direction_preps"]) | directional
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
                for e in _ents_in(sent)
            ) or bool(_alias_matches(" ".join(t.text for t in tokens), 0))
            if child.lower_ in directional or named:
                found.append(
                    (0 if child.lower_ in directional else 1, sent.doc[tokens[0].i : tokens[-1].i + 1].text)
                )
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


def _time_text(trigger: Token, sent: Span) -> str | None:
    chain_ids = {t.i for t in _chain(trigger, sent)}
    dates = [e for e in _ents_in(sent) if e.label_ in ("DATE", "TIME")]
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


def _weapon_name(weapons: list[_Weapon], sent: Span, entities: Sequence[Any]) -> str | None:
    for ent in entities:
        if getattr(ent, "label", "") == "WEAPON" and sent.start_char <= ent.start < sent.end_char:
            return str(getattr(ent, "canonical", "") or ent.text)
    for w in weapons:
        if any(ch.isdigit() for ch in w.text) or (w.text[:1].isupper() and w.text.upper() != w.text):
            name = re.sub(r"\s+(?:missiles?|rockets?)$", "", w.text, flags=re.IGNORECASE)
            if name.lower() not in ("ballistic", "missile"):
                return name
    return None


# ------------------------------------------------------------------------------------------ detect


_CACHE_KEY = "wirewatch.detector"


def _doc_cache(doc: Doc) -> dict[str, Any]:
    """Per-document memo (in ``doc.user_data``) so document-wide look-ups run once, not per candidate."""
    try:  # (not setdefault: that builds a new dict on every one of thousands of calls)
        return doc.user_data[_CACHE_KEY]
    except KeyError:
        cache: dict[str, Any] = {}
        doc.user_data[_CACHE_KEY] = cache
        return cache


def _memo(doc: Doc, name: str) -> dict[Any, Any]:
    """The per-document memo dict ``name`` in :func:`_doc_cache` (created on first use)."""
    cache = _doc_cache(doc)
    try:
        return cache[name]
    except KeyError:
        memo: dict[Any, Any] = {}
        cache[name] = memo
        return memo


def _text(span: Span) -> str:
    """``span.text`` as a slice of the cached article text (``Span.text`` materialises every token)."""
    return doc_text(span.doc)[span.start_char : span.end_char]


def _entity_actors(doc: Doc) -> list[tuple[int, int, str]]:
    """(start, end, actor) for entity mentions whose canonical name is on the watch list; set by detect().
    Read only (not copied: it is read for every actor look-up)."""
    return _doc_cache(doc).get("entity_actors", [])


def _ents_in(span: Span) -> list[Span]:
    """The named entities inside ``span`` (``Span.ents`` walks the whole document on every call)."""
    cache = _doc_cache(span.doc)
    if "ents" not in cache:
        cache["ents"] = [(e.start, e.end, e) for e in doc_ents(span.doc)]
    lo, hi = span.start, span.end
    return [e for start, end, e in cache["ents"] if lo <= start and end <= hi]


def _doc_is_civil_space(doc: Doc) -> bool:
    cache = _doc_cache(doc)
    if "civil" not in cache:
        res = lexicon().res
        cache["civil"] = bool(
            res["civil_space"].search(doc_text(doc))
            and not res["military_context_overrides_civil"].search(doc_text(doc))
        )
    return bool(cache["civil"])


def _in_sibling_clause(match: re.Match[str], sent: Span, trigger: Token) -> bool:
    """The cue sits in a conjunct coordinated with the trigger's ('could stage a parade or test-fire a
    missile', 'the engine test and the launch'): it describes another event."""
    span = sent.doc.char_span(
        sent.start_char + match.start(), sent.start_char + match.end(), alignment_mode="expand"
    )
    if span is None:
        return False
    conj_children = [c for c in trigger.children if c.dep_ == "conj"]
    own = {t.i for t in trigger.subtree} - {t.i for c in conj_children for t in c.subtree}
    if any(t.i in own for t in span):
        return False
    in_conj_child = any(t.i in {x.i for c in conj_children for x in c.subtree} for t in span)
    in_conj_head = trigger.dep_ == "conj" and all(t.i in {x.i for x in trigger.head.subtree} for t in span)
    return in_conj_child or in_conj_head


def _sentence_suppression(sent: Span, kind: str, trigger: Token | None = None) -> str | None:
    lex = lexicon()
    res = lex.res
    text = _text(sent)
    if res["fiction"].search(text) or res["hypothetical_cues"].search(text):
        return "fiction_or_hypothetical"
    if res["false_alarm"].search(text):
        return "denied"
    if res["intercept_test"].search(text):
        return "missile_defence"
    for key in ("engine_test", "parade"):
        m = res[key].search(text)
        if m and not (trigger is not None and _in_sibling_clause(m, sent, trigger)):
            return key
    if kind in ("rocket_artillery", "space_launch_vehicle", "ballistic_unspecified"):
        for key in ("fireworks", "model_rocket", "sports", "product"):
            if res[key].search(text) and not res["military_context_overrides_civil"].search(text):
                return key
    if (
        kind in ("space_launch_vehicle", "rocket_artillery", "ballistic_unspecified")
        and res["civil_space"].search(text)
        and not res["military_context_overrides_civil"].search(text)
    ):
        return "civilian_space"
    if kind in ("space_launch_vehicle", "rocket_artillery") and _doc_is_civil_space(sent.doc):
        return "civilian_space"
    return None


def detect(
    doc: Doc,
    entities: Sequence[Any] = (),
    *,
    published_at: str | None = None,
    config: DetectorConfig | None = None,
) -> Detection:
    """Launch findings (alertable, merged per event) and every candidate signal of one parsed article.

    The rules find the candidate sentences and describe them; the learned alert model (see
    :mod:`wirewatch.agents.alert_model`) decides which alert, their modality and kind. With
    ``config.learned`` off the rules decide alone.
    """
    config = config or DetectorConfig()
    sentences = sentence_candidates(doc, entities, published_at=published_at, config=config)
    if config.learned and sentences:
        model = alert_model(config)
        apply_decision(
            sentences,
            *model.predict(candidate_rows(sentences, model.spec)),
            model.threshold,
            config,
            model.distrusted_kinds,
        )
    return assemble(sentences, doc, entities, config)


def alert_model(config: DetectorConfig) -> AlertModel:
    """The configured alert model (WIREWATCH_ALERT_MODEL, else the shipped one), loaded once per process."""
    return load_alert_model(config.alert_model or None, KINDS, MODALITIES)


#: Rule reasons that are settings, not judgements: the model never overrides them.
POLICY_REASONS = frozenset({"non_state", "no_actor"})


def apply_decision(
    sentences: Sequence[SentenceCandidate],
    p_alert: Sequence[float],
    modality: Sequence[str],
    kind: Sequence[str],
    threshold: float,
    config: DetectorConfig,
    distrusted_kinds: Collection[str] = (),
) -> None:
    """Set the model's verdicts on the candidates (in place). A sentence alerts when its probability reaches
    ``threshold``: its rule-alertable candidates, or its first candidate when the rules suppress them all,
    take the model's modality, a kind (the named system's, the rules' specific one, or the model's) and
    the probability. A sentence below it leaves only suppressed candidates (reason ``model``). Settings
    (non-state rocket fire, unresolved actors) are applied as the rules do. ``distrusted_kinds``: kind
    sources (``named:srbm``... see :func:`kind_sources`) the model's training found at odds with the
    labels; the next source, or the model's kind, is taken instead."""
    for sc, p, mod, predicted_kind in zip(sentences, p_alert, modality, kind, strict=True):
        p = float(p)
        own = [c for c in sc.rule if not _policy_decides(c, config)]
        if not own:
            continue
        if p >= threshold:
            ruled = [c for c in own if c.reason is None]
            for c in ruled or [own[0]]:
                # the named system's kind, else a specific kind the rules read off the weapon words (by
                # grouped CV: kind accuracy 0.86 against 0.82 for the model's alone), else the model's
                trusted = [k for source, k in kind_sources(sc, c) if f"{source}:{k}" not in distrusted_kinds]
                c.reason = None
                c.modality = mod
                c.kind_override = trusted[0] if trusted else predicted_kind
                c.probability = p
        else:
            for c in own:
                if c.reason is None:
                    c.reason = "model"
                c.probability = p


def kind_sources(sc: SentenceCandidate, c: _Candidate) -> list[tuple[str, str]]:
    """Where a kind for candidate ``c`` of sentence ``sc`` can come from before the model, in order: the
    system the sentence names (``named``), a specific kind the rules read off the weapon words (``rule``)."""
    out = [("named", sc.named_kind)] if sc.named_kind else []
    rule_kind = _kind_of(c)
    return out + ([("rule", rule_kind)] if rule_kind != "ballistic_unspecified" else [])


def _policy_decides(c: _Candidate, config: DetectorConfig) -> bool:
    """Candidates a setting decides: suppressed by a policy reason, or non-state rocket fire when the
    user asked to be alerted on it (WIREWATCH_ALERT_NON_STATE_ROCKETS)."""
    if c.reason in POLICY_REASONS:
        return True
    if c.reason is not None or not config.alert_non_state_rockets:
        return False
    info = lexicon().actors.get(c.actor or "")
    return info is not None and not info.state


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


def assemble(
    sentences: Sequence[SentenceCandidate], doc: Doc, entities: Sequence[Any], config: DetectorConfig
) -> Detection:
    """The detection of decided candidate sentences: findings merged per event, and the signals."""
    # a stand-in the model did not alert on is no signal: the rules never saw a launch there
    cands = [c for sc in sentences for c in sc.rule if not (c.stand_in and c.reason is not None)]
    return _assemble(cands, doc, entities, config)


def sentence_candidates(
    doc: Doc,
    entities: Sequence[Any] = (),
    *,
    published_at: str | None = None,
    config: DetectorConfig | None = None,
) -> list[SentenceCandidate]:
    """Every sentence with a launch, missile or weapon cue, with the rules' candidates and signals."""
    config = config or DetectorConfig()
    lex = lexicon()
    _doc_cache(doc)["entity_actors"] = [
        (int(e.start), int(e.end), lex.alias_to_actor[e.canonical])
        for e in entities
        if getattr(e, "canonical", None) in lex.alias_to_actor and getattr(e, "label", "") != "WEAPON"
    ]
    doc_states, dominant = _doc_states(doc, entities)
    pub_year = _year_of(published_at)
    out: list[SentenceCandidate] = []
    previous = _PreviousActor(doc_states)
    prev_speaker: str | None = None
    sents = list(_sentences(doc))
    for index, sent in enumerate(sents):
        weapons = _weapons_in(sent)
        cue = _candidate_cue(sent) if not weapons else None
        if not weapons and cue is None:
            previous.push(sent)
            continue
        triggers = _trigger_tokens(sent, weapons) if weapons else []
        contested = any(_negation(t, sent) == "contested" for t in triggers) or _unconfirmed(sent)
        verbs = [t for t in triggers if t.pos_ in ("VERB", "AUX") or t.tag_.startswith("VB")]
        triggers = [
            t
            for t in triggers
            if t in verbs
            or not any(t.left_edge.i <= v.i <= t.right_edge.i and v.dep_ in ("acl", "relcl") for v in verbs)
        ]
        sent_candidates: list[_Candidate] = []
        pairs = [(trig, *_weapons_for(trig, sent, weapons, len(triggers))) for trig in triggers]
        if triggers and not any(ws for _t, ws, _f in pairs):
            # the parse linked no trigger to a weapon (it happens on odd parses): take the closest pair
            trig = min(triggers, key=lambda t: min(abs(t.i - w.tokens[0]) for w in weapons))
            pairs = [(trig, *_weapons_for(trig, sent, weapons, 1))]
        args = (doc, entities, doc_states, dominant, previous, prev_speaker, pub_year, config)
        for trig, ws, fallback in pairs:
            if ws:
                sent_candidates.append(_analyse(trig, sent, ws, fallback, *args))
        _resolve_contested(sent_candidates, contested)
        _share_weapon_actor(sent_candidates)
        named = [c.actor for c in sent_candidates if c.actor]
        if named:
            previous.set(named[0])
        else:
            previous.push(sent)
        speakers = [c.speaker for c in sent_candidates if c.speaker]
        if speakers:
            prev_speaker = speakers[0]
        rule_made = bool(sent_candidates)
        if not sent_candidates:
            # a cue the rules make nothing of: a stand-in candidate the model may still alert on
            anchor = cue or (triggers[0] if triggers else sent.doc[weapons[0].tokens[-1]].head)
            stand_in = _analyse(anchor, sent, weapons, True, *args)
            stand_in.stand_in = True
            if stand_in.reason is None:
                stand_in.reason = "no_trigger"
            sent_candidates = [stand_in]
        out.append(
            SentenceCandidate(
                sent=sent,
                index=index,
                rule=sent_candidates,
                signals=_rule_signals(sent, sent_candidates, weapons, rule_made, index, pub_year),
                named_kind=named_kind(_text(sent)),
                previous=sents[index - 1] if index > 0 else None,
                following=sents[index + 1] if index + 1 < len(sents) else None,
            )
        )
    if any(c.reason is None for sc in out for c in sc.rule):
        for sc in out:
            sc.signals.append("doc_rule_alert")
    return out


def _candidate_cue(sent: Span) -> Token | None:
    """The first launch word in a sentence that names no weapon ('The launch took place on Tuesday')."""
    sets = lexicon().cue_sets
    words = sets["verb_triggers"] | sets["noun_triggers"] | sets["candidate_cues"]
    cols = token_columns(sent.doc)
    for i in range(sent.start, sent.end):
        if cols.lemma[i] in words or cols.lower[i] in words:
            return sent.doc[i]
    return None


def _rule_signals(
    sent: Span, cands: list[_Candidate], weapons: list[_Weapon], rule_made: bool, index: int, pub_year: int | None
) -> list[str]:
    """The rules' view of a candidate sentence as feature names: cue, reasons, modality, kind, actor,
    speaker, and the suppression tests each asked on its own (the rules stop at the first that holds)."""
    lex = lexicon()
    text = _text(sent)
    out = [f"index:{min(index, 3)}", f"weapons:{min(len(weapons), 3)}", "rule" if rule_made else "no_rule"]
    out += [f"wkind:{w.kind}" for w in weapons if not w.defence]
    out += ["defence"] if any(w.defence for w in weapons) else []
    out += ["headline"] if _is_headline(sent) else []
    out += sorted({f"ent:{e.label_}" for e in _ents_in(sent)})
    out += ["doc_civil"] if _doc_is_civil_space(sent.doc) else []
    for key in ("first_since", "historical_date", "capability_cues", "hypothetical_cues", "civil_space", "orbit_cue"):
        if lex.res[key].search(text):
            out.append(f"cue:{key}")
    for c in cands:
        actor = lex.actors.get(c.actor or "")
        who = "none" if c.actor is None else ("state" if actor is not None and actor.state else "non_state")
        reason = c.reason or "alert"
        kind = _kind_of(c)
        trig = c.trigger
        out += [
            f"reason:{reason}",
            f"mod:{c.modality}",
            f"reason_mod:{reason}|{c.modality}",
            f"how:{c.how}",
            f"actor:{who}",
            f"kind:{kind}",
            f"kind_mod:{kind}|{c.modality}",
            f"trig:{trig.lemma_.lower()}",
            f"tag:{trig.tag_}",
        ]
        out += ["speaker"] if c.speaker else []
        out += ["fallback"] if c.via_fallback else []
        # the clause around the trigger: its role, its head, and the auxiliaries and modals (tense, mood)
        out += [
            f"dep:{trig.dep_}",
            f"head:{trig.head.lemma_.lower()}",
            f"trig_head:{trig.lemma_.lower()}|{trig.head.lemma_.lower()}",
        ]
        for tok in (trig, trig.head):
            out += [f"aux:{a.lower_}" for a in tok.children if a.dep_ in ("aux", "auxpass", "neg") or a.tag_ == "MD"]
        neg = _negation(trig, sent)
        out += [f"neg:{neg}"] if neg else []
        out += ["conditional"] if _conditional(trig, sent) else []
        out += ["historical"] if _historical(trig, sent, pub_year) else []
        out += ["present_narrative"] if _present_narrative(trig, sent) else []
        suppression = _sentence_suppression(sent, kind, trig)
        out += [f"suppress:{suppression}"] if suppression else []
    return out


class _PreviousActor:
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


def _sentences(doc: Doc) -> Iterable[Span]:
    """The parser's sentences, further cut at line breaks: a paragraph end is always a sentence end."""
    for sent in doc_sents(doc):
        if "\n" not in _text(sent):
            yield sent  # no line break inside: no token walk needed
            continue
        start = sent.start
        for tok in sent:
            if tok.is_space and "\n" in tok.text:
                if tok.i > start:
                    yield doc[start : tok.i]
                start = tok.i + 1
        if start < sent.end:
            yield doc[start : sent.end]


def _year_of(published_at: str | None) -> int | None:
    if not published_at:
        return None
    m = re.match(r"(\d{4})", published_at)
    return int(m.group(1)) if m else None


def _analyse(
    trig: Token,
    sent: Span,
    ws: list[_Weapon],
    fallback: bool,
    doc: Doc,
    entities: Sequence[Any],
    doc_states: set[str],
    dominant: str | None,
    previous: _PreviousActor,
    prev_speaker: str | None,
    pub_year: int | None,
    config: DetectorConfig,
) -> _Candidate:
    lex = lexicon()
    offensive = [w for w in ws if not w.defence]
    kind = max((w.kind for w in offensive), key=lambda k: KIND_RANK[k], default="ballistic_unspecified")
    reason: str | None = None
    if not offensive:
        reason = "missile_defence" if ws else "no_weapon"
    actor, how = _resolve_actor(trig, sent, offensive or ws, doc_states, previous)
    if how == "non_actor_subject" and reason is None:
        reason = "non_actor_subject"
    if actor is None and how != "non_actor_subject":
        actor = dominant if dominant in doc_states else None
    speaker = _speaker(trig, sent, doc, entities)
    if speaker is None and _quoted_continuation(sent):
        speaker = prev_speaker
    speaker_actor = _actor_of_text(speaker)
    modality = _modality(trig, sent, actor, speaker_actor)
    if modality == "threatened" and speaker_actor and how in ("none", "sentence", "previous"):
        # "Kim threatened to fire an ICBM over Japan, the North's news agency said": a threat reported
        # by the threatening side's own voice names its launcher
        actor, how = speaker_actor, "speaker"
        modality = _modality(trig, sent, actor, speaker_actor)
    neg = _negation(trig, sent)
    if neg is None and any(
        c.lower_ in ("no", "none") and c.dep_ == "det" for w in offensive for c in doc[w.tokens[-1]].children
    ):
        neg = "denied"  # "No missile was fired"
    if reason is None and neg is not None:
        reason = "contested" if neg == "contested" else ("denied" if neg == "denied" else "negated")
    if reason is None and _conditional(trig, sent):
        reason = "hypothetical"
    if reason is None and lex.res["capability_cues"].search(_text(sent)) and _capability_scope(trig, sent):
        reason = "capability"
    if reason is None and modality == "occurred" and _historical(trig, sent, pub_year):
        reason = "historical"
    if reason is None and modality == "occurred" and _present_narrative(trig, sent):
        reason = "present_narrative"
    if reason in (None, "non_actor_subject"):
        reason = _sentence_suppression(sent, kind, trig) or reason
    actor_info = lex.actors.get(actor) if actor else None
    if actor_info is not None and not actor_info.state:
        kind = "rocket_artillery"
        if reason is None and not config.alert_non_state_rockets:
            reason = "non_state"
    if (
        kind == "space_launch_vehicle"
        and reason is None
        and actor_info is not None
        and not actor_info.space_launch_counts
    ):
        reason = "civilian_space"
    if kind == "rocket_artillery" and actor_info is None and reason is None:
        reason = "no_state_actor"
    if actor is None and reason is None and not config.alert_unknown_actor:
        reason = "no_actor"
    confidence = 0.55
    confidence += 0.15 if kind not in ("ballistic_unspecified", "rocket_artillery") else 0.0
    confidence += (
        0.15 if actor and how in ("subject", "modifier", "weapon_modifier", "by", "origin") else 0.05
    )
    confidence -= 0.15 if fallback else 0.0
    confidence += 0.1 if modality == "occurred" and trig.tag_ in ("VBD", "VBN") else 0.0
    return _Candidate(
        trig, sent, ws, modality, actor, reason, speaker, max(0.05, min(0.99, confidence)), fallback, how
    )


def _capability_scope(trig: Token, sent: Span) -> bool:
    """The trigger sits under 'capable of / ability to' (a capability, not an event)."""
    for tok in _chain(trig, sent)[:4]:
        if tok.lower_ in (
            "capable",
            "ability",
            "capability",
            "capabilities",
            "able",
            "technology",
            "designed",
        ):
            return True
        for child in tok.children:
            if child.lower_ in ("capable", "ability", "able"):
                return True
    return False


def _quoted_continuation(sent: Span) -> bool:
    text = _text(sent).lstrip()
    return text[:1] in ('"', "“", "'", "‘") or (text.count("“") + text.count('"')) % 2 == 1


def _actor_of_text(speaker: str | None) -> str | None:
    if not speaker:
        return None
    for _s, _e, alias, kind in _alias_matches(speaker, 0):
        actor = _actor_of_alias(alias, kind, set())
        if actor:
            return actor
    return None


def _unconfirmed(sent: Span) -> bool:
    """'could not confirm the reports', 'unconfirmed reports': the launch is contested."""
    verbs = lexicon().cue_sets["contest_verbs"]
    cols = token_columns(sent.doc)
    for i in range(sent.start, sent.end):
        if cols.lemma[i] in verbs and cols.pos[i] in ("VERB", "AUX") and _has_neg_at(i, cols):
            return True
        if cols.lower[i] in ("unconfirmed", "unverified"):
            return True
    return False


#: Ways of finding the actor that read it off the launch clause itself (not a guess from the sentence).
_GRAMMATICAL_HOWS = frozenset(
    {"subject", "modifier", "weapon_modifier", "by", "origin", "possessive", "speaker_pronoun", "system"}
)


def _share_weapon_actor(cands: list[_Candidate]) -> None:
    """Triggers about the same weapon mention ('a missile launched from X flew 800 km') are one event:
    a guessed actor gives way to one read off the grammar."""
    for c in cands:
        if c.how in _GRAMMATICAL_HOWS:
            continue
        starts = {w.start for w in c.weapons}
        donors = [d for d in cands if d is not c and d.how in _GRAMMATICAL_HOWS and d.actor]
        donor = next((d for d in donors if starts & {w.start for w in d.weapons}), None)
        if donor is not None and donor.actor != c.actor:
            c.actor, c.how = donor.actor, donor.how
            actor = lexicon().actors.get(donor.actor)
            if actor is not None and not actor.state and c.reason is None:
                c.reason = donor.reason


def _resolve_contested(cands: list[_Candidate], contested: bool) -> None:
    """One source says launch, another has no evidence: the launch is possible, not occurred."""
    if not contested and not any(c.reason == "contested" for c in cands):
        return
    for c in cands:
        if c.reason is None and c.modality == "occurred":
            c.modality = "possible"


def _assemble(
    cands: list[_Candidate], doc: Doc, entities: Sequence[Any], config: DetectorConfig
) -> Detection:
    """Merge same-event candidates (actor, kind family, modality) into findings; keep the rest as signals."""
    groups: list[list[_Candidate]] = []
    suppressed: list[_Candidate] = []
    for c in cands:
        if c.reason is not None:
            suppressed.append(c)
            continue
        placed = False
        for g in groups:
            if _same_event(g, c):
                g.append(c)
                placed = True
                break
        if not placed:
            groups.append([c])
    findings = [
        f for f in (_finding_of(g, entities, config) for g in groups) if f.confidence >= config.min_confidence
    ]
    findings.sort(key=lambda f: f.evidence[0].start)
    signals = [Signal(f, True, None, "") for f in findings]
    for c in suppressed:
        # a suppressed candidate reads as what it is: denied, historical, or the reported modality
        shown = {"denied": "denied", "negated": "denied", "contested": "denied", "historical": "historical"}
        finding = _finding_of([c], entities, config)
        finding = replace(finding, modality=shown.get(c.reason or "", finding.modality))
        signals.append(Signal(finding, False, c.reason, c.trigger.text))
    return Detection(findings=findings, signals=signals)


def _same_event(group: list[_Candidate], c: _Candidate) -> bool:
    head = group[0]
    if (head.actor or "") != (c.actor or "") or head.modality != c.modality:
        return False
    families = {kind_family(_kind_of(x)) for x in group}
    fam = kind_family(_kind_of(c))
    if fam in families or fam == "ballistic_unspecified":
        return True
    ballistic = {"long_range", "short_range"}
    return families <= {"ballistic_unspecified"} and fam in ballistic | {"ballistic_unspecified"}


def _kind_of(c: _Candidate) -> str:
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
        about_space = res["orbit_cue"].search(_text(c.sent)) or any(
            w.kind == "space_launch_vehicle" for w in _weapons_in(c.sent)
        )
        if c.trigger.lemma_.lower() == "launch" or about_space:
            return "space_launch_vehicle"
    if kind == "ballistic_unspecified" and lexicon().res["submarine_launch"].search(_text(c.sent)):
        return "slbm"  # "fired a ballistic missile from a submarine"
    if kind == "ballistic_unspecified":
        return _identified_kind(c.sent) or kind
    return kind


def _identified_kind(sent: Span) -> str | None:
    """'The missile, believed to be a KN-23, flew ...': the kind of the system a generic mention is
    identified as."""
    cue = lexicon().res["identification_cue"]
    text, base = _text(sent), sent.start_char
    for w in _weapons_in(sent):
        if w.defence or w.kind in ("ballistic_unspecified", "rocket_artillery"):
            continue
        if cue.search(text[max(0, w.start - base - 60) : w.start - base]):
            return w.kind
    return None


def _evidence(sent: Span, trigger: Token) -> Evidence:
    """The trigger's sentence, cut at line breaks (the parser sometimes runs paragraphs together) and
    stripped; offsets stay exact positions in the article text."""
    text, base = _text(sent), sent.start_char
    at = trigger.idx - base
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    return Evidence(piece, base + start + lead, base + start + lead + len(piece))


def _finding_of(group: list[_Candidate], entities: Sequence[Any], config: DetectorConfig) -> Finding:
    kind = max((_kind_of(c) for c in group), key=lambda k: KIND_RANK[k])
    first = group[0]
    modality = first.modality
    details = _empty_details()
    for c in group:
        ws = [w for w in c.weapons if not w.defence]
        rng, apogee = _distances(c.sent)
        found = {
            "count": _count(ws, c.sent.doc) if modality == "occurred" else None,
            "range_km": rng,
            "apogee_km": apogee,
            "location": _location(c.trigger, ws, c.sent),
            "time_text": _time_text(c.trigger, c.sent),
            "weapon_name": _weapon_name(ws, c.sent, entities),
        }
        for key, value in found.items():
            if details[key] is None and value is not None:
                details[key] = value
    evidence: list[Evidence] = []
    for c in group:
        ev = _evidence(c.sent, c.trigger)
        if ev not in evidence:
            evidence.append(ev)
    speaker = next((c.speaker for c in group if c.speaker), None) if modality != "occurred" else None
    # the model's calibrated probability when it decided (no bonus per sentence), else the rules' score
    probabilities = [c.probability for c in group if c.probability is not None]
    rule_score = max(c.confidence for c in group) + 0.05 * (len(evidence) - 1)
    confidence = max(probabilities) if probabilities else rule_score
    return Finding(
        kind=kind,
        modality=modality,
        actor=first.actor or UNKNOWN_ACTOR,
        speaker=speaker,
        details=details,
        severity=config.severity(kind, modality),
        confidence=round(min(0.99, confidence), 3),
        evidence=tuple(evidence),
    )


def analyze_docs(
    nlp: Language, texts: Sequence[str], *, config: DetectorConfig | None = None, batch_size: int = 16
) -> list[tuple[list[Any], Detection]]:
    """Entities and detection per text, as the enrich agent computes them (``nlp.pipe`` → ``entities_of``
    → :func:`detect` in one memory zone; enrichment imports this module, so it cannot be called here)."""
    out = []
    with nlp.memory_zone():
        for doc in nlp.pipe(list(texts), batch_size=batch_size):
            entities = entities_of(doc)
            out.append((entities, detect(doc, entities, config=config)))
    return out

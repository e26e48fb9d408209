"""Stance stage 4: the rules' readings of target mentions grouped into (speaker, target) pairs.

A pair is what the learned polarity decides on: one speaker's position toward one target in one article,
with every reading the rules made of it (cues, abstentions, evidence sentences). A mention the rules
found no speaker for is the author's; the author's own sentences make a pair only through evaluative words
(news copy reports, it does not opine), as the rules have it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from spacy.tokens import Doc

from ..evidence import Evidence
from ..learning.linear import LinearModel
from ..nlp import EntityMention
from .lexicon import Lexicon, load_lexicon
from .readings import is_authors_unjudged, read_document
from .records import Reading, Speaker
from .topic import MIN_PROBABILITY, detect_each, topic_strings


@dataclass
class Pair:
    """One speaker and one target in one article, with the rules' readings (text order)."""

    speaker_info: Speaker
    target: str
    readings: list[Reading] = field(default_factory=list)
    reported: bool = True  # the speaker only reports these positions (every reading has it as a reporter)
    implied: float = 0.0  # clause readings whose target the detector gave, with this probability (0: named)

    @property
    def speaker(self) -> str:
        """The speaker as named in the text ("" for the author)."""
        return self.speaker_info.surface

    @property
    def speaker_canonical(self) -> str:
        return self.speaker_info.canonical

    @property
    def affiliation(self) -> str | None:
        return self.speaker_info.affiliation

    @property
    def resolved(self) -> bool:
        """False for a pronoun or an unattributed quote whose speaker the article does not name."""
        return not self.speaker or bool(self.speaker_canonical)

    def evidence(self) -> tuple[Evidence, ...]:
        """The evidence sentences, strongest rule reading first, then in text order (no repeats)."""
        ranked = sorted(self.readings, key=lambda r: (-(abs(r.vote) * r.weight), r.evidence.start))
        return tuple(dict.fromkeys(r.evidence for r in ranked))


def find_pairs(
    doc: Doc,
    entities: Sequence[EntityMention] = (),
    lexicon: Lexicon | None = None,
    topic: LinearModel | None = None,
) -> list[Pair]:
    """The (speaker, target) pairs of ``doc``, in the order they are first read: those of named targets,
    then, with a ``topic`` detector, one implied pair per speaker whose clauses the detector assigns a
    target they have no named pair for. Inside the doc's memory zone."""
    readings, clauses = read_document(doc, entities, lexicon, clauses=topic is not None)
    pairs = group_readings(readings)
    if topic is None:
        return list(pairs.values())
    lex = lexicon or load_lexicon()
    named = {r.mention.target for r in readings}
    groups = group_readings(clauses)
    detected = detect_each(topic, [topic_strings(doc, group.evidence(), named, lex) for group in groups.values()])
    for (key, group), (target, p) in zip(groups.items(), detected, strict=True):
        if p >= MIN_PROBABILITY and (key[0], target) not in pairs:
            pairs[(key[0], target)] = implied_pair(group, target, p)
    return list(pairs.values())


def implied_pair(group: Pair, target: str, probability: float) -> Pair:
    """A speaker's clause readings (``group``) as a pair toward ``target``."""
    return Pair(group.speaker_info, target, group.readings, group.reported, implied=probability)


def clause_groups(
    doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None
) -> tuple[list[Pair], list[Pair], set[str]]:
    """The named-target pairs, the speakers' clause groups (target :data:`IMPLIED`), and the named targets."""
    readings, clauses = read_document(doc, entities, lexicon)
    named = {r.mention.target for r in readings}
    return list(group_readings(readings).values()), list(group_readings(clauses).values()), named


def group_readings(readings: Sequence[Reading]) -> dict[tuple[str, str], Pair]:
    """Readings grouped by (speaker, target), in the order they are first read."""
    pairs: dict[tuple[str, str], Pair] = {}
    for reading in readings:
        # an author's unjudged sentence is no one's position, unless a reporter or actor is found for it
        own = [] if is_authors_unjudged(reading) else reading.speakers
        holders = [(spk, False) for spk in own] + [(spk, True) for spk in reading.reporters]
        for spk, reports in holders:
            key = (spk.canonical or f"?{spk.surface}", reading.mention.target)
            pair = pairs.get(key)
            if pair is None:
                pair = pairs[key] = Pair(spk, reading.mention.target)
            elif pair.affiliation is None and spk.affiliation:
                pair.speaker_info = Speaker(pair.speaker, spk.canonical, spk.affiliation, spk.person, 0)
            if not any(r is reading for r in pair.readings):
                pair.readings.append(reading)
                pair.reported = pair.reported and reports
    return pairs

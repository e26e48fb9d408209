"""Stance records: the output stance, a speaker, a target mention, and the rules' reading of a mention."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Token

from ..evidence import Evidence

FAVOR, AGAINST, NEUTRAL = "favor", "against", "neutral"
#: Why the rules take no side on a mention: a question, a refusal to judge, a hypothetical, no cue at all.
ABSTAIN_QUESTION, ABSTAIN_DECLINED, ABSTAIN_CONDITIONAL = "question", "declined", "conditional"
ABSTAIN_NO_CUE = "no_cue"
ABSTAIN_IMPLIED = "implied"  # a clause reading: no target word, so no rule vote
IMPLIED = ""  # the target of a clause reading until a detector names one


UNATTRIBUTED = "(unattributed quote)"


@dataclass(frozen=True)
class Stance:
    """The aggregated stance of one speaker toward one target in one article."""

    speaker: str  # as named in the text ("" for the author's own statements)
    speaker_canonical: str  # canonical name; "" for the author and for speakers that stayed unresolved
    affiliation: str | None
    target: str
    stance: str  # favor / against / neutral
    confidence: float
    evidence: tuple[Evidence, ...]  # strongest first

    @property
    def resolved(self) -> bool:
        """False for a pronoun or an unattributed quote whose speaker the article does not name."""
        return not self.speaker or bool(self.speaker_canonical)

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "speaker_canonical": self.speaker_canonical,
            "affiliation": self.affiliation,
            "target": self.target,
            "stance": self.stance,
            "confidence": self.confidence,
            "evidence": self.evidence[0].to_dict() if self.evidence else None,
            "evidence_all": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Speaker:
    surface: str
    canonical: str  # "" = unresolved (or the author when surface is "")
    affiliation: str | None
    person: bool
    position: int  # char offset where it was named


AUTHOR = Speaker("", "", None, False, 0)


@dataclass(frozen=True)
class Mention:
    target: str
    polarity: int
    root: Token
    start: int  # token indices [start, end)
    end: int


@dataclass
class Reading:
    """What the rules read off one target mention: whose it is, the cues on the way, and their vote."""

    speakers: list[Speaker]
    vote: int  # -1, 0, +1
    weight: int
    evidence: Evidence
    judged: bool  # an evaluative word or phrase took part (the only stance an author's own text shows)
    mention: Mention
    abstain: str | None = None  # ABSTAIN_*: why the rules take no side (None: they take one)
    conditional: bool = False  # the mention sits in a conditional clause
    rhetorical: bool = False  # in a rhetorical question
    negated: bool = False  # the mention itself is negated ("no sanctions")
    in_quote: bool = False
    holder_verb: int | None = None  # token index of the speaker verb whose subject holds the position
    reporters: list[Speaker] = field(default_factory=list)  # who reports the position (see find_reporters)

"""Stance tagging: who says what about sanctions, diplomacy, denuclearization, military action, provocation.

The flow over one parsed ``Doc`` (pure logic, no Faust), stage by stage:

1. :mod:`.speakers` — the document context (quotes and whom they are attributed to, speakers named so far,
   pronouns and roles resolved) and, for any token, the holder and reporters of what it says;
2. :mod:`.targets` — where the text names a target (terms, verb objects, modified nouns of
   :mod:`.lexicon`, and pronouns a judging verb takes);
3. :mod:`.readings` — per mention, a walk up the dependency tree that reads the cues of :mod:`.cues`
   (valence, negation, contrast, evaluative words, conditionals) and stops at its speaker; plus one clause
   reading per sentence that has a speaker (its target left to the detector of :mod:`.topic`);
4. :mod:`.pairs` — readings grouped into (speaker, target) pairs, with implied pairs from :mod:`.topic`;
5. :mod:`.features` and :mod:`.model` — a pair's features, and the learned favor / against / neutral with
   a calibrated probability;
6. :mod:`.assembly` — :func:`tag_stances`: the stances of one doc.

:mod:`.train` fits the model (``wirewatch train stance``); :func:`extract_stances` is the rules' own vote,
kept as a baseline.
"""

from __future__ import annotations

from ..evidence import Evidence
from .assembly import tag_stances
from .lexicon import Lexicon, build_lexicon, load_lexicon
from .readings import extract_stances, is_authors_unjudged, read_document, read_mentions
from .records import (
    ABSTAIN_IMPLIED,
    AGAINST,
    FAVOR,
    IMPLIED,
    NEUTRAL,
    UNATTRIBUTED,
    Mention,
    Reading,
    Speaker,
    Stance,
)
from .speakers import subject_of

__all__ = [
    "ABSTAIN_IMPLIED",
    "AGAINST",
    "FAVOR",
    "IMPLIED",
    "NEUTRAL",
    "UNATTRIBUTED",
    "Evidence",
    "Lexicon",
    "Mention",
    "Reading",
    "Speaker",
    "Stance",
    "build_lexicon",
    "extract_stances",
    "is_authors_unjudged",
    "load_lexicon",
    "read_document",
    "read_mentions",
    "subject_of",
    "tag_stances",
]

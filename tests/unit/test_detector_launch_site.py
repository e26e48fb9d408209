"""A launch site named for satellites ('Sohae Satellite Launching Station', 'the satellite launch site') names no
weapon: a test told there without its object is no satellite launch. Read with the real spaCy pipeline.

Sentences here were written for the project."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.detector.candidates import weapons_in


@pytest.mark.parametrize(
    ("text", "weapons"),
    [
        pytest.param(
            "The test was conducted on Thursday at the Sohae Satellite Launching Station, state media said.",
            [],
            id="site-name",
        ),
        pytest.param("Engineers tested a new engine at the satellite launch site near Tongchang-ri.", [], id="site"),
        pytest.param(
            "North Korea launched a satellite from its Sohae Satellite Launching Station on Tuesday.",
            ["satellite"],
            id="satellite-launched-from-the-site",
        ),
    ],
)
def test_a_launch_site_named_for_satellites_names_no_weapon(nlp: Language, text: str, weapons: list[str]) -> None:
    """A test told without its object at a site named for satellite launches is no launch of a satellite: the
    site's name gives the sentence no weapon (the model still reads its launch words)."""
    doc = nlp(text)
    assert [w.text for w in weapons_in(next(iter(doc.sents)))] == weapons

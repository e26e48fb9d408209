"""Speaker attribution shapes of real copy (stance stage 1), on sentences written for the project and the real
spaCy pipeline. Each failed before the fix named in its test: the outlet, or no one, was taken as the speaker."""

from __future__ import annotations

import pytest
from spacy.language import Language

from wirewatch.agents.document import dateline_tokens
from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance import UNATTRIBUTED, read_document
from wirewatch.agents.stance.pairs import Pair, clause_groups


def pairs_of(nlp: Language, text: str) -> tuple[list[Pair], list[Pair]]:
    doc = nlp(text)
    pairs, groups, _ = clause_groups(doc, entities_of(doc))
    return pairs, groups


def speakers(pairs: list[Pair], target: str | None = None) -> set[str]:
    return {p.speaker_canonical or p.speaker for p in pairs if target is None or p.target == target}


@pytest.mark.parametrize(
    ("text", "speaker", "outlet"),
    [
        # passive "quoted as saying by": the quoted official holds the words, not the newspaper
        (
            '"Sanctions will never work," a senior Iranian diplomat in Geneva was quoted as saying by the Tehran '
            "Times.",
            "senior Iranian diplomat in Geneva",
            "Tehran",
        ),
        # "quoted by X as saying": was an unattributed quote
        (
            '"We reject any talks with the occupiers," the rebel commander was quoted by state radio as saying.',
            "rebel commander",
            "state radio",
        ),
    ],
)
def test_the_one_quoted_as_saying_holds_the_quote(nlp: Language, text: str, speaker: str, outlet: str) -> None:
    pairs, _ = pairs_of(nlp, text)
    found = speakers(pairs)
    assert speaker in found
    assert not any(outlet in s for s in found)
    assert UNATTRIBUTED not in {p.speaker for p in pairs}


def test_a_quote_keeps_its_speaker_when_an_outlet_reports_it(nlp: Language) -> None:
    """'"...," A said, Reuters reported': A holds the quote (the verb next to it names A); Reuters only reports
    it, for the target readings and for the clause the target detector reads."""
    text = (
        '"Talks with Washington are pointless," Foreign Minister Anna Berg said, Reuters reported, citing local media.'
    )
    doc = nlp(text)
    readings, clauses = read_document(doc, entities_of(doc))
    talks = next(r for r in readings if r.mention.target == "diplomacy")
    assert [s.canonical for s in talks.speakers] == ["Anna Berg"]
    assert [s.canonical for s in talks.reporters] == ["Reuters"]
    assert "Anna Berg" in {s.canonical for r in clauses for s in r.speakers}


def test_a_document_speaks_for_the_body_that_issued_it(nlp: Language) -> None:
    """'Friday's Foreign Ministry statement said': the ministry, not "Friday's ... statement"."""
    pairs, groups = pairs_of(nlp, '"Talks are the only way forward," Friday\'s Foreign Ministry statement said.')
    assert speakers(pairs, "diplomacy") == {"Foreign Ministry"}
    assert speakers(groups) == {"Foreign Ministry"}


def test_a_reporting_verb_hung_below_the_reported_clause_still_reports_it(nlp: Language) -> None:
    """'Norway opposes ..., the Foreign Ministry said, after ...' (the parser makes "said" a parataxis of
    "opposes"): the ministry reports Norway's position."""
    text = (
        "Norway opposes any unilateral sanctions on Belarus, the Foreign Ministry said, after the European Union "
        "imposed new curbs on the country."
    )
    pairs, _ = pairs_of(nlp, text)
    assert speakers(pairs, "sanctions") == {"Norway", "Foreign Ministry"}


def test_quoted_words_are_not_the_subject_of_the_verb_that_reports_them(nlp: Language) -> None:
    """The parser takes the quote's last noun as the subject of "told" and hangs the speaker on it in
    apposition: the speaker is the name outside the quote."""
    text = (
        '"Norway does not accept unilateral sanctions, only sanctions by the United Nations," Lars Holm, state '
        "secretary at Norway's trade ministry, told the BBC when asked about oil imports."
    )
    pairs, _ = pairs_of(nlp, text)
    assert speakers(pairs, "sanctions") == {"Lars Holm"}


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # a speaker verb in a relative clause
        (
            'The remarks followed threats by a senior official, Reza Karimi, who announced on Monday that "we will '
            'answer any attack within hours."',
            "Reza Karimi",
        ),
        # a reporting participle below the root ("lashed out ..., SAYING it showed ...")
        (
            "Minister Lena Dahl lashed out at the decision, saying it showed the failure of the whole approach.",
            "Lena Dahl",
        ),
    ],
)
def test_speaker_verbs_below_the_root_have_clause_readings(nlp: Language, text: str, speaker: str) -> None:
    """What the target detector reads for a speaker whose words name no target: the content of every speaker
    verb, not only of the sentence root's."""
    _, groups = pairs_of(nlp, text)
    assert speaker in speakers(groups)


def test_an_infinitive_adverbial_clause_shares_its_head_verbs_subject(nlp: Language) -> None:
    """'X went on TO STRESS that ...': X speaks (was only the allies of the reported clause)."""
    text = "The South Korean minister went on to stress that the two allies agree on a diplomatic solution."
    pairs, _ = pairs_of(nlp, text)
    assert "South Korean minister" in speakers(pairs, "diplomacy")


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "SEOUL, March 3 (Yonhap) -- Foreign Minister Park Jin said the sanctions on the North were necessary.",
            "Park Jin",
        ),
        ("HELSINKI, May 9 (Nordpress) -- Ambassador Erik Lund said the sanctions had failed.", "Erik Lund"),
        # a dateline in title case: the parser makes the city one subject and the speaker another
        ("Tallinn, Estonia - Ambassador Mart Kask said the sanctions had failed.", "Mart Kask"),
    ],
)
def test_a_wire_dateline_is_not_the_speaker(nlp: Language, text: str, speaker: str) -> None:
    """The parser makes the dateline's place the subject and the speaker its apposition: the speaker is the
    one after the dash, not 'SEOUL, March 3 (Yonhap'."""
    pairs, _ = pairs_of(nlp, text)
    found = speakers(pairs, "sanctions")
    assert any(speaker in s for s in found), found
    assert not any(s.isupper() or "(" in s for s in found), found


def test_a_capitalised_headline_is_no_dateline(nlp: Language) -> None:
    doc = nlp("NATO WARNS OF NEW TESTS - The alliance said the talks had failed.")
    assert not any(dateline_tokens(sent) for sent in doc.sents)
    doc = nlp("TOKYO (AP) — Japan's defense minister said the sanctions were necessary.")
    assert sorted(dateline_tokens(next(iter(doc.sents)))) == [0, 1, 2, 3, 4]

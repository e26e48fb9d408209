"""Stance tagging: attribution patterns, stance cues with their scope, aggregation and the seed article."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance import (
    AGAINST,
    FAVOR,
    Stance,
    build_lexicon,
    extract_stances,
    load_lexicon,
)


def stances(nlp: Language, text: str) -> list[Stance]:
    doc = nlp(text)
    return extract_stances(doc, entities_of(doc))


def find(found: list[Stance], name: str, target: str) -> Stance:
    """The stance of the speaker whose canonical name or surface contains ``name``, toward ``target``."""
    hits = [
        s
        for s in found
        if s.target == target and (name in s.speaker_canonical or name in s.speaker or name == s.speaker)
    ]
    summary = [(s.speaker, s.speaker_canonical, s.target, s.stance) for s in found]
    assert hits, f"no {target} stance for {name!r}; found {summary}"
    assert len(hits) == 1, f"several {target} stances for {name!r}: {summary}"
    return hits[0]


def targets_of(found: list[Stance], name: str) -> set[str]:
    return {s.target for s in found if name in s.speaker_canonical or name in s.speaker}


# --- attribution -------------------------------------------------------------------------------------------
def test_quote_then_reporting_verb(nlp: Language) -> None:
    text = '"We oppose any new sanctions," Zakharova told reporters.'
    s = find(stances(nlp, text), "Zakharova", "sanctions")
    assert s.stance == AGAINST
    assert s.affiliation == "Russia"  # from the speakers table: the text does not say it
    assert s.evidence[0].text == text


def test_reporting_verb_before_the_speaker(nlp: Language) -> None:
    text = '"Talks are the only way forward," said Maria Perez, a spokeswoman for the European Union.'
    s = find(stances(nlp, text), "Maria Perez", "diplomacy")
    assert s.stance == FAVOR
    assert s.affiliation == "European Union"  # from the apposition


def test_reported_speech_without_quotes(nlp: Language) -> None:
    found = stances(nlp, "Olga Petrova said she opposes new sanctions against Iran.")
    assert find(found, "Olga Petrova", "sanctions").stance == AGAINST


def test_reporter_shares_the_position_of_her_own_state(nlp: Language) -> None:
    text = "Russian Ambassador Olga Petrova said Moscow does not support new sanctions against Iran."
    found = stances(nlp, text)
    petrova = find(found, "Olga Petrova", "sanctions")
    assert petrova.stance == AGAINST
    assert petrova.affiliation == "Russia"
    assert find(found, "Moscow", "sanctions").stance == AGAINST
    # a reporter of another state's position does not share it
    other = stances(nlp, "US Ambassador Jane Doe said Moscow does not support new sanctions against Iran.")
    assert "sanctions" not in targets_of(other, "Jane Doe")


def test_continued_quote_in_the_next_sentence_and_paragraph(nlp: Language) -> None:
    text = (
        '"We welcome this step," Ambassador Ana Ruiz said. "Dialogue must continue."\n'
        '"Any new sanctions would be counterproductive."'
    )
    found = stances(nlp, text)
    assert find(found, "Ana Ruiz", "diplomacy").stance == FAVOR
    sanctions = find(found, "Ana Ruiz", "sanctions")
    assert sanctions.stance == AGAINST
    assert sanctions.evidence[0].text == '"Any new sanctions would be counterproductive."'


def test_according_to(nlp: Language) -> None:
    found = stances(nlp, "According to the Japanese defence ministry, Tokyo condemned the missile launch.")
    s = find(found, "Japanese defence ministry", "provocation")
    assert s.stance == AGAINST
    assert s.affiliation == "Japan"


def test_pronoun_resolves_to_last_named_person(nlp: Language) -> None:
    text = 'Senator Ted Hill criticised the plan. "We must never resume talks with Pyongyang," he said.'
    s = find(stances(nlp, text), "Ted Hill", "diplomacy")
    assert s.stance == AGAINST
    assert s.speaker == "he"
    assert s.affiliation == "United States"  # the title "Senator"


def test_role_noun_resolves_to_named_speaker_of_that_affiliation(nlp: Language) -> None:
    text = "Nebenzia said the council should meet again. The Russian ambassador explained that sanctions had failed."
    s = find(stances(nlp, text), "Nebenzia", "sanctions")
    assert s.stance == AGAINST
    assert s.speaker == "Russian ambassador"
    assert s.affiliation == "Russia"


def test_unnamed_role_keeps_its_phrase_and_affiliation(nlp: Language) -> None:
    found = stances(nlp, "The North Korean envoy said that denuclearization was out of the question.")
    s = find(found, "North Korean envoy", "denuclearization")
    assert s.stance == AGAINST
    assert s.affiliation == "North Korea"


def test_affiliation_from_title_phrase(nlp: Language) -> None:
    found = stances(nlp, "US Ambassador to the United Nations Jane Doe urged North Korea to resume dialogue.")
    s = find(found, "Jane Doe", "diplomacy")
    assert s.stance == FAVOR
    assert s.affiliation == "United States"  # the first affiliation word, not "United Nations"


def test_object_control_gives_the_speaker(nlp: Language) -> None:
    text = "The envoy spoke on Monday, prompting President Tom Reed to urge the country to denuclearize."
    assert find(stances(nlp, text), "Tom Reed", "denuclearization").stance == FAVOR


def test_unattributed_quote_is_unresolved(nlp: Language) -> None:
    found = stances(nlp, '"We will resume enrichment without any limits."')
    assert len(found) == 1
    assert found[0].target == "denuclearization" and found[0].stance == AGAINST
    assert not found[0].resolved and found[0].speaker_canonical == ""


def test_third_party_inside_a_quote_is_not_the_quoted_speaker(nlp: Language) -> None:
    text = '"Pyongyang has threatened to resume its missile tests," Ambassador Kate Lind said.'
    found = stances(nlp, text)
    assert "provocation" not in targets_of(found, "Kate Lind")
    assert find(found, "North Korea", "provocation").stance == FAVOR


# --- stance cues and their scope ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "name", "target", "expected"),
    [
        # direct verbs of attitude
        ("Minister Paul Grant said he supports sanctions on Pyongyang.", "Paul Grant", "sanctions", FAVOR),
        ("Minister Paul Grant welcomed the resumption of talks.", "Paul Grant", "diplomacy", FAVOR),
        ("Minister Paul Grant condemned the missile test.", "Paul Grant", "provocation", AGAINST),
        ("Minister Paul Grant rejected any military action.", "Paul Grant", "military_action", AGAINST),
        ("Minister Paul Grant called for an immediate ceasefire.", "Paul Grant", "military_action", AGAINST),
        # negated cues flip
        ("Minister Paul Grant said he does not support sanctions.", "Paul Grant", "sanctions", AGAINST),
        ("Minister Paul Grant said he does not support lifting sanctions.", "Paul Grant", "sanctions", FAVOR),
        ("Minister Paul Grant said sanctions do not work.", "Paul Grant", "sanctions", AGAINST),
        (
            '"We will never accept denuclearization," General Ri Chol said.',
            "Ri Chol",
            "denuclearization",
            AGAINST,
        ),
        # scope: replace, instead of, avoid, refrain, stop
        (
            '"Sanctions cannot replace diplomacy," Minister Paul Grant said.',
            "Paul Grant",
            "sanctions",
            AGAINST,
        ),
        ('"Sanctions cannot replace diplomacy," Minister Paul Grant said.', "Paul Grant", "diplomacy", FAVOR),
        (
            "Minister Paul Grant said the council should seek a political settlement instead of replacing "
            "diplomacy with sanctions.",
            "Paul Grant",
            "sanctions",
            AGAINST,
        ),
        (
            "Minister Paul Grant urged the United States to avoid unilateral sanctions.",
            "Paul Grant",
            "sanctions",
            AGAINST,
        ),
        (
            "Minister Paul Grant said North Korea must avoid further provocations.",
            "Paul Grant",
            "provocation",
            AGAINST,
        ),
        (
            "Minister Paul Grant said Pyongyang should refrain from any further launches.",
            "Paul Grant",
            "provocation",
            AGAINST,
        ),
        ("Minister Paul Grant said the strikes must stop.", "Paul Grant", "military_action", AGAINST),
        (
            "Minister Paul Grant called for lifting the sanctions imposed on Iran.",
            "Paul Grant",
            "sanctions",
            AGAINST,
        ),
        # judgements: evaluative adjectives, predicates and phrases
        (
            "Minister Paul Grant said the destructive sanctions hurt civilians.",
            "Paul Grant",
            "sanctions",
            AGAINST,
        ),
        ('"Talks are useless," Minister Paul Grant said.', "Paul Grant", "diplomacy", AGAINST),
        (
            "Minister Paul Grant said that denuclearization was off the table.",
            "Paul Grant",
            "denuclearization",
            AGAINST,
        ),
        (
            "Minister Paul Grant described the launch as a grave provocation.",
            "Paul Grant",
            "provocation",
            AGAINST,
        ),
        (
            "Minister Paul Grant insisted that the satellite launch was a legitimate right.",
            "Paul Grant",
            "provocation",
            FAVOR,
        ),
        # inverse terms: favouring nuclear weapons is against denuclearization
        (
            "Minister Paul Grant said Pyongyang must give up its nuclear weapons.",
            "Paul Grant",
            "denuclearization",
            FAVOR,
        ),
        (
            "Minister Paul Grant said Pyongyang will never give up its nuclear weapons.",
            "Paul Grant",
            "denuclearization",
            AGAINST,
        ),
        # a conditional counts through the main clause's judgement
        (
            '"I would be disappointed if I saw testing," Minister Paul Grant said.',
            "Paul Grant",
            "provocation",
            AGAINST,
        ),
        # a rhetorical question denies what it asks
        (
            '"Why would we agree to denuclearization?" Minister Paul Grant asked.',
            "Paul Grant",
            "denuclearization",
            AGAINST,
        ),
    ],
)
def test_stance_cue(nlp: Language, text: str, name: str, target: str, expected: str) -> None:
    assert find(stances(nlp, text), name, target).stance == expected


@pytest.mark.parametrize(
    ("text", "name", "target", "expected"),
    [
        # a verb that is a target only with its object; intent and refusal on a target verb
        ("Pyongyang vowed to continue launching satellites.", "North Korea", "provocation", FAVOR),
        ('"We will strike back," General Omar Haddad said.', "Omar Haddad", "military_action", FAVOR),
        ("Minister Paul Grant said Tehran would not negotiate.", "Paul Grant", "diplomacy", AGAINST),
        # acts of an agent show its stance
        ("Canada vetoed a resolution that would have imposed new sanctions.", "Canada", "sanctions", AGAINST),
        # an effect judges its cause; the means of a solution; a noun governing a verb's phrase
        (
            '"Only negotiations can bring lasting peace," Minister Paul Grant said.',
            "Paul Grant",
            "diplomacy",
            FAVOR,
        ),
        (
            "Minister Paul Grant said the dispute must be resolved through dialogue.",
            "Paul Grant",
            "diplomacy",
            FAVOR,
        ),
        (
            "Minister Paul Grant expressed concern over the missile launch.",
            "Paul Grant",
            "provocation",
            AGAINST,
        ),
        # a warning about what something would cause; an infinitive after a noun
        (
            "Minister Paul Grant warned that new sanctions could push Iran away from the table.",
            "Paul Grant",
            "sanctions",
            AGAINST,
        ),
        (
            "Minister Paul Grant said his country had the right to enrich uranium.",
            "Paul Grant",
            "denuclearization",
            AGAINST,
        ),
        # a relative clause that describes; "including" passes its phrase on
        (
            "Minister Paul Grant condemned the launch, which he described as reckless.",
            "Paul Grant",
            "provocation",
            AGAINST,
        ),
        (
            "Minister Paul Grant said he opposed any action that could raise tensions, including airstrikes.",
            "Paul Grant",
            "military_action",
            AGAINST,
        ),
    ],
)
def test_more_cues(nlp: Language, text: str, name: str, target: str, expected: str) -> None:
    assert find(stances(nlp, text), name, target).stance == expected


def test_modifier_makes_a_target_at_a_distance(nlp: Language) -> None:
    text = "Minister Paul Grant urged North Korea to abandon its nuclear and missile programmes."
    assert find(stances(nlp, text), "Paul Grant", "denuclearization").stance == FAVOR


def test_no_failure_on_odd_text(nlp: Language) -> None:
    rng = random.Random(11)
    words = ["sanctions", "talks", "he", "said", '"', "“", "”", ",", ".", "not", "never", "avoid", "urged"]
    words += ["Russia", "Nebenzia", "launch", "if", "until", "who", "which", "according", "to"]
    texts = ["", '"', "“unclosed", "He said.", '"Sanctions?" he asked."', "\n\n"]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(40)]
    for doc in nlp.pipe(texts):
        for s in extract_stances(doc, entities_of(doc)):
            assert s.stance in (FAVOR, AGAINST, "neutral") and 0 < s.confidence <= 1
            assert all(doc.text[e.start : e.end] == e.text for e in s.evidence)


def test_an_unnamed_government_is_the_reporters(nlp: Language) -> None:
    found = stances(nlp, "Minister Penny Lane said the government welcomed the ceasefire.")
    assert find(found, "Penny Lane", "military_action").stance == AGAINST
    assert not [s for s in found if s.speaker_canonical == "government"]


def test_a_bare_spokesperson_speaks_for_the_side_reported(nlp: Language) -> None:
    found = stances(nlp, "The spokesperson said Beijing opposed any military strikes.")
    s = find(found, "spokesperson", "military_action")
    assert s.stance == AGAINST
    assert s.affiliation == "China"


def test_a_resolution_holds_no_stance(nlp: Language) -> None:
    found = stances(nlp, "Canada vetoed a resolution that would have imposed new sanctions.")
    assert [s.speaker_canonical for s in found] == ["Canada"]


def test_target_in_a_temporal_clause_gives_no_stance(nlp: Language) -> None:
    found = stances(nlp, "Minister Paul Grant said talks would resume after the strikes ended.")
    assert find(found, "Paul Grant", "diplomacy").stance == FAVOR
    assert "military_action" not in targets_of(found, "Paul Grant")


def test_until_clause_is_a_sought_end_state(nlp: Language) -> None:
    text = "Ana Ruiz said the pressure would go on until Pyongyang takes steps toward denuclearization."
    assert find(stances(nlp, text), "Ana Ruiz", "denuclearization").stance == FAVOR


def test_hypothetical_position_in_a_conditional_is_no_stance(nlp: Language) -> None:
    found = stances(nlp, "The council will act if Pyongyang chooses not to take part in negotiations.")
    assert not [s for s in found if s.target == "diplomacy"]


def test_circumstantial_phrase_passes_no_judgement(nlp: Language) -> None:
    found = stances(nlp, "Minister Paul Grant said negotiations under sanctions were pointless.")
    assert find(found, "Paul Grant", "diplomacy").stance == AGAINST
    assert "sanctions" not in targets_of(found, "Paul Grant")


def test_neutral_mention_gives_no_stance(nlp: Language) -> None:
    found = stances(nlp, '"Our country has no part in the strikes on Iran," Minister Paul Grant said.')
    assert "military_action" not in targets_of(found, "Paul Grant")


def test_author_needs_evaluative_language(nlp: Language) -> None:
    assert not stances(nlp, "The two leaders held talks in Hanoi and resumed missile tests a year later.")
    found = stances(nlp, "The reckless missile test alarmed the region.")
    assert find(found, "", "provocation").stance == AGAINST


# --- aggregation and records -------------------------------------------------------------------------------
def test_aggregates_evidence_per_speaker_and_target(nlp: Language) -> None:
    text = (
        '"We oppose new sanctions," Ambassador Ana Ruiz said on Monday.\n'
        "Ruiz also urged the council to avoid unilateral sanctions."
    )
    found = stances(nlp, text)
    s = find(found, "Ana Ruiz", "sanctions")
    assert s.stance == AGAINST
    assert len(s.evidence) == 2
    for ev in s.evidence:
        assert text[ev.start : ev.end] == ev.text
    assert 0.6 < s.confidence <= 1.0
    record = s.to_dict()
    assert record["evidence"] == s.evidence[0].to_dict()
    assert [e["text"] for e in record["evidence_all"]] == [e.text for e in s.evidence]
    assert set(record) >= {"speaker", "speaker_canonical", "affiliation", "target", "stance", "confidence"}
    json.dumps(record)  # plain data


def test_conflicting_evidence_is_neutral(nlp: Language) -> None:
    text = "Ambassador Ana Ruiz said she supports sanctions. Ruiz later said she opposes sanctions."
    assert find(stances(nlp, text), "Ana Ruiz", "sanctions").stance == "neutral"


def test_lexicon_is_user_data(nlp: Language, tmp_path: Path) -> None:
    shipped = files_json("stance_targets.json")
    shipped["targets"]["sanctions"]["terms"].append("blockade")
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps(shipped), encoding="utf-8")
    text = "Minister Paul Grant said he opposes the blockade."
    doc = nlp(text)
    assert not [s for s in extract_stances(doc, entities_of(doc)) if s.target == "sanctions"]
    custom = load_lexicon(str(targets))
    found = extract_stances(doc, entities_of(doc), lexicon=custom)
    assert find(found, "Paul Grant", "sanctions").stance == AGAINST
    # the cue table is data too: without "oppose" there is no stance
    cues = files_json("stance_cues.json")
    del cues["predicates"]["oppose"]
    bare = build_lexicon(shipped, cues)
    assert not [s for s in extract_stances(doc, entities_of(doc), lexicon=bare) if s.target == "sanctions"]


def files_json(name: str) -> dict:
    from importlib.resources import files

    return json.loads((files("wirewatch.agents") / "data" / name).read_text(encoding="utf-8"))


# --- the seed article (docs/ARCHITECTURE.md) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_stances(nlp: Language, seed_text: str) -> list[Stance]:
    return stances(nlp, seed_text)


#: (speaker, affiliation, target, stance, part of an evidence sentence) the seed article must yield
SEED_STANCES = [
    ("Nebenzia", "Russia", "sanctions", AGAINST, "Sanctions cannot replace diplomacy"),
    ("Nebenzia", "Russia", "diplomacy", FAVOR, "Sanctions cannot replace diplomacy"),
    ("Craft", "United States", "diplomacy", FAVOR, "engage in robust diplomacy"),
    ("Craft", "United States", "provocation", AGAINST, "avoid further provocations"),
    ("North Korean ambassador", "North Korea", "denuclearization", AGAINST, "off the table"),
    ("Trump", "United States", "denuclearization", FAVOR, "urge country to denuclearize"),
]


@pytest.mark.parametrize(("name", "affiliation", "target", "expected", "evidence_part"), SEED_STANCES)
def test_seed(
    seed_stances: list[Stance], name: str, affiliation: str, target: str, expected: str, evidence_part: str
) -> None:
    s = find(seed_stances, name, target)
    assert s.stance == expected
    assert s.affiliation == affiliation
    assert any(evidence_part in ev.text for ev in s.evidence)


def test_seed_background_raises_no_author_stance(seed_stances: list[Stance]) -> None:
    assert not [s for s in seed_stances if not s.speaker]


# --- generalisation rules (each found on statements the tagger had not seen) -------------------------------
def stance_of(found: list[Stance], name: str, target: str) -> str | None:
    """The stance of ``name`` toward ``target``, or None when the tagger found none."""
    hits = [s for s in found if s.target == target and (name in s.speaker_canonical or name in s.speaker)]
    return hits[0].stance if hits else None


@pytest.mark.parametrize(
    ("text", "name", "target", "expected"),
    [
        # a reporting participle the parser hangs on the reported clause belongs to the reporter
        (
            "Minister Ana Ruiz said Madrid would keep up the pressure on Tehran, adding that existing sanctions "
            "must be fully enforced.",
            "Ruiz",
            "sanctions",
            FAVOR,
        ),
        # a negated governing noun flips what it governs
        ("The envoy said Seoul saw no point in extending the sanctions.", "envoy", "sanctions", AGAINST),
        # denying or demanding that something exist takes a side on it
        ("Park said there would be no talks with the North this year.", "Park", "diplomacy", AGAINST),
        ("Park said there must be a dialogue with the North.", "Park", "diplomacy", FAVOR),
        # an infinitive a verb takes as its complement is not a purpose clause
        ("Ruiz said Spain would not hesitate to use military force.", "Ruiz", "military_action", FAVOR),
        # a judging verb with a pronoun object judges the last target mentioned
        ("North Korea fired a missile on Sunday. Ruiz condemned it in a statement.", "Ruiz", "provocation", AGAINST),
        # a preposition hanging from a phrasal verb's particle ("pull OUT of")
        ("Ruiz said the decision to pull out of the negotiations was a mistake.", "Ruiz", "diplomacy", FAVOR),
        # "meet" a named person is diplomacy
        ("Ruiz said she was ready to meet Kim Jong Un in Singapore.", "Ruiz", "diplomacy", FAVOR),
        # the one quoted "as saying" is the speaker
        ("Yonhap quoted a senior official as saying the talks were a waste of time.", "official", "diplomacy", AGAINST),
        # a trailing reporter the parser hangs under the clause it reports
        (
            "The European Union stands ready to support new sanctions on the Korean Peninsula, the bloc's "
            "foreign ministers said in a joint statement.",
            "ministers",
            "sanctions",
            FAVOR,
        ),
        # "his government" is the reporter's side
        ("Minister Ana Ruiz said her government opposes any military action.", "Ruiz", "military_action", AGAINST),
        # an attitude adjective makes its subject the holder, also when parsed as a passive
        ("Ruiz said Berlin was deeply concerned by the latest missile launch.", "Berlin", "provocation", AGAINST),
        # lexicon entries: subject verbs of harm, viability, wanting
        ("Ruiz said the new sanctions would only complicate the search for peace.", "Ruiz", "sanctions", AGAINST),
        ("Ruiz said a negotiated settlement was the only viable option.", "Ruiz", "diplomacy", FAVOR),
        ("Minister Ana Ruiz said she would love a new round of talks with Tehran.", "Ruiz", "diplomacy", FAVOR),
        # a light noun takes the judgement of its "of" phrase
        (
            "Ruiz called the blockade an act of aggression and said the sanctions were an act of war.",
            "Ruiz",
            "sanctions",
            AGAINST,
        ),
        # a verb re-done takes the valence of the verb ("REimpose" as "impose")
        ("Minister Ana Ruiz said Madrid would reimpose the sanctions it lifted last year.", "Ruiz", "sanctions", FAVOR),
        # "he said the two countries ...": a plural generic holder is the side of the pronoun's referent
        (
            "Minister Ana Ruiz met her Italian counterpart. She said the two countries opposed new sanctions.",
            "Ruiz",
            "sanctions",
            AGAINST,
        ),
    ],
)
def test_generalisation_rules(nlp: Language, text: str, name: str, target: str, expected: str) -> None:
    assert stance_of(stances(nlp, text), name, target) == expected


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Asked whether new sanctions were planned, Hart said she had nothing to add.", "sanctions"),
        ("Hart said the cabinet had made no decision on whether to order strikes.", "military_action"),
        ("Asked about possible air strikes, Hart said she would not speculate.", "military_action"),
        ("Hart declined to condemn the missile test.", "provocation"),
        ("Hart said Tokyo had noted the decision to resume talks.", "diplomacy"),
        ("Hart said there will be talks with the North next month.", "diplomacy"),  # a forecast
        ("Hart said Tokyo was reviewing the proposal for new talks.", "diplomacy"),
        # "possible" judges as a predicate ("a deal is possible"), not as a hedge on a noun
        ("Hart said Tokyo had seen reports of a possible missile launch.", "provocation"),
    ],
)
def test_questions_refusals_and_forecasts_take_no_side(nlp: Language, text: str, target: str) -> None:
    found = stances(nlp, text)
    assert stance_of(found, "Hart", target) is None
    assert not [s for s in found if s.target == target and s.stance != "neutral"]


def test_person_reporting_a_state_position_speaks_for_it(nlp: Language) -> None:
    found = stances(nlp, "Lin said Beijing firmly opposes new sanctions on Pyongyang.")
    lin = find(found, "Lin", "sanctions")
    assert lin.stance == AGAINST and lin.affiliation == "China"
    # an outside voice does not ...
    found = stances(nlp, "Professor Anna Berg said Beijing firmly opposes new sanctions on Pyongyang.")
    assert stance_of(found, "Berg", "sanctions") is None
    # ... nor does a report of another state's past act
    found = stances(nlp, "Lind said Pyongyang has threatened to resume its missile tests.")
    assert stance_of(found, "Lind", "provocation") is None


def test_role_named_in_apposition_when_ner_misses_the_name(nlp: Language) -> None:
    text = "Iran's deputy foreign minister, Kazem Gharibabadi, rejected the sanctions."
    doc = nlp(text)
    # simulate the statistical NER calling the name an organisation
    ents = [dataclasses.replace(e, label="ORG") if e.label == "PERSON" else e for e in entities_of(doc)]
    found = extract_stances(doc, ents)
    s = find(found, "Gharibabadi", "sanctions")
    assert s.speaker_canonical == "Kazem Gharibabadi"
    assert s.stance == AGAINST and s.affiliation == "Iran"


def test_hyphenated_name_split_by_the_parser(nlp: Language) -> None:
    found = stances(nlp, "Moon Jae-in welcomed the agreement as a step toward lasting peace.")
    s = find(found, "Moon", "diplomacy")
    assert s.speaker_canonical == "Moon Jae-in" and s.stance == FAVOR


def test_describing_verb_is_no_endorsement(nlp: Language) -> None:
    # "considered the sanctions a ..." describes them; the words of the description decide
    for text in (
        "Minister Ana Ruiz considers the new sanctions unjust.",
        "Minister Ana Ruiz considered the sanctions a grave mistake.",
    ):
        assert stance_of(stances(nlp, text), "Ruiz", "sanctions") == AGAINST, text


def test_description_judges_its_object_not_itself(nlp: Language) -> None:
    # "a violation OF the agreement" must not turn the speaker against the agreement
    found = stances(nlp, "Seoul called the North's artillery fire a clear violation of the truce agreement.")
    assert stance_of(found, "South Korea", "provocation") == AGAINST
    assert stance_of(found, "South Korea", "diplomacy") != AGAINST

"""Entity layer: pipeline loading, gazetteer, canonical names, memory zones."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents.nlp import (
    DEFAULT_EXCLUDE,
    RULER_NAME,
    EntityMention,
    TextMeta,
    analyze_each,
    canonical_counts,
    entities_of,
    load_pipeline,
    normalise_name,
    read_gazetteer,
)


def ents(nlp: Language, text: str) -> list[EntityMention]:
    return entities_of(nlp(text))


def by_text(mentions: list[EntityMention], text: str) -> list[EntityMention]:
    return [m for m in mentions if m.text == text]


# --- pipeline ----------------------------------------------------------------------------------------


def test_pipeline_components(nlp: Language) -> None:
    names = nlp.pipe_names
    for needed in ("tok2vec", "tagger", "attribute_ruler", "parser", "lemmatizer", "ner", RULER_NAME):
        assert needed in names
    for excluded in DEFAULT_EXCLUDE:
        assert excluded not in nlp.component_names
    assert names.index(RULER_NAME) < names.index("ner")


def test_configured_model_that_does_not_exist_raises() -> None:
    with pytest.raises(OSError):
        load_pipeline("wirewatch_no_such_model_xyz")


# --- the seed article --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(nlp: Language, seed_text: str) -> tuple[str, list[EntityMention]]:
    return seed_text, entities_of(nlp(seed_text))


def test_seed_offsets_order_and_counts(seed: tuple[str, list[EntityMention]]) -> None:
    text, mentions = seed
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    counts = canonical_counts(mentions)
    for m in mentions:
        assert text[m.start : m.end] == m.text
        assert m.count == counts[m.canonical]


def test_seed_north_korea_is_one_entity(seed: tuple[str, list[EntityMention]]) -> None:
    _, mentions = seed
    north = [m for m in mentions if m.canonical == "North Korea"]
    assert {"North Korea", "DPRK", "Pyongyang"} <= {m.text for m in north}
    assert len(north) >= 15
    assert all(m.count == len(north) for m in north)
    for alias in ("North Korea", "DPRK", "Pyongyang"):
        assert all(m.canonical == "North Korea" and m.label == "GPE" for m in by_text(mentions, alias))
    # the demonym keeps its label but names the state
    assert by_text(mentions, "North Korean")
    assert all(m.label == "NORP" and m.canonical == "North Korea" for m in by_text(mentions, "North Korean"))


def test_seed_people(seed: tuple[str, list[EntityMention]]) -> None:
    _, mentions = seed
    nebenzia = by_text(mentions, "Nebenzia")
    assert len(nebenzia) >= 5
    assert all(m.label == "PERSON" and m.canonical == "Vasily Nebenzia" for m in nebenzia)
    craft = by_text(mentions, "Kelly Craft")
    assert len(craft) == 1 and craft[0].label == "PERSON" and craft[0].canonical == "Kelly Craft"
    # "US Ambassador to the United Nations Kelly Craft" is not one ORG span
    assert not [m for m in mentions if "Craft" in m.text and m.label != "PERSON"]
    bare = by_text(mentions, "Craft")
    assert len(bare) >= 4
    assert all(m.label == "PERSON" and m.canonical == "Kelly Craft" for m in bare)
    for name in ("Donald Trump", "Kim Jong Un"):
        found = by_text(mentions, name)
        assert found and all(m.label == "PERSON" and m.canonical == name for m in found)
    assert all(m.canonical == "Donald Trump" and m.label == "PERSON" for m in by_text(mentions, "Trump"))


def test_seed_bodies_places_states(seed: tuple[str, list[EntityMention]]) -> None:
    _, mentions = seed
    unsc = [m for m in mentions if m.canonical == "UN Security Council"]
    assert by_text(mentions, "UN Security Council") and by_text(mentions, "Security Council")
    assert all(m.label == "ORG" for m in unsc)
    sea = by_text(mentions, "Sea of Japan")
    assert sea and all(m.label == "LOC" and m.canonical == "Sea of Japan" for m in sea)
    russia = by_text(mentions, "Russia")
    assert russia and all(m.label == "GPE" and m.canonical == "Russia" for m in russia)
    washington = by_text(mentions, "Washington")
    assert washington and all(m.canonical == "United States" for m in washington)
    assert all(m.canonical == "United States" for m in by_text(mentions, "US"))


# --- own short articles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "surface", "label", "canonical"),
    [
        ("Officials in Moscow said the Kremlin was not consulted.", "Kremlin", "ORG", "Russia"),
        ("Officials in Moscow said the Kremlin was not consulted.", "Moscow", "GPE", "Russia"),
        ("Seoul and the ROK navy tracked the vessel.", "ROK", "GPE", "South Korea"),
        ("A spokesman in Beijing urged restraint.", "Beijing", "GPE", "China"),
        ("Tehran rejected the report on Tuesday.", "Tehran", "GPE", "Iran"),
        ("The U.S. envoy met Japanese diplomats in Tokyo.", "U.S.", "GPE", "United States"),
        ("The U.S. envoy met Japanese diplomats in Tokyo.", "Japanese", "NORP", "Japan"),
        ("The IAEA and NATO issued statements.", "IAEA", "ORG", "IAEA"),
        ("Ships sailed into the East Sea at dawn.", "East Sea", "LOC", "Sea of Japan"),
        ("Putin spoke with Xi Jinping by phone.", "Putin", "PERSON", "Vladimir Putin"),
        ("Kim Jong-un watched the drill with Kim Yo Jong.", "Kim Jong-un", "PERSON", "Kim Jong Un"),
        ("SEOUL, May 2 -- Officials met again.", "SEOUL", "GPE", "South Korea"),
    ],
)
def test_aliases(nlp: Language, text: str, surface: str, label: str, canonical: str) -> None:
    found = by_text(ents(nlp, text), surface)
    assert found, f"{surface!r} not found in {text!r}"
    assert (found[0].label, found[0].canonical) == (label, canonical)


def test_the_north_is_not_north_korea(nlp: Language) -> None:
    mentions = ents(nlp, "The North fired artillery near the border, and the North said it would continue.")
    assert not [m for m in mentions if m.canonical == "North Korea"]
    assert not [m for m in mentions if m.text.lower().endswith("north")]


def test_newspaper_is_not_the_state(nlp: Language) -> None:
    mentions = ents(nlp, "The Washington Post reported the talks had stalled.")
    assert not [m for m in mentions if m.canonical == "United States"]


@pytest.mark.parametrize(
    ("text", "surface", "canonical"),
    [
        ("Pyongyang test-fired a Hwasong-17 on Friday.", "Hwasong-17", "Hwasong-17"),
        ("Analysts said the Hwasong 15 flew for an hour.", "Hwasong 15", "Hwasong-15"),
        ("Two Hwasong-18s were displayed.", "Hwasong-18s", "Hwasong-18"),
        ("The missile resembled a KN-23, officials said.", "KN-23", "KN-23"),
        ("The Taepodong-2 failed shortly after launch.", "Taepodong-2", "Taepodong-2"),
        ("An Unha-3 rocket carried the satellite.", "Unha-3", "Unha-3"),
        ("The new Chollima-1 rocket crashed into the sea.", "Chollima-1", "Chollima-1"),
        ("Iran displayed the Shahab-3 and other missiles.", "Shahab-3", "Shahab-3"),
        ("The Khorramshahr-4 has a range of 2,000 km.", "Khorramshahr-4", "Khorramshahr-4"),
        ("The Air Force launched an unarmed Minuteman III.", "Minuteman III", "Minuteman III"),
        ("Russia said the Sarmat would enter service.", "Sarmat", "Sarmat"),
        ("China paraded the Dongfeng-41 through the square.", "Dongfeng-41", "DF-41"),
        ("The submarine can carry the JL-3.", "JL-3", "JL-3"),
        ("Tehran unveiled the Kheibar Shekan last year.", "Kheibar Shekan", "Kheibar Shekan"),
    ],
)
def test_weapons(nlp: Language, text: str, surface: str, canonical: str) -> None:
    found = by_text(ents(nlp, text), surface)
    assert found, f"{surface!r} not found in {text!r}"
    assert (found[0].label, found[0].canonical) == ("WEAPON", canonical)


def test_weapon_family_word_inside_a_name_is_not_a_weapon(nlp: Language) -> None:
    mentions = ents(nlp, "President Abdel Fattah al-Sisi received the delegation in Cairo.")
    assert not [m for m in mentions if m.label == "WEAPON"]


def test_surname_of_a_person_named_in_full(nlp: Language) -> None:
    text = (
        "Defence Minister Tomas Varnek of Zorlandia visited the base on Monday. "
        "Varnek said the drills would continue. Later, Varnek met reporters."
    )
    mentions = ents(nlp, text)
    varnek = [m for m in mentions if "Varnek" in m.text]
    assert len(varnek) == 3
    assert all(m.canonical == "Tomas Varnek" and m.label == "PERSON" for m in varnek)
    assert varnek[0].count == 3


def test_ambiguous_surname_is_left_alone(nlp: Language) -> None:
    text = "Anna Varnek and her brother Peter Varnek founded the institute. Varnek declined to comment."
    mentions = ents(nlp, text)
    assert {"Anna Varnek", "Peter Varnek"} <= {m.canonical for m in mentions}
    bare = [m for m in mentions if m.text == "Varnek"]
    assert all(m.canonical == "Varnek" for m in bare)


def test_korean_surname_first(nlp: Language) -> None:
    text = "Leader Kim Jong Un watched the launch. Kim said more would follow, and Kim left by train."
    kims = [m for m in ents(nlp, text) if m.text == "Kim"]
    assert len(kims) == 2
    assert all(m.canonical == "Kim Jong Un" and m.label == "PERSON" and m.count == 3 for m in kims)


def test_name_words_that_are_things_or_places_stay_apart(nlp: Language) -> None:
    text = (
        "President Moon Jae-in met aides. Moon said talks must go on. The Moon rose over the sea. "
        "Jordan Peele met officials from Jordan."
    )
    mentions = ents(nlp, text)
    moons = [m for m in mentions if m.text == "Moon"]
    assert moons[0].canonical == "Moon Jae-in"
    assert all(m.canonical != "Moon Jae-in" for m in moons if text[m.start - 4 : m.start] == "The ")
    assert all(m.canonical != "Jordan Peele" for m in mentions if m.text == "Jordan")


def test_labels_filter(nlp: Language) -> None:
    doc = nlp("On Monday, Japan said two missiles fell into the Sea of Japan.")
    everything = entities_of(doc)
    only = entities_of(doc, labels={"LOC"})
    assert {m.label for m in everything} > {"LOC"}
    assert [m.canonical for m in only] == ["Sea of Japan"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("the United Nations", "United Nations"), ("Kenzo's", "Kenzo"), ("The  Joint\nChiefs", "Joint Chiefs")],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


# --- user gazetteer ----------------------------------------------------------------------------------


def test_user_gazetteer_adds_alias_and_family(tmp_path: Path) -> None:
    user = tmp_path / "extra.jsonl"
    lines = [
        {"label": "GPE", "pattern": "Hermit Kingdom", "id": "North Korea"},
        {"label": "WEAPON", "pattern": [{"TEXT": {"REGEX": "^Zephyr-\\d+$"}}], "id": "Zephyr-*"},
        {"label": "PERSON", "pattern": "Quorvan"},  # id defaults to the pattern
    ]
    user.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    custom = load_pipeline(gazetteer_paths=[user])
    mentions = entities_of(custom("The Hermit Kingdom tested a Zephyr-9 while Quorvan watched."))
    assert ("Hermit Kingdom", "GPE", "North Korea") in {(m.text, m.label, m.canonical) for m in mentions}
    assert ("Zephyr-9", "WEAPON", "Zephyr-9") in {(m.text, m.label, m.canonical) for m in mentions}
    assert ("Quorvan", "PERSON", "Quorvan") in {(m.text, m.label, m.canonical) for m in mentions}
    # shipped families still resolve next to the user's family
    shipped = entities_of(custom("A Hwasong-19 and a Zephyr-2."))
    assert {m.canonical for m in shipped if m.label == "WEAPON"} == {"Hwasong-19", "Zephyr-2"}


def test_bad_gazetteer_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "GPE", "pattern": "Ok", "id": "Ok"}\n{not json}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        read_gazetteer(bad)


# --- memory --------------------------------------------------------------------------------------------


def made_up_texts(n: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(10))

    for _ in range(n):
        yield (
            f"Minister {word().title()} {word().title()} said the {word()} launch near "
            f"{word().title()} was a provocation by North Korea, and {word()} {word()} followed."
        )


def test_memory_zone_keeps_string_store_bounded(nlp: Language) -> None:
    texts = list(made_up_texts(300, seed=7))
    before = len(nlp.vocab.strings)
    canonicals: list[str] = []
    for start in range(0, len(texts), 100):
        with nlp.memory_zone():
            for doc in nlp.pipe(texts[start : start + 100], batch_size=25):
                canonicals.extend(m.canonical for m in entities_of(doc))
    in_zone_growth = len(nlp.vocab.strings) - before
    assert "North Korea" in canonicals  # extraction inside the zone worked and its strings survive it
    # the same kind of text outside a zone grows the store by several strings per text
    before = len(nlp.vocab.strings)
    for doc in nlp.pipe(made_up_texts(50, seed=8), batch_size=25):
        entities_of(doc)
    outside_growth = len(nlp.vocab.strings) - before
    assert outside_growth > 250
    assert in_zone_growth < 25


def test_analyze_each_runs_the_batch_in_one_memory_zone_with_each_texts_date_address_and_title(
    nlp: Language,
) -> None:
    """The one batch loop of enrichment and the detector's ``analyze_docs``: each doc with its own
    ``published_at``, url and title, in order, extracted inside the zone (the store does not grow)."""
    texts = list(made_up_texts(40, seed=9))
    meta = [
        TextMeta(f"2020-01-{n % 28 + 1:02d}T00:00:00Z", f"https://news.example.org/{n}", f"Story {n}")
        for n in range(len(texts))
    ]
    before = len(nlp.vocab.strings)
    seen = analyze_each(
        nlp,
        texts,
        lambda doc, known: (doc.text, known, [m.canonical for m in entities_of(doc)]),
        batch_size=8,
        meta=meta,
    )
    assert [(text, known) for text, known, _ in seen] == list(zip(texts, meta, strict=True))
    assert all("North Korea" in canonicals for *_, canonicals in seen)
    assert len(nlp.vocab.strings) - before < 25
    assert analyze_each(nlp, texts[:2], lambda doc, known: known) == [TextMeta(), TextMeta()]
    with pytest.raises(ValueError):  # what is known of each text or of none: a short list would misdate the rest
        analyze_each(nlp, texts[:3], lambda doc, known: known, meta=meta[:2])

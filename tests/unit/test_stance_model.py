"""The learned stance polarity: training (deterministic), the shipped model in the enrich path and in
``wirewatch analyze``, a user model through WIREWATCH_STANCE_MODEL, and clear errors for bad model files.

The statements below are written for wirewatch (not taken from any labelled set).
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from spacy.language import Language

from wirewatch.agents.analyzer import ProcessAnalyzer, load_nlp
from wirewatch.agents.detector import DetectorConfig
from wirewatch.agents.enrichment import enrich_articles
from wirewatch.agents.learning.linear import ModelFileError
from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance import ABSTAIN_IMPLIED, AGAINST, FAVOR, IMPLIED, NEUTRAL, read_document, tag_stances
from wirewatch.agents.stance import model as stance_model
from wirewatch.agents.stance.features import FeatureConfig, pair_strings
from wirewatch.agents.stance.model import configure, current_model, shipped_path
from wirewatch.agents.stance.pairs import clause_groups
from wirewatch.agents.stance.train import CANDIDATES, ERROR_CAUSES, Example, choice_score, error_cause, train
from wirewatch.streams.cli import main
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings

from .test_stance import SEED_STANCES

SCHEMA = Path(__file__).resolve().parents[2] / "streams" / "schemas" / "enriched.json"

# (source, speaker, target, stance, text): written for wirewatch, four sources so that folds can group them
WRITTEN = [
    ("a", "Ana Ruiz", "sanctions", AGAINST, "Ana Ruiz said Madrid opposes any new sanctions on the island."),
    ("a", "Ana Ruiz", "diplomacy", FAVOR, '"Talks are the only way forward," Ana Ruiz told reporters.'),
    ("a", "Ted Hill", "sanctions", FAVOR, "Senator Ted Hill said he supports tougher sanctions on the regime."),
    ("a", "Ted Hill", "diplomacy", AGAINST, "Senator Ted Hill said he rejects any talks with the regime."),
    ("b", "Olga Petrova", "sanctions", AGAINST, "Olga Petrova said she opposes new sanctions against Iran."),
    ("b", "Olga Petrova", "diplomacy", FAVOR, "Olga Petrova said she welcomes the resumption of dialogue."),
    ("b", "Jane Doe", "sanctions", NEUTRAL, "Jane Doe said the council would discuss sanctions next week."),
    ("b", "Jane Doe", "diplomacy", NEUTRAL, "Jane Doe said the talks were scheduled for Monday."),
    ("c", "Lee Min", "provocation", AGAINST, "Lee Min condemned the missile launch as reckless."),
    ("c", "Lee Min", "diplomacy", FAVOR, "Lee Min said she supports a return to negotiations."),
    ("c", "Kofi Mensah", "sanctions", FAVOR, "Kofi Mensah said the sanctions must be fully enforced."),
    ("c", "Kofi Mensah", "provocation", NEUTRAL, "Kofi Mensah said the launch would be discussed on Friday."),
    ("d", "Maria Perez", "sanctions", AGAINST, "Maria Perez said the sanctions had failed and should be lifted."),
    ("d", "Maria Perez", "diplomacy", FAVOR, "Maria Perez said she backs the peace talks."),
    ("d", "Ivan Sokolov", "provocation", AGAINST, "Ivan Sokolov said he opposes the missile tests."),
    ("d", "Ivan Sokolov", "sanctions", NEUTRAL, "Ivan Sokolov said sanctions were on the agenda of the meeting."),
]


def write_statements(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for n, (source, speaker, target, stance, text) in enumerate(WRITTEN):
            item = {
                "id": f"w{n}",
                "source": f"https://example.org/{source}",
                "text": text,
                "speaker": speaker,
                "target": target,
                "stance": stance,
            }
            fh.write(json.dumps(item) + "\n")
    return path


@pytest.fixture(scope="module")
def user_model(nlp: Language, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the written statements (one representation, two folds)."""
    out = tmp_path_factory.mktemp("stance-model")
    data = write_statements(out / "statements.jsonl")
    train(nlp, [data], out, folds=2, seed=0, representations=["words-path-cues"], out=io.StringIO())
    return out


@pytest.fixture
def restore_model() -> Iterator[None]:
    yield
    configure(None)  # the next test sees the shipped model again


def test_training_on_a_slice_is_deterministic(nlp: Language, user_model: Path, tmp_path: Path) -> None:
    data = write_statements(tmp_path / "statements.jsonl")
    printed = io.StringIO()
    summary = train(nlp, [data], tmp_path, folds=2, seed=0, representations=["words-path-cues"], out=printed)
    for name in ("stance.npz", "stance.json", "stance.md"):
        assert (tmp_path / name).read_bytes() == (user_model / name).read_bytes(), name
    assert json.loads(printed.getvalue().splitlines()[-1]) == summary
    low, high = summary["cv"]["macro_f1_ci"]
    assert low <= summary["cv"]["macro_f1"] <= high
    assert summary["n"] == len(WRITTEN)
    card = (tmp_path / "stance.md").read_text(encoding="utf-8")
    assert "cross-validated by source, 2 folds" in card and "training (fitted on the same statements" in card
    # every held-out error has one cause, and the card counts them
    wrong = round(len(WRITTEN) * (1 - summary["cv"]["accuracy"]))
    assert sum(summary["cv_errors"].values()) == wrong
    assert f"| all errors | {wrong} of {len(WRITTEN)} |" in card


def test_training_cross_validates_the_kept_features_on_more_fold_splits(nlp: Language, tmp_path: Path) -> None:
    data = write_statements(tmp_path / "statements.jsonl")
    summary = train(
        nlp, [data], tmp_path, folds=2, seed=3, representations=["words-path-cues"], splits=3, out=io.StringIO()
    )
    splits = summary["cv_splits"]
    assert splits["seeds"] == [3, 4, 5]
    assert splits["macro_f1"][0] == summary["cv"]["macro_f1"]  # the first split is the one the card leads with
    assert splits["mean"]["macro_f1"] == pytest.approx(sum(splits["macro_f1"]) / 3, abs=1e-4)
    card = (tmp_path / "stance.md").read_text(encoding="utf-8")
    assert "## Figures: the same features over 3 fold splits" in card
    rows = [line for line in card.splitlines() if line.startswith(("| 3 |", "| 4 |", "| 5 |", "| mean |"))]
    assert len(rows) == 4


def test_train_stance_command(user_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_statements(tmp_path / "statements.jsonl")
    argv = ["train", "stance", str(data), "--out", str(tmp_path), "--folds", "2"]
    assert main([*argv, "--representation", "words-path-cues"]) == 0
    assert (tmp_path / "stance.npz").read_bytes() == (user_model / "stance.npz").read_bytes()
    assert "cv words-path-cues: macro_f1" in capsys.readouterr().out
    assert main([*argv, "--representation", "no-such-features"]) == 2
    assert "unknown feature set 'no-such-features'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("label", "target", "speaker_found", "predicted", "paired", "cause"),
    [
        (FAVOR, "sanctions", True, FAVOR, True, None),
        (NEUTRAL, "sanctions", True, AGAINST, True, "neutral, said favor or against"),
        (AGAINST, "other", True, NEUTRAL, False, "target the lexicon does not have (`other`), never emitted"),
        (AGAINST, "sanctions", False, NEUTRAL, False, "labelled speaker not found"),
        (FAVOR, "diplomacy", True, NEUTRAL, False, "speaker found, not paired with the target"),
        (FAVOR, "diplomacy", True, NEUTRAL, True, "pair found, said neutral"),
        (AGAINST, "provocation", True, FAVOR, True, "pair found, favor and against swapped"),
    ],
)
def test_each_held_out_error_has_one_cause(
    label: str, target: str, speaker_found: bool, predicted: str, paired: bool, cause: str | None
) -> None:
    example = Example("s1", "example.org", label, target, speaker_found)
    assert error_cause(example, predicted, paired) == cause
    assert cause is None or cause in ERROR_CAUSES


def test_training_refuses_unknown_labels(nlp: Language, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps(
            {
                "id": "x",
                "source": "s",
                "text": "Talks resumed.",
                "speaker": "",
                "target": "diplomacy",
                "stance": "maybe",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="maybe"):
        train(nlp, [bad], tmp_path, folds=2, out=io.StringIO())


def test_shipped_model_in_the_enrich_path(nlp: Language) -> None:
    text = (
        'Ambassador Ana Ruiz said on Monday that Madrid opposes any new sanctions. "We want talks, and we want '
        'them now," she said.'
    )
    record = enrich_articles(nlp, [Article.create(text, feed="test")], config=DetectorConfig())[0]
    jsonschema.validate(record, json.loads(SCHEMA.read_text(encoding="utf-8")))
    by_target = {s["target"]: s for s in record["stances"] if s["speaker_canonical"] == "Ana Ruiz"}
    assert by_target["sanctions"]["stance"] == AGAINST
    assert by_target["diplomacy"]["stance"] == FAVOR
    for s in record["stances"]:
        assert 0.0 < s["confidence"] <= 1.0
        assert s["evidence"]["text"] in text


def test_a_target_only_implied_gets_an_implied_pair(nlp: Language) -> None:
    """The quote names no target ("such reckless actions"): the detector's target makes the pair; without the
    detector the speaker has no stance at all (nothing found, not a neutral)."""
    text = (
        "North Korea fired two ballistic missiles into the sea on Sunday. "
        '"Such reckless actions threaten the whole region and violate Security Council resolutions," Defence '
        "Minister Aiko Tanaka told reporters."
    )
    doc = nlp(text)
    model = current_model()
    assert model.topic is not None
    tanaka = [s for s in tag_stances(doc, entities_of(doc), model=model) if s.speaker_canonical == "Aiko Tanaka"]
    assert [(s.target, s.stance) for s in tanaka] == [("provocation", AGAINST)]
    assert tanaka[0].evidence[0].text.startswith('"Such reckless actions')
    named_only = dataclasses.replace(model, topic=None)
    without = tag_stances(doc, entities_of(doc), model=named_only)
    assert [s for s in without if s.speaker_canonical == "Aiko Tanaka"] == []


def test_clause_readings_have_a_speaker_and_no_vote(nlp: Language) -> None:
    doc = nlp('Markets were calm. "Such reckless actions threaten us all," Aiko Tanaka said.')
    readings, clauses = read_document(doc, entities_of(doc))
    assert readings == []
    assert [(r.speakers[0].canonical, r.vote, r.abstain, r.mention.target) for r in clauses] == [
        ("Aiko Tanaka", 0, ABSTAIN_IMPLIED, IMPLIED)
    ]


def test_nothing_found_emits_no_stance(nlp: Language) -> None:
    doc = nlp("The weather in Madrid was mild on Monday and markets were calm.")
    assert tag_stances(doc, entities_of(doc)) == []


def test_analyze_command_uses_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Olga Petrova said she opposes new sanctions against Iran.", encoding="utf-8")
    assert main(["analyze", str(article)]) == 0
    stances = json.loads(capsys.readouterr().out)["articles"][0]["stances"]
    petrova = [s for s in stances if s["speaker_canonical"] == "Olga Petrova" and s["target"] == "sanctions"]
    assert petrova and petrova[0]["stance"] == AGAINST


def test_user_model_through_settings(nlp: Language, user_model: Path, restore_model: None) -> None:
    doc = nlp("Olga Petrova said she opposes new sanctions against Iran.")
    shipped = tag_stances(doc, entities_of(doc))
    settings = Settings.from_env({"WIREWATCH_STANCE_MODEL": str(user_model)})
    load_nlp(settings)
    assert current_model().path == str(user_model / "stance.npz")
    user = tag_stances(doc, entities_of(doc))
    assert [(s.speaker_canonical, s.target) for s in user] == [(s.speaker_canonical, s.target) for s in shipped]
    assert [s.confidence for s in user] != [s.confidence for s in shipped]  # another model decided


def test_user_model_in_the_child_process_analyzer(nlp: Language, user_model: Path, restore_model: None) -> None:
    import asyncio

    articles = [Article.create("Olga Petrova said she opposes new sanctions against Iran.", feed="test")]
    settings = Settings(stance_model=str(user_model / "stance.npz"), nlp_process=True)
    analyzer = ProcessAnalyzer(settings)
    analyzer.start()
    try:
        records = asyncio.run(analyzer.enrich(articles, batch_size=4, config=DetectorConfig()))
    finally:
        analyzer.close()
    configure(str(user_model))
    expected = enrich_articles(nlp, articles, config=DetectorConfig())
    assert records[0]["stances"] == expected[0]["stances"]


def test_a_model_without_a_target_detector_pairs_named_targets_only(
    tmp_path: Path, user_model: Path, restore_model: None
) -> None:
    shutil.copy(user_model / "stance.npz", tmp_path / "stance.npz")
    shutil.copy(user_model / "stance.json", tmp_path / "stance.json")
    assert (user_model / "stance_topic.npz").exists()
    stance_model.load_model.cache_clear()
    assert configure(str(tmp_path)).topic is None
    assert configure(str(user_model)).topic is not None


def test_bad_target_detector_file_is_a_clear_error(tmp_path: Path, restore_model: None) -> None:
    for name in ("stance.npz", "stance.json", "stance_topic.npz", "stance_topic.json"):
        shutil.copy(shipped_path().parent / name, tmp_path / name)
    meta = json.loads((tmp_path / "stance_topic.json").read_text(encoding="utf-8"))
    meta["labels"] = [*meta["labels"][:-1], "weather"]
    (tmp_path / "stance_topic.json").write_text(json.dumps(meta), encoding="utf-8")
    stance_model.load_model.cache_clear()
    with pytest.raises(ModelFileError, match=r"stance_topic\.npz"):
        configure(str(tmp_path))


@pytest.mark.parametrize("damage", ["missing", "garbage", "wrong_features", "wrong_labels"])
def test_bad_model_file_is_a_clear_error(tmp_path: Path, damage: str, restore_model: None) -> None:
    model = tmp_path / "stance.npz"
    shutil.copy(shipped_path(), model)
    shutil.copy(shipped_path().with_suffix(".json"), model.with_suffix(".json"))
    meta = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    if damage == "missing":
        model.unlink()
    elif damage == "garbage":
        model.write_bytes(b"not a zip file")
    elif damage == "wrong_features":
        meta["spec"]["features"] = "alert-passage"
    elif damage == "wrong_labels":
        meta["labels"] = ["against", "favor", "neutral"]
    model.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    stance_model.load_model.cache_clear()
    with pytest.raises(ModelFileError, match=str(model.name)):
        configure(str(model))


def test_a_pipeline_without_the_token_vectors_the_model_reads_is_refused(nlp: Language, tmp_path: Path) -> None:
    import spacy

    data = write_statements(tmp_path / "statements.jsonl")
    train(nlp, [data], tmp_path, folds=2, seed=0, representations=["words-path-cues-vector"], out=io.StringIO())
    model = stance_model.load_model(str(tmp_path))
    assert model.config.vector  # this model reads the parser's token vectors
    stance_model.check_pipeline(model, nlp)  # the shipped pipeline makes them
    with pytest.raises(ModelFileError, match="token vectors"):
        stance_model.check_pipeline(model, spacy.blank("en"))
    shipped = current_model()
    if not shipped.config.vector:  # a model that reads no vectors runs on any pipeline
        stance_model.check_pipeline(shipped, spacy.blank("en"))


def test_bad_model_file_stops_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_model: None
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Talks resumed.", encoding="utf-8")
    monkeypatch.setenv("WIREWATCH_STANCE_MODEL", str(tmp_path / "nowhere.npz"))
    assert main(["analyze", str(article)]) == 2
    assert "model file not found" in capsys.readouterr().err


# --- the seed article (docs/ARCHITECTURE.md), end to end through the learned path -----------------------------------
@pytest.mark.parametrize(("name", "affiliation", "target", "expected", "evidence_part"), SEED_STANCES)
def test_seed_through_the_enrich_path(
    nlp: Language, seed_text: str, name: str, affiliation: str, target: str, expected: str, evidence_part: str
) -> None:
    record = enrich_articles(nlp, [Article.create(seed_text, feed="seed")], config=DetectorConfig())[0]
    hits = [
        s
        for s in record["stances"]
        if s["target"] == target and (name in s["speaker_canonical"] or name in s["speaker"])
    ]
    assert len(hits) == 1, record["stances"]
    assert hits[0]["stance"] == expected
    assert hits[0]["affiliation"] == affiliation
    assert any(evidence_part in ev["text"] for ev in hits[0]["evidence_all"])


def test_the_clause_words_are_crossed_with_the_target_and_the_plain_words_left_out(nlp: Language) -> None:
    # a word alone ("oppose") says nothing about which side of which target; with the target it does
    doc = nlp("Senator Ruth Cole said she strongly opposes the new sanctions.")
    (pair,) = [p for p in clause_groups(doc, entities_of(doc))[0] if p.target == "sanctions"]
    chosen = pair_strings(doc, pair, CANDIDATES["words-path-cues"])
    assert "sanctions|w=oppose" in chosen
    assert not [s for s in chosen if s.startswith("w=")]
    plain = pair_strings(doc, pair, CANDIDATES["plain-words-path-cues"])
    assert {"w=oppose", "sanctions|w=oppose"} <= set(plain)
    shipped = stance_model.load_model().config  # the shipped model has them so (with or without token vectors)
    assert shipped.target_words and not shipped.words


def test_the_cues_count_as_several_words_against_the_clause_words(nlp: Language) -> None:
    # a clause's many word and path features otherwise outweigh the rules' few cues (and the neutral marks)
    doc = nlp("Senator Ruth Cole said all parties should show restraint, and she opposes the new sanctions.")
    (pair,) = [p for p in clause_groups(doc, entities_of(doc))[0] if p.target == "sanctions"]
    one = pair_strings(doc, pair, CANDIDATES["words-path-cues"])
    three = pair_strings(doc, pair, CANDIDATES["words-path-cues-x3"])
    for feature in ("target=sanctions", "rule=-", "reported", "verb=say", "marker=balanced"):
        assert feature in one
        assert three.count(feature) == 3 * one.count(feature), feature
    assert three.count("sanctions|w=oppose") == one.count("sanctions|w=oppose") == 1
    assert [s for s in three if s.startswith("p=")] == [s for s in one if s.startswith("p=")]
    # the weight is part of the model's spec; a model trained before it has weight 1
    config = CANDIDATES["words-path-cues-x3"]
    assert FeatureConfig.from_spec(config.spec()) == config
    old = {k: v for k, v in CANDIDATES["words-path-cues"].spec().items() if k != "cue_weight"}
    assert FeatureConfig.from_spec(old).cue_weight == 1
    assert stance_model.load_model().config == config  # the shipped model weighs its cues so


def test_the_feature_set_is_chosen_on_all_three_figures() -> None:
    def figures(macro_f1: float, accuracy: float, neutral_f1: float) -> dict[str, object]:
        return {"macro_f1": macro_f1, "accuracy": accuracy, "per_class": {NEUTRAL: {"f1": neutral_f1}}}

    # a hair behind on macro-F1, well ahead on neutral: the better stance tagger
    behind = [figures(0.733, 0.674, 0.46), figures(0.735, 0.676, 0.47)]
    ahead = [figures(0.734, 0.674, 0.42), figures(0.736, 0.676, 0.42)]
    assert choice_score(behind) > choice_score(ahead)
    assert choice_score(ahead) == pytest.approx((0.734 + 0.674 + 0.42 + 0.736 + 0.676 + 0.42) / 6)

"""Recall of the selective parse's cue selection on every labelled set (issue 16): no alert and no stance
that a full parse finds is lost when only the selected sentences are parsed. Prints the share parsed.

The labelled passages have a cue in nearly every sentence, so each is also run inside paragraphs without
any cue (as in a longer article), where most of the text is left unparsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from spacy.language import Language

from tests.conftest import shared_path
from wirewatch.agents.enrichment import analyze_doc
from wirewatch.agents.nlp import load_pipeline
from wirewatch.agents.selective_parse import COMPONENT, share_parsed

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED = ("eval/dev_alerts.jsonl", "eval/dev_stance.jsonl", "train/alerts.jsonl", "train/stance.jsonl")
OWN = ("holdout_alerts.jsonl", "holdout_stance.jsonl")


# Written for this project: sentences with no launch, weapon, reporting or stance cue.
FILLER = (
    "Heavy rain is likely across the northern valleys this weekend. A local bakery won a regional prize for "
    "its rye bread. The museum stays unlocked later during the holidays. Farmers in the south harvested more "
    "rice than last year."
)


@pytest.fixture(scope="module")
def selective() -> Language:
    return load_pipeline(parse="selective")


def findings(nlp: Language, texts: list[str]) -> list[tuple[set[Any], set[Any]]]:
    """Per text: its alertable signals and its stances, as comparable tuples."""
    out = []
    with nlp.memory_zone():
        for doc in nlp.pipe(texts, batch_size=16):
            analysis = analyze_doc(doc)
            signals = [s.to_dict() for s in analysis.detection.signals]
            alerts = {(s["kind"], s["modality"], s["actor"]) for s in signals if s["alertable"]}
            stances = {(s.speaker_canonical, s.target, s.stance) for s in analysis.stances}
            out.append((alerts, stances))
    return out


# Every set as it is; inside filler, the dev and holdout sets only (the train sets in filler add a minute to
# every test run and exercise the same selection rules as the smaller sets).
CASES = [(name, False) for name in (*SHARED, *OWN)] + [
    (name, True) for name in ("eval/dev_alerts.jsonl", "eval/dev_stance.jsonl", *OWN)
]


@pytest.mark.parametrize(("name", "padded"), CASES, ids=[f"{n}-{'in-filler' if p else 'as-is'}" for n, p in CASES])
def test_selective_parse_loses_no_alert_and_no_stance(
    nlp: Language, selective: Language, name: str, padded: bool
) -> None:
    path = DATA / name if name in OWN else shared_path(name)
    texts = [str(orjson.loads(line).get("text", "")) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if padded:
        texts = [f"{FILLER}\n\n{text}\n\n{FILLER}" for text in texts]
    component = selective.get_pipe(COMPONENT)
    component.tokens_seen = component.tokens_parsed = 0  # type: ignore[attr-defined]
    lost = []
    for index, (full, part) in enumerate(zip(findings(nlp, texts), findings(selective, texts), strict=True)):
        if not (full[0] <= part[0] and full[1] <= part[1]):
            lost.append(f"item {index}: alerts {full[0] - part[0]}, stances {full[1] - part[1]}")
    print(
        f"{name} ({'in filler' if padded else 'as is'}): {len(texts)} items, share of tokens parsed "
        f"{share_parsed(selective):.3f}"
    )
    assert not lost, "\n".join(lost)

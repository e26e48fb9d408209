"""List the stance statements the system does not pair, as ``wirewatch train stance`` cross-validates them.

    python -m tools.stance_misses FILE.jsonl [FILE.jsonl ...] [--seed 0] [--folds 5]

For every held-out error whose cause is "labelled speaker not found" or "speaker found, not paired with the
target" (:data:`wirewatch.agents.stance.train.ERROR_CAUSES`), prints the statement's text, its labelled
speaker, target and stance, and what the system found: the (speaker, target) pairs of the named targets,
the speakers of the clause readings with the target the fold's detector gives them (and its probability),
and the targets the text names. It reads the labelled files at run time and prints to the terminal only:
its output is for reading failure patterns, not for the repository.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wirewatch.agents.analyzer import load_nlp
from wirewatch.agents.eval_stance import read_statements
from wirewatch.agents.learning.folds import grouped_folds
from wirewatch.agents.nlp import entities_of
from wirewatch.agents.stance.lexicon import load_lexicon
from wirewatch.agents.stance.pairs import Pair, clause_groups
from wirewatch.agents.stance.topic import detect, topic_strings
from wirewatch.agents.stance.train import (
    CANDIDATES,
    DEFAULT_C,
    ERROR_CAUSES,
    build_examples,
    error_cause,
    fit,
    predict,
)
from wirewatch.streams.settings import Settings

FEATURES = "words-path-cues"
CAUSES = (ERROR_CAUSES[2], ERROR_CAUSES[3])


def _speaker(p: Pair) -> str:
    aff = f" [{p.affiliation}]" if p.affiliation else ""
    canon = f" = {p.speaker_canonical!r}" if p.speaker_canonical and p.speaker_canonical != p.speaker else ""
    return f"{p.speaker!r}{canon}{aff}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    items = [item for f in args.files for item in read_statements(f)]
    nlp = load_nlp(Settings.from_env(), stance=False)
    config = CANDIDATES[FEATURES]
    examples = build_examples(nlp, items, {FEATURES: config})
    lex = load_lexicon()
    counts = dict.fromkeys(CAUSES, 0)
    for train, test in grouped_folds([ex.group for ex in examples], k=args.folds, seed=args.seed):
        fitted = fit([examples[i] for i in train], FEATURES, config, DEFAULT_C, args.seed)
        for i in test:
            ex, item = examples[i], items[i]
            predicted, logits = predict(fitted, ex, FEATURES, config)
            cause = error_cause(ex, predicted, logits is not None)
            if cause not in CAUSES:
                continue
            counts[cause] += 1
            print(f"=== {ex.id} ({cause})")
            print(f"text: {item['text']}")
            print(f"label: speaker {item['speaker']!r} target {item['target']} stance {item['stance']}")
            with nlp.memory_zone():
                doc = nlp(str(item["text"]))
                pairs, groups, named = clause_groups(doc, entities_of(doc), lex)
                print(f"named targets: {sorted(named)}")
                for p in pairs:
                    print(f"  pair: {_speaker(p)} -> {p.target} ({len(p.readings)} readings)")
                for g in groups:
                    target, prob = (
                        detect(fitted.topic, topic_strings(doc, g.evidence(), named, lex))
                        if fitted.topic is not None
                        else ("-", 0.0)
                    )
                    print(f"  clauses: {_speaker(g)} -> detector {target} {prob:.2f}")
            print()
    for cause, n in counts.items():
        print(f"{cause}: {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

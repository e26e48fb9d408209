"""Selective against full parsing, side by side (issue 16): share parsed, speed, and identical findings.

For each file of texts (JSONL with a ``text`` field: the labelled sets; none given: the throughput corpus),
runs the whole analysis (entities, stances, detection) once with a full and once with a selective pipeline
and prints the share of tokens the selective one parsed, the items whose findings differ and why, and the
tags/dependencies/lemmas that differ on the parsed sentences. Then times, on the throughput corpus, the
full pipeline, the first pass alone (gazetteer, NER, senter) and the selective pipeline (``nlp.pipe``,
same batch). Ends with one JSON line. Run: ``python bench/parse_identity.py [FILE.jsonl ...]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from spacy.language import Language

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_corpus, word_count

from wirewatch.agents.enrichment import analyze_doc
from wirewatch.agents.nlp import load_pipeline
from wirewatch.agents.selective_parse import COMPONENT, share_parsed


def findings(nlp: Language, texts: list[str], batch_size: int) -> tuple[list[dict[str, Any]], list[list[tuple]]]:
    """Per text: its entities, stances and detection signals/findings (as plain data), and its tokens'
    (tag, pos, dep, head, lemma) where the doc has a parse."""
    out, tokens = [], []
    with nlp.memory_zone():
        for doc in nlp.pipe(texts, batch_size=batch_size):
            analysis = analyze_doc(doc)
            out.append(
                {
                    "entities": [(m.text, m.label, m.start, m.canonical) for m in analysis.entities],
                    "stances": [s.to_dict() for s in analysis.stances],
                    "signals": [s.to_dict() for s in analysis.detection.signals],
                }
            )
            tokens.append([(t.tag_, t.pos_, t.dep_, t.head.i, t.lemma_) if t.tag_ else None for t in doc])
    return out, tokens


def compare(name: str, texts: list[str], full: Language, selective: Language, batch_size: int) -> dict[str, Any]:
    component = selective.get_pipe(COMPONENT)
    component.tokens_seen = component.tokens_parsed = 0  # type: ignore[attr-defined]
    want, full_tokens = findings(full, texts, batch_size)
    got, selective_tokens = findings(selective, texts, batch_size)
    differ = {"entities": 0, "stances": 0, "signals": 0}
    for index, (a, b) in enumerate(zip(want, got, strict=True)):
        for key in differ:
            if a[key] != b[key]:
                differ[key] += 1
                print(f"  {name} item {index}: {key} differ\n    full:      {a[key]}\n    selective: {b[key]}")
    parsed = mismatched = 0
    for a_doc, b_doc in zip(full_tokens, selective_tokens, strict=True):
        for a, b in zip(a_doc, b_doc, strict=True):
            if b is not None:
                parsed += 1
                mismatched += a != b
    figures = {
        "items": len(texts),
        "share_parsed": round(share_parsed(selective), 3),
        "items_differing": differ,
        "parsed_tokens_differing": round(mismatched / max(1, parsed), 4),
    }
    print(f"{name}: {orjson.dumps(figures).decode()}", flush=True)
    return figures


def words_per_second(nlp: Language, texts: list[str], words: int, batch_size: int) -> float:
    """``words`` (the texts' word count) over the seconds ``nlp.pipe`` takes on the texts, after a warm-up batch."""
    with nlp.memory_zone():
        for _ in nlp.pipe(texts[:batch_size], batch_size=batch_size):
            pass
    started = time.perf_counter()
    with nlp.memory_zone():
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
    return words / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--articles", type=int, default=48, help="throughput corpus articles (default 48)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    full = load_pipeline()
    selective = load_pipeline(parse="selective")
    corpus = make_corpus(args.articles)
    texts, words = [a.text for a in corpus], word_count(corpus)
    report: dict[str, Any] = {"corpus": compare("corpus", texts, full, selective, args.batch_size)}
    for path in args.files:
        items = [orjson.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        report[path.name] = compare(str(path), [str(i.get("text", "")) for i in items], full, selective, 16)

    first_pass = ["wirewatch_gazetteer", "ner", "senter"]
    speeds: dict[str, list[float]] = {"full": [], "first_pass": [], "selective": []}
    for _ in range(args.rounds):
        speeds["full"].append(words_per_second(full, texts, words, args.batch_size))
        with selective.select_pipes(enable=first_pass):
            speeds["first_pass"].append(words_per_second(selective, texts, words, args.batch_size))
        speeds["selective"].append(words_per_second(selective, texts, words, args.batch_size))
    median = {k: statistics.median(v) for k, v in speeds.items()}
    print(", ".join(f"{k} {v:.0f} words/s" for k, v in median.items()))
    report["words_per_second"] = {k: round(v) for k, v in median.items()}
    report["first_pass_speedup"] = round(median["first_pass"] / median["full"], 3)
    report["parse_speedup"] = round(median["selective"] / median["full"], 3)
    print(orjson.dumps(report).decode())


if __name__ == "__main__":
    main()

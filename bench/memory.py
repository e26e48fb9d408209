"""Memory of the enrich path over a long run: does a worker grow without bound?

spaCy's StringStore keeps every string it has seen; a news feed brings new names every day. The enrich
path runs each batch inside ``nlp.memory_zone()``, which frees the batch's strings afterwards. This
benchmark runs the exact enrich function over many batches of articles full of never-seen words and
prints RSS and StringStore size as it goes, beside the same run with the zone switched off.
Ends with one JSON line. Run: ``python bench/memory.py [--batches N] [--parse full|selective]``.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import _made_up_word, make_article

from wirewatch.agents.enrichment import analyze_doc, enrich_articles
from wirewatch.agents.nlp import load_pipeline
from wirewatch.streams.records import Article
from wirewatch.streams.settings import PARSE_MODES


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def novel_batch(rng: random.Random, size: int, start: int) -> list[Article]:
    """Articles of ~200 words with ~40 never-seen names each (people, places, companies)."""
    batch = []
    for i in range(size):
        article = make_article(rng, words=200, index=start + i)
        names = " ".join(f"{_made_up_word(rng).capitalize()}{start + i}" for _ in range(40))
        batch.append(Article.create(article.text + " Also named: " + names + ".", feed="bench"))
    return batch


def run(batches: int, batch_size: int, zone: bool, report_every: int, parse: str) -> dict[str, list[float]]:
    nlp = load_pipeline(parse=parse)
    rng = random.Random(11)
    series: dict[str, list[float]] = {"rss_mb": [], "strings": []}
    for b in range(batches):
        articles = novel_batch(rng, batch_size, b * batch_size)
        if zone:
            enrich_articles(nlp, articles, batch_size=batch_size)  # what the agent runs
        else:
            for doc in nlp.pipe([a.text for a in articles], batch_size=batch_size):
                analyze_doc(doc)
        if (b + 1) % report_every == 0:
            series["rss_mb"].append(round(rss_mb(), 1))
            series["strings"].append(len(nlp.vocab.strings))
            print(
                f"  {'zone' if zone else 'no zone'} batch {b + 1:5d}: RSS {series['rss_mb'][-1]:7.1f} MB, "
                f"StringStore {series['strings'][-1]:8d}",
                flush=True,
            )
    return series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--parse", choices=PARSE_MODES, default="selective", help="as WIREWATCH_PARSE")
    args = parser.parse_args()
    every = max(1, args.batches // 6)
    print(f"{args.batches} batches of {args.batch_size} articles, each with ~40 never-seen names")
    with_zone = run(args.batches, args.batch_size, True, every, args.parse)
    without = run(args.batches, args.batch_size, False, every, args.parse)
    half = len(with_zone["rss_mb"]) // 2
    figures = {
        "articles": args.batches * args.batch_size,
        "parse": args.parse,
        "zone_rss_mb_first_half": with_zone["rss_mb"][half - 1],
        "zone_rss_mb_end": with_zone["rss_mb"][-1],
        "zone_strings_end": with_zone["strings"][-1],
        "nozone_rss_mb_end": without["rss_mb"][-1],
        "nozone_strings_end": without["strings"][-1],
        "zone_strings_growth_second_half": with_zone["strings"][-1] - with_zone["strings"][half - 1],
        "nozone_strings_growth_second_half": without["strings"][-1] - without["strings"][half - 1],
    }
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()

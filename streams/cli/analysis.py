"""``wirewatch analyze`` and ``wirewatch eval``: the agents' logic offline, without a broker."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import orjson

from ..records import Article
from ..settings import Settings
from ..validation import InvalidRecord, parse_article
from .ingest import _read_input


def add_parser(sub: Any) -> None:
    analyze = sub.add_parser("analyze", help="run the enrichment and alert logic offline and print JSON")
    analyze.add_argument("files", nargs="+", metavar="FILE", help="text, JSON or JSONL file(s), or - for stdin")
    analyze.add_argument("--feed", default="analyze")
    analyze.set_defaults(func=cmd_analyze)

    evaluate = sub.add_parser("eval", help="evaluate alerts or stance on a labelled JSONL file")
    evaluate.add_argument("what", choices=("alerts", "stance"))
    evaluate.add_argument("file", metavar="FILE.jsonl")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=cmd_eval)


def analyze_inputs(paths: Sequence[str], feed: str) -> list[Article]:
    """Articles from files: JSONL of Article fields, one JSON article, or plain text."""
    articles: list[Article] = []
    for path in paths:
        content = _read_input(path)
        stripped = content.strip()
        parsed: list[Any] = []
        if stripped.startswith("{"):
            try:
                parsed = [orjson.loads(line) for line in stripped.split("\n") if line.strip()]  # JSONL: \n only
            except orjson.JSONDecodeError:
                try:
                    parsed = [orjson.loads(stripped)]
                except orjson.JSONDecodeError:
                    parsed = []
        if parsed and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in parsed):
            for fields in parsed:
                known = {k: fields[k] for k in ("url", "title", "feed", "published_at", "lang", "meta") if k in fields}
                known.setdefault("feed", feed)
                articles.append(Article.create(fields["text"], **known))
        else:
            articles.append(Article.create(content, feed=feed))
    return articles


def cmd_analyze(settings: Settings, args: argparse.Namespace) -> int:
    # Heavy (spaCy, Faust): kept off the CLI's start.
    from wirewatch.agents.alert import alerts_for_records
    from wirewatch.agents.analyzer import load_nlp
    from wirewatch.agents.enrich import detector_config
    from wirewatch.agents.enrichment import enrich_articles

    nlp = load_nlp(settings)
    articles = []
    for article in analyze_inputs(args.files, args.feed):
        try:  # the same validation the enrich agent applies
            articles.append(
                parse_article(
                    article.to_bytes(),
                    max_article_bytes=settings.max_article_bytes,
                    max_record_bytes=settings.max_record_bytes,
                )
            )
        except InvalidRecord as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    records = enrich_articles(nlp, articles, batch_size=settings.batch_size, config=detector_config(settings))
    alerts, incidents = alerts_for_records(records, settings)
    out = {"articles": records, "alerts": alerts, "incidents": incidents}
    sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    # Heavy (spaCy): kept off the CLI's start.
    from wirewatch.agents.analyzer import load_nlp
    from wirewatch.agents.enrich import detector_config
    from wirewatch.agents.eval_alerts import evaluate as evaluate_alerts
    from wirewatch.agents.eval_stance import evaluate as evaluate_stance

    nlp = load_nlp(settings)
    out: TextIO = sys.stdout
    progress = not args.no_progress
    if args.what == "alerts":
        evaluate_alerts(Path(args.file), nlp=nlp, out=out, progress=progress, config=detector_config(settings))
    else:
        evaluate_stance(Path(args.file), nlp=nlp, out=out, progress=progress)
    return 0

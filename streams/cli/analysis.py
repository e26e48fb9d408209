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
from .ingest import InputError, _read_input


def add_parser(sub: Any) -> None:
    analyze = sub.add_parser("analyze", help="run the enrichment and alert logic offline and print JSON")
    analyze.add_argument("files", nargs="+", metavar="FILE", help="text, JSON or JSONL file(s), or - for stdin")
    analyze.add_argument("--feed", default="analyze", help="feed recorded in articles without one (default: analyze)")
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
        parsed = _json_articles(path, content)
        if parsed is None:
            articles.append(Article.from_plain_text(content, feed=feed))
            continue
        for fields in parsed:
            known = {k: fields[k] for k in ("url", "title", "feed", "published_at", "lang", "meta") if k in fields}
            known.setdefault("feed", feed)
            articles.append(Article.create(fields["text"], **known))
    return articles


def _json_articles(path: str, content: str) -> list[dict[str, Any]] | None:
    """The Article fields of a JSONL file or of one JSON article; None for plain text. A file whose first
    line is a JSON object is JSONL: a later line that is not an article is an error naming it, never a
    reason to read the whole file as one text."""
    if not content.lstrip().startswith("{"):
        return None
    name = "stdin" if path == "-" else path
    lines = [(number, line) for number, line in enumerate(content.split("\n"), 1) if line.strip()]  # \n only
    try:
        orjson.loads(lines[0][1])
    except orjson.JSONDecodeError:
        try:  # one JSON article over several lines, or text that happens to start with "{"
            document = orjson.loads(content)
        except orjson.JSONDecodeError:
            return None
        return [_article_fields(document, name)]
    articles = []
    for number, line in lines:
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{name}:{number}: not JSON ({exc})") from exc
        articles.append(_article_fields(fields, f"{name}:{number}"))
    return articles


def _article_fields(fields: Any, where: str) -> dict[str, Any]:
    if not isinstance(fields, dict) or not isinstance(fields.get("text"), str):
        raise InputError(f"{where}: not an Article object with a text")
    return fields


def cmd_analyze(settings: Settings, args: argparse.Namespace) -> int:
    # Heavy (spaCy, Faust): kept off the CLI's start.
    from wirewatch.agents.alert import alerts_for_records
    from wirewatch.agents.analyzer import load_nlp
    from wirewatch.agents.enrich import detector_config
    from wirewatch.agents.enrichment import enrich_articles

    inputs = analyze_inputs(args.files, args.feed)  # a bad file ends the command before the model loads
    nlp = load_nlp(settings)
    articles = []
    for article in inputs:
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
    from wirewatch.agents.eval_alerts import read_items
    from wirewatch.agents.eval_stance import evaluate as evaluate_stance
    from wirewatch.agents.eval_stance import read_statements

    labelled = Path(args.file)
    try:  # a missing file or a bad line is the user's input: said in one line, before the model loads
        (read_items if args.what == "alerts" else read_statements)(labelled)
    except OSError as exc:
        raise InputError.unreadable(labelled, exc) from exc
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    nlp = load_nlp(settings)
    out: TextIO = sys.stdout
    progress = not args.no_progress
    if args.what == "alerts":
        evaluate_alerts(labelled, nlp=nlp, out=out, progress=progress, config=detector_config(settings))
    else:
        evaluate_stance(labelled, nlp=nlp, out=out, progress=progress)
    return 0

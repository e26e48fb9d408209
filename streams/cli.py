"""The ``wirewatch`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import orjson

from wirewatch.agents.learning.linear import ModelFileError
from wirewatch.agents.lexicons import LexiconError

from .broker import (
    BrokerError,
    EmbeddedBroker,
    ensure_topics,
    forget_address,
    free_port,
    port_is_free,
    record_address,
    resolve_bootstrap,
)
from .feeds.base import FeedConfigError
from .records import Article, dumps, now_rfc3339
from .settings import Settings, SettingsError
from .topics import RAW

log = logging.getLogger("wirewatch")


# ---- run / demo -----------------------------------------------------------------------------------------
def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    # Until Faust installs its own handlers, SIGTERM must unwind through `finally` so Tansu is stopped.
    raise KeyboardInterrupt


@contextlib.contextmanager
def broker_for_run(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a reachable broker: the configured one, or an embedded Tansu we own."""
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    embedded: EmbeddedBroker | None = None
    try:
        if not settings.broker:
            embedded = EmbeddedBroker(settings, log_file=settings.data_path / "tansu.log").start()
            settings = settings.with_(broker=f"kafka://{embedded.bootstrap}")
            print(f"wirewatch: embedded Tansu broker listening on {embedded.bootstrap}", flush=True)
        created = asyncio.run(ensure_topics(settings))
        if created:
            print(f"wirewatch: created topics {', '.join(created)}", flush=True)
        record_address(settings, ",".join(settings.bootstrap_servers), embedded=embedded is not None)
        yield settings
    finally:
        forget_address(settings)
        if embedded is not None:
            embedded.stop()
            print("wirewatch: embedded broker stopped", flush=True)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from .app import create_pipeline, internal_topics, run_worker

    with broker_for_run(settings) as live:
        if not port_is_free(live.web_port, live.web_host):
            # A second worker on the same host: take a free port rather than fail.
            live = live.with_(web_port=free_port(live.web_host))
        pipeline = create_pipeline(live)
        asyncio.run(ensure_topics(live, extra=internal_topics(pipeline.app)))
        if live.feeds:
            from .feeds.runner import register_runner

            pipeline.feed_runner = register_runner(pipeline, live.feeds)
        if getattr(args, "demo", False):
            from .feeds.cli import register_demo

            register_demo(pipeline)
        print(
            f"wirewatch: worker '{live.app_id}' on {live.broker}; web http://{live.web_host}:{live.web_port}/",
            flush=True,
        )
        run_worker(pipeline)
    return 0


# ---- ingest ---------------------------------------------------------------------------------------------
def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8", errors="surrogateescape")


def ingest_records(args: argparse.Namespace) -> Iterator[tuple[bytes | None, bytes, str | None]]:
    """(key, value, problem) per record to produce. Lines that are not Article JSON are produced as they
    are: the worker dead-letters them with a reason, so nothing a user feeds in disappears silently."""
    for path in args.files:
        content = _read_input(path)
        if args.text:
            title = args.title or ""
            article = Article.create(content, url=args.url, title=title, feed=args.feed)
            yield article.id.encode(), article.to_bytes(), None
            continue
        for number, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            raw = line.encode("utf-8", errors="surrogateescape")
            try:
                fields = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield None, raw, f"{path}:{number}: not JSON ({exc})"
                continue
            if not isinstance(fields, dict) or not isinstance(fields.get("text"), str):
                yield None, raw, f"{path}:{number}: not an Article object with a text"
                continue
            fields.setdefault("feed", args.feed)
            fields.setdefault("fetched_at", now_rfc3339())
            if not fields.get("id"):
                from .records import article_id

                fields["id"] = article_id(fields.get("url"), fields.get("title"), fields["text"])
            yield str(fields["id"]).encode(), dumps(fields), None


async def _produce(settings: Settings, bootstrap: list[str], records: Sequence[tuple[bytes | None, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_request_size=settings.max_record_bytes + 65536,
        **settings.aiokafka_security(),
    )
    await producer.start()
    try:
        futures = [await producer.send(settings.topic(RAW), value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(settings)
    records: list[tuple[bytes | None, bytes]] = []
    problems = 0
    for key, value, problem in ingest_records(args):
        if problem:
            problems += 1
            print(f"warning: {problem}; sent as is, the worker will dead-letter it", file=sys.stderr)
        records.append((key, value))
    asyncio.run(_produce(settings, bootstrap, records))
    print(
        f"ingested {len(records)} record(s) into {settings.topic(RAW)} on {','.join(bootstrap)}"
        + (f" ({problems} invalid)" if problems else "")
    )
    return 0


# ---- analyze / eval -------------------------------------------------------------------------------------
def analyze_inputs(paths: Sequence[str], feed: str) -> list[Article]:
    """Articles from files: JSONL of Article fields, one JSON article, or plain text."""
    articles: list[Article] = []
    for path in paths:
        content = _read_input(path)
        stripped = content.strip()
        parsed: list[Any] = []
        if stripped.startswith("{"):
            try:
                parsed = [orjson.loads(line) for line in stripped.splitlines() if line.strip()]
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
    from wirewatch.agents.alert import alerts_for_records
    from wirewatch.agents.enrich import detector_config
    from wirewatch.agents.enrichment import enrich_articles

    from .app import load_nlp
    from .validation import InvalidRecord, parse_article

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
    from .app import load_nlp

    if args.what == "alerts":
        from wirewatch.agents.enrich import detector_config
        from wirewatch.agents.eval_alerts import evaluate as evaluate_alerts

        evaluate = functools.partial(evaluate_alerts, config=detector_config(settings))
    else:
        from wirewatch.agents.eval_stance import evaluate  # type: ignore[no-redef]
    nlp = load_nlp(settings)
    out: TextIO = sys.stdout
    evaluate(Path(args.file), nlp=nlp, out=out, progress=not args.no_progress)
    return 0


# ---- entry point ----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch",
        description="Streaming news processor: entities, stances and missile-launch alerts on Kafka.",
        epilog="Configuration comes from WIREWATCH_* environment variables (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a worker (starts the embedded broker when WIREWATCH_BROKER is unset)")
    run.set_defaults(func=cmd_run, demo=False)
    demo = sub.add_parser("demo", help="run a worker and replay the bundled sample feed")
    demo.set_defaults(func=cmd_run, demo=True)

    ingest = sub.add_parser("ingest", help="produce articles (JSONL of Article fields, or --text files) to news.raw")
    ingest.add_argument("files", nargs="+", metavar="FILE", help="JSONL file(s), or - for stdin")
    ingest.add_argument("--text", action="store_true", help="each FILE is one plain-text article")
    ingest.add_argument("--title", default="", help="title for --text articles")
    ingest.add_argument("--url", default=None, help="URL for a --text article (its id is then the URL's hash)")
    ingest.add_argument("--feed", default="cli", help="feed name recorded in the articles (default: cli)")
    ingest.set_defaults(func=cmd_ingest)

    analyze = sub.add_parser("analyze", help="run the enrichment and alert logic offline and print JSON")
    analyze.add_argument("files", nargs="+", metavar="FILE", help="text, JSON or JSONL file(s), or - for stdin")
    analyze.add_argument("--feed", default="analyze")
    analyze.set_defaults(func=cmd_analyze)

    evaluate = sub.add_parser("eval", help="evaluate alerts or stance on a labelled JSONL file")
    evaluate.add_argument("what", choices=("alerts", "stance"))
    evaluate.add_argument("file", metavar="FILE.jsonl")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=cmd_eval)

    from wirewatch.agents.learning import train_cli

    from .feeds.cli import add_feeds_parser
    from .lag import add_lag_parser
    from .tail import add_alerts_parser

    add_alerts_parser(sub)
    add_feeds_parser(sub)
    add_lag_parser(sub)
    train_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        parser.exit(2, f"wirewatch: configuration error: {exc}\n")
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level.lower() != "debug":
        logging.getLogger("aiokafka").setLevel(logging.WARNING)  # client chatter is noise in a CLI
    try:
        return int(args.func(settings, args) or 0)
    except BrokerError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 1
    except LexiconError as exc:
        print(f"wirewatch: lexicon error: {exc}", file=sys.stderr)
        return 2
    except ModelFileError as exc:
        print(f"wirewatch: model error: {exc}", file=sys.stderr)  # the alert or the stance model
        return 2
    except FeedConfigError as exc:
        print(f"wirewatch: feed configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

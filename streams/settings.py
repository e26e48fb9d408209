"""The one settings object: every knob comes from a ``WIREWATCH_*`` environment variable.

Nothing else in wirewatch reads ``os.environ``; components take a :class:`Settings` (or values from it).
The README's settings table lists the same variables with the same defaults.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from wirewatch.agents.taxonomy import TAXONOMY

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
#: How much of each article the tagger, parser and lemmatizer run on (WIREWATCH_PARSE).
PARSE_MODES = ("selective", "full")


class SettingsError(ValueError):
    """A WIREWATCH_* variable has a value wirewatch cannot use."""


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "wirewatch")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field ``name`` is read from ``WIREWATCH_NAME``."""

    #: ``kafka://host:port[;host:port]``; empty = start the embedded Tansu broker (``wirewatch run``)
    #: or use the one a running ``wirewatch run`` recorded in the data dir (other commands).
    broker: str = ""
    topic_prefix: str = ""
    partitions: int = 4
    replication_factor: int = 1
    app_id: str = "wirewatch"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    data_dir: str = field(default_factory=_default_data_dir)
    #: Article text longer than this (UTF-8 bytes) is truncated and marked; a raw record longer than
    #: ``max_record_bytes`` is dead-lettered unparsed.
    max_article_bytes: int = 200_000
    max_record_bytes: int = 8_388_608
    model: str = ""
    gazetteer: str = ""
    #: Directory of user lexicon files merged into the shipped ones (actors.json, detector_cues.json,
    #: stance_targets.json, stance_cues.json).
    lexicon_dir: str = ""
    #: Stance model written by ``wirewatch train stance`` (its .npz, or the directory holding stance.npz);
    #: empty: the shipped one.
    stance_model: str = ""
    batch_size: int = 16
    #: Run the model in a child process of the worker (crash isolation; the event loop never waits on
    #: spaCy) instead of on a thread of the worker's own process.
    nlp_process: bool = False
    #: ``selective``: entities and sentences on all text, tagger/parser/lemmatizer only on the sentences
    #: the detector's and stance tagger's cues select; ``full``: every sentence parsed. Full by default: news
    #: has a cue in nearly every sentence, where selective parsing costs more than it saves (README).
    parse: str = "full"
    #: Seconds to wait for a batch to fill: under load batches fill at once, so this only bounds the
    #: added latency when traffic is light.
    batch_within: float = 0.05
    #: Copy likely launch reports from news.raw to news.raw.priority, which the enrich agent drains first.
    priority_lane: bool = True
    incident_window_hours: float = 48.0
    alert_non_state_rockets: bool = False
    #: Directory of a retrained alert model (``wirewatch train alerts --out DIR``); empty: the shipped one.
    alert_model: str = ""
    #: JSON: kind → severity, or kind → {"occurred": .., "warning": ..}; e.g. {"cruise": "high"}.
    severity_map: str = ""
    #: feeds.toml of the feeds a worker runs (empty: none); ``wirewatch feeds`` falls back to ./feeds.toml.
    feeds: str = ""
    #: webhooks.toml of the webhooks alerts are POSTed to (empty: none); checked when a worker starts.
    webhooks: str = ""
    #: sinks.toml of the plugin sinks alerts go to (empty: none); checked when a worker starts.
    sinks: str = ""
    #: subscriptions.toml loaded into news.subscriptions when a worker starts (empty: only the topic's).
    subscriptions: str = ""
    #: Seconds between a worker's re-reads of news.subscriptions (changes made on another worker).
    subscriptions_refresh: float = 10.0
    #: SMTP server of the e-mail channel: smtp://host:port (STARTTLS if offered), smtps://host:port (SSL).
    smtp_url: str = ""
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "wirewatch@localhost"
    #: Require STARTTLS on smtp:// (refuse to send in clear text).
    smtp_require_tls: bool = False
    #: Bearer token for the web APIs and dashboard (empty: no authentication; the server binds loopback).
    api_token: str = field(default="", repr=False)
    ingest_max_bytes: int = 33_554_432
    #: Seconds a web client has to send a request's headers, and its body where one is read.
    web_read_timeout: float = 30.0
    #: Sign-in attempts per minute at /login from one client address.
    login_attempts_per_minute: int = 10
    #: Let full-text fetches reach loopback, private and link-local addresses (refused by default).
    fetch_private_addresses: bool = False
    #: Consumer groups besides wirewatch's own whose lag the dashboard, /metrics and `wirewatch lag` show.
    lag_groups: str = ""
    lag_interval: float = 5.0
    #: How long a consumer fetch may wait for data. Apache Kafka answers as soon as data arrives; Tansu
    #: waits the full time, so this bounds the latency each pipeline hop adds there.
    fetch_max_wait_ms: int = 50
    #: Faust/aiokafka consumer-group timeouts. Tansu holds a JoinGroup for about the rebalance timeout,
    #: so a short one keeps worker start-up fast; raise both for slow batches on big clusters.
    rebalance_timeout: float = 8.0
    session_timeout: float = 20.0
    #: Longest wait, in seconds, for a stopping worker to finish its in-flight batches before it stops
    #: anyway (their records are processed again after a restart).
    shutdown_timeout: float = 30.0
    #: Watchdog: an owned partition with records waiting and no committed progress this long is a stall
    #: (logged, counted, /readyz fails); with ``stall_exit`` the worker then exits for its supervisor.
    stall_seconds: float = 120.0
    stall_exit: bool = False
    log_level: str = "info"
    #: The archive: ``sqlite:///path`` or ``postgresql://user:pass@host/db`` (empty: SQLite in the data dir).
    store: str = field(default="", repr=False)
    #: Articles published longer ago than this are pruned from the archive (0: kept); alerts and incidents stay.
    store_retention_days: float = 0.0
    # Kafka security, passed through to Faust and to every aiokafka client wirewatch creates.
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    ssl_check_hostname: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``WIREWATCH_*`` variables (``environ`` defaults to the process env)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"WIREWATCH_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, type(getattr(_DEFAULTS, f.name)))
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> None:
        if self.partitions < 1:
            raise SettingsError("WIREWATCH_PARTITIONS must be at least 1")
        if self.max_article_bytes < 1024:
            raise SettingsError("WIREWATCH_MAX_ARTICLE_BYTES must be at least 1024")
        if self.max_record_bytes < self.max_article_bytes:
            raise SettingsError("WIREWATCH_MAX_RECORD_BYTES must be at least WIREWATCH_MAX_ARTICLE_BYTES")
        if self.ingest_max_bytes < self.max_record_bytes:
            raise SettingsError("WIREWATCH_INGEST_MAX_BYTES must be at least WIREWATCH_MAX_RECORD_BYTES")
        if self.shutdown_timeout <= 0:
            raise SettingsError("WIREWATCH_SHUTDOWN_TIMEOUT must be more than 0")
        if self.store_retention_days < 0:
            raise SettingsError("WIREWATCH_STORE_RETENTION_DAYS must be 0 (keep) or more")
        if self.stall_seconds <= 0:
            raise SettingsError("WIREWATCH_STALL_SECONDS must be more than 0")
        if self.batch_size < 1:
            raise SettingsError("WIREWATCH_BATCH_SIZE must be at least 1")
        if self.parse not in PARSE_MODES:
            raise SettingsError(f"WIREWATCH_PARSE must be one of {', '.join(PARSE_MODES)}")
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise SettingsError(f"WIREWATCH_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}")
        if self.security_protocol.startswith("SASL") and self.sasl_mechanism not in SASL_MECHANISMS:
            raise SettingsError(f"WIREWATCH_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}")
        self.severity_mapping()
        if self.broker and not all(h.strip() for h in self.bootstrap_servers):
            raise SettingsError(f"WIREWATCH_BROKER is not a broker list: {self.broker!r}")

    # ---- derived values -------------------------------------------------------------------------------
    def severity_mapping(self) -> dict[str, Any]:
        """WIREWATCH_SEVERITY_MAP parsed and checked."""
        if not self.severity_map.strip():
            return {}
        try:
            mapping = json.loads(self.severity_map)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"WIREWATCH_SEVERITY_MAP is not JSON: {exc}") from None
        levels = set(TAXONOMY.severities)
        ok = isinstance(mapping, dict) and all(
            (isinstance(v, str) and v in levels)
            or (isinstance(v, dict) and set(v) <= {"occurred", "warning"} and set(v.values()) <= levels)
            for v in mapping.values()
        )
        if not ok:
            raise SettingsError(
                f"WIREWATCH_SEVERITY_MAP must map kinds to {'|'.join(TAXONOMY.severities)} "
                'or to {"occurred": .., "warning": ..}'
            )
        return mapping

    @property
    def bootstrap_servers(self) -> list[str]:
        """``kafka://a:9092;b:9092`` (or ``a:9092,b:9092``) → ``["a:9092", "b:9092"]``."""
        hosts = self.broker.replace(",", ";").split(";")
        return [h.strip().removeprefix("kafka://") for h in hosts if h.strip()]

    @property
    def faust_broker(self) -> str:
        return ";".join(f"kafka://{h}" for h in self.bootstrap_servers)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    def topic(self, name: str) -> str:
        """The full topic name for a catalog name such as ``news.raw``."""
        return f"{self.topic_prefix}{name}"

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.security_protocol not in ("SSL", "SASL_SSL"):
            return None
        ctx = ssl.create_default_context(cafile=self.ssl_cafile or None)
        ctx.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile:
            ctx.load_cert_chain(self.ssl_certfile, self.ssl_keyfile or None)
        return ctx

    def aiokafka_security(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        opts: dict[str, Any] = {"security_protocol": self.security_protocol}
        context = self.ssl_context()
        if context is not None:
            opts["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            opts.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return opts


_DEFAULTS = Settings(data_dir="")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: str, kind: type) -> Any:
    var = f"WIREWATCH_{name.upper()}"
    try:
        if kind is bool:
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw.strip().replace("_", ""))
        if kind is float:
            return float(raw.strip())
    except ValueError:
        raise SettingsError(f"{var}={raw!r} is not a valid {kind.__name__}") from None
    value = raw.strip()
    if name in ("security_protocol", "sasl_mechanism"):
        value = value.upper()
    return value

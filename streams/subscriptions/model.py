"""Subscriptions as data: who wants which alerts, and where and how often they get them.

A subscription is an id, an owner label, a :class:`Filter` and one or more :class:`Channel` s. The same
checks apply wherever one comes from (the TOML file, the API, the CLI): :func:`parse_subscription` refuses a
bad one with a :class:`SubscriptionError` naming the field, before anything is stored. Kinds, families,
modalities and severities are the taxonomy's (``agents/taxonomy.py``), never a list of this module.

``subscriptions.toml``::

    [[subscription]]
    id = "korea-desk"
    owner = "Asia desk"
    kinds = ["icbm", "long_range"]        # kinds or families
    actors = ["North Korea"]
    modalities = ["occurred", "possible"]
    min_severity = "high"
    min_confidence = 0.5
    entities = ["Sea of Japan"]           # every one mentioned in the title or evidence
    query = 'missile -drill "Sea of Japan" OR ICBM'
    feeds = ["yonhap"]

    [[subscription.channel]]
    type = "email"                        # email, slack, mattermost, webhook, atom
    to = ["desk@example.org"]
    mode = "immediate"                    # or "digest" with every_hours = 6
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from wirewatch.agents.taxonomy import TAXONOMY

from ..records import evidence_texts
from ..settings import SettingsError

CHANNEL_TYPES = ("email", "slack", "mattermost", "webhook", "atom")
MODES = ("immediate", "digest")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FILTER_KEYS = ("kinds", "actors", "modalities", "min_severity", "min_confidence", "entities", "query", "feeds")
_KEYS = ("id", "owner", "channel", "channels", *_FILTER_KEYS)
_CHANNEL_KEYS = {
    "email": ("to", "subject_prefix"),
    "slack": ("url",),
    "mattermost": ("url",),
    "webhook": ("url", "secret"),
    "atom": (),
}
_COMMON_CHANNEL_KEYS = ("type", "mode", "every_hours", "timeout", "max_attempts")
#: The channel options that are credentials: a listing shows a fingerprint of each, never the value (a Slack
#: or Mattermost incoming-webhook URL is itself the credential: whoever has it can post).
SECRET_OPTIONS = {"webhook": ("secret",), "slack": ("url",), "mattermost": ("url",)}
#: The key of the object that stands for a redacted option in a listing: ``{"redacted": "…k3Xq"}``.
REDACTED = "redacted"
#: A credential this long shows its last four characters in a listing (an incoming-webhook URL, a generated
#: secret: four characters of 24 or more give nothing useful away); a shorter one shows none.
_HINT_MIN_LENGTH = 24


class SubscriptionError(SettingsError):
    """A subscription that cannot be stored; ``field`` names the offending field (``channel[0].url``).
    A SettingsError, so a worker whose subscriptions file is bad refuses to start, naming it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# ---- the full-text query -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """A full-text query on an alert's title and evidence: terms and "quoted phrases" that must all occur,
    ``-term`` that must not, and ``OR`` between such groups (``a b OR c`` = (a and b) or c). Case-insensitive,
    whole words."""

    text: str
    groups: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (required, excluded) per OR-group

    def matches(self, haystack: str) -> bool:
        text = " " + " ".join(re.findall(r"\w+", haystack.lower())) + " "
        return any(
            all(f" {t} " in text for t in required) and not any(f" {t} " in text for t in excluded)
            for required, excluded in self.groups
        )


def _norm(term: str) -> str:
    return " ".join(re.findall(r"\w+", term.lower()))


def parse_query(text: str) -> Query:
    """Parse a query; a ``ValueError`` says what is wrong (unbalanced quote, empty group, only exclusions)."""
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError as exc:
        raise ValueError(f"not a valid query ({exc})") from None
    groups: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    required: list[str] = []
    excluded: list[str] = []
    for token in [*tokens, "OR"]:
        if token == "OR":
            if not required:
                raise ValueError("each part of the query (around OR) needs a term that must occur")
            groups.append((tuple(required), tuple(excluded)))
            required, excluded = [], []
            continue
        negated = token.startswith("-") and len(token) > 1
        term = _norm(token[1:] if negated else token)
        if not term:
            raise ValueError(f"the query term {token!r} has no letters or digits")
        (excluded if negated else required).append(term)
    return Query(text, tuple(groups))


# ---- the model -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    kinds: tuple[str, ...] = ()  # kinds and families, as given
    actors: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    min_severity: str | None = None
    min_confidence: float | None = None
    entities: tuple[str, ...] = ()
    query: Query | None = None
    feeds: tuple[str, ...] = ()

    def matches(self, alert: Mapping[str, Any]) -> bool:
        kind = str(alert.get("kind") or "")
        if self.kinds and kind not in self.kinds and TAXONOMY.kind_family.get(kind) not in self.kinds:
            return False
        if self.actors and str(alert.get("actor") or "").lower() not in {a.lower() for a in self.actors}:
            return False
        if self.modalities and alert.get("modality") not in self.modalities:
            return False
        rank = TAXONOMY.severity_rank
        if self.min_severity and rank.get(str(alert.get("severity")), -1) < rank[self.min_severity]:
            return False
        confidence = alert.get("confidence")
        if self.min_confidence is not None and not (
            isinstance(confidence, int | float) and confidence >= self.min_confidence
        ):
            return False
        if self.feeds and alert.get("feed") not in self.feeds:
            return False
        if self.entities or self.query:
            text = searchable_text(alert)
            words = " " + _norm(text) + " "
            if any(f" {_norm(e)} " not in words for e in self.entities):
                return False
            if self.query is not None and not self.query.matches(text):
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kinds": list(self.kinds),
            "actors": list(self.actors),
            "modalities": list(self.modalities),
            "entities": list(self.entities),
            "feeds": list(self.feeds),
        }
        if self.min_severity:
            out["min_severity"] = self.min_severity
        if self.min_confidence is not None:
            out["min_confidence"] = self.min_confidence
        if self.query is not None:
            out["query"] = self.query.text
        return {k: v for k, v in out.items() if v != []}


def searchable_text(alert: Mapping[str, Any]) -> str:
    """The text a query and ``entities`` look in: the title, the evidence sentences, the actor, the speaker
    and the details' words (location, weapon name)."""
    details = alert.get("details") if isinstance(alert.get("details"), Mapping) else {}
    words = [v for v in details.values() if isinstance(v, str)]
    extra = [str(alert.get(k) or "") for k in ("actor", "speaker")]
    return " ".join([str(alert.get("title") or ""), *evidence_texts(alert), *extra, *words])


@dataclass(frozen=True)
class Channel:
    type: str
    mode: str = "immediate"
    every_hours: float = 24.0
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 10.0
    max_attempts: int = 5

    def to_dict(self, *, secrets: bool = True) -> dict[str, Any]:
        """The channel as stored; ``secrets`` False: each credential replaced by :func:`redacted`."""
        options = dict(self.options)
        if not secrets:
            options.update({k: redacted(options[k]) for k in SECRET_OPTIONS.get(self.type, ()) if k in options})
            if isinstance(options.get("url"), str) and url_has_credentials(options["url"]):
                options["url"] = {REDACTED: without_credentials(options["url"])}
        out: dict[str, Any] = {"type": self.type, "mode": self.mode, **options}
        if self.mode == "digest":
            out["every_hours"] = self.every_hours
        out["timeout"], out["max_attempts"] = self.timeout, self.max_attempts
        return out


@dataclass(frozen=True)
class Subscription:
    id: str
    owner: str
    filter: Filter
    channels: tuple[Channel, ...]

    def to_dict(self, *, secrets: bool = True) -> dict[str, Any]:
        """The subscription as stored and exported; ``secrets`` False: as listed, credentials redacted."""
        return {
            "id": self.id,
            "owner": self.owner,
            **self.filter.to_dict(),
            "channel": [c.to_dict(secrets=secrets) for c in self.channels],
        }

    def channel_id(self, index: int) -> str:
        """The name of channel ``index`` in logs, metrics and dead letters: ``sub/0:email``."""
        return f"{self.id}/{index}:{self.channels[index].type}"


def redacted(value: str) -> dict[str, str]:
    """What a listing shows for a credential: its last four characters when it is long (enough to tell two
    apart and to recognise the one a user holds), else nothing. Never a hash of it: an unsalted hash of a short
    secret is found offline from a word list. An object, not a string, so that a listing stored back is
    refused rather than stored with the hint as its secret."""
    return {REDACTED: "…" + value[-4:] if len(value) >= _HINT_MIN_LENGTH else "…"}


def url_has_credentials(url: str) -> bool:
    """A URL that carries a credential of its own: a user name or password, or a query string (where services
    put their tokens: ``?token=…``)."""
    parts = urlsplit(url)
    return bool(parts.username or parts.password or parts.query)


def without_credentials(url: str) -> str:
    """``url`` as a listing shows it: no user or password, each query value replaced by ``…``
    (``https://hooks.example.org/in?token=…``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = "&".join(f"{pair.split('=', 1)[0]}=…" for pair in parts.query.split("&") if pair)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


# ---- validation ----------------------------------------------------------------------------------------
def _strings(name: str, value: Any, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SubscriptionError(name, "must be a list of non-empty strings")
    out = tuple(v.strip() for v in value)
    if allowed is not None:
        out = tuple(v.lower() for v in out)
        wrong = [v for v in out if v not in allowed]
        if wrong:
            raise SubscriptionError(
                name, f"unknown value(s) {', '.join(map(repr, wrong))} (one of: {', '.join(allowed)})"
            )
    return out


def _number(name: str, value: Any, low: float, high: float, *, integer: bool = False, open_low: bool = False) -> Any:
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value:
        raise SubscriptionError(name, f"must be a {'whole ' if integer else ''}number, not {value!r}")
    if value < low or value > high or (open_low and value == low):
        raise SubscriptionError(name, f"must be {'above' if open_low else 'at least'} {low:g} and at most {high:g}")
    return value


def check_url(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SubscriptionError(name, "is required (an http(s) URL)")
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SubscriptionError(name, f"must be an http(s) URL with a host, not {value!r}")
    return value.strip()


def check_email(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SubscriptionError(name, "must be an e-mail address")
    try:
        address = Address(addr_spec=value.strip())
    except (HeaderParseError, ValueError, IndexError):
        address = None
    if address is None or not address.username or "." not in address.domain or " " in value.strip():
        raise SubscriptionError(name, f"not a valid e-mail address: {value!r}")
    return address.addr_spec


def _channel(table: Any, where: str) -> Channel:
    if not isinstance(table, Mapping):
        raise SubscriptionError(where, "must be a table")
    kind = table.get("type")
    if kind not in CHANNEL_TYPES:
        raise SubscriptionError(f"{where}.type", f"must be one of {', '.join(CHANNEL_TYPES)}, not {kind!r}")
    allowed = (*_COMMON_CHANNEL_KEYS, *_CHANNEL_KEYS[kind])
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SubscriptionError(
            f"{where}.{unknown[0]}", f"unknown option for a {kind} channel (known: {', '.join(allowed)})"
        )
    for key, value in table.items():
        if isinstance(value, Mapping) and REDACTED in value:
            raise SubscriptionError(
                f"{where}.{key}", "is redacted (a listing hides secrets): store what 'subscriptions export' printed"
            )
    mode = table.get("mode", "immediate")
    if mode not in MODES:
        raise SubscriptionError(f"{where}.mode", f"must be one of {', '.join(MODES)}, not {mode!r}")
    if kind == "atom" and mode != "immediate":
        raise SubscriptionError(f"{where}.mode", "an atom channel is a feed readers poll: no digest")
    options: dict[str, Any] = {}
    if kind == "email":
        to = table.get("to")
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not to:
            raise SubscriptionError(f"{where}.to", "is required: a list of e-mail addresses")
        options["to"] = [check_email(f"{where}.to[{i}]", a) for i, a in enumerate(to)]
        if "subject_prefix" in table:
            if not isinstance(table["subject_prefix"], str):
                raise SubscriptionError(f"{where}.subject_prefix", "must be a string")
            options["subject_prefix"] = table["subject_prefix"]
    elif kind in ("slack", "mattermost", "webhook"):
        options["url"] = check_url(f"{where}.url", table.get("url"))
        if kind == "webhook" and "secret" in table:
            secret = table["secret"]
            if not isinstance(secret, str) or len(secret) < 16:
                raise SubscriptionError(f"{where}.secret", "must be a string of at least 16 characters")
            options["secret"] = secret
    every = _number(f"{where}.every_hours", table.get("every_hours", 24.0), 0.0, 24.0 * 31, open_low=True)
    timeout = _number(f"{where}.timeout", table.get("timeout", 10.0), 0.0, 300.0, open_low=True)
    attempts = _number(f"{where}.max_attempts", table.get("max_attempts", 5), 1, 100, integer=True)
    return Channel(kind, mode, float(every), options, float(timeout), int(attempts))


def parse_subscription(data: Any, subscription_id: str | None = None) -> Subscription:
    """A checked :class:`Subscription` from a TOML table or a JSON object; ``subscription_id`` (the URL's,
    for a PUT) wins over, and must agree with, an ``id`` in ``data``."""
    if not isinstance(data, Mapping):
        raise SubscriptionError("subscription", "must be an object")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise SubscriptionError(unknown[0], f"unknown field (known: {', '.join(_KEYS)})")
    sid = data.get("id", subscription_id)
    if subscription_id is not None and sid != subscription_id:
        raise SubscriptionError("id", f"{sid!r} differs from the subscription named in the URL")
    if not isinstance(sid, str) or not _ID.match(sid):
        raise SubscriptionError("id", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    owner = data.get("owner", "")
    if not isinstance(owner, str) or len(owner) > 200:
        raise SubscriptionError("owner", "must be a string of at most 200 characters")

    kind_words = tuple(dict.fromkeys([*TAXONOMY.kind_names, *TAXONOMY.kind_family.values()]))
    min_severity = data.get("min_severity")
    if min_severity is not None:
        if not isinstance(min_severity, str) or min_severity.strip().lower() not in TAXONOMY.severity_rank:
            raise SubscriptionError("min_severity", f"must be one of {', '.join(TAXONOMY.severity_rank)}")
        min_severity = min_severity.strip().lower()
    query = None
    if "query" in data:
        if not isinstance(data["query"], str) or not data["query"].strip():
            raise SubscriptionError("query", "must be a non-empty string")
        try:
            query = parse_query(data["query"])
        except ValueError as exc:
            raise SubscriptionError("query", str(exc)) from None
    flt = Filter(
        kinds=_strings("kinds", data["kinds"], kind_words) if "kinds" in data else (),
        actors=_strings("actors", data["actors"]) if "actors" in data else (),
        modalities=_strings("modalities", data["modalities"], TAXONOMY.modality_names) if "modalities" in data else (),
        min_severity=min_severity,
        min_confidence=(
            float(_number("min_confidence", data["min_confidence"], 0.0, 1.0)) if "min_confidence" in data else None
        ),
        entities=_strings("entities", data["entities"]) if "entities" in data else (),
        query=query,
        feeds=_strings("feeds", data["feeds"]) if "feeds" in data else (),
    )
    if "channel" in data and "channels" in data:
        raise SubscriptionError("channel", "give 'channel' or 'channels', not both")
    tables = data.get("channel", data.get("channels"))
    if isinstance(tables, Mapping):
        tables = [tables]
    if not isinstance(tables, list) or not tables:
        raise SubscriptionError("channel", "at least one channel is required")
    channels = tuple(_channel(t, f"channel[{i}]") for i, t in enumerate(tables))
    return Subscription(sid, owner, flt, channels)


def parse_subscriptions(data: Mapping[str, Any], source: str) -> list[Subscription]:
    """The ``[[subscription]]`` tables of a parsed TOML document; an error names the file and the id."""
    tables = data.get("subscription", [])
    if not isinstance(tables, list):
        raise SubscriptionError(f"{source}: subscription", "must be an array of tables ([[subscription]])")
    out: dict[str, Subscription] = {}
    for index, table in enumerate(tables):
        where = f"{source}: subscription[{index}]"
        try:
            sub = parse_subscription(table)
        except SubscriptionError as exc:
            raise SubscriptionError(f"{where}.{exc.field}", str(exc).split(": ", 1)[1]) from None
        if sub.id in out:
            raise SubscriptionError(f"{where}.id", f"{sub.id!r} is used twice")
        out[sub.id] = sub
    return list(out.values())

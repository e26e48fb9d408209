"""Which sinks a worker runs: the webhooks of ``WIREWATCH_WEBHOOKS`` and the plugin sinks of
``WIREWATCH_SINKS`` (entry-point group ``wirewatch.sinks``).

``sinks.toml``::

    [[sink]]
    id = "archive"          # unique; names the sink in logs, metrics and dead letters
    type = "jsonl-file"     # a wirewatch.sinks entry point (an AlertSink subclass)
    kinds = ["icbm"]        # optional, every sink: kinds, min_severity, max_attempts, batch_size
    path = "/var/lib/wirewatch/alerts.jsonl"   # every other key is an option of that sink type

The composition root calls :func:`load_sinks` when a worker starts, so a bad file stops it with the sink
and the key named (a :class:`~.base.SinkConfigError`, which is a SettingsError).
"""

from __future__ import annotations

import logging
from importlib import metadata

from ..settings import Settings
from ..tomlconfig import id_tables, read_toml
from .base import AlertSink, SinkConfigError, SinkSet
from .webhook import WebhookDispatcher, WebhookSink, load_webhooks

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "wirewatch.sinks"
#: Built-in sink types (the same as wirewatch's own entry points, for installs whose metadata predates them).
BUILTINS: dict[str, type[AlertSink]] = {"webhook": WebhookSink}


def sink_types() -> dict[str, metadata.EntryPoint | type[AlertSink]]:
    """Every installed sink type by name. A plugin cannot replace a built-in name (logged and ignored)."""
    types: dict[str, metadata.EntryPoint | type[AlertSink]] = dict(BUILTINS)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTINS:
            if ep.value != f"{BUILTINS[ep.name].__module__}:{BUILTINS[ep.name].__qualname__}":
                log.warning("sink type %r from %s ignored: it is a built-in name", ep.name, ep.dist)
            continue
        types[ep.name] = ep
    return types


def sink_class(name: str, where: str) -> type[AlertSink]:
    types = sink_types()
    found = types.get(name)
    if found is None:
        raise SinkConfigError(f"{where}: unknown sink type {name!r} (installed: {', '.join(sorted(types))})")
    cls = found if isinstance(found, type) else found.load()
    if not (isinstance(cls, type) and issubclass(cls, AlertSink)):
        raise SinkConfigError(f"{where}: sink type {name!r} is not an AlertSink subclass")
    return cls


def load_sink_config(path: str) -> SinkSet:
    """The sinks of a ``sinks.toml``, built and checked."""
    tables = id_tables(read_toml(path, "sink configuration", SinkConfigError), "sink", path, SinkConfigError)
    if not tables:
        raise SinkConfigError(f"{path}: no [[sink]] tables (unset WIREWATCH_SINKS to run without)")
    sinks = []
    for sink_id, table in tables:
        where = f"{path}: sink {sink_id!r}"
        kind = table.get("type")
        if not isinstance(kind, str) or not kind:
            raise SinkConfigError(f"{where}: option 'type' is required (a wirewatch.sinks entry point)")
        sinks.append(sink_class(kind, where).from_config(table, where))
    return SinkSet(sinks)


def load_sinks(settings: Settings) -> list[SinkSet]:
    """The sink sets a worker with ``settings`` feeds, one agent each (webhooks, then plugin sinks)."""
    sets: list[SinkSet] = []
    if settings.webhooks:
        sets.append(WebhookDispatcher(load_webhooks(settings.webhooks)))
    if settings.sinks:
        sets.append(load_sink_config(settings.sinks))
    return sets

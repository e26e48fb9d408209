"""The archive of articles, alerts and incidents (issue 17): one :class:`Store` interface, SQLite + FTS5
in the data dir by default, PostgreSQL when ``WIREWATCH_STORE`` names one."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..settings import Settings, SettingsError
from .base import IncidentFilter, SearchPage, SearchRequest, Store, StoreError, incident_request, search_request
from .query import QueryError, parse

DEFAULT_FILE = "archive.sqlite3"


def store_location(settings: Settings) -> tuple[str, str]:
    """("sqlite", path) or ("postgres", conninfo) from WIREWATCH_STORE (empty: a file in the data dir)."""
    value = settings.store.strip()
    if not value:
        return "sqlite", str(settings.data_path / DEFAULT_FILE)
    scheme = urlsplit(value).scheme.lower()
    if scheme == "sqlite":
        path = unquote(value[len("sqlite://") :])
        if not path or path == "/":
            raise SettingsError(f"WIREWATCH_STORE={value!r} names no file: sqlite:///path/to/archive.sqlite3")
        return "sqlite", path
    if scheme in ("postgresql", "postgres"):
        return "postgres", value
    raise SettingsError(f"WIREWATCH_STORE must be sqlite:///path or postgresql://..., not {value!r}")


def open_store(settings: Settings) -> Store:
    """The archive WIREWATCH_STORE names; it connects (and migrates) on first use."""
    kind, where = store_location(settings)
    if kind == "sqlite":
        from .sqlite import SqliteStore  # the drivers are imported only for the store in use

        return SqliteStore(Path(where).expanduser())
    from .postgres import PostgresStore  # psycopg is imported only when PostgreSQL is used

    return PostgresStore(where)


__all__ = [
    "IncidentFilter",
    "QueryError",
    "SearchPage",
    "SearchRequest",
    "Store",
    "StoreError",
    "incident_request",
    "open_store",
    "parse",
    "search_request",
    "store_location",
]

"""Schema migrations shipped in the package: ``<store>/NNN_name.sql``, applied in order once each; the
store records the version it reached (a ``schema_version`` table)."""

from __future__ import annotations

from importlib import resources


def migrations(store: str) -> list[tuple[int, str, str]]:
    """(version, name, SQL) of ``store`` (``sqlite`` or ``postgres``), oldest first."""
    folder = resources.files("wirewatch.streams.store.migrations") / store
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)

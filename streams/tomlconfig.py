"""The TOML files users write (``feeds.toml``, ``webhooks.toml``): arrays of tables with unique ids.

Both are read the same way, so their mistakes read the same way: every error names the file, the table
(by id, or by number before the id is known) and the option.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: What an id may look like: it names the table in logs, metrics, state and dead letters.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def read_toml(path: str | Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The parsed document at ``path``; a missing file, a directory or bad TOML raise ``error``."""
    path = Path(path).expanduser()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def id_tables(
    data: Mapping[str, Any], key: str, source: str, error: type[Exception]
) -> list[tuple[str, dict[str, Any]]]:
    """The ``[[key]]`` tables of ``data`` as (id, table), checked: nothing else at the top level, each one
    a table with a well-formed id, no id twice."""
    unknown = set(data) - {key}
    if unknown:
        raise error(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}; use [[{key}]] tables")
    tables = data.get(key, [])
    if not isinstance(tables, list):
        raise error(f"{source}: '{key}' must be an array of tables ([[{key}]])")
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for number, table in enumerate(tables, 1):
        where = f"{source}: {key} #{number}"
        if not isinstance(table, dict):
            raise error(f"{where} is not a table")
        table_id = table.get("id")
        if not isinstance(table_id, str) or not table_id:
            raise error(f"{where}: option 'id' is required (a string)")
        if not ID_PATTERN.match(table_id):
            raise error(f"{where}: id {table_id!r} may use letters, digits and . _ : - only")
        if table_id in seen:
            raise error(f"{source}: {key} id {table_id!r} is used twice")
        seen.add(table_id)
        found.append((table_id, table))
    return found

"""Labelled JSONL files and the grouping key that keeps one page out of both sides of a split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The objects of a JSONL file, blank lines skipped; a line that is not a JSON object is an error
    naming the file and the line."""
    path = Path(path)
    items: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(item, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object, got {type(item).__name__}")
            items.append(item)
    return items


def source_group(source: str) -> str:
    """The page a passage comes from, normalised: scheme, ``www.``, query, fragment and trailing slash
    dropped, host lower-cased (``https://www.X.com/a/?p=1#top`` and ``http://x.com/a`` are one group)."""
    text = (source or "").strip()
    if not text:
        return ""
    parts = urlsplit(text if "//" in text else "//" + text)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    path = parts.path.rstrip("/")
    return f"{host}{path}" if host else text.rstrip("/")

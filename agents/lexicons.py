"""The detector's and stance tagger's data files: shipped in ``agents/data/``, extended by the user.

A user directory (``WIREWATCH_LEXICON_DIR``) may hold files with the same names as the shipped ones
(``actors.json``, ``detector_cues.json``, ``stance_targets.json``, ``stance_cues.json``); each is merged
into the shipped file: objects key by key (recursively), lists extended with the new entries, other
values replaced. So a user adds an alias, a cue word or a person without copying the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

_user_dir: Path | None = None
_on_change: list[Callable[[], None]] = []


class LexiconError(ValueError):
    """A user lexicon file that cannot be read or merged."""


def merge(base: Any, extra: Any) -> Any:
    """``extra`` merged into ``base`` (neither is modified)."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return base + [item for item in extra if item not in base]
    return extra


def shipped(name: str) -> dict[str, Any]:
    return json.loads((files("wirewatch.agents") / "data" / name).read_text(encoding="utf-8"))


def load(name: str) -> dict[str, Any]:
    """The shipped data file ``name`` with the user's file of the same name merged in, if there is one."""
    data = shipped(name)
    if _user_dir is not None and (_user_dir / name).is_file():
        path = _user_dir / name
        try:
            extra = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LexiconError(f"{path}: {exc}") from None
        if not isinstance(extra, dict):
            raise LexiconError(f"{path}: expected a JSON object")
        data = merge(data, extra)
    return data


def on_change(callback: Callable[[], None]) -> None:
    """Register a cache to clear when the user directory changes."""
    _on_change.append(callback)


def configure(user_dir: str | Path | None) -> None:
    """Use ``user_dir`` (or none) for user lexicon files from now on."""
    global _user_dir
    path = Path(user_dir).expanduser() if user_dir else None
    if path is not None and not path.is_dir():
        raise LexiconError(f"WIREWATCH_LEXICON_DIR {path} is not a directory")
    if path != _user_dir:
        _user_dir = path
        for callback in _on_change:
            callback()

"""JSON data files read into frozen dataclasses: each value checked against its field's annotated type,
unknown and missing keys refused, every error naming the entry (``weapons #2: unknown key(s) patern``).
Shared by the detector's lexicon and the alert model's context cues."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import MISSING, fields
from types import MappingProxyType
from typing import Any

from .lexicons import LexiconError

#: A regular expression (compiled case-insensitively); checked when the file is read.
Pattern = str

_SCALARS: dict[str, type | tuple[type, ...]] = {"bool": bool, "int": int, "float": (int, float), "str": str}
_SCALAR_NAMES = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a string"}


def read_record(cls: type[Any], data: Any, where: str, nested: Mapping[str, type[Any]] = MappingProxyType({})) -> Any:
    """A ``cls`` from the JSON object ``data``: unknown keys (other than ``_`` comments) and missing keys
    without a default are refused, each value is checked against its field's type. ``nested``: the
    dataclasses a field may name, by class name."""
    if not isinstance(data, dict):
        raise LexiconError(f"{where}: expected an object, not {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(k for k in data if k not in known and not k.startswith("_"))
    if unknown:
        raise LexiconError(f"{where}: unknown key(s) {', '.join(unknown)}")
    required = {n for n, f in known.items() if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(data))
    if missing:
        raise LexiconError(f"{where}: missing key(s) {', '.join(missing)}")
    return cls(**{n: _value(str(known[n].type), v, f"{where}: {n}", nested) for n, v in data.items() if n in known})


def _words(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: expected a list of strings")
    return value


def _pattern(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise LexiconError(f"{where}: expected a regular expression (a string)")
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{where}: bad regular expression: {exc}") from None
    return value


def _value(kind: str, value: Any, where: str, nested: Mapping[str, type[Any]]) -> Any:
    """``value`` read as the annotated type ``kind`` (a field type of a record)."""
    if kind == "Pattern":
        return _pattern(value, where)
    if kind == "frozenset[str]":
        return frozenset(_words(value, where))
    if kind == "tuple[str, ...]":
        return tuple(_words(value, where))
    if kind in _SCALARS:
        if not isinstance(value, _SCALARS[kind]) or (kind != "bool" and isinstance(value, bool)):
            raise LexiconError(f"{where}: expected {_SCALAR_NAMES[kind]}, not {json.dumps(value)}")
        return value
    if kind.startswith("tuple[") and kind.endswith(", ...]"):
        if not isinstance(value, list):
            raise LexiconError(f"{where}: expected a list")
        return tuple(_value(kind[6:-6], item, f"{where} #{i + 1}", nested) for i, item in enumerate(value))
    if kind.startswith("Mapping[str, "):
        if not isinstance(value, dict):
            raise LexiconError(f"{where}: expected an object")
        return MappingProxyType({str(k): _value(kind[13:-1], v, f"{where} {k!r}", nested) for k, v in value.items()})
    return read_record(nested[kind], value, where, nested)

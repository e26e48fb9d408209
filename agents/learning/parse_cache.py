"""Parsed training passages kept on disk between training runs: parsing is most of a run's start-up, and
the same labelled files are parsed again on every run of ``wirewatch train``.

One file per (pipeline, texts): the key hashes the pipeline's config and components (weights, gazetteer
patterns) and the texts, so a changed pipeline or file is parsed afresh. The docs are stored with spaCy's own
serialisation (``Doc.to_bytes``: tokens, parse, entities and the tok2vec tensor), in msgpack (``srsly``, spaCy's)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import srsly
from spacy.tokens import Doc

FORMAT = "wirewatch-parse-cache/1"


def cache_key(nlp: Any, texts: Sequence[str]) -> str:
    digest = hashlib.sha256(FORMAT.encode())
    digest.update(nlp.config.to_str().encode("utf-8"))
    for name, component in nlp.pipeline:  # weights and patterns; not the vocab, which grows as it parses
        digest.update(name.encode("utf-8"))
        if hasattr(component, "to_bytes"):
            digest.update(hashlib.sha256(component.to_bytes(exclude=["vocab"])).digest())
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return digest.hexdigest()[:32]


def parse(nlp: Any, texts: Sequence[str], cache_dir: str | Path | None, batch_size: int = 32) -> list[Doc]:
    """The docs of ``texts``: read from ``cache_dir`` when this pipeline parsed these texts before, else
    parsed and written there (no cache without ``cache_dir``). An unreadable cache file is parsed afresh."""
    if cache_dir is None:
        return list(nlp.pipe(texts, batch_size=batch_size))
    path = Path(cache_dir) / f"{cache_key(nlp, texts)}.msgpack"
    if path.is_file():
        try:
            stored = srsly.msgpack_loads(path.read_bytes())
            if stored.get("format") == FORMAT and len(stored["docs"]) == len(texts):
                return [Doc(nlp.vocab).from_bytes(b) for b in stored["docs"]]
        except (ValueError, KeyError, TypeError, OSError):
            pass  # a damaged or foreign file: parse again and overwrite it
    docs = list(nlp.pipe(texts, batch_size=batch_size))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(srsly.msgpack_dumps({"format": FORMAT, "docs": [d.to_bytes() for d in docs]}))
    tmp.replace(path)
    return docs

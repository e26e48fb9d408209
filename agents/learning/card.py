"""The model card: what a set of weights was trained on, how, and how well it does (cross-validated)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _figure(value: Any) -> str:
    if isinstance(value, Mapping) and "value" in value:
        ci = value.get("ci")
        text = f"{value['value']:.3f}"
        return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_card(
    path: str | Path,
    *,
    title: str,
    summary: str,
    data_files: Sequence[str | Path],
    counts: Mapping[str, Any],
    seed: int,
    hyper_parameters: Mapping[str, Any],
    figures: Mapping[str, Mapping[str, Any]],
    weaknesses: Sequence[str],
    date: datetime | None = None,
    sections: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write a markdown card to ``path``. ``figures`` maps a section title (say "cross-validated by
    source, 5 folds") to figures, each a number or ``{"value": v, "ci": [lo, hi]}``. ``date`` defaults
    to today (UTC, day only, so that a rebuild on the same day writes the same bytes). ``sections``: more
    sections after the figures, each a title and its markdown lines."""
    day = (date or datetime.now(UTC)).strftime("%Y-%m-%d")
    lines = [f"# {title}", "", summary, "", f"Trained: {day}; seed {seed}.", "", "## Data", ""]
    lines += ["| file | sha256 |", "|---|---|"]
    lines += [f"| `{Path(p).name}` | `{file_sha256(p)}` |" for p in data_files]
    lines += ["", "| count | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()]
    lines += ["", "## Hyper-parameters", "", "| name | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in hyper_parameters.items()]
    for section, values in figures.items():
        lines += ["", f"## Figures: {section}", "", "| figure | value [95 % bootstrap interval] |", "|---|---|"]
        lines += [f"| {k} | {_figure(v)} |" for k, v in values.items()]
    for section, body in (sections or {}).items():
        lines += ["", f"## {section}", *body]
    lines += ["", "## Known weaknesses", ""]
    lines += [f"- {w}" for w in weaknesses]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

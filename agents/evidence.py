"""Evidence: a passage of an article (character offsets into its text) that supports a finding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """A sentence of the article that supports a finding or a stance (char offsets into the text)."""

    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(text=str(data["text"]), start=int(data["start"]), end=int(data["end"]))

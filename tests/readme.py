"""The README's marked examples, for the tests that run or parse them: a fenced block right after an
``<!-- marker -->`` comment."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(marker: str, lang: str) -> str:
    """The code of the ``lang`` block marked ``<!-- marker -->``; fails the test when the README lost it."""
    match = re.search(rf"<!-- {marker} -->\s*```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, f"README lost its {marker} example"
    return match.group(1)

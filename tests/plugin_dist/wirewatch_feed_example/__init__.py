"""An example wirewatch feed plugin: announcements pinned on a "bulletin board" (a TOML list).

Configured as::

    [[feed]]
    id = "town-board"
    type = "bulletin"
    interval = 600
    board = "Elland town hall"
    notices = [
      { title = "Road closed", text = "Mill Lane is closed for resurfacing until Friday." },
    ]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from wirewatch.streams.feeds import BaseFeed, FeedConfigError, FeedContext, FeedError
from wirewatch.streams.records import Article


class BulletinFeed(BaseFeed):
    """Yields one Article per notice on every poll; the runner dedupes them by id."""

    default_interval = 600.0

    def __init__(self, id: str, options: Mapping[str, Any], context: FeedContext | None = None) -> None:
        super().__init__(id, options, context)
        self.board: str = self.opts.get("board", str)
        self.notices: list[dict[str, Any]] = self.opts.get("notices", list)
        for number, notice in enumerate(self.notices, 1):
            if not isinstance(notice, dict) or not isinstance(notice.get("text"), str):
                raise FeedConfigError(f"feed {id!r}: option 'notices' #{number} needs a text")

    async def articles(self) -> AsyncIterator[Article]:
        if not self.notices:
            raise FeedError(f"the {self.board} board is empty")
        for notice in self.notices:
            yield Article.create(
                notice["text"],
                title=notice.get("title", ""),
                feed=self.id,
                meta={"board": self.board},
            )

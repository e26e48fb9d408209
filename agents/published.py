"""When an article was published: its feed's ``published_at``, else the date its address carries
('/2017/11/28/', '/2016-12/02/', '/20160915/'). The detector reads a launch dated by a month alone ('In August
North Korea fired...') against this month.

Hand-written rather than a library: the one that reads dates from news addresses (``htmldate``'s URL
extractor) comes with an HTML date finder and its dependencies (dateparser, lxml, urllib3, charset_normalizer)
for what is two patterns and a calendar check here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

#: year, month and an optional day, each separated ('/2017/11/28/', '2012-04-17', '/2008-08/31/', '/2020/2/9/')
_SEPARATED = re.compile(r"(?<![0-9])((?:19|20)\d\d)[-/_.](\d{1,2})(?:[-/_.](\d{1,2}))?(?![0-9])")
#: year, month and day run together ('/20160915/', '20230307_40'); six digits (year and month) are as often an
#: article id as a month, so a compact date needs its day
_COMPACT = re.compile(r"(?<![0-9])((?:19|20)\d\d)(\d\d)(\d\d)(?![0-9])")
#: a date before the web's news sites is a number that is no date
_FIRST_YEAR = 1990

_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
#: a month's name or its usual abbreviation ('Aug.', 'Sept'), capitalised: a lower-case 'may' is a verb
_MONTH_NAME = re.compile(
    r"\b(?:(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"|(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)(?![A-Za-z])"
)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


@dataclass(frozen=True)
class PublishedMonth:
    """The year and, when known, the month an article was published."""

    year: int
    month: int | None = None

    def months_after(self, text: str) -> int | None:
        """How many calendar months this month lies after the month ``text`` names ('August', 'Aug. 29',
        'March 2017'): a month without a year is the last one at or before this month. None when ``text``
        names no month, when this month is unknown, or when the named month lies after it (an upcoming one)."""
        m = _MONTH_NAME.search(text)
        if m is None or self.month is None:
            return None
        month = next(i for i, name in enumerate(_MONTHS, 1) if name.startswith((m.group(1) or m.group(2)).lower()[:3]))
        y = _YEAR.search(text)
        year = int(y.group(1)) if y else self.year
        gap = (self.year - year) * 12 + self.month - month
        return gap if gap >= 0 else None


def published_date(url: str | None) -> str | None:
    """The date in a news address's path, 'YYYY-MM-DD' or 'YYYY-MM'; None when it carries none (a year alone
    is no date: '/wiki/2018_Hawaii_false_missile_alert' names its subject), or only an impossible one."""
    path = address_path(url, web_only=False)
    if path is None:
        return None
    for pattern in (_SEPARATED, _COMPACT):
        for m in pattern.finditer(path):
            year, month, day = int(m.group(1)), int(m.group(2)), m.group(3)
            if year < _FIRST_YEAR:
                continue
            try:
                when = date(year, month, int(day) if day else 1)
            except ValueError:
                continue
            return when.isoformat() if day else when.isoformat()[:7]
    return None


def address_path(url: str | None, web_only: bool = True) -> str | None:
    """The path of a news address, percent-decoded: not the host (an IP address) nor the query (tracking ids).
    None for no address, a malformed one ('http://[::1'), or with ``web_only`` one that is no http(s) address
    (an evaluation item's ``source`` may be a name: 'written for wirewatch')."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if web_only and parts.scheme not in ("http", "https"):
        return None
    return unquote(parts.path)


def reference_date(published_at: str | None, url: str | None) -> str | None:
    """The date the detector reads an article against: ``published_at`` when given, else its address's."""
    return published_at or published_date(url)


def published_month(published_at: str | None) -> PublishedMonth | None:
    """The year and month of an RFC 3339 time or a 'YYYY-MM(-DD)' date; None when it does not start with a
    year."""
    m = re.match(r"(\d{4})(?:-(\d{2}))?", published_at or "")
    if m is None:
        return None
    month = int(m.group(2)) if m.group(2) and 1 <= int(m.group(2)) <= 12 else None
    return PublishedMonth(int(m.group(1)), month)

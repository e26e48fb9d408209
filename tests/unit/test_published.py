"""An article's date: its feed's ``published_at``, else the date in its address; a launch's month read against it.

The addresses here were written for the project in the shapes news sites use."""

from __future__ import annotations

import pytest

from wirewatch.agents.published import PublishedMonth, published_date, published_month, reference_date


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.com/2017/11/28/missile-test-report/", "2017-11-28"),
        ("https://news.example.com/world/2016-12/02/content_123456.htm", "2016-12-02"),
        ("https://news.example.com/story/20160915/launch.html", "2016-09-15"),
        ("https://news.example.com/en/news/20230307_40/", "2023-03-07"),
        ("https://news.example.com/publications/2020/2/9/missiles", "2020-02-09"),
        ("https://news.example.com/2017/08/north-korea-threatens-guam/", "2017-08"),
        ("https://news.example.com/nation/2009/02/113_39613.html", "2009-02"),
        # the host and the query are no part of the date
        ("http://203.0.113.7/content/2018-01-05/f88cc5.html", "2018-01-05"),
        ("https://news.example.com/2015/09/24/story/4191443101851/?ref=20191231", "2015-09-24"),
        # ids: too long, too short, or six digits that may as well be an id as a month
        ("https://news.example.com/news/4191443101851/story", None),
        ("https://news.example.com/news/20500/North_Korea_Transports", None),
        ("https://news.example.com/stories/en/200704", None),
        # impossible dates
        ("https://news.example.com/2017/02/30/story", None),
        ("https://news.example.com/20171345/story", None),
        ("https://news.example.com/2019-20/season", None),
        ("https://news.example.com/1066/10/14/hastings", None),
        # a year alone names the subject as often as the date
        ("https://wiki.example.org/wiki/2018_Hawaii_false_missile_alert", None),
        ("https://news.example.com/archive/2015", None),
        ("", None),
        (None, None),
    ],
)
def test_the_date_in_an_address(url: str | None, expected: str | None) -> None:
    assert published_date(url) == expected


def test_published_at_comes_before_the_address() -> None:
    url = "https://news.example.com/2017/11/28/story/"
    assert reference_date("2017-12-01T08:00:00Z", url) == "2017-12-01T08:00:00Z"
    assert reference_date(None, url) == "2017-11-28"
    assert reference_date(None, None) is None


def test_the_month_of_a_reference_date() -> None:
    assert published_month("2017-11-28T08:00:00Z") == PublishedMonth(2017, 11)
    assert published_month("2017-11") == PublishedMonth(2017, 11)
    assert published_month("2017") == PublishedMonth(2017, None)
    assert published_month(None) is None


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("August", 3),
        ("Aug. 29", 3),
        ("early November", 0),
        ("Sept. 3", 2),
        ("March 2017", 8),
        ("May 2016", 18),
        ("December", None),  # after the article's month: an upcoming one, not last year's
        ("December 2017", None),
        ("the Marines", None),  # no month's name
        ("2016", None),
    ],
)
def test_how_long_before_the_article_a_month_lies(text: str, months: int | None) -> None:
    assert PublishedMonth(2017, 11).months_after(text) == months


def test_no_month_without_the_articles_month() -> None:
    assert PublishedMonth(2017, None).months_after("August") is None

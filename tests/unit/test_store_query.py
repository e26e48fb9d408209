"""The archive's query language: parsed once, rendered for FTS5 and for websearch_to_tsquery."""

from __future__ import annotations

import pytest

from wirewatch.streams.settings import Settings, SettingsError
from wirewatch.streams.store import incident_request, search_request, store_location
from wirewatch.streams.store.base import decode_cursor, encode_cursor, segments
from wirewatch.streams.store.query import QueryError, Term, parse, render_fts5, render_websearch


def test_words_phrases_or_and_exclusion() -> None:
    query = parse('ballistic "Sea of Japan" -drill OR ICBM')
    assert query.alternatives == (
        (Term(("ballistic",)), Term(("sea", "of", "japan")), Term(("drill",), negated=True)),
        (Term(("icbm",)),),
    )
    assert render_fts5(query) == '(("ballistic" AND "sea of japan") NOT "drill") OR ("icbm")'
    assert render_websearch(query) == 'ballistic "sea of japan" -drill OR icbm'


def test_punctuation_inside_a_word_makes_a_phrase_and_operators_in_text_are_words() -> None:
    assert parse("U.S. long-range").alternatives == ((Term(("u", "s")), Term(("long", "range"))),)
    # Neither store's syntax leaks through: quotes, stars, colons and NEAR are just text.
    query = parse('title:missile* NEAR "x" or')
    assert render_fts5(query) == '("title missile" AND "near" AND "x" AND "or")'
    assert render_websearch(query) == '"title missile" near x "or"'


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no words"),
        ("   ", "no words"),
        ('"unclosed phrase', "not closed"),
        ("OR missile", "OR needs a term"),
        ("missile OR", "OR needs a term"),
        ("missile OR OR launch", "OR needs a term"),
        ("-missile", "not excluded"),
        ("launch OR -missile", "not excluded"),
        ("- missile", "'-' must be followed"),
        ("!!! ???", "no letters or digits"),
        ("x" * 501, "longer than"),
        (" ".join(["w"] * 33), "more than 32 terms"),
    ],
)
def test_a_malformed_query_says_why(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        parse(text)


def test_request_validation_errors_are_query_errors() -> None:
    with pytest.raises(QueryError, match="limit must be between"):
        search_request("missile", limit=0)
    with pytest.raises(QueryError, match="limit must be a number"):
        search_request("missile", limit="ten")
    with pytest.raises(QueryError, match="since must be a date"):
        search_request("missile", since="last tuesday")
    with pytest.raises(QueryError, match="cursor"):
        search_request("missile", cursor="not-a-cursor!")
    with pytest.raises(QueryError, match="order must be"):
        search_request("missile", order="random")
    request = search_request("missile", since="2019-12-01", cursor=encode_cursor(40), actor="North Korea")
    assert request.since == 1575158400.0 and request.offset == 40 and request.tags == ["actor:north korea"]
    assert search_request(None).order == "time" and search_request("x").order == "relevance"
    assert decode_cursor(None) == 0


def test_incident_request_bounds_its_own_limit() -> None:
    # The same limit rules as a search, with the incidents' default and maximum (100, 200).
    assert incident_request().limit == 100 and incident_request(limit="").limit == 100
    assert incident_request(limit="200").limit == 200
    with pytest.raises(QueryError, match="limit must be between 1 and 200"):
        incident_request(limit=201)
    with pytest.raises(QueryError, match="limit must be a number, not 'ten'"):
        incident_request(limit="ten")
    with pytest.raises(QueryError, match="limit must be between 1 and 100"):
        search_request("missile", limit=101)


def test_snippet_segments_carry_hits_as_data_not_markup() -> None:
    assert segments("a \ue000<b>missile\ue001 flew") == [
        {"text": "a ", "hit": False},
        {"text": "<b>missile", "hit": True},
        {"text": " flew", "hit": False},
    ]


def test_store_location() -> None:
    assert store_location(Settings(data_dir="/d")) == ("sqlite", "/d/archive.sqlite3")
    assert store_location(Settings(store="sqlite:////var/a.db")) == ("sqlite", "//var/a.db")
    assert store_location(Settings(store="sqlite:///var/a.db")) == ("sqlite", "/var/a.db")
    assert store_location(Settings(store="postgresql://u@h/db")) == ("postgres", "postgresql://u@h/db")
    with pytest.raises(SettingsError, match="must be sqlite"):
        store_location(Settings(store="mysql://h/db"))
    with pytest.raises(SettingsError, match="names no file"):
        store_location(Settings(store="sqlite://"))

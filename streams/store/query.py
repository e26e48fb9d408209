"""The archive's search language, parsed once in Python and rendered for each store, so SQLite (FTS5) and
PostgreSQL (tsquery) see the same query and a malformed one is a :class:`QueryError` with a reason (a 400
on the API), never a database error.

The language (the one web search engines use): ``word`` (every word must match), ``"a phrase"`` (words
in this order), ``a OR b`` (either side; binds looser than the implicit AND), ``-word`` / ``-"a phrase"``
(must not match). A word is what the stores' tokenizers see as one: letters and digits; ``U.S.`` or
``long-range`` are several tokens and are searched as a phrase. Every alternative of an OR needs at least
one term that is not excluded (neither store can list "everything but").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Tokens as both stores' tokenizers cut them (unicode61 and PostgreSQL's parser): runs of letters/digits.
_TOKEN = re.compile(r"\w+", re.UNICODE)
_LEXEME = re.compile(r'\s+|"[^"]*"?|-?"[^"]*"?|[^\s"]+')
MAX_QUERY_CHARS = 500
MAX_TERMS = 32


class QueryError(ValueError):
    """The search query cannot be parsed; the message says why, for the user."""


@dataclass(frozen=True)
class Term:
    """One word (one token) or a phrase (several tokens in order); ``negated`` for ``-term``."""

    tokens: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """Alternatives (OR) of conjunctions (AND) of terms."""

    alternatives: tuple[tuple[Term, ...], ...]

    def __str__(self) -> str:
        return render_websearch(self)


def _term(body: str, negated: bool, lexeme: str) -> Term:
    tokens = tuple(t.lower() for t in _TOKEN.findall(body.replace("_", " ")))
    if not tokens:
        raise QueryError(f"{lexeme!r} has no letters or digits to search for")
    return Term(tokens, negated)


def parse(text: str) -> Query:
    """Parse a user's query; raises QueryError for an empty, unbalanced or unsatisfiable one."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if text.count('"') % 2:
        raise QueryError('a phrase is not closed: quotes (") must come in pairs')
    alternatives: list[tuple[Term, ...]] = []
    current: list[Term] = []
    pending_or = False
    count = 0
    for match in _LEXEME.finditer(text):
        lexeme = match.group(0)
        if lexeme.isspace():
            continue
        if lexeme == "OR":
            if not current:
                raise QueryError("OR needs a term on each side")
            alternatives.append(tuple(current))
            current, pending_or = [], True
            continue
        negated = lexeme.startswith("-")
        body = lexeme[1:] if negated else lexeme
        if not body:
            raise QueryError("'-' must be followed by the word or phrase to exclude")
        if body.startswith('"'):
            current.append(_term(body.strip('"'), negated, lexeme))
        else:
            current.append(_term(body, negated, lexeme))
        pending_or = False
        count += 1
        if count > MAX_TERMS:
            raise QueryError(f"the query has more than {MAX_TERMS} terms")
    if pending_or:
        raise QueryError("OR needs a term on each side")
    if current:
        alternatives.append(tuple(current))
    if not alternatives:
        raise QueryError("the query has no words to search for")
    for alternative in alternatives:
        if all(term.negated for term in alternative):
            raise QueryError("every part of the query needs a word that is not excluded with '-'")
    return Query(tuple(alternatives))


# ---- renderers -------------------------------------------------------------------------------------------
def _fts5_term(term: Term) -> str:
    # Tokens are \w+ only, so a double-quoted FTS5 string needs no escaping; a quoted string of several
    # tokens is an FTS5 phrase.
    return '"' + " ".join(term.tokens) + '"'


def render_fts5(query: Query) -> str:
    """The query as an FTS5 MATCH expression: ``("a" AND "b c") NOT "d" OR (...)``."""
    parts = []
    for alternative in query.alternatives:
        positive = " AND ".join(_fts5_term(t) for t in alternative if not t.negated)
        expression = f"({positive})"
        for term in alternative:
            if term.negated:
                expression = f"({expression} NOT {_fts5_term(term)})"
        parts.append(expression)
    return " OR ".join(parts)


def render_websearch(query: Query) -> str:
    """The query in canonical ``websearch_to_tsquery`` syntax (PostgreSQL then applies the same text
    search configuration as the indexed column, stemming and all)."""

    def one(term: Term) -> str:
        # A lone "or" would read as the operator: quoted, it is the word.
        plain = len(term.tokens) == 1 and term.tokens[0] != "or"
        text = term.tokens[0] if plain else '"' + " ".join(term.tokens) + '"'
        return ("-" if term.negated else "") + text

    return " OR ".join(" ".join(one(t) for t in alternative) for alternative in query.alternatives)

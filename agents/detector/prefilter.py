"""Prefilters for the cue and weapon patterns: a pattern is only run on a text that has a word starting
like one of the pattern's possible openings. They never change a result, only skip scans that cannot match
(``tests/unit/test_detector_prefilter.py``)."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import lexicons


def alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def trie_alternation(words: Iterable[str]) -> str:
    """The alternation of :func:`alternation` factored by common prefixes: the regex engine follows one
    branch per position instead of trying every word. Branches part on distinct characters and a word's
    end is a greedy optional, so the longest word that matches (and passes a following look-ahead) still
    wins, as with the longest-first alternation."""
    trie: dict[str, Any] = {}
    for word in set(words):
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return emit(trie)


# Prefilters. The weapon patterns are compiled as ``(?<![\w-])(?:...)``: a match starts where a run of
# word characters and hyphens starts; most cue patterns open with ``\b``: a match starts where a run of
# word characters starts. Each pattern's possible openings (its first few characters, lower-cased) are
# read off its parse tree once; a text where no run starts with an opening of a pattern cannot match it,
# and a few byte-level look-ups are far cheaper than a regex scan per pattern.
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


_PREFIX_LEN = 8  # longest opening kept


_HEAD_LEN = 3  # openings are looked up by the first three characters of their first run


_PREFIX_LIMIT = 20000  # give up (always run the pattern) on patterns with more openings than this


def _table(run_chars: str) -> bytes:
    """Bytes to lower-cased run characters, everything else (UTF-8 bytes of non-ASCII too) to a space."""
    return bytes(
        c + 32 if 65 <= c <= 90 else c if c < 128 and (chr(c).isalnum() or chr(c) in run_chars) else 32
        for c in range(256)
    )


#: hyphen-joined runs (``(?<![\w-])`` patterns) and word runs (``\b`` patterns)
_TABLES = {True: _table("_"), False: _table("_-")}


_FIRST_CHAR = {True: re.compile(r"\w"), False: re.compile(r"[\w-]")}


_RUN_HEAD = operator.itemgetter(slice(0, _HEAD_LEN))  # run -> run[:_HEAD_LEN] (in C, for every run)


@lru_cache(maxsize=64)
def _run_heads(text: str, words: bool) -> tuple[bytes, frozenset[bytes]] | None:
    """``text`` as lower-cased runs with a leading space (so ``b" " + opening`` finds a run start) and
    the runs' heads; None when non-ASCII letters or digits could match ASCII letters case-insensitively
    ("K" for "k") or be word characters. Cached: the cue patterns of one sentence share it."""
    if not text.isascii() and any(c.isalnum() for c in _NON_ASCII.findall(text)):
        return None
    runs = b" " + text.encode("utf-8", "replace").translate(_TABLES[words])
    return runs, frozenset(map(_RUN_HEAD, runs.split()))


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (a memo key)
class Prefixes:
    """Per pattern, lower-cased openings one of which every match starts with."""

    by_head: dict[bytes, tuple[tuple[bytes, int], ...]]  # run head → (b" " + opening, pattern index)
    short: tuple[tuple[bytes, int], ...]  # openings whose first run is shorter than a head
    always: frozenset[int]  # patterns whose openings are unknown: always run
    words: bool  # runs of word characters (``\b`` patterns), else of word characters and hyphens
    heads: frozenset[bytes] = frozenset()  # the keys of by_head (a set intersection walks the smaller set)

    def candidates(self, text: str) -> set[int] | None:
        """Indices of the patterns that may match in ``text``; None when all may."""
        found = _run_heads(text, self.words)
        if found is None:
            return None
        runs, heads = found
        out = set(self.always)
        by_head = self.by_head
        # a run opening like an opening, then the whole opening at a run start: both necessary
        for head in heads & self.heads:
            for needle, index in by_head[head]:
                if index not in out and needle in runs:
                    out.add(index)
        for needle, index in self.short:
            if index not in out and needle in runs:
                out.add(index)
        return out


def prefixes_of(patterns: Sequence[str], words: bool = False) -> Prefixes:
    """The :class:`Prefixes` of ``patterns``: each compiled as ``(?<![\\w-])(?:pattern)``, or, with
    ``words``, each opening with ``\\b`` (a pattern that does not is always run)."""
    by_head: dict[bytes, list[tuple[bytes, int]]] = {}
    short: list[tuple[bytes, int]] = []
    always: set[int] = set()
    for index, pattern in enumerate(patterns):
        found = _openings(pattern, words)
        if found is None:
            always.add(index)
            continue
        for opening in sorted(found):
            needle = b" " + opening.encode("ascii").translate(_TABLES[words])
            head = needle.split()[0][:_HEAD_LEN]
            if len(head) < _HEAD_LEN:
                short.append((needle, index))
            else:
                by_head.setdefault(head, []).append((needle, index))
    return Prefixes(
        {k: tuple(v) for k, v in by_head.items()}, tuple(short), frozenset(always), words, frozenset(by_head)
    )


@dataclass(frozen=True)
class Cue:
    """A compiled cue pattern whose search first asks the pattern's openings whether it can match."""

    rx: re.Pattern[str]
    prefixes: Prefixes  # of all the cues of the lexicon: one look-up per text serves them all
    index: int  # of this cue's pattern in ``prefixes``

    def search(self, text: str) -> re.Match[str] | None:
        maybe = _cached_candidates(self.prefixes, text)
        if maybe is not None and self.index not in maybe:
            return None
        return self.rx.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text)


@lru_cache(maxsize=64)
def _cached_candidates(prefixes: Prefixes, text: str) -> frozenset[int] | None:
    """:meth:`Prefixes.candidates`, memoised: one sentence is asked about many cues in a row."""
    found = prefixes.candidates(text)
    return None if found is None else frozenset(found)


def _openings(pattern: str, words: bool = False) -> set[str] | None:
    """Walk the parsed pattern, collecting its possible openings (lower-cased, so they serve case-sensitive
    patterns too); an opening is cut short wherever the next character is unknown (a class, a wildcard),
    which keeps it a necessary condition. None when a match may start with no run character (with
    ``words``: when the pattern does not open with ``\\b``)."""
    import re._constants as sre_c  # the regex parser: private, so any surprise disables the prefilter
    import re._parser as sre_p

    done: set[str] = set()
    repeats = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None))

    def chars(op: Any, av: Any) -> set[str] | None:
        if op is sre_c.LITERAL:
            return {chr(av)}
        if op is sre_c.IN:
            out: set[str] = set()
            for o, a in av:
                if o is sre_c.LITERAL:
                    out.add(chr(a))
                elif o is sre_c.RANGE and a[1] - a[0] < 64:
                    out.update(chr(c) for c in range(a[0], a[1] + 1))
                else:
                    return None  # negated classes, categories (\d, \w)
            return out
        return None

    def seq(items: Any, states: set[str]) -> set[str]:
        """The unfinished openings after ``items``, from the unfinished ``states`` before them."""
        for op, av in items:
            if not states:
                break
            if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
                continue  # zero-width: ignoring a condition only lets more through
            if op is sre_c.SUBPATTERN:
                states = seq(av[-1], states)
            elif op is sre_c.BRANCH:
                states = set().union(*(seq(branch, set(states)) for branch in av[1]))
            elif op in repeats:
                lo, hi, sub = av
                out = set(states) if lo == 0 else set()
                cur = states
                # an opening has at most _PREFIX_LEN characters, so more rounds add nothing new
                for i in range(1, min(hi, _PREFIX_LEN + 1) + 1):
                    cur = seq(sub, set(cur))
                    if i >= lo:
                        out |= cur
                if lo > _PREFIX_LEN + 1:
                    done.update(cur)  # cut short mid-repeat
                    out = set()
                states = out
            else:
                cs = chars(op, av)
                if cs is None:
                    done.update(states)
                    return set()
                nxt: set[str] = set()
                for st in states:
                    for c in cs:
                        low = c.lower()
                        if not c.isascii() or len(low) != 1 or (not st and not _FIRST_CHAR[words].match(c)):
                            done.add(st)  # (an empty opening, when it is the first character)
                        elif len(st) + 1 >= _PREFIX_LEN:
                            done.add(st + low)
                        else:
                            nxt.add(st + low)
                states = nxt
            if len(states) + len(done) > _PREFIX_LIMIT:
                raise OverflowError
        return states

    try:
        parsed = sre_p.parse(pattern, re.IGNORECASE)
        if words and (not len(parsed) or parsed[0] != (sre_c.AT, sre_c.AT_BOUNDARY)):
            return None  # a match may start inside a word
        done.update(seq(parsed, {""}))
    except Exception:  # an unexpected parse tree just means no prefilter for this pattern
        return None
    return None if "" in done else done


lexicons.on_change(_cached_candidates.cache_clear)

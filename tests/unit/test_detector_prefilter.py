"""The detector's regex prefilters only skip patterns that cannot match (they never change a result)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from wirewatch.agents.detector import lexicon

LEX = lexicon()
PATTERNS = [LEX.defence, *(rx for _kind, rx in LEX.weapons)]
# Words taken from the patterns themselves, so generated texts hit (and nearly hit) real matches.
WORDS = sorted(
    {
        w
        for rx in [*PATTERNS, *(cue.rx for cue in LEX.res.values())]
        for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", rx.pattern)
        if len(w) > 1
    }
)
SEPARATORS = [" ", "-", "", ".", ", ", "(", ")", "—", "“", "’s ", "\n", "/", "_", "é"]
word = st.builds(
    lambda w, case, cut, number: number + (w.upper() if case == 0 else w.lower() if case == 1 else w)[:cut],
    st.sampled_from(WORDS),
    st.integers(0, 2),
    st.integers(1, 40),
    st.sampled_from(["", "17-", "2024 ", "3"]),
)
text = st.lists(st.tuples(word, st.sampled_from(SEPARATORS)), min_size=1, max_size=8).map(
    lambda parts: "".join(w + sep for w, sep in parts)
)


@settings(max_examples=400, deadline=None)
@given(text)
def test_weapon_prefilter_never_rules_out_a_match(sample: str) -> None:
    candidates = LEX.weapon_prefixes.candidates(sample)
    for index, rx in enumerate(PATTERNS):
        if rx.search(sample):
            assert candidates is None or index in candidates, (index, rx.pattern[:80], sample)


@settings(max_examples=400, deadline=None)
@given(text)
def test_cue_prefilter_agrees_with_the_plain_regex(sample: str) -> None:
    for name, cue in LEX.res.items():
        assert bool(cue.search(sample)) == bool(cue.rx.search(sample)), (name, sample)

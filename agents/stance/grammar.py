"""Dependency labels, parts of speech and closed word classes the stance stages read."""

from __future__ import annotations

import re

OBJECT_DEPS = frozenset({"dobj", "nsubjpass", "xcomp", "ccomp", "attr", "oprd", "dative", "obj", "acomp"})
SUBJECT_DEPS = frozenset({"nsubj", "csubj"})
PASS_DEPS = frozenset({"conj", "appos", "compound:prt"})
NAME_DROP_DEPS = frozenset({"relcl", "appos", "acl", "punct", "advcl", "parataxis"})
RELATIVE = frozenset({"who", "which", "that", "whom"})
POSSESSIVES = frozenset({"his", "her", "its", "their", "our", "my"})
QUANTIFIERS = frozenset({"both", "two", "three", "all"})  # "the two countries opposed ..."
CONTENT_PREPS = frozenset({"of", "including"})  # "the lifting OF sanctions", "action INCLUDING strikes"
NOMINAL_POS = frozenset({"DET", "NOUN", "PROPN", "ADJ", "PRON", "NUM"})
SPEAKER_VERB_POS = frozenset({"VERB", "AUX", "ADJ"})  # speaker verbs, and attitude adjectives
COPULAS = frozenset({"be", "remain", "become", "seem", "have", "pose", "represent", "constitute", "look", "prove"})
# heads of speaker phrases that stand for their author ("a statement from the office of X said")
DOCUMENT_NOUNS = frozenset(
    {
        "statement",
        "report",
        "release",
        "communique",
        "announcement",
        "readout",
        "letter",
        "memo",
        "message",
        "post",
        "declaration",
    }
)
DESCRIBING_VERBS = frozenset(
    {
        "describe",
        "call",
        "label",
        "brand",
        "term",
        "consider",
        "regard",
        "view",
        "deem",
        "characterize",
        "characterise",
        "dub",
    }
)
PRO_NOUN = "one"  # stands for a noun said before ("a diplomatic ONE"): modified nouns read it as that noun
QUOTE_OPEN = "“«„"
QUOTE_CLOSE = "”»"
STRIP = " \t\n\"'“”‘’«»,.:;()[]"
QUOTE_CHAR = re.compile(f'[{QUOTE_OPEN}{QUOTE_CLOSE}"]')

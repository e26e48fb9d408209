"""Selective parsing: the tagger, parser and lemmatizer run only on the sentences that need them (issue 16).

A spaCy component, so that every ``nlp.pipe`` caller (the enrich agent, ``wirewatch analyze`` and
``eval``, the benchmarks) gets the same docs. The selective pipeline runs, in order:

1. the gazetteer ruler on all text;
2. this component: on a doc whose cues are far apart it runs the ``senter`` (shipped disabled) and picks
   the sentences :mod:`.parse_cues` selects; a doc with cues all through is taken whole. Each run of
   selected sentences becomes a fresh ``Doc`` of the same words; the pipeline's own (disabled)
   ``tok2vec``, ``tagger``, ``parser``, ``attribute_ruler`` and ``lemmatizer`` run over those docs,
   batched, and their tags, morphology, lemmas, dependencies and token vectors are written back into the
   article's doc (``Doc.from_array``);
3. the NER (with its own tok2vec in en_core_web_sm) on all text, which keeps to the sentence boundaries
   it is given: the parser's in a parsed run, as in a full pipeline.

The token vectors of a run are those of the whole article: the tok2vec reads a window of words around each
word (``depth`` x ``window_size`` of its encoder, 4 in en_core_web_sm), so it runs on the run widened by
that many words each side, and the run's doc gets the slice of the result. The tagger and the parser read
a doc's vectors from ``doc.tensor`` at prediction time (their ``Tok2VecListener``), so they then see what
a full parse gives them; only the parser's view of where a run starts and ends can differ.

A sentence not selected keeps the ``senter``'s boundaries (as a flat tree: every word hangs from the
sentence's first word, labelled ``dep``) and has no tags or lemmas; the detector and the stance tagger read
nothing there. Everything happens on docs of the batch's memory zone, so nothing outlives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import islice

import numpy as np
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, NORM, ORTH, POS, SPACY, TAG
from spacy.language import Language
from spacy.tokens import Doc

from . import lexicons
from .parse_cues import (
    CueVocabulary,
    build_vocabulary,
    cue_tokens,
    parsed_whole,
    selected_sentences,
    sentence_starts,
    weapon_tokens,
)

#: Name of the component in the pipeline.
COMPONENT = "wirewatch_selective_parse"
#: The full pipeline's components that the selective pipeline runs on selected sentences only, in order.
PARSE_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
#: The sentence splitter for docs with few cues (shipped disabled in en_core_web_sm; its own tok2vec). It
#: stays disabled in the pipeline: this component runs it on the docs that need it.
SENTER = "senter"

#: Labels of the flat tree that keeps an unparsed sentence's boundaries: the parser's own "unclassified
#: dependent" and root labels, so the strings are the model's (permanent, outside any memory zone).
FLAT_LABEL, FLAT_ROOT = "dep", "ROOT"
#: What the parse writes into a doc, copied from a selected run's doc into the article's.
PARSE_ATTRS = [TAG, POS, MORPH, LEMMA, DEP, HEAD]


@cache
def _tok2vec_context(nlp: Language) -> int:
    """Words each side that a token's vector depends on (its encoder's depth x window size)."""
    encoder = nlp.config["components"][PARSE_COMPONENTS[0]]["model"].get("encode", {})
    return int(encoder.get("depth", 4)) * int(encoder.get("window_size", 1))


@cache
def _tok2vec_width(nlp: Language) -> int:
    return int(nlp.get_pipe(PARSE_COMPONENTS[0]).model.get_dim("nO"))  # type: ignore[attr-defined]


@cache
def _vocabulary(nlp: Language) -> CueVocabulary:
    lookups = nlp.get_pipe("lemmatizer").lookups  # type: ignore[attr-defined]
    return build_vocabulary(lookups.get_table("lemma_exc"), lookups.get_table("lemma_rules"))


lexicons.on_change(_vocabulary.cache_clear)


class SelectiveParse:
    """The second pass (see the module docstring)."""

    def __init__(self, nlp: Language, name: str = COMPONENT, batch_size: int = 64) -> None:
        self.nlp = nlp
        self.name = name
        self.batch_size = batch_size
        #: Tokens the first pass saw and the second pass parsed, since the pipeline was loaded.
        self.tokens_seen = 0
        self.tokens_parsed = 0

    def __call__(self, doc: Doc) -> Doc:
        self._parse([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        docs = iter(docs)
        while batch := list(islice(docs, batch_size)):
            self._parse(batch)
            yield from batch

    def _parse(self, docs: list[Doc]) -> None:
        vocab = _vocabulary(self.nlp)
        # A doc with a cue every few words has every sentence selected: it is parsed whole, without the
        # senter's pass (the same parse as the selection would give, for less). Weapon matches only add
        # cues, so the word cues alone decide that; the rest get them before their sentences are picked.
        cues = [cue_tokens(doc, vocab, weapons=False) for doc in docs]
        sparse = [i for i, (doc, cue) in enumerate(zip(docs, cues, strict=True)) if not parsed_whole(doc, cue)]
        for i in sparse:
            cues[i] |= weapon_tokens(docs[i], vocab)
        for i, doc in zip(sparse, self.nlp.get_pipe(SENTER).pipe([docs[i] for i in sparse]), strict=True):  # type: ignore[attr-defined]
            docs[i] = doc
        sparse_set = set(sparse)
        # a doc parsed whole is parsed in place, as the full pipeline does (its gazetteer entities are
        # not read by these components)
        whole = [doc for i, doc in enumerate(docs) if i not in sparse_set]
        for name in PARSE_COMPONENTS:
            whole = list(self.nlp.get_pipe(name).pipe(whole, batch_size=self.batch_size))  # type: ignore[attr-defined]
        runs = [
            (docs[i], start, end)
            for i in sparse
            for start, end in selected_sentences(docs[i], vocab, cues[i])
            if end > start
        ]
        margin = _tok2vec_context(self.nlp)
        widened = [_words_doc(doc, max(0, start - margin), min(len(doc), end + margin)) for doc, start, end in runs]
        widened = list(self.nlp.get_pipe(PARSE_COMPONENTS[0]).pipe(widened, batch_size=self.batch_size))  # type: ignore[attr-defined]
        parsed = []
        for (doc, start, end), wide in zip(runs, widened, strict=True):
            if len(wide) == end - start:  # nothing to widen by: the widened doc is the run
                parsed.append(wide)
                continue
            run = _words_doc(doc, start, end)
            offset = start - max(0, start - margin)
            run.tensor = wide.tensor[offset : offset + len(run)]
            parsed.append(run)
        for name in PARSE_COMPONENTS[1:]:
            parsed = list(self.nlp.get_pipe(name).pipe(parsed, batch_size=self.batch_size))  # type: ignore[attr-defined]
        by_doc: dict[int, list[tuple[int, Doc]]] = {}
        for (doc, start, _end), run in zip(runs, parsed, strict=True):
            by_doc.setdefault(id(doc), []).append((start, run))
        for i in sparse:
            _write_back(docs[i], by_doc.get(id(docs[i]), []), _tok2vec_width(self.nlp))
        self.tokens_seen += sum(len(doc) for doc in docs)
        self.tokens_parsed += sum(len(run) for run in parsed) + sum(len(doc) for doc in whole)


def _words_doc(doc: Doc, start: int, end: int) -> Doc:
    """A new doc of the words of ``doc[start:end]``: what the tokenizer gives the full pipeline's tok2vec
    (no entities, no sentence starts, which would constrain the parser)."""
    columns = doc.to_array([ORTH, SPACY, NORM])[start:end]
    strings = doc.vocab.strings
    words = [strings[h] for h in columns[:, 0].tolist()]
    run = Doc(doc.vocab, words=words, spaces=[bool(s) for s in columns[:, 1].tolist()])
    run.from_array([NORM], columns[:, 2:])  # the tokenizer's exceptions set norms ("n't" -> "not"): tok2vec reads them
    return run


def _write_back(doc: Doc, runs: list[tuple[int, Doc]], width: int) -> None:
    """Copy the parsed runs into ``doc``; sentences outside them keep the first pass's boundaries."""
    if not len(doc):
        return
    array = np.zeros((len(doc), len(PARSE_ATTRS)), dtype=np.uint64)
    head, dep = PARSE_ATTRS.index(HEAD), PARSE_ATTRS.index(DEP)
    # unparsed sentences: a flat tree under their first word, which keeps the senter's boundaries (a
    # token without a label counts as unattached, and would join the sentence before)
    starts = sentence_starts(doc)
    array[:, dep] = doc.vocab.strings[FLAT_LABEL]
    for start, end in zip(starts, [*starts[1:], len(doc)], strict=True):
        array[start:end, head] = (start - np.arange(start, end)).astype(np.int64).view(np.uint64)
        array[start, dep] = doc.vocab.strings[FLAT_ROOT]
    for start, run in runs:
        array[start : start + len(run)] = run.to_array(PARSE_ATTRS)
    doc.from_array(PARSE_ATTRS, array)
    # every doc gets a tensor, as from a full parse (zeros where nothing was parsed)
    tensor = np.zeros((len(doc), width), dtype="float32")
    for start, run in runs:
        tensor[start : start + len(run)] = run.tensor
    doc.tensor = tensor


@Language.factory(COMPONENT, default_config={"batch_size": 64})
def make_selective_parse(nlp: Language, name: str, batch_size: int) -> SelectiveParse:
    return SelectiveParse(nlp, name, batch_size)


def make_selective(nlp: Language) -> None:
    """Turn a loaded full pipeline into the selective one (needs its ``senter``, loaded, not excluded)."""
    for name in PARSE_COMPONENTS:
        nlp.disable_pipe(name)
    nlp.get_pipe(SENTER)  # loaded (not excluded): an error here, not on the first article
    # before the NER: it keeps to the sentence boundaries it finds, and those of a parsed run are the
    # parser's, as in a full pipeline (the gazetteer ruler's entities are kept through the parse)
    if "ner" in nlp.pipe_names:
        nlp.add_pipe(COMPONENT, before="ner")
    else:
        nlp.add_pipe(COMPONENT, last=True)


def is_selective(nlp: Language) -> bool:
    return COMPONENT in nlp.pipe_names


def share_parsed(nlp: Language) -> float:
    """Share of the tokens seen that the second pass parsed (1.0 for a full pipeline)."""
    if not is_selective(nlp):
        return 1.0
    component = nlp.get_pipe(COMPONENT)
    return component.tokens_parsed / max(1, component.tokens_seen)  # type: ignore[attr-defined]

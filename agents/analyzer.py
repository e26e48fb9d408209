"""Where a worker runs the model: on a thread of the worker's own process, or in a child process.

The default runs spaCy on a thread, so Faust's event loop (heartbeats, fetches, the web server) keeps
running while a batch is parsed. With ``WIREWATCH_NLP_PROCESS=1`` the model lives in one child process
instead:

- the event loop never waits for the interpreter lock behind spaCy's Python parts;
- an article that crashes the model (a segfault, the OOM killer) costs a restarted child and a dead
  letter, not the worker; the rest of its batch is enriched as usual.

Both return the same EnrichedArticle dicts from :func:`wirewatch.agents.enrichment.enrich_articles`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from spacy.language import Language

from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings

from . import lexicons
from .detector import DetectorConfig
from .enrichment import enrich_articles
from .nlp import load_pipeline
from .stance import model as stance_model

log = logging.getLogger(__name__)

#: How long closing waits for the analysis process to exit before killing it.
CLOSE_TIMEOUT_S = 3.0


def load_nlp(settings: Settings, *, stance: bool = True) -> Language:
    """The model, lexicons and stance model as configured (WIREWATCH_MODEL, _GAZETTEER, _LEXICON_DIR,
    _STANCE_MODEL): what the worker, ``wirewatch analyze`` and ``wirewatch eval`` all run. ``stance`` False:
    without the stance model (training one)."""
    lexicons.configure(settings.lexicon_dir or None)
    gazetteers = [settings.gazetteer] if settings.gazetteer else ()
    nlp = load_pipeline(settings.model or None, gazetteer_paths=gazetteers, parse=settings.parse)
    if stance:  # a bad model file, or one the pipeline cannot feed, stops start-up here
        stance_model.check_pipeline(stance_model.configure(settings.stance_model or None), nlp)
    return nlp


class AnalysisProcessDied(RuntimeError):
    """The child process running the model exited while it analysed a batch."""


class Analyzer(Protocol):
    def start(self) -> None:
        """Load the model (blocks): called before the worker joins its group."""

    async def enrich(
        self, articles: Sequence[Article], *, batch_size: int, config: DetectorConfig
    ) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class ThreadAnalyzer:
    """The model in this process; batches run one after another on a thread of their own."""

    def __init__(self, loader: Callable[[], Language]) -> None:
        self._loader = loader
        self._nlp: Language | None = None
        # One thread: batches queue in order, and never share the model (nor its memory zones) at once.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wirewatch-nlp")

    @property
    def nlp(self) -> Language:
        if self._nlp is None:
            self._nlp = self._loader()
        return self._nlp

    def start(self) -> None:
        _ = self.nlp

    async def enrich(
        self, articles: Sequence[Article], *, batch_size: int, config: DetectorConfig
    ) -> list[dict[str, Any]]:
        # spaCy holds the CPU for the whole batch: a thread keeps heartbeats and the web server responsive.
        call = functools.partial(enrich_articles, self.nlp, articles, batch_size=batch_size, config=config)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


# ---- the child process -----------------------------------------------------------------------------------
_child_nlp: Language | None = None


def _child_init(settings: Settings) -> None:
    global _child_nlp
    # Ctrl-C reaches the whole process group: the worker decides when its child stops, not the terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _child_nlp = load_nlp(settings)


def _child_ready() -> int:
    return len(_child_nlp.pipe_names) if _child_nlp is not None else 0


def _child_enrich(articles: Sequence[Article], batch_size: int, config: DetectorConfig) -> list[dict[str, Any]]:
    assert _child_nlp is not None, "the analysis process has no model"
    return enrich_articles(_child_nlp, articles, batch_size=batch_size, config=config)


class ProcessAnalyzer:
    """The model in one child process (``spawn``: a fresh interpreter, none of the worker's threads or
    sockets). A child that dies is replaced before the next batch."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()
        self.restarts = 0

    def start(self) -> None:
        if self._pool is not None:
            return
        pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_init,
            initargs=(self._settings,),
        )
        try:
            # Waits for the model: a child that cannot load it fails start-up here, with its error.
            pool.submit(_child_ready).result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        self._pool = pool

    def child_pid(self) -> int | None:
        processes = getattr(self._pool, "_processes", None) or {}
        return next(iter(processes), None)

    async def enrich(
        self, articles: Sequence[Article], *, batch_size: int, config: DetectorConfig
    ) -> list[dict[str, Any]]:
        pool = self._pool or await self._restart(None)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _child_enrich, list(articles), batch_size, config)
        except BrokenProcessPool as exc:
            log.error("the analysis process died on a batch of %d", len(articles))
            await self._restart(pool)
            raise AnalysisProcessDied("the analysis process died (crash or out of memory)") from exc

    async def _restart(self, broken: ProcessPoolExecutor | None) -> ProcessPoolExecutor:
        """A running pool; replaces ``broken`` unless a concurrent call (two batches are in flight) did."""
        async with self._starting:
            if self._pool is broken:
                if broken is not None:
                    self.restarts += 1
                    log.error("starting a new analysis process")
                    broken.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
                await asyncio.to_thread(self.start)
            assert self._pool is not None
            return self._pool

    def close(self) -> None:
        """Stop the child; one still busy after CLOSE_TIMEOUT_S (a batch the stopping worker gave up on, a
        hung model) is killed, so a stop never waits on it."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(CLOSE_TIMEOUT_S)
            if process.is_alive():
                log.warning("the analysis process did not stop within %.0f s; killing it", CLOSE_TIMEOUT_S)
                process.kill()
                process.join()


def analyzer_for(settings: Settings, loader: Callable[[], Language]) -> Analyzer:
    return ProcessAnalyzer(settings) if settings.nlp_process else ThreadAnalyzer(loader)

"""Liveness, readiness and the stall watchdog of one worker (README "Health and the watchdog").

* ``GET /healthz``: the process is alive and its event loop answers. Always 200.
* ``GET /readyz``: 200 when the worker has partitions assigned, no agent crashed and no agent is stalled;
  503 otherwise, with the reasons. Both are public (no token: orchestrators probe them) and say nothing
  but states and counts: no topic, address or record content.

The watchdog reads the lag snapshots the dashboard already takes (committed vs end offsets, from the
broker): a partition this worker owns whose records wait (lag > 0) while its committed offset does not
move for ``WIREWATCH_STALL_SECONDS`` is stalled, and so is the agent that reads it. That is the
faust-streaming failure in which an agent stops consuming while the process stays up. A stall is logged
once, counted (``wirewatch_stalls_total{agent}``), makes ``/readyz`` fail until the partition moves again,
and with ``WIREWATCH_STALL_EXIT`` stops the worker with exit code :data:`STALL_EXIT_CODE` so a supervisor
restarts it (the records not acknowledged are processed again by the next owner).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from . import metrics
from .lag import LagSnapshot

if TYPE_CHECKING:
    from .pipeline import Pipeline

log = logging.getLogger(__name__)

#: Exit code of a worker stopped by the watchdog (EX_TEMPFAIL: restart me).
STALL_EXIT_CODE = 75


@dataclass
class Stall:
    """One stalled partition: the agent reading it, the records waiting, since when nothing moved."""

    agent: str
    topic: str
    partition: int
    lag: int
    since: float

    def reason(self, now: float) -> str:
        return f"agent {self.agent} stalled: {self.lag} records waiting, no progress for {now - self.since:.0f} s"


class StallDetector:
    """Pure: fed lag rows of the worker's own group, tells which owned partitions have not moved for
    ``stall_seconds`` while records wait. A partition that moves, drains or changes owner starts over."""

    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self._last: dict[tuple[str, int], tuple[int, float]] = {}  # position, when it was first seen there

    def observe(
        self,
        rows: Iterable[Any],
        owned: set[tuple[str, int]],
        agent_of: Mapping[str, str],
        now: float,
    ) -> list[Stall]:
        """``rows``: LagRow-like (topic, partition, committed, start, lag) of the worker's group."""
        stalls: list[Stall] = []
        seen: dict[tuple[str, int], tuple[int, float]] = {}
        for row in rows:
            tp = (row.topic, row.partition)
            if tp not in owned or row.topic not in agent_of:
                continue
            position = row.committed if row.committed is not None else row.start
            if row.lag <= 0:
                continue
            previous = self._last.get(tp)
            since = previous[1] if previous is not None and previous[0] == position else now
            seen[tp] = (position, since)
            if now - since >= self.stall_seconds:
                stalls.append(Stall(agent_of[row.topic], row.topic, row.partition, row.lag, since))
        self._last = seen
        return stalls


def agent_topics(app: Any) -> dict[str, str]:
    """Topic name → the name of the agent that reads it."""
    return {topic: agent.name for agent in app.agents.values() for topic in getattr(agent.channel, "topics", ())}


def crashed_agents(app: Any) -> list[str]:
    """Agents with an actor that crashed (Faust keeps the reason on the actor)."""
    return sorted(
        {
            agent.name
            for agent in app.agents.values()
            for actor in getattr(agent, "_actors", ())
            if getattr(actor, "crash_reason", None) is not None
        }
    )


class Health:
    """Readiness of one worker and its watchdog loop (started with the web server)."""

    def __init__(self, pipeline: Pipeline, lag: Callable[[], LagSnapshot | None]) -> None:
        self.pipeline = pipeline
        self.lag = lag
        settings = pipeline.settings
        self.detector = StallDetector(settings.stall_seconds)
        self.exit_on_stall = settings.stall_exit
        self.stalls: list[Stall] = []
        self.exit_code: int | None = None
        self._stalled_agents: set[str] = set()
        self._checked_at: float | None = None

    def assigned(self) -> set[tuple[str, int]]:
        try:
            return {(tp.topic, tp.partition) for tp in self.pipeline.app.consumer.assignment()}
        except Exception:  # the consumer is not started yet
            return set()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        now = time.time()
        reasons: list[str] = []
        assigned = self.assigned()
        if not assigned:
            reasons.append("no partitions assigned")
        crashed = crashed_agents(self.pipeline.app)
        reasons += [f"agent {name} crashed" for name in crashed]
        reasons += [stall.reason(now) for stall in self.stalls]
        agents = {agent.name: "running" for agent in self.pipeline.app.agents.values()}
        agents.update({stall.agent: "stalled" for stall in self.stalls})
        agents.update({name: "crashed" for name in crashed})
        snapshot = self.lag()
        return not reasons, {
            "ready": not reasons,
            "reasons": reasons,
            "partitions_assigned": len(assigned),
            "agents": agents,
            "lag_checked_s_ago": None if snapshot is None else round(now - snapshot.taken_at, 1),
        }

    def check(self, now: float | None = None) -> None:
        """Feed the newest lag snapshot to the detector (once per snapshot); log, count and act on stalls."""
        snapshot = self.lag()
        if snapshot is None or snapshot.taken_at == self._checked_at:
            return
        self._checked_at = snapshot.taken_at
        app_id = self.pipeline.settings.app_id
        rows = [row for row in snapshot.rows if row.group == app_id]
        now = time.time() if now is None else now
        self.stalls = self.detector.observe(rows, self.assigned(), agent_topics(self.pipeline.app), now)
        stalled = {stall.agent for stall in self.stalls}
        for stall in self.stalls:
            if stall.agent not in self._stalled_agents:
                log.error(
                    "watchdog: %s (%s[%d]); WIREWATCH_STALL_SECONDS=%s",
                    stall.reason(now),
                    stall.topic,
                    stall.partition,
                    self.detector.stall_seconds,
                )
                metrics.stall(stall.agent)
                self._stalled_agents.add(stall.agent)
        for agent in self._stalled_agents - stalled:
            log.warning("watchdog: agent %s is making progress again", agent)
        self._stalled_agents = stalled
        if self.stalls and self.exit_on_stall and self.exit_code is None:
            log.critical("watchdog: stopping the worker (WIREWATCH_STALL_EXIT) so that a supervisor restarts it")
            self.exit_code = STALL_EXIT_CODE
            os.kill(os.getpid(), signal.SIGTERM)  # the worker's bounded stop; run_worker exits with exit_code

    async def watch(self, interval: float = 1.0) -> None:
        while True:
            try:
                self.check()
            except Exception:  # the watchdog must outlive its own bugs
                log.exception("watchdog check failed")
            await asyncio.sleep(interval)


def _json(data: Any, status: int) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers={"Cache-Control": "no-store"}
    )


def register_health(pipeline: Pipeline, lag: Callable[[], LagSnapshot | None]) -> Health:
    """Serve ``/healthz`` and ``/readyz`` and run the watchdog with the web server. Call before the worker
    starts; ``lag`` returns the newest lag snapshot (the dashboard's)."""
    health = Health(pipeline, lag)

    async def healthz(request: web.Request) -> web.Response:
        return _json({"status": "ok"}, 200)

    async def readyz(request: web.Request) -> web.Response:
        ready, body = health.readiness()
        return _json(body, 200 if ready else 503)

    web_app = pipeline.app.web.web_app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)

    async def background(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.ensure_future(health.watch())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    web_app.cleanup_ctx.append(background)
    return health

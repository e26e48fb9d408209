"""``retry_retriable`` (streams/broker.py): the one loop that tries a broker call again on a retriable error,
used by ``ensure_topics`` and by the transport's topic declaration at worker start."""

from __future__ import annotations

import logging
import time

import pytest
from aiokafka.errors import NodeNotReadyError, TopicAuthorizationFailedError

from wirewatch.streams.broker import retry_retriable


class _FailsFirst:
    """An async callable that raises ``error`` on its first ``failures`` calls, then returns "created"."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "created"


async def test_a_retriable_error_is_tried_again_with_a_doubling_wait(caplog: pytest.LogCaptureFixture) -> None:
    call = _FailsFirst(NodeNotReadyError("node 1 not ready"), failures=2)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert await retry_retriable(call, "declaring topic news.raw", timeout=30.0) == "created"
    assert call.calls == 3
    assert time.monotonic() - started >= 1.5  # waited 0.5 s, then 1.0 s
    warnings = [r.getMessage() for r in caplog.records if r.name == "wirewatch.streams.broker"]
    assert len(warnings) == 2
    assert warnings[0].startswith("declaring topic news.raw: NodeNotReadyError")
    assert warnings[0].endswith("trying again in 0.5 s") and warnings[1].endswith("trying again in 1.0 s")


async def test_an_error_that_is_not_retriable_is_raised_at_once() -> None:
    call = _FailsFirst(TopicAuthorizationFailedError(), failures=1)
    with pytest.raises(TopicAuthorizationFailedError):
        await retry_retriable(call, "creating topics", timeout=30.0)
    assert call.calls == 1


async def test_a_retriable_error_is_raised_once_the_next_wait_would_pass_the_timeout() -> None:
    # First wait 0.5 s fits in 0.8 s; the second (1.0 s) would end past it, so the second failure is raised.
    call = _FailsFirst(NodeNotReadyError("node 1 not ready"), failures=5)
    with pytest.raises(NodeNotReadyError):
        await retry_retriable(call, "creating topics", timeout=0.8)
    assert call.calls == 2


async def test_the_warnings_go_to_the_callers_logger(caplog: pytest.LogCaptureFixture) -> None:
    # the transport passes its own logger: its warnings name the transport, not the broker module
    call = _FailsFirst(NodeNotReadyError("node 1 not ready"), failures=1)
    with caplog.at_level(logging.WARNING):
        await retry_retriable(call, "declaring topic news.raw", timeout=30.0, logger=logging.getLogger("caller"))
    assert [r.name for r in caplog.records if "declaring topic" in r.getMessage()] == ["caller"]

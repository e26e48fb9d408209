"""The worker's web dashboard: ``register_dashboard(pipeline, token)`` serves ``/``, ``/api/*`` and
``/metrics`` (see :mod:`.dashboard`)."""

from __future__ import annotations

from .dashboard import Dashboard, register_dashboard

__all__ = ["Dashboard", "register_dashboard"]

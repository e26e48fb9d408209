"""The archive's HTTP API on the worker's web server, behind the server's one gate like every route:

* ``GET /api/search?q=&actor=&kind=&modality=&feed=&since=&until=&limit=&cursor=&order=``: articles,
  ranked by relevance (or ``order=time``), with highlighted snippets as segments (``{"text", "hit"}``,
  never markup), entities, stances and findings;
* ``GET /api/incidents?actor=&kind=&since=&until=&limit=``: incidents, newest first, with reports;
* ``GET /api/incidents/{id}``: one incident with its alerts in order, its reports and details.

A bad query or parameter is a 400 with the reason; a store that fails is a 503 whose text names no
database detail (those go to the log). Texts are shown as the dashboard shows them: without
bidirectional controls, links only when absolute http(s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..store import QueryError, Store, incident_request, search_request
from .dashboard import link_of, shown
from .server import Route, add_routes, json_response

if TYPE_CHECKING:
    from ..pipeline import Pipeline

log = logging.getLogger(__name__)


def displayed(value: Any) -> Any:
    """Every string without bidirectional controls, every ``url`` a link or None (recursively)."""
    if isinstance(value, dict):
        return {k: link_of(v) if k == "url" else displayed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [displayed(v) for v in value]
    return shown(value)


def build_archive_routes(store: Store) -> list[Route]:
    async def answer(request: web.Request, work: Callable[[], Any], missing: str = "") -> web.Response:
        """The JSON of ``work()`` (run on a thread); a 404 saying ``missing`` when it returns None, a 400
        with the reason when it raises QueryError (a bad parameter: the handlers parse them in ``work``)."""
        try:
            result = await asyncio.to_thread(work)
            return json_response({"error": missing}, 404) if result is None else json_response(displayed(result))
        except QueryError as exc:
            return json_response({"error": str(exc)}, 400)
        except Exception as exc:  # the database's text is for the log, not for the client
            log.warning("%s %s: archive error: %s: %s", request.method, request.path, type(exc).__name__, exc)
            return json_response({"error": "the archive is unavailable; see the worker's log"}, 503)

    async def api_search(request: web.Request) -> web.Response:
        q = request.query

        def search() -> dict[str, Any]:
            parameters = ("actor", "kind", "modality", "feed", "since", "until", "limit", "cursor", "order")
            return store.search(search_request(q.get("q"), **{p: q.get(p) for p in parameters})).to_dict()

        return await answer(request, search)

    async def api_incidents(request: web.Request) -> web.Response:
        q = request.query

        def incidents() -> dict[str, Any]:
            parameters = ("actor", "kind", "since", "until", "limit")
            return {"incidents": store.incidents(incident_request(**{p: q.get(p) for p in parameters}))}

        return await answer(request, incidents)

    async def api_incident(request: web.Request) -> web.Response:
        incident_id = request.match_info["id"]
        return await answer(request, lambda: store.incident(incident_id), f"no incident {incident_id!r} in the archive")

    return [
        ("GET", "/api/search", api_search),
        ("GET", "/api/incidents", api_incidents),
        ("GET", "/api/incidents/{id}", api_incident),
    ]


def register_archive_routes(pipeline: Pipeline, store: Store) -> None:
    """Serve the archive's API from ``pipeline.app``'s web server (after the dashboard, whose gate covers
    these routes too); the store is closed when the server shuts down."""
    web_app = pipeline.app.web.web_app
    add_routes(web_app.router, build_archive_routes(store))

    async def close_store(_: web.Application) -> None:
        await asyncio.to_thread(store.close)

    web_app.on_cleanup.append(close_store)

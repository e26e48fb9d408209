"""The rules every route of the worker's web server obeys, whoever registered it (wirewatch or Faust).

* One gate: with a token configured, a request reaches a handler only when it shows the token (or a
  live session), except the routes in :data:`PUBLIC_ROUTES` (the sign-in page and its stylesheet, the
  health probes). The gate is a middleware, so a route added later (by Faust or a plugin) is closed by default.
* A body the server cannot decode (say ``Content-Encoding: gzip`` on a plain body) is a 400 with one log
  line, not a 500 with a traceback (and one line, not a traceback, when the handler did not read it).
* Every answer carries :data:`SECURITY_HEADERS` (no framing, no sniffing, scripts only from this origin):
  set when the response is prepared, so Faust's pages, the gate's 401s and aiohttp's own 404s get them too;
  a handler's own value of one of them wins.
* A client gets ``read_timeout`` seconds to send a request's headers (and the idle time between two
  requests on one connection) before the connection is closed; handlers that read a body bound that
  read with the same timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from .auth import Gate

log = logging.getLogger(__name__)

#: (method, route) pairs served without the token: the sign-in form, signing in and out, and the
#: stylesheet and script (static files with no data). Everything else needs the token.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/login"),
        ("HEAD", "/login"),
        ("POST", "/login"),
        ("GET", "/logout"),
        ("HEAD", "/logout"),
        ("GET", "/static/{name}"),
        ("HEAD", "/static/{name}"),
        # Health probes (orchestrators send no token); they reveal states and counts only.
        ("GET", "/healthz"),
        ("HEAD", "/healthz"),
        ("GET", "/readyz"),
        ("HEAD", "/readyz"),
    }
)
#: Security headers on every answer of the web server (see :func:`add_security_headers`).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
UNAUTHORIZED = {"error": "unauthorized: send Authorization: Bearer TOKEN or sign in at /login"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: (method, path, handler): what each part of the server (dashboard, archive, subscriptions) serves.
Route = tuple[str, str, Handler]


def add_routes(router: web.UrlDispatcher, routes: Iterable[Route]) -> None:
    """Register each route; a GET route answers HEAD too (aiohttp's ``add_get``)."""
    for method, path, handler in routes:
        if method == "GET":
            router.add_get(path, handler)
        else:
            router.add_route(method, path, handler)


def json_response(data: Any, status: int = 200) -> web.Response:
    """``data`` as JSON, with the security headers also when served outside :func:`secure_server`."""
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=SECURITY_HEADERS
    )


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp's ``on_response_prepare`` signal: the security headers a response lacks."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def route_of(request: web.Request) -> str | None:
    """The route pattern a request matched (``/static/{name}``), or None when nothing matched."""
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else None


def gate_middleware(gate: Gate) -> Any:
    """The aiohttp middleware that applies the gate and turns unreadable bodies into a 400."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        public = (request.method, route_of(request)) in PUBLIC_ROUTES
        if gate.token is not None and not public and not gate.allows(request.headers, request.cookies):
            if request.method == "GET" and request.path == "/":
                raise web.HTTPSeeOther("/login")  # a browser opening the dashboard signs in first
            return web.Response(
                status=401,
                body=orjson.dumps(UNAUTHORIZED),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="wirewatch"'},
            )
        try:
            return await handler(request)
        except RequestPayloadError as exc:
            reason = " ".join(str(exc.__cause__ or exc).split())  # one line
            log.warning("%s %s: unreadable request body: %s", request.method, request.path, reason)
            response = web.Response(
                status=400,
                body=orjson.dumps({"error": f"the request body cannot be read: {reason}"[:300]}),
                content_type="application/json",
            )
            # The rest of the body cannot be read either: close the connection after this answer instead
            # of letting aiohttp drain the body (which raises the same error again, with a traceback).
            request.content.feed_eof()
            response.force_close()
            return response

    return middleware


class UnreadableBodyLog(logging.Filter):
    """aiohttp drains the body a handler did not read after the answer is sent; a body that cannot be
    decoded then logs "Unhandled exception" with a traceback. That is the client's error: one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RequestPayloadError):
            record.msg, record.args = "unreadable request body: %s", (" ".join(str(error.__cause__ or error).split()),)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def secure_server(app: Any, gate: Gate, read_timeout: float) -> None:
    """Install the gate on ``app``'s web server (a faust.App with the aiohttp driver) and bound the time
    a client may take to send request headers. Call before the web server starts."""
    driver = app.web
    driver.web_app.middlewares.append(gate_middleware(gate))
    driver.web_app.on_response_prepare.append(add_security_headers)
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, UnreadableBodyLog) for f in server_log.filters):
        server_log.addFilter(UnreadableBodyLog())
    # Faust's driver builds its AppRunner without handler options. aiohttp's keep-alive timer also runs
    # while a request's headers are still arriving (it closes a connection still waiting for a complete
    # request), so it is the header read timeout; the default is an hour.
    if not isinstance(getattr(driver, "_runner", None), web.AppRunner):
        raise RuntimeError("Faust's web driver has changed: no AppRunner to configure")
    driver._runner = web.AppRunner(driver.web_app, access_log=None, keepalive_timeout=read_timeout)

"""The operations routes on Reflex's backend: /healthz, /readyz, /metrics.

``routes()`` is handed to ``rx.App(api_transformer=...)``: Reflex mounts its
own backend (the /_event socket, the built frontend) under this Starlette
app, whose routes are matched first.

- ``/healthz``: the process answers (no database): for a supervisor's
  liveness check.
- ``/readyz``: the database answers, its migrations are at head, and Redis
  answers when REFLEX_REDIS_URL is set; 503 with a JSON body naming what
  failed otherwise: for the proxy or a load balancer.
- ``/metrics``: Prometheus text, only for client addresses in
  KYOSO_METRICS_ALLOW (the real client behind KYOSO_TRUSTED_PROXY_HOPS
  proxies, ops/client_address.py); 403 for anyone else.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from reflex_base.config import get_config
from reflex_base.constants import Endpoint
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from kyoso.ops import client_address, health, logsetup, metrics
from kyoso.settings import get_settings

READY_TIMEOUT_SECONDS = 5


async def healthz(_: Request) -> Response:
    return JSONResponse({"ok": True})


async def readyz(_: Request) -> Response:
    try:
        checks = await asyncio.wait_for(asyncio.to_thread(health.readiness), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        checks = {"timeout": f"{READY_TIMEOUT_SECONDS} 秒以内に確認が終わりませんでした。"}
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)


async def metrics_page(request: Request) -> Response:
    address = client_address.from_scope(request.scope)
    if not client_address.allowed(address, client_address.networks(get_settings().metrics_allow)):
        return PlainTextResponse("このアドレスからは参照できません。\n", status_code=403)
    body = await asyncio.to_thread(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE)


class RequestIdMiddleware:
    """Every HTTP request and websocket gets an id for the logs: the proxy's
    X-Request-ID when it sent one (deploy/nginx passes ``$request_id``),
    otherwise a fresh one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                rid = value.decode("latin-1")[:64]
                break
        token = logsetup.request_id.set(rid or uuid.uuid4().hex[:16])
        try:
            await self.app(scope, receive, send)
        finally:
            logsetup.request_id.reset(token)


class SocketFirst:
    """Reflex's event socket (``/_event``) straight from the server to
    Reflex's socket app: a websocket otherwise passes Reflex's top Starlette
    app (its error, CORS, context and exception middlewares, a router and a
    mount) and the four the api transformers put inside it (kyoso's routes,
    /unsubscribe, /files, Reflex's API), each a router, a mount and three
    middlewares; every frame of that chain is held for the life of each
    connection and every message it sends passes their wrappers. It keeps
    what those layers do to a websocket: Reflex's contexts (its
    ``_ContextMiddleware``) and the request id of ``RequestIdMiddleware``
    (CORS and the error pages apply to HTTP only)."""

    def __init__(self, app: ASGIApp, socket_app: ASGIApp, path: str, reflex_app: Any = None) -> None:
        self.app = app
        self.socket_app = socket_app
        self.path = path.rstrip("/")
        self.reflex_app = reflex_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "websocket" else ""
        if path == self.path or path.startswith(self.path + "/"):
            if self.reflex_app is not None:
                self.reflex_app._set_contexts_internal()
            await RequestIdMiddleware(self.socket_app)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def socket_first(reflex_app: Any) -> Any:
    """A function of Reflex's top ASGI app (``App.__call__``'s, kyoso.py)
    putting ``SocketFirst`` before it, with the socket app Reflex mounted
    in its own API."""
    path = get_config().prepend_backend_path(str(Endpoint.EVENT))
    mounted = [r.app for r in reflex_app._api.routes if isinstance(r, Mount) and r.path == path]

    def transform(top: ASGIApp) -> ASGIApp:
        return SocketFirst(top, mounted[0], path, reflex_app) if len(mounted) == 1 else top

    return transform


def routes() -> Starlette:
    app = Starlette(routes=[
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ])
    app.add_middleware(RequestIdMiddleware)
    return app


def add_api_transformer(app: Any, transformer: Any) -> None:
    """Put ``transformer`` (a Starlette app, or a function of the inner ASGI
    app) after those ``app.api_transformer`` already holds."""
    current = app.api_transformer
    if current is None:
        app.api_transformer = [transformer]
    elif isinstance(current, (list, tuple)):
        app.api_transformer = [*current, transformer]
    else:
        app.api_transformer = [current, transformer]

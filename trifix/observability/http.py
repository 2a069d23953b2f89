"""The operations HTTP server: ``GET /health`` and ``GET /metrics`` on hypercorn's trio worker.

`HttpApp` is a small ASGI application: a route table, request bodies up to a limit, and the
bearer-token check that every state-changing endpoint goes through (``protected=True``):

* with a token configured, a protected route needs ``Authorization: Bearer <token>``
  (compared in constant time), else 401;
* without a token, protected routes answer only clients on the loopback interface (403 for
  anyone else), so an operator who binds the server to a public address must set a token to
  change anything from there.

Read-only routes (health, metrics) are open: monitoring systems scrape them. The server binds
to 127.0.0.1 unless told otherwise. Other components add their endpoints with `HttpApp.route`
before the server starts.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypercorn.typing import Framework
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from trifix.observability.health import health, http_status
from trifix.runtime import Engine

__all__ = ["HttpApp", "Request", "Response", "build_app", "serve_http"]

_log = logging.getLogger("trifix.http")
MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request as a handler sees it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    client: str | None


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler answers."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: object, status: int = 200) -> Response:
        """`data` as a JSON body."""
        return cls(status, json.dumps(data).encode(), "application/json")

    @classmethod
    def error(cls, status: int, message: str, **headers: str) -> Response:
        """A JSON error body ``{"error": message}``."""
        return cls(status, json.dumps({"error": message}).encode(), "application/json", headers)


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _Route:
    handler: Handler
    protected: bool


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpApp:
    """An ASGI application with a route table and the token check (see the module docs).

    Args:
        token: the bearer token protected routes require; None: loopback clients only.
    """

    def __init__(self, *, token: str | None = None) -> None:
        self.token = token
        self._routes: dict[str, dict[str, _Route]] = {}

    def route(self, method: str, path: str, handler: Handler, *, protected: bool = False) -> None:
        """Serve `method` `path` with `handler`; `protected` for anything that changes state."""
        self._routes.setdefault(path, {})[method.upper()] = _Route(handler, protected)

    def authorize(self, request: Request) -> Response | None:
        """None if `request` may use a protected route, else the error response."""
        if self.token is None:
            if _is_loopback(request.client):
                return None
            return Response.error(403, "no token configured: only local clients may do this")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return None
        return Response.error(401, "a valid bearer token is required", **{
            "www-authenticate": 'Bearer realm="trifix"'
        })  # fmt: skip

    async def handle(self, request: Request) -> Response:
        """The response to `request` (routing, methods, the token check)."""
        by_method = self._routes.get(request.path)
        if by_method is None:
            return Response.error(404, f"no such endpoint: {request.path}")
        route = by_method.get(request.method)
        if route is None:
            allow = ", ".join(sorted(by_method))
            return Response.error(405, f"{request.method} not allowed here", allow=allow)
        if route.protected:
            refused = self.authorize(request)
            if refused is not None:
                return refused
        return await route.handler(request)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """The ASGI entry point (lifespan and http; websockets are refused)."""
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif kind == "http":
            await self._http(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": 1008})

    async def _http(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        body = bytearray()
        response: Response | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                response = Response.error(413, f"request body over {MAX_BODY} bytes")
                break
            if not message.get("more_body", False):
                break
        if response is None:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            client = scope.get("client")
            request = Request(
                method=scope["method"].upper(),
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=bytes(body),
                client=client[0] if client else None,
            )
            response = await self.handle(request)
        headers_out = [(b"content-type", response.content_type.encode())]
        headers_out += [(k.encode(), v.encode()) for k, v in response.headers.items()]
        headers_out.append((b"cache-control", b"no-store"))
        await send(
            {"type": "http.response.start", "status": response.status, "headers": headers_out}
        )
        await send({"type": "http.response.body", "body": response.body})


def build_app(
    engine: Engine, *, registry: CollectorRegistry | None = None, token: str | None = None
) -> HttpApp:
    """An `HttpApp` with ``GET /health`` and, given a Prometheus `registry`, ``GET /metrics``."""
    app = HttpApp(token=token)

    async def get_health(_request: Request) -> Response:
        report = health(engine)
        return Response.json(report, http_status(report))

    app.route("GET", "/health", get_health)
    if registry is not None:
        metrics_registry = registry

        async def get_metrics(_request: Request) -> Response:
            return Response(200, generate_latest(metrics_registry), CONTENT_TYPE_LATEST)

        app.route("GET", "/metrics", get_metrics)
    return app


def _bind(host: str, port: int) -> str:
    """Bind the listening socket here and hand hypercorn its descriptor.

    Hypercorn binds by itself otherwise, and leaks its socket when the bind fails (a port in
    use); binding first makes that failure a plain OSError with nothing left open.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return f"fd://{sock.detach()}"


async def serve_http(
    engine: Engine | None = None,
    *,
    app: HttpApp | None = None,
    registry: CollectorRegistry | None = None,
    host: str = "127.0.0.1",
    port: int = 9090,
    token: str | None = None,
    shutdown: trio.Event | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` (by default `build_app(engine, registry=..., token=...)`) until cancelled
    or until `shutdown` is set (then open requests get a grace period to finish).

    Reports the port it listens on through `task_status` (useful with ``port=0``):
    ``port = await nursery.start(functools.partial(serve_http, engine, port=0))``.

    Raises:
        ValueError: neither `engine` nor `app` given.
        OSError: the address cannot be bound (in use, not local).
    """
    if app is None:
        if engine is None:
            raise ValueError("serve_http needs an engine or an app")
        app = build_app(engine, registry=registry, token=token)
    config = Config()
    config.bind = [_bind(host, port)]
    config.accesslog = None
    config.errorlog = _log
    config.graceful_timeout = 2.0
    trigger = shutdown.wait if shutdown is not None else None

    async def run(task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        await serve(cast(Framework, app), config, shutdown_trigger=trigger, task_status=task_status)

    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(run)
        bound = int(binds[0].rsplit(":", 1)[1])
        _log.info("operations HTTP on %s", binds[0], extra={"fix": {"port": bound}})
        task_status.started(bound)

"""`serve_web`: the operations HTTP server (health, metrics, dashboard) and the WebSocket API in
one call, for ``trifix run``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import trio
from prometheus_client import CollectorRegistry

from trifix.observability.http import build_app, serve_http
from trifix.runtime import Engine
from trifix.web.context import ApiLimits
from trifix.web.dashboard import RecentAlerts, add_dashboard
from trifix.web.surface import GatewaySurface
from trifix.web.websocket import WebSocketApi

__all__ = ["WebPorts", "dashboard_origins", "serve_web"]


@dataclass(frozen=True, slots=True)
class WebPorts:
    """The ports `serve_web` listens on.

    Attributes:
        http: health, metrics, the dashboard and its ``/api/...`` endpoints.
        ws: the WebSocket API.
    """

    http: int
    ws: int


def dashboard_origins(host: str, http_port: int) -> list[str]:
    """The origins a browser gives the dashboard's page when served on `host`:`http_port`."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):
        names.add(f"[{host}]" if ":" in host else host)
    return sorted(f"http://{name}:{http_port}" for name in names)


async def serve_web(
    gateway: GatewaySurface,
    engine: Engine,
    telemetry_registry: CollectorRegistry | None = None,
    *,
    http_port: int = 9090,
    ws_port: int = 9091,
    host: str = "127.0.0.1",
    token: str | None = None,
    limits: ApiLimits | None = None,
    origins: Sequence[str] = (),
    shutdown: trio.Event | None = None,
    task_status: trio.TaskStatus[WebPorts] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the dashboard (with ``/health`` and ``/metrics``) and the WebSocket API until
    cancelled (or until `shutdown` is set: the HTTP server then finishes its requests).

    ``ports = await nursery.start(functools.partial(serve_web, gw, engine, registry,
    http_port=0, ws_port=0))`` gives the `WebPorts` actually bound.

    Args:
        gateway: the trading gateway.
        engine: its engine.
        telemetry_registry: the Prometheus registry for ``/metrics`` (`Telemetry.registry`);
            None: no ``/metrics``.
        http_port: the HTTP port (0: any free one).
        ws_port: the WebSocket API's port (0: any free one).
        host: the address both bind (loopback by default).
        token: the token that state-changing requests need, on both servers.
        limits: the WebSocket API's bounds.
        origins: more browser origins allowed on the WebSocket API than the dashboard's own
            (needed when `host` is a wildcard address: the page's origin is then the name the
            browser used).

    Raises:
        OSError: a port cannot be bound.
    """
    api = WebSocketApi(gateway, engine, token=token, limits=limits, origins=list(origins))
    alerts = RecentAlerts()
    bound_ws: list[int] = []
    app = build_app(engine, registry=telemetry_registry, token=token)
    add_dashboard(
        app, gateway, engine, ws_port=lambda: bound_ws[0] if bound_ws else None, alerts=alerts
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(alerts.follow, gateway)
        bound_ws.append(await nursery.start(functools.partial(api.serve, host=host, port=ws_port)))

        async def run_http(task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
            await serve_http(
                app=app, host=host, port=http_port, shutdown=shutdown, task_status=task_status
            )
            nursery.cancel_scope.cancel()  # `shutdown` was set and the requests are done

        http: int = await nursery.start(run_http)
        api.allow_origins([*dashboard_origins(host, http), *origins])
        task_status.started(WebPorts(http=http, ws=bound_ws[0]))

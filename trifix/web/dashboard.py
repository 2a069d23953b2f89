"""The operations dashboard: one HTML page and the JSON endpoints it (and scripts) read.

`add_dashboard` registers on the operations `HttpApp` (next to ``/health`` and ``/metrics``):

* ``GET /``: the page (``static/dashboard.html``: inline CSS and JavaScript, no build step,
  nothing fetched from elsewhere). It reads ``/api/config`` for the WebSocket API's port,
  draws from the JSON endpoints, then follows the WebSocket pushes; while the WebSocket is
  down it polls the endpoints instead.
* ``GET /api/config``: ``{"ws_port", "poll_ms", "lps"}``.
* ``GET /api/sessions``: every LP with its sessions (state, sequence numbers, health status),
  breaker and counts, and the overall health status.
* ``GET /api/orders``: recent orders, most recently updated first (``?limit=1..1000``,
  default 50; ``?open_only=true``; ``?lp=``; ``?symbol=``).
* ``GET /api/books``: per subscribed symbol, each LP's top of book and the consolidated BBO.
* ``GET /api/rejects``: the latest rejects and alerts (`RecentAlerts`), newest first.
* ``GET /api/schema``: the JSON Schema of the WebSocket API's requests.

All of them only read; none is protected by the token.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from importlib import resources
from urllib.parse import parse_qs

import trio

from trifix.observability.health import health
from trifix.observability.http import HttpApp, Request, Response
from trifix.runtime import Engine
from trifix.trading.updates import Alert, AlertKind
from trifix.web.protocol import json_schema
from trifix.web.snapshots import books_json, lp_sessions, orders_json
from trifix.web.surface import GatewaySurface
from trifix.web.views import Json, alert_json

__all__ = ["RecentAlerts", "add_dashboard", "dashboard_html"]

_log = logging.getLogger("trifix.web")

_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self' ws: wss:; img-src data:; base-uri 'none'; frame-ancestors 'none'"
)


def dashboard_html() -> bytes:
    """The dashboard page, from the package data."""
    return resources.files("trifix.web").joinpath("static/dashboard.html").read_bytes()


class RecentAlerts:
    """The latest rejects and alerts the gateway published (for ``/api/rejects``).

    Args:
        size: how many it keeps (the oldest go first).
    """

    def __init__(self, size: int = 200) -> None:
        self._alerts: deque[Json] = deque(maxlen=size)
        self.total = 0

    def add(self, alert: Alert) -> None:
        """Keep `alert` (an overflow of our own consumer is not the operator's business)."""
        if alert.kind is AlertKind.OVERFLOW:
            return
        self.total += 1
        self._alerts.append(alert_json(alert))

    def snapshot(self) -> list[Json]:
        """What is kept, newest first."""
        return list(reversed(self._alerts))

    async def follow(self, gateway: GatewaySurface, *, buffer: int = 1000) -> None:
        """Keep the gateway's alerts until cancelled (reopens its consumer if cut off)."""
        while True:
            async with gateway.open_updates(buffer) as updates:
                async for update in updates:
                    if isinstance(update, Alert):
                        if update.kind is AlertKind.OVERFLOW:
                            _log.warning("dashboard alerts fell behind; some are missing")
                        self.add(update)
            await trio.sleep(0.1)  # cut off or the gateway closing: try again shortly


class _QueryError(ValueError):
    pass


def _query(request: Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def _int(params: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _QueryError(f"{name}: expected an integer, not {text!r}") from None
    if not lo <= value <= hi:
        raise _QueryError(f"{name}: must be between {lo} and {hi}, not {value}")
    return value


def _bool(params: dict[str, str], name: str) -> bool:
    text = params.get(name, "false").lower()
    if text not in ("true", "false", "1", "0", ""):
        raise _QueryError(f"{name}: expected true or false, not {text!r}")
    return text in ("true", "1")


def add_dashboard(
    app: HttpApp,
    gateway: GatewaySurface,
    engine: Engine,
    *,
    ws_port: Callable[[], int | None],
    alerts: RecentAlerts,
    poll_ms: int = 2000,
) -> None:
    """Register the dashboard's page and endpoints on `app` (see the module docs).

    Args:
        app: the operations HTTP application.
        gateway: the trading gateway.
        engine: its engine.
        ws_port: gives the WebSocket API's port (None: no live updates, the page polls).
        alerts: the recent alerts `RecentAlerts.follow` keeps.
        poll_ms: how often the page polls while the WebSocket is down.
    """
    page = dashboard_html()

    async def get_page(_request: Request) -> Response:
        headers = {"content-security-policy": _CSP, "x-content-type-options": "nosniff"}
        return Response(200, page, "text/html; charset=utf-8", headers)

    async def get_config(_request: Request) -> Response:
        return Response.json(
            {"ws_port": ws_port(), "poll_ms": poll_ms, "lps": list(gateway.lp_names)}
        )

    async def get_sessions(_request: Request) -> Response:
        return Response.json(
            {"status": health(engine)["status"], "lps": lp_sessions(gateway, engine)}
        )

    async def get_orders(request: Request) -> Response:
        try:
            params = _query(request)
            limit = _int(params, "limit", 50, 1, 1000)
            open_only = _bool(params, "open_only")
            lp = params.get("lp") or None
            if lp is not None and lp not in gateway.lp_names:
                raise _QueryError(f"lp: unknown LP {lp!r}; LPs: {', '.join(gateway.lp_names)}")
        except _QueryError as exc:
            return Response.error(400, str(exc))
        symbol = params.get("symbol") or None
        orders = orders_json(gateway, lp=lp, symbol=symbol, open_only=open_only, limit=limit)
        return Response.json({"orders": orders})

    async def get_books(request: Request) -> Response:
        try:
            depth = _int(_query(request), "depth", 1, 1, 50)
        except _QueryError as exc:
            return Response.error(400, str(exc))
        return Response.json({"books": books_json(gateway, depth)})

    async def get_rejects(_request: Request) -> Response:
        return Response.json({"total": alerts.total, "events": alerts.snapshot()})

    async def get_schema(_request: Request) -> Response:
        return Response.json(json_schema())

    app.route("GET", "/", get_page)
    app.route("GET", "/api/config", get_config)
    app.route("GET", "/api/sessions", get_sessions)
    app.route("GET", "/api/orders", get_orders)
    app.route("GET", "/api/books", get_books)
    app.route("GET", "/api/rejects", get_rejects)
    app.route("GET", "/api/schema", get_schema)

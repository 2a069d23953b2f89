"""Snapshots of the gateway as JSON: LPs with their sessions, orders, books, session pushes.

Shared by the WebSocket API's replies and the dashboard's ``/api/...`` endpoints, so both show
the same shapes (see docs/websocket-api.md).
"""

from __future__ import annotations

from typing import Any

from trifix.core.tags import Side
from trifix.observability.health import session_health
from trifix.runtime import Engine, SessionStatistics
from trifix.trading.order_state import OrderState
from trifix.trading.updates import SessionChanged
from trifix.web.surface import GatewaySurface
from trifix.web.views import Json, book_json, consolidated_json, iso, order_json, session_json

__all__ = ["books_json", "lp_sessions", "orders_json", "session_push"]


def _session(engine: Engine, stats: SessionStatistics, role: str) -> Json:
    out = session_json(stats)
    out["role"] = role
    handle = engine.sessions.get(stats.id)
    if handle is not None:
        out["status"] = session_health(handle, engine.clock())["status"]
    return out


def lp_sessions(gateway: GatewaySurface, engine: Engine) -> list[dict[str, Any]]:
    """Every LP: its sessions (state, sequence numbers, health status), breaker and counts."""
    out = []
    for lp in gateway.statistics().lps.values():
        sessions = []
        if lp.order_session is not None:
            same = lp.md_session is not None and lp.md_session.id == lp.order_session.id
            sessions.append(_session(engine, lp.order_session, "orders+md" if same else "orders"))
        if lp.md_session is not None and (
            lp.order_session is None or lp.md_session.id != lp.order_session.id
        ):
            sessions.append(_session(engine, lp.md_session, "md"))
        breaker = lp.breaker
        out.append(
            {
                "lp": lp.name,
                "sessions": sessions,
                "breaker": {
                    "state": breaker.state.value,
                    "failures_in_window": breaker.failures_in_window,
                    "times_opened": breaker.times_opened,
                    "retry_at": iso(breaker.retry_at),
                },
                "orders": lp.orders,
                "open_orders": lp.open_orders,
                "awaiting_answer": lp.awaiting_answer,
                "subscriptions": lp.subscriptions,
                "live_quotes": lp.live_quotes,
            }
        )
    return out


def orders_json(
    gateway: GatewaySurface,
    *,
    lp: str | None = None,
    symbol: str | None = None,
    side: Side | None = None,
    state: OrderState | None = None,
    open_only: bool = False,
    limit: int = 100,
) -> list[Json]:
    """The orders matching the filters, most recently updated first, at most `limit`."""
    views = gateway.orders(lp=lp, symbol=symbol, side=side, status=state, open_only=open_only)
    views.sort(key=lambda v: v.updated_at, reverse=True)
    return [order_json(v, gateway.lp_of(v.cl_ord_id)) for v in views[:limit]]


def books_json(gateway: GatewaySurface, depth: int = 1) -> list[Json]:
    """Every subscribed symbol: each LP's book and the consolidated best bid and offer."""
    out: list[Json] = []
    for symbol in gateway.symbols():
        books = [b for lp in gateway.lp_names if (b := gateway.book(symbol, lp)) is not None]
        out.append(
            {
                "symbol": symbol,
                "consolidated": consolidated_json(symbol, gateway.bbo(symbol), books, depth),
                "books": [book_json(book, depth) for book in books],
            }
        )
    return out


def session_push(update: SessionChanged, engine: Engine) -> Json:
    """A ``session`` push: the event and the session's statistics after it."""
    out: Json = {
        "lp": update.lp,
        "session_id": update.session_id,
        "event": update.event,
        "detail": update.detail,
        "logged_on": update.logged_on,
        "at": iso(update.at),
    }
    handle = engine.sessions.get(update.session_id)
    if handle is not None:
        out["statistics"] = session_json(handle.statistics())
    return out

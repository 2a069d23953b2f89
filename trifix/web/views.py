"""JSON shapes of the gateway's values, shared by the WebSocket API and the dashboard's endpoints.

Everything returns plain dictionaries ready for `trifix.web.protocol.dumps` (or `json.dumps`
once Decimals are strings): prices and quantities as strings, never floats; timestamps in ISO
8601; enums by their lower-case names (``"buy"``, ``"partially_filled"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from trifix.runtime import SessionStatistics
from trifix.trading.bbo import Bbo, LpLevel
from trifix.trading.book import OrderBook
from trifix.trading.bookvalues import Level
from trifix.trading.order_views import OrderView
from trifix.trading.quotes import QuoteView
from trifix.trading.updates import Alert
from trifix.web.protocol import enum_name

__all__ = [
    "alert_json",
    "bbo_json",
    "book_json",
    "consolidated_json",
    "iso",
    "level_json",
    "order_json",
    "quote_json",
    "session_json",
]

Json = dict[str, object]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with a ``Z`` for UTC, or None."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def order_json(view: OrderView, lp: str | None = None) -> Json:
    """An order: identifiers, terms, state, fills summed up and the LP's last words."""
    out: Json = {
        "cl_ord_id": view.cl_ord_id,
        "orig_cl_ord_id": view.chain[0],
        "order_id": view.order_id,
        "symbol": view.symbol,
        "side": enum_name(view.side),
        "ord_type": enum_name(view.ord_type),
        "order_qty": str(view.order_qty),
        "price": _num(view.price),
        "stop_px": _num(view.stop_px),
        "state": view.state.value,
        "pending": None if view.pending is None else enum_name(view.pending.event),
        "cum_qty": str(view.cum_qty),
        "leaves_qty": str(view.leaves_qty),
        "avg_px": str(view.avg_px),
        "fills": len(view.fills),
        "created_at": iso(view.created_at),
        "updated_at": iso(view.updated_at),
        "text": view.text,
        "is_open": view.is_open,
    }
    if lp is not None:
        out["lp"] = lp
    if view.ord_rej_reason is not None:
        out["ord_rej_reason"] = enum_name(view.ord_rej_reason)
    if view.cxl_rej_reason is not None:
        out["cxl_rej_reason"] = enum_name(view.cxl_rej_reason)
    return out


def quote_json(view: QuoteView, lp: str | None = None) -> Json:
    """A received quote and its state."""
    quote = view.quote
    out: Json = {
        "quote_id": quote.quote_id,
        "quote_req_id": quote.quote_req_id,
        "symbol": quote.symbol,
        "state": str(view.state),
        "bid_px": _num(quote.bid_px),
        "offer_px": _num(quote.offer_px),
        "bid_size": _num(quote.bid_size),
        "offer_size": _num(quote.offer_size),
        "received_at": iso(view.received_at),
        "expires_at": iso(view.expires_at),
        "traded_by": view.traded_by,
    }
    if lp is not None:
        out["lp"] = lp
    return out


def alert_json(alert: Alert) -> Json:
    """A gateway alert: its LP (None for the gateway itself), kind, text and time."""
    return {"lp": alert.lp, "kind": alert.kind.value, "text": alert.text, "at": iso(alert.at)}


def level_json(level: Level | LpLevel | None) -> Json | None:
    """A price level (with its LP, for a consolidated one), or None for an empty side."""
    if level is None:
        return None
    out: Json = {"price": str(level.price), "size": str(level.size)}
    if isinstance(level, LpLevel):
        out["lp"] = level.lp
    return out


def book_json(book: OrderBook, depth: int) -> Json:
    """One LP's book: `depth` levels per side, best first, and whether it can be trusted."""
    levels = book.depth(depth)
    stale = book.stale
    return {
        "lp": book.lp,
        "symbol": book.symbol,
        "bids": [level_json(level) for level in levels.bids],
        "offers": [level_json(level) for level in levels.offers],
        "usable": book.usable,
        "stale": None if stale is None else stale.reason,
    }


def bbo_json(symbol: str, bbo: Bbo | None) -> Json:
    """The consolidated best bid and offer of `symbol` (sides None when nobody quotes)."""
    if bbo is None:
        return {"symbol": symbol, "bid": None, "offer": None, "crossed": False, "spread": None}
    return {
        "symbol": symbol,
        "bid": level_json(bbo.bid),
        "offer": level_json(bbo.offer),
        "crossed": bbo.crossed,
        "spread": _num(bbo.spread),
    }


def consolidated_json(symbol: str, bbo: Bbo | None, books: Iterable[OrderBook], depth: int) -> Json:
    """`bbo_json` plus, for `depth` > 1, the best `depth` levels across the usable books."""
    out = bbo_json(symbol, bbo)
    if depth > 1:
        bids: list[LpLevel] = []
        offers: list[LpLevel] = []
        for book in books:
            if not book.usable:
                continue
            levels = book.depth(depth)
            bids += (LpLevel(book.lp, lv.price, lv.size) for lv in levels.bids)
            offers += (LpLevel(book.lp, lv.price, lv.size) for lv in levels.offers)
        bids.sort(key=lambda lv: (-lv.price, -lv.size))
        offers.sort(key=lambda lv: (lv.price, -lv.size))
        out["bids"] = [level_json(lv) for lv in bids[:depth]]
        out["offers"] = [level_json(lv) for lv in offers[:depth]]
    return out


def session_json(stats: SessionStatistics) -> Json:
    """One engine session: state, connection, sequence numbers and counters."""
    return {
        "session_id": stats.id,
        "state": stats.state.value,
        "enabled": stats.enabled,
        "connected": stats.connected,
        "logged_on": stats.logged_on,
        "peer": stats.peer,
        "next_sender_seq": stats.next_sender_seq,
        "next_target_seq": stats.next_target_seq,
        "messages_in": stats.messages_in,
        "messages_out": stats.messages_out,
        "connects": stats.connects,
        "logged_on_since": iso(stats.logged_on_since),
        "last_received": iso(stats.last_received),
        "awaiting_resend": stats.awaiting_resend,
        "last_error": stats.last_error,
    }

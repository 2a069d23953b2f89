"""What the gateway tells its applications: update values and their fan-out to consumers.

Every update is a frozen dataclass with a ``to_json()`` giving a JSON-ready dictionary (Decimals
as strings, datetimes in ISO 8601, enums as their value plus a readable name where the value is
a FIX code), so a WebSocket API can forward it as is. Each dictionary names its kind in
``"type"``: ``order``, ``book``, ``bbo``, ``quote``, ``session`` or ``alert``.

`UpdateHub` fans updates out to any number of consumers, each with its own bounded memory
channel. Publishing never waits: a consumer whose buffer is full is cut off (its iteration ends
after an ``overflow`` `Alert`) rather than slowing the gateway or the other consumers.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import trio

from trifix.trading.bbo import Bbo, LpLevel
from trifix.trading.bookvalues import Level, TopOfBook
from trifix.trading.messages import to_dict
from trifix.trading.order_state import OrderEvent
from trifix.trading.order_views import Fill, OrderView
from trifix.trading.quotes import QuoteView

__all__ = [
    "Alert",
    "AlertKind",
    "BboChanged",
    "BookChanged",
    "GatewayUpdate",
    "OrderChanged",
    "QuoteChanged",
    "SessionChanged",
    "UpdateHub",
    "jsonable",
]


def jsonable(value: object) -> Any:
    """`value` as JSON-ready data: Decimals as strings, datetimes ISO 8601, enums by value.

    Dataclasses become dictionaries of their fields, mappings dictionaries with string keys,
    tuples, lists and sets lists; a FIX-coded enum (a `str` enum whose value is not its name in
    lower case) becomes ``{"value": ..., "name": ...}``.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if not isinstance(value, enum.Enum) else _enum(value)
    if isinstance(value, enum.Enum):
        return _enum(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {
            str(jsonable(k)) if not isinstance(k, str) else k: jsonable(v) for k, v in value.items()
        }
    if isinstance(value, tuple | list | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _enum(member: enum.Enum) -> Any:
    value = member.value
    if isinstance(value, str) and value.replace("-", "_") == member.name.lower():
        return value  # a readable value already (OrderState, BookStyle...)
    return {"value": value, "name": member.name}


def _level(level: Level | None) -> dict[str, str] | None:
    return None if level is None else {"price": str(level.price), "size": str(level.size)}


def _lp_level(level: LpLevel | None) -> dict[str, str] | None:
    if level is None:
        return None
    return {"price": str(level.price), "size": str(level.size), "lp": level.lp}


def _order(view: OrderView) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(view)
    data["is_open"] = view.is_open
    return data


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """An order changed: created, acknowledged, filled, replaced, canceled, rejected...

    Attributes:
        lp: the LP the order was sent to.
        view: the order after the change.
        event: what changed it (`OrderEvent.SEND_NEW` for an order just sent, `ACK_NEW`,
            `PARTIAL_FILL`, `FILL`, `CANCEL_REJECTED`...).
        fill: the fill the report carried, if any.
        text: the Text (58) of the report or reject, if any.
    """

    lp: str
    view: OrderView
    event: OrderEvent
    fill: Fill | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``"type": "order"``)."""
        return {
            "type": "order",
            "lp": self.lp,
            "event": self.event.value,
            "order": _order(self.view),
            "fill": jsonable(self.fill),
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class BookChanged:
    """An LP's book of a symbol changed (or went stale: `usable` False).

    Attributes:
        lp: the LP.
        symbol: the symbol.
        top: its best bid and offer.
        usable: False while the book is stale (inconsistent or disconnected).
    """

    lp: str
    symbol: str
    top: TopOfBook
    usable: bool = True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``"type": "book"``)."""
        return {
            "type": "book",
            "lp": self.lp,
            "symbol": self.symbol,
            "bid": _level(self.top.bid),
            "offer": _level(self.top.offer),
            "usable": self.usable,
        }


@dataclass(frozen=True, slots=True)
class BboChanged:
    """The consolidated best bid and offer of a symbol across LPs changed."""

    symbol: str
    bbo: Bbo

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``"type": "bbo"``)."""
        bbo = self.bbo
        return {
            "type": "bbo",
            "symbol": self.symbol,
            "bid": _lp_level(bbo.bid),
            "offer": _lp_level(bbo.offer),
            "spread": jsonable(bbo.spread),
            "crossed": bbo.crossed,
        }


@dataclass(frozen=True, slots=True)
class QuoteChanged:
    """A quote arrived or changed state (expired, canceled, replaced, traded)."""

    lp: str
    view: QuoteView

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``"type": "quote"``)."""
        view = self.view
        return {
            "type": "quote",
            "lp": self.lp,
            "quote_id": view.quote_id,
            "symbol": view.symbol,
            "state": view.state.value,
            "quote": to_dict(view.quote),
            "received_at": view.received_at.isoformat(),
            "expires_at": view.expires_at.isoformat(),
            "traded_by": view.traded_by,
        }


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """Something happened to one of an LP's sessions (logon, disconnect, gap, timeout...).

    Attributes:
        lp: the LP.
        session_id: the engine session.
        event: the session event's class name (``LoggedOn``, ``Disconnected``, ``GapDetected``...).
        detail: the event's fields, in words.
        logged_on: whether the session is logged on after the event.
        at: when the gateway saw it.
    """

    lp: str
    session_id: str
    event: str
    detail: str = ""
    logged_on: bool = False
    at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``"type": "session"``)."""
        return {"type": "session", **jsonable(self)}


class AlertKind(enum.StrEnum):
    """What an `Alert` is about."""

    OVERFLOW = "overflow"
    """This consumer fell behind and was cut off; nothing more will come."""
    REJECT = "reject"
    """An order was rejected, or a cancel/replace refused."""
    ILLEGAL_TRANSITION = "illegal_transition"
    """A report the order's state does not allow (not applied)."""
    QUANTITY_MISMATCH = "quantity_mismatch"
    """The LP's CumQty/AvgPx/LeavesQty differ from the fills seen."""
    OVERFILL = "overfill"
    """More filled than ordered."""
    DUPLICATE = "duplicate"
    """A report already applied, ignored."""
    UNKNOWN_ORDER = "unknown_order"
    """A report about an order the gateway does not know."""
    MALFORMED = "malformed"
    """A message that could not be read; nothing was applied."""
    MASS_STATUS = "mass_status"
    """A mass status request was fully answered (the text lists orders the LP did not know)."""
    ACK_TIMEOUT = "ack_timeout"
    """An order, cancel or replace got no answer in time."""
    BREAKER = "breaker"
    """An LP's circuit breaker changed state."""
    BOOK_INCONSISTENT = "book_inconsistent"
    """A book went stale; a fresh snapshot was requested."""
    MARKET_DATA = "market_data"
    """A market data request was rejected, or market data could not be routed."""
    QUOTE = "quote"
    """A quote request was rejected, or a quote message made no sense."""
    BUSINESS_REJECT = "business_reject"
    """The LP refused a message with a BusinessMessageReject (35=j)."""
    SESSION_REJECT = "session_reject"
    """The LP refused a message at the session level (35=3)."""
    UNHANDLED = "unhandled"
    """An application message the gateway has no use for."""
    SEND_FAILED = "send_failed"
    """A request the gateway sends by itself (status after reconnect) could not be sent."""


@dataclass(frozen=True, slots=True)
class Alert:
    """Something an operator should know: a reject, an anomaly, a breaker, an overflow.

    Attributes:
        lp: the LP concerned, or None for the gateway itself.
        kind: what it is about (`AlertKind`).
        text: the details, in words.
        at: when the gateway saw it.
    """

    lp: str | None
    kind: AlertKind
    text: str
    at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``"type": "alert"``)."""
        return {
            "type": "alert",
            "lp": self.lp,
            "kind": self.kind.value,
            "text": self.text,
            "at": jsonable(self.at),
        }


GatewayUpdate = OrderChanged | BookChanged | BboChanged | QuoteChanged | SessionChanged | Alert
"""Everything `Gateway.open_updates` delivers."""

_OVERFLOW_TEXT: Final = (
    "this consumer fell {n} updates behind and was cut off; open a new one with a larger buffer"
)


class _Consumer:
    __slots__ = ("buffer", "free", "receive", "send")

    def __init__(self, buffer: int) -> None:
        self.buffer = buffer
        # Slots known to be free: receiving only frees more, so the channel's statistics are
        # asked for only once this many updates were sent since they were last looked at.
        self.free = buffer
        # One slot more than asked: room for the overflow Alert that ends a full consumer.
        self.send, self.receive = trio.open_memory_channel[GatewayUpdate](buffer + 1)


class UpdateHub:
    """Delivers every published update to every open consumer, in order, without waiting."""

    def __init__(self) -> None:
        self._consumers: list[_Consumer] = []
        self.published = 0
        self.cut_off = 0

    @property
    def consumers(self) -> int:
        """How many consumers are open."""
        return len(self._consumers)

    def publish(self, update: GatewayUpdate) -> None:
        """Hand `update` to every consumer; cut off those whose buffer is full."""
        self.published += 1
        full: list[_Consumer] = []
        for consumer in self._consumers:
            if consumer.free <= 0:
                used = consumer.send.statistics().current_buffer_used
                consumer.free = consumer.buffer - used
                if consumer.free <= 0:
                    full.append(consumer)
                    continue
            consumer.free -= 1
            consumer.send.send_nowait(update)
        for consumer in full:
            self._cut_off(consumer, update)

    def _cut_off(self, consumer: _Consumer, update: GatewayUpdate) -> None:
        self._consumers.remove(consumer)
        self.cut_off += 1
        at = getattr(update, "at", None)
        text = _OVERFLOW_TEXT.format(n=consumer.buffer)
        consumer.send.send_nowait(Alert(None, AlertKind.OVERFLOW, text, at))
        consumer.send.close()

    @asynccontextmanager
    async def open(
        self, buffer: int = 1000
    ) -> AsyncIterator[trio.MemoryReceiveChannel[GatewayUpdate]]:
        """A new consumer: every update published from now on, until the block ends.

        Raises:
            ValueError: `buffer` is below 1.
        """
        if buffer < 1:
            raise ValueError(f"an updates buffer needs at least 1 slot, not {buffer}")
        consumer = _Consumer(buffer)
        self._consumers.append(consumer)
        try:
            yield consumer.receive
        finally:
            if consumer in self._consumers:
                self._consumers.remove(consumer)
            consumer.send.close()
            consumer.receive.close()

    def close(self) -> None:
        """End every consumer's iteration (the gateway is closing)."""
        for consumer in self._consumers:
            consumer.send.close()
        self._consumers.clear()

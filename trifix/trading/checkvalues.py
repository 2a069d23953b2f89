"""The values pre-send checks work with: the order, reference data, collars, failures.

Kept apart from `trifix.trading.checks` (which re-exports them) so that the checks module
holds only the checks and the runner: `OrderRequest` (what a check looks at), `Instrument`
and `Collar` (configuration), `CheckContext`, `CheckFailure` and `PreTradeCheckError` (the
outcome), and the `Check` and `OrderSource` protocols.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from trifix.core.message import Message
from trifix.core.tags import MsgType, OrdType, Side, Tag, TimeInForce
from trifix.trading.errors import TradingError
from trifix.trading.messages import NewOrderSingle
from trifix.trading.order_views import OrderView

__all__ = [
    "Check",
    "CheckContext",
    "CheckFailure",
    "Collar",
    "Instrument",
    "OrderRequest",
    "OrderSource",
    "PreTradeCheckError",
]

ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True, slots=True)
class Instrument:
    """Reference data for one symbol.

    Attributes:
        symbol: the Symbol (55) as sent.
        tick_size: the price increment; prices must be multiples of it.
        lot_size: the quantity increment; quantities must be multiples of it.
        min_qty: the smallest quantity accepted (None: no minimum beyond > 0).
        max_qty: the largest quantity accepted (None: no maximum).
        tradable: False halts the symbol: every order is refused.
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    tradable: bool = True

    def __post_init__(self) -> None:
        if self.tick_size <= ZERO or self.lot_size <= ZERO:
            raise ValueError(
                f"instrument {self.symbol}: tick_size and lot_size must be positive "
                f"(tick_size={self.tick_size}, lot_size={self.lot_size})"
            )
        if self.min_qty is not None and self.max_qty is not None and self.min_qty > self.max_qty:
            raise ValueError(
                f"instrument {self.symbol}: min_qty {self.min_qty} > max_qty {self.max_qty}"
            )


@dataclass(frozen=True, slots=True)
class Collar:
    """A band around the reference price: `percent` of it, `absolute` units, or the narrower.

    Attributes:
        percent: half-width as a percentage of the reference price (5 means +/- 5%).
        absolute: half-width in price units.
    """

    percent: Decimal | None = None
    absolute: Decimal | None = None

    def __post_init__(self) -> None:
        if self.percent is None and self.absolute is None:
            raise ValueError("a collar needs percent, absolute or both")
        for name, value in (("percent", self.percent), ("absolute", self.absolute)):
            if value is not None and value < ZERO:
                raise ValueError(f"collar {name} must not be negative, not {value}")

    def half_width(self, reference: Decimal) -> Decimal:
        """How far from `reference` a price may be."""
        widths = [] if self.absolute is None else [self.absolute]
        if self.percent is not None:
            widths.append(abs(reference) * self.percent / _HUNDRED)
        return min(widths)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the checks look at in an order about to be sent.

    Attributes:
        cl_ord_id: ClOrdID (11).
        symbol: Symbol (55).
        side: Side (54).
        ord_type: OrdType (40).
        order_qty: OrderQty (38) (for a replace, the new total quantity).
        price: Price (44), for priced orders.
        stop_px: StopPx (99), for stop orders.
        orig_cl_ord_id: OrigClOrdID (41) of a replace; None for a new order.
    """

    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    order_qty: Decimal
    price: Decimal | None = None
    stop_px: Decimal | None = None
    orig_cl_ord_id: str | None = None

    @classmethod
    def of(cls, msg: Message | _ToMessage) -> OrderRequest:
        """Read a NewOrderSingle (D) or OrderCancelReplaceRequest (G), wire or typed.

        Raises:
            ValueError: another message type.
            FieldValueError: a required field is missing or invalid.
        """
        m = msg if isinstance(msg, Message) else msg.to_message()
        if m.msg_type not in (MsgType.NEW_ORDER_SINGLE, MsgType.ORDER_CANCEL_REPLACE_REQUEST):
            raise ValueError(f"pre-send checks apply to D and G messages, not {m.msg_type}")
        replacing = m.msg_type == MsgType.ORDER_CANCEL_REPLACE_REQUEST
        return cls(
            cl_ord_id=m.get_str(Tag.CL_ORD_ID),
            symbol=m.get_str(Tag.SYMBOL),
            side=m.get_enum(Tag.SIDE, Side),
            ord_type=m.get_enum(Tag.ORD_TYPE, OrdType),
            order_qty=m.get_decimal(Tag.ORDER_QTY),
            price=m.get_decimal(Tag.PRICE, None),
            stop_px=m.get_decimal(Tag.STOP_PX, None),
            orig_cl_ord_id=m.get_str(Tag.ORIG_CL_ORD_ID) if replacing else None,
        )

    @classmethod
    def of_new_order(cls, order: NewOrderSingle) -> OrderRequest | None:
        """What `of` reads from ``order.to_message()``, taken from the typed order itself.

        Only for an order whose wire form reads back to the very same values (see
        `plain`); None otherwise (use `of` on the wire message then).
        """
        if not cls.plain(order):
            return None
        return cls(
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            ord_type=order.ord_type,
            order_qty=order.order_qty,
            price=order.price,
            stop_px=order.stop_px,
        )

    @staticmethod
    def plain(order: NewOrderSingle) -> bool:
        """Whether every field of `order` that the checks and the tracker read comes back from its
        wire form unchanged: exact types (no subclass, no raw string for an enum), decimals that
        are written as they are (finite, not in exponent form), and no ``extra`` field (which
        could repeat a tag). Call it on an order whose `to_message` succeeded."""
        return (
            not order.extra
            and type(order.cl_ord_id) is str
            and type(order.symbol) is str
            and type(order.side) is Side
            and type(order.ord_type) is OrdType
            and _plain_decimal(order.order_qty)
            and (order.price is None or _plain_decimal(order.price))
            and (order.stop_px is None or _plain_decimal(order.stop_px))
            and (order.time_in_force is None or type(order.time_in_force) is TimeInForce)
            and (order.account is None or type(order.account) is str)
        )


def _plain_decimal(value: object) -> bool:
    """A Decimal that the wire carries as ``str(value)`` (and so reads back equal and alike)."""
    return type(value) is Decimal and value.is_finite() and "E" not in str(value)


class _ToMessage(Protocol):
    def to_message(self) -> Message: ...


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """Why a check refused an order.

    Attributes:
        check: the check's name (``collar``, ``quantity``...).
        reason: what is wrong, with the values, in words.
        values: the values involved, by name.
    """

    check: str
    reason: str
    values: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        return f"{self.check}: {self.reason}"


class PreTradeCheckError(TradingError):
    """An order refused by pre-send checks.

    Attributes:
        cl_ord_id: the order's ClOrdID.
        failures: every failure found (at least one).
    """

    def __init__(self, cl_ord_id: str, failures: Sequence[CheckFailure]) -> None:
        listed = "; ".join(str(f) for f in failures)
        super().__init__(f"order {cl_ord_id!r} refused by pre-send checks: {listed}")
        self.cl_ord_id = cl_ord_id
        self.failures = tuple(failures)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the checks know besides the order.

    Attributes:
        now: the time of the check (aware).
        reference_prices: the last reference price per symbol.
    """

    now: datetime
    reference_prices: Mapping[str, Decimal]


class Check(Protocol):
    """One pre-send check."""

    name: str

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        """A failure, or None if the order passes."""
        ...


class OrderSource(Protocol):
    """What the checks need of the session's orders (an `OrderTracker` is one)."""

    def __contains__(self, cl_ord_id: object) -> bool:
        """Whether the ClOrdID was ever used."""
        ...

    def open_orders(self) -> list[OrderView]:
        """The orders not ended."""
        ...

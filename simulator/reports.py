"""The LP's orders and the messages that describe them (ExecutionReport, OrderCancelReject)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    CxlRejResponseTo,
    ExecType,
    MsgType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    Side,
    Tag,
)

__all__ = ["OPEN", "UNKNOWN_ORDER_ID", "Order", "Rejected", "cancel_reject", "execution_report"]

ZERO = Decimal(0)
UNKNOWN_ORDER_ID = "NONE"  # OrderID (37) is required on a reject even when no order exists
OPEN = frozenset({OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED})


@dataclass(slots=True)
class Order:
    """An order as the LP holds it; `cl_ord_id` is its latest ClOrdID."""

    order_id: str
    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    qty: Decimal
    price: Decimal | None
    quote_id: str | None = None
    status: OrdStatus = OrdStatus.NEW
    cum_qty: Decimal = ZERO
    avg_px: Decimal = ZERO
    filling: bool = False
    """True while a sliced fill is under way (the market does not fill it meanwhile)."""

    @property
    def leaves_qty(self) -> Decimal:
        """What is left to fill; 0 once the order is done."""
        return self.qty - self.cum_qty if self.status in OPEN else ZERO

    @property
    def is_open(self) -> bool:
        """True while the order can still trade (or be canceled)."""
        return self.status in OPEN

    def execute(self, qty: Decimal, price: Decimal) -> None:
        """Record a fill of `qty` at `price`."""
        total = self.cum_qty + qty
        self.avg_px = (self.avg_px * self.cum_qty + price * qty) / total
        self.cum_qty = total
        self.status = OrdStatus.FILLED if total >= self.qty else OrdStatus.PARTIALLY_FILLED


class Rejected(Exception):
    """A request the LP answers with a reject; carries the reject's reason and text."""

    def __init__(self, reason: Any, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


def execution_report(
    order: Order,
    exec_id: str,
    exec_type: ExecType,
    now: datetime,
    *,
    orig: str | None = None,
    last: tuple[Decimal, Decimal] | None = None,
    reject: Rejected | None = None,
    extra: Sequence[tuple[int, Any]] = (),
) -> Message:
    """An ExecutionReport for `order`; `last` is the (LastQty, LastPx) of a fill."""
    fields: list[tuple[int, Any]] = [
        (Tag.ORDER_ID, order.order_id),
        (Tag.CL_ORD_ID, order.cl_ord_id),
    ]
    if orig is not None:
        fields.append((Tag.ORIG_CL_ORD_ID, orig))
    fields += extra
    fields += [(Tag.EXEC_ID, exec_id), (Tag.EXEC_TYPE, exec_type), (Tag.ORD_STATUS, order.status)]
    if reject is not None and isinstance(reject.reason, OrdRejReason):
        fields.append((Tag.ORD_REJ_REASON, reject.reason))
    fields += [
        (Tag.SYMBOL, order.symbol),
        (Tag.SIDE, order.side),
        (Tag.ORDER_QTY, order.qty),
        (Tag.ORD_TYPE, order.ord_type),
    ]
    if order.price is not None:
        fields.append((Tag.PRICE, order.price))
    if last is not None:
        fields += [(Tag.LAST_QTY, last[0]), (Tag.LAST_PX, last[1])]
    fields += [
        (Tag.LEAVES_QTY, order.leaves_qty),
        (Tag.CUM_QTY, order.cum_qty),
        (Tag.AVG_PX, order.avg_px),
        (Tag.TRANSACT_TIME, now),
    ]
    if reject is not None:
        fields.append((Tag.TEXT, reject.text))
    return Message.new(MsgType.EXECUTION_REPORT, *fields)


def cancel_reject(
    request: Message,
    order: Order | None,
    kind: CxlRejResponseTo,
    reason: CxlRejReason,
    text: str,
    now: datetime,
) -> Message:
    """An OrderCancelReject (35=9) answering a cancel (F) or cancel/replace (G) request."""
    return Message.new(
        MsgType.ORDER_CANCEL_REJECT,
        (Tag.ORDER_ID, order.order_id if order else UNKNOWN_ORDER_ID),
        (Tag.CL_ORD_ID, request.get_str(Tag.CL_ORD_ID)),
        (Tag.ORIG_CL_ORD_ID, request.get_str(Tag.ORIG_CL_ORD_ID)),
        (Tag.ORD_STATUS, order.status if order else OrdStatus.REJECTED),
        (Tag.TRANSACT_TIME, now),
        (Tag.CXL_REJ_RESPONSE_TO, kind),
        (Tag.CXL_REJ_REASON, reason),
        (Tag.TEXT, text),
    )

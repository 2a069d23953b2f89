"""Builders of order messages for the tracker, checks and breaker tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    CxlRejResponseTo,
    ExecType,
    MsgType,
    OrdStatus,
    OrdType,
    Side,
    Tag,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SYMBOL = "EUR/USD"
_ZERO_LEAVES = {
    OrdStatus.FILLED,
    OrdStatus.CANCELED,
    OrdStatus.REJECTED,
    OrdStatus.EXPIRED,
    OrdStatus.DONE_FOR_DAY,
}


def d(value: str | int) -> Decimal:
    return Decimal(value)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def nos(
    cl_ord_id: str,
    qty: str | int = 100,
    price: str | None = "1.1000",
    *,
    symbol: str = SYMBOL,
    side: Side = Side.BUY,
    ord_type: OrdType | None = None,
    sending_time: datetime | None = None,
) -> Message:
    kind = ord_type or (OrdType.LIMIT if price is not None else OrdType.MARKET)
    fields: list[tuple[int, Any]] = []
    if sending_time is not None:
        fields.append((Tag.SENDING_TIME, sending_time))
    fields += [
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, side),
        (Tag.ORDER_QTY, d(qty)),
        (Tag.ORD_TYPE, kind),
    ]
    if price is not None:
        fields.append((Tag.PRICE, d(price)))
    fields.append((Tag.TRANSACT_TIME, T0))
    return Message.new(MsgType.NEW_ORDER_SINGLE, *fields)


def cancel(
    cl_ord_id: str, orig: str, *, side: Side = Side.BUY, sending_time: datetime | None = None
) -> Message:
    fields: list[tuple[int, Any]] = []
    if sending_time is not None:
        fields.append((Tag.SENDING_TIME, sending_time))
    fields += [
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, SYMBOL),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, T0),
    ]
    return Message.new(MsgType.ORDER_CANCEL_REQUEST, *fields)


def replace(
    cl_ord_id: str,
    orig: str,
    qty: str | int,
    price: str | None,
    *,
    sending_time: datetime | None = None,
) -> Message:
    fields: list[tuple[int, Any]] = []
    if sending_time is not None:
        fields.append((Tag.SENDING_TIME, sending_time))
    fields += [
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, SYMBOL),
        (Tag.SIDE, Side.BUY),
        (Tag.ORDER_QTY, d(qty)),
        (Tag.ORD_TYPE, OrdType.LIMIT if price is not None else OrdType.MARKET),
    ]
    if price is not None:
        fields.append((Tag.PRICE, d(price)))
    fields.append((Tag.TRANSACT_TIME, T0))
    return Message.new(MsgType.ORDER_CANCEL_REPLACE_REQUEST, *fields)


def er(
    cl_ord_id: str | None,
    exec_id: str,
    exec_type: ExecType,
    ord_status: OrdStatus,
    *,
    order_id: str = "O1",
    orig: str | None = None,
    qty: str | int | None = 100,
    cum: str | int = 0,
    leaves: str | int | None = None,
    avg: str | int = 0,
    last_qty: str | int | None = None,
    last_px: str | None = None,
    price: str | None = None,
    symbol: str = SYMBOL,
    side: Side = Side.BUY,
    sending_time: datetime | None = None,
    omit: tuple[int, ...] = (),
    extra: tuple[tuple[int, Any], ...] = (),
) -> Message:
    """An ExecutionReport; LeavesQty defaults to qty - cum (0 once ended)."""
    if leaves is None:
        leaves = "0" if ord_status in _ZERO_LEAVES or qty is None else str(d(qty) - d(cum))
    fields: list[tuple[int, Any]] = []
    if sending_time is not None:
        fields.append((Tag.SENDING_TIME, sending_time))
    fields.append((Tag.ORDER_ID, order_id))
    if cl_ord_id is not None:
        fields.append((Tag.CL_ORD_ID, cl_ord_id))
    if orig is not None:
        fields.append((Tag.ORIG_CL_ORD_ID, orig))
    fields += [
        (Tag.EXEC_ID, exec_id),
        (Tag.EXEC_TYPE, exec_type),
        (Tag.ORD_STATUS, ord_status),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, side),
    ]
    if qty is not None:
        fields.append((Tag.ORDER_QTY, d(qty)))
    if price is not None:
        fields.append((Tag.PRICE, d(price)))
    if last_qty is not None:
        fields.append((Tag.LAST_QTY, d(last_qty)))
    if last_px is not None:
        fields.append((Tag.LAST_PX, d(last_px)))
    fields += [
        (Tag.LEAVES_QTY, d(leaves)),
        (Tag.CUM_QTY, d(cum)),
        (Tag.AVG_PX, d(avg)),
        *extra,
    ]
    fields = [(tag, value) for tag, value in fields if tag not in omit]
    return Message.new(MsgType.EXECUTION_REPORT, *fields)


def fill(
    cl_ord_id: str,
    exec_id: str,
    last_qty: str | int,
    last_px: str,
    *,
    cum: str | int,
    avg: str,
    qty: str | int | None = 100,
    **kw: Any,
) -> Message:
    """A Trade report; OrdStatus Filled once cum reaches qty."""
    done = d(cum) >= d(qty if qty is not None else 0)
    status = OrdStatus.FILLED if done else OrdStatus.PARTIALLY_FILLED
    return er(
        cl_ord_id,
        exec_id,
        ExecType.TRADE,
        status,
        qty=qty,
        cum=cum,
        avg=avg,
        last_qty=last_qty,
        last_px=last_px,
        **kw,
    )


def cancel_reject(
    cl_ord_id: str,
    orig: str,
    ord_status: OrdStatus,
    *,
    response_to: CxlRejResponseTo = CxlRejResponseTo.ORDER_CANCEL_REQUEST,
    reason: CxlRejReason = CxlRejReason.TOO_LATE_TO_CANCEL,
    order_id: str = "O1",
    sending_time: datetime | None = None,
    poss_dup: bool = False,
) -> Message:
    fields: list[tuple[int, Any]] = []
    if sending_time is not None:
        fields.append((Tag.SENDING_TIME, sending_time))
    if poss_dup:
        fields.append((Tag.POSS_DUP_FLAG, True))
    fields += [
        (Tag.ORDER_ID, order_id),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.ORD_STATUS, ord_status),
        (Tag.CXL_REJ_RESPONSE_TO, response_to),
        (Tag.CXL_REJ_REASON, reason),
        (Tag.TEXT, "refused"),
    ]
    return Message.new(MsgType.ORDER_CANCEL_REJECT, *fields)

"""Order messages: NewOrderSingle (D), OrderCancelRequest (F), OrderCancelReplaceRequest (G),
ExecutionReport (8), OrderCancelReject (9), OrderStatusRequest (H), OrderMassStatusRequest (AF).

Each models the fields a trading desk uses (FIX 4.4 names in snake_case); anything else a
message carries is kept in ``extra``. TransactTime, required on requests, is stamped with the
current time when left as None.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from trifix.core.tags import (
    CxlRejReason,
    CxlRejResponseTo,
    ExecType,
    MassStatusReqType,
    MsgType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    Side,
    TimeInForce,
)
from trifix.trading.messages._wire import Extra, WireMessage, fix

_NOW = fix(now_if_absent=True)


@attrs.frozen(kw_only=True)
class NewOrderSingle(WireMessage):
    """A new order (35=D)."""

    MSG_TYPE: ClassVar[str] = MsgType.NEW_ORDER_SINGLE
    cl_ord_id: str
    symbol: str
    side: Side
    order_qty: Decimal
    ord_type: OrdType
    price: Decimal | None = None
    stop_px: Decimal | None = None
    time_in_force: TimeInForce | None = None
    transact_time: datetime | None = attrs.field(default=None, metadata=_NOW)
    account: str | None = None
    currency: str | None = None
    quote_id: str | None = None
    expire_time: datetime | None = None
    min_qty: Decimal | None = None
    text: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class OrderCancelRequest(WireMessage):
    """A request to cancel the rest of an order (35=F)."""

    MSG_TYPE: ClassVar[str] = MsgType.ORDER_CANCEL_REQUEST
    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    side: Side
    order_qty: Decimal | None = None
    order_id: str | None = None
    transact_time: datetime | None = attrs.field(default=None, metadata=_NOW)
    text: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class OrderCancelReplaceRequest(WireMessage):
    """A request to change an order's quantity, price or time in force (35=G)."""

    MSG_TYPE: ClassVar[str] = MsgType.ORDER_CANCEL_REPLACE_REQUEST
    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    order_qty: Decimal
    price: Decimal | None = None
    order_id: str | None = None
    time_in_force: TimeInForce | None = None
    transact_time: datetime | None = attrs.field(default=None, metadata=_NOW)
    text: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class ExecutionReport(WireMessage):
    """An order's status or a change to it (35=8): ack, fill, cancel, replace, reject..."""

    MSG_TYPE: ClassVar[str] = MsgType.EXECUTION_REPORT
    order_id: str
    exec_id: str
    exec_type: ExecType
    ord_status: OrdStatus
    symbol: str
    side: Side
    leaves_qty: Decimal
    cum_qty: Decimal
    avg_px: Decimal
    cl_ord_id: str | None = None
    orig_cl_ord_id: str | None = None
    order_qty: Decimal | None = None
    price: Decimal | None = None
    ord_type: OrdType | None = None
    last_qty: Decimal | None = None
    last_px: Decimal | None = None
    ord_rej_reason: OrdRejReason | None = None
    text: str | None = None
    transact_time: datetime | None = None
    exec_ref_id: str | None = None
    mass_status_req_id: str | None = None
    tot_num_reports: int | None = None
    last_rpt_requested: bool | None = None
    account: str | None = None
    time_in_force: TimeInForce | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class OrderCancelReject(WireMessage):
    """A cancel or cancel/replace request refused (35=9)."""

    MSG_TYPE: ClassVar[str] = MsgType.ORDER_CANCEL_REJECT
    order_id: str
    cl_ord_id: str
    orig_cl_ord_id: str
    ord_status: OrdStatus
    cxl_rej_response_to: CxlRejResponseTo
    cxl_rej_reason: CxlRejReason | None = None
    text: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class OrderStatusRequest(WireMessage):
    """Ask for an order's current status (35=H); answered with an ExecutionReport 150=I."""

    MSG_TYPE: ClassVar[str] = MsgType.ORDER_STATUS_REQUEST
    cl_ord_id: str
    symbol: str
    side: Side
    order_id: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class OrderMassStatusRequest(WireMessage):
    """Ask for the status of many orders at once (35=AF): one ExecutionReport 150=I each."""

    MSG_TYPE: ClassVar[str] = MsgType.ORDER_MASS_STATUS_REQUEST
    mass_status_req_id: str
    mass_status_req_type: MassStatusReqType
    symbol: str | None = None
    side: Side | None = None
    extra: Extra = ()

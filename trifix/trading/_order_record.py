"""The tracker's mutable order record and the ExecutionReport fields it reads (internal)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    ExecType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    Side,
    Tag,
    TimeInForce,
)
from trifix.trading.errors import TradingError
from trifix.trading.order_state import ENDED, START, MachineState, OrderState
from trifix.trading.order_views import Fill, OrderView, PendingRequest

ZERO: Final = Decimal(0)
_ZERO_LEAVES: Final = ENDED | {OrderState.DONE_FOR_DAY}


class RecoveryError(TradingError):
    """A stored message cannot be placed in time (no SendingTime or TransactTime)."""


@dataclass(slots=True)
class OrderRecord:
    """The mutable record behind an `OrderView`."""

    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    order_qty: Decimal
    price: Decimal | None
    created_at: datetime
    updated_at: datetime
    machine: MachineState = START
    stop_px: Decimal | None = None
    time_in_force: TimeInForce | None = None
    account: str | None = None
    order_id: str | None = None
    chain: list[str] = field(default_factory=list)
    pending: PendingRequest | None = None
    fills: list[Fill] = field(default_factory=list)
    cum_qty: Decimal = ZERO
    traded_value: Decimal = ZERO  # sum of qty * price over the fills
    text: str | None = None
    ord_rej_reason: OrdRejReason | None = None
    cxl_rej_reason: CxlRejReason | None = None

    def add_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        self.cum_qty += fill.qty
        self.traded_value += fill.qty * fill.price

    def recompute(self) -> None:
        self.cum_qty = sum((f.qty for f in self.fills), ZERO)
        self.traded_value = sum((f.qty * f.price for f in self.fills), ZERO)

    @property
    def avg_px(self) -> Decimal:
        return self.traded_value / self.cum_qty if self.cum_qty else ZERO

    @property
    def leaves_qty(self) -> Decimal:
        if self.machine.state in _ZERO_LEAVES:
            return ZERO
        return max(self.order_qty - self.cum_qty, ZERO)

    def view(self) -> OrderView:
        return OrderView(
            cl_ord_id=self.cl_ord_id,
            chain=tuple(self.chain),
            order_id=self.order_id,
            symbol=self.symbol,
            side=self.side,
            ord_type=self.ord_type,
            order_qty=self.order_qty,
            price=self.price,
            stop_px=self.stop_px,
            time_in_force=self.time_in_force,
            account=self.account,
            state=self.machine.state,
            pending=self.pending,
            cum_qty=self.cum_qty,
            leaves_qty=self.leaves_qty,
            avg_px=self.avg_px,
            fills=tuple(self.fills),
            created_at=self.created_at,
            updated_at=self.updated_at,
            text=self.text,
            ord_rej_reason=self.ord_rej_reason,
            cxl_rej_reason=self.cxl_rej_reason,
        )


@dataclass(slots=True)
class MassStatusRun:
    req_id: str
    sent_at: datetime
    symbol: str | None
    side: Side | None
    reported: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    received: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """The fields of an ExecutionReport the tracker reads, converted once."""

    exec_id: str
    exec_type: ExecType
    ord_status: OrdStatus
    order_id: str
    cl_ord_id: str | None
    orig_cl_ord_id: str | None
    symbol: str | None
    side: Side | None
    order_qty: Decimal | None
    price: Decimal | None
    ord_type: OrdType | None
    leaves_qty: Decimal
    cum_qty: Decimal
    avg_px: Decimal
    last_qty: Decimal | None
    last_px: Decimal | None
    exec_ref_id: str | None
    text: str | None
    ord_rej_reason: OrdRejReason | None
    transact_time: datetime | None
    mass_status_req_id: str | None
    tot_num_reports: int | None
    last_rpt_requested: bool

    @classmethod
    def read(cls, m: Message) -> Report:
        return cls(
            exec_id=m.get_str(Tag.EXEC_ID),
            exec_type=m.get_enum(Tag.EXEC_TYPE, ExecType),
            ord_status=m.get_enum(Tag.ORD_STATUS, OrdStatus),
            order_id=m.get_str(Tag.ORDER_ID),
            cl_ord_id=m.get_str(Tag.CL_ORD_ID, None),
            orig_cl_ord_id=m.get_str(Tag.ORIG_CL_ORD_ID, None),
            symbol=m.get_str(Tag.SYMBOL, None),
            side=m.get_enum(Tag.SIDE, Side, None),
            order_qty=m.get_decimal(Tag.ORDER_QTY, None),
            price=m.get_decimal(Tag.PRICE, None),
            ord_type=m.get_enum(Tag.ORD_TYPE, OrdType, None),
            leaves_qty=m.get_decimal(Tag.LEAVES_QTY),
            cum_qty=m.get_decimal(Tag.CUM_QTY),
            avg_px=m.get_decimal(Tag.AVG_PX),
            last_qty=m.get_decimal(Tag.LAST_QTY, None),
            last_px=m.get_decimal(Tag.LAST_PX, None),
            exec_ref_id=m.get_str(Tag.EXEC_REF_ID, None),
            text=m.get_str(Tag.TEXT, None),
            ord_rej_reason=m.get_enum(Tag.ORD_REJ_REASON, OrdRejReason, None),
            transact_time=m.get_utc_timestamp(Tag.TRANSACT_TIME, None),
            mass_status_req_id=m.get_str(Tag.MASS_STATUS_REQ_ID, None),
            tot_num_reports=m.get_int(Tag.TOT_NUM_REPORTS, None),
            last_rpt_requested=m.get_bool(Tag.LAST_RPT_REQUESTED, False),
        )


def timed(
    messages: Iterable[Message], direction: int
) -> Iterator[tuple[datetime, int, int, Message]]:
    for n, msg in zip(itertools.count(), messages):
        at = msg.get_utc_timestamp(Tag.SENDING_TIME, None) or msg.get_utc_timestamp(
            Tag.TRANSACT_TIME, None
        )
        if at is None:
            raise RecoveryError(
                f"stored message {msg.msg_type} (MsgSeqNum {msg.get_int(Tag.MSG_SEQ_NUM, 0)}) "
                "has neither SendingTime nor TransactTime"
            )
        yield at, direction, n, msg

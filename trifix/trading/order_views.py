"""What the order tracker shows: immutable order views and the events it reports.

`OrderView` is a snapshot of one order; the tracker hands out a new one whenever asked, so a
view never changes under its holder. `TrackerEvent` is everything `OrderTracker.on_received`
(and `recover`) may return: facts about orders (`OrderUpdate`, `MassStatusCompleted`) and
problems with what the LP sent, as values for the caller to log, alert on or act upon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trifix.core.tags import CxlRejReason, OrdRejReason, OrdStatus, OrdType, Side, TimeInForce
from trifix.trading.order_state import ENDED, PENDING_REQUEST, WORKING, OrderEvent, OrderState

__all__ = [
    "DuplicateIgnored",
    "Fill",
    "IllegalTransition",
    "MalformedReport",
    "MassStatusCompleted",
    "OrderUpdate",
    "OrderView",
    "Overfill",
    "PendingRequest",
    "QuantityMismatch",
    "TrackerEvent",
    "UnknownOrder",
]


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order.

    Attributes:
        exec_id: the ExecID (17) of the report.
        qty: LastQty (32).
        price: LastPx (31).
        time: TransactTime (60) of the report, or when it was received.
        reconciled: True for a fill inferred from a status report's CumQty and AvgPx (the
            individual executions were not seen, e.g. after a restart).
    """

    exec_id: str
    qty: Decimal
    price: Decimal
    time: datetime
    reconciled: bool = False


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A cancel or replace request awaiting the LP's answer.

    Attributes:
        event: `OrderEvent.SEND_CANCEL` or `OrderEvent.SEND_REPLACE`.
        cl_ord_id: the request's ClOrdID.
        sent_at: when it was sent.
        order_qty: the replace's new OrderQty (None for a cancel, or unchanged).
        price: the replace's new Price.
        ord_type: the replace's OrdType.
    """

    event: OrderEvent
    cl_ord_id: str
    sent_at: datetime
    order_qty: Decimal | None = None
    price: Decimal | None = None
    ord_type: OrdType | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order as the tracker knows it (immutable).

    Attributes:
        cl_ord_id: the current ClOrdID: the original, or that of the last accepted replace
            or cancel.
        chain: every accepted ClOrdID, original first.
        order_id: the LP's OrderID (37), once known.
        state: the order's state.
        pending: the cancel or replace awaiting an answer, if any.
        cum_qty: quantity filled, summed from the fills.
        leaves_qty: quantity still working (0 once ended or done for the day).
        avg_px: volume-weighted average of the fills' prices (0 before any fill).
        fills: every fill, in the order received.
        text: the last Text (58) the LP sent about the order.
        ord_rej_reason: OrdRejReason (103) of a reject.
        cxl_rej_reason: CxlRejReason (102) of the last cancel reject.
    """

    cl_ord_id: str
    chain: tuple[str, ...]
    order_id: str | None
    symbol: str
    side: Side
    ord_type: OrdType
    order_qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    time_in_force: TimeInForce | None
    account: str | None
    state: OrderState
    pending: PendingRequest | None
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    fills: tuple[Fill, ...]
    created_at: datetime
    updated_at: datetime
    text: str | None = None
    ord_rej_reason: OrdRejReason | None = None
    cxl_rej_reason: CxlRejReason | None = None

    @property
    def is_open(self) -> bool:
        """Not ended: working, pending or held (done for the day, suspended)."""
        return self.state not in ENDED

    @property
    def is_working(self) -> bool:
        """May fill now: working or with a cancel/replace pending."""
        return self.state in WORKING or self.state in PENDING_REQUEST

    @property
    def is_ended(self) -> bool:
        """Filled, canceled, rejected or expired."""
        return self.state in ENDED


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order changed (or was created, or confirmed by a snapshot).

    Attributes:
        order: the order after the change.
        previous: its state before; None for an order just created.
        event: what changed it.
        exec_id: the ExecID of the report, if a report did.
        fill: the fill the report carried, if any.
        text: the Text (58) of the report or reject.
    """

    order: OrderView
    previous: OrderState | None
    event: OrderEvent
    exec_id: str | None = None
    fill: Fill | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class IllegalTransition:
    """A report (or a stored request, in recovery) the order's state does not allow.

    Nothing was applied: the order is as it was.

    Attributes:
        cl_ord_id: the order's current ClOrdID (or the message's, if no order).
        state: the order's state; None when the refused message never reached an order.
        event: the event refused; None in the same case.
        reported: the OrdStatus (39) of the report.
        exec_id: the report's ExecID.
        reason: the explanation.
    """

    cl_ord_id: str | None
    state: OrderState | None
    event: OrderEvent | None
    reported: OrdStatus | None
    exec_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class QuantityMismatch:
    """The LP's CumQty (14), AvgPx (6) or LeavesQty (151) differs from the computed one.

    Attributes:
        cl_ord_id: the order's current ClOrdID.
        tag: which field: `Tag.CUM_QTY`, `Tag.AVG_PX` or `Tag.LEAVES_QTY`.
        local: the tracker's value (before adopting, when `adopted`).
        reported: the LP's value.
        adopted: True when the tracker took the LP's figure (a snapshot reported more filled
            than the fills seen).
    """

    cl_ord_id: str
    tag: int
    local: Decimal
    reported: Decimal
    adopted: bool = False


@dataclass(frozen=True, slots=True)
class Overfill:
    """More filled than ordered.

    Attributes:
        cl_ord_id: the order's current ClOrdID.
        order_qty: the order's quantity.
        cum_qty: the quantity filled.
    """

    cl_ord_id: str
    order_qty: Decimal
    cum_qty: Decimal


@dataclass(frozen=True, slots=True)
class DuplicateIgnored:
    """A message already applied (an ExecID seen, a request already rejected): ignored.

    Attributes:
        msg_type: its MsgType.
        cl_ord_id: its ClOrdID.
        exec_id: its ExecID, for an ExecutionReport.
    """

    msg_type: str
    cl_ord_id: str | None
    exec_id: str | None


@dataclass(frozen=True, slots=True)
class UnknownOrder:
    """A report about an order the tracker does not know (not a status report to adopt).

    Attributes:
        msg_type: its MsgType.
        cl_ord_id: its ClOrdID.
        order_id: its OrderID.
        exec_id: its ExecID, for an ExecutionReport.
    """

    msg_type: str
    cl_ord_id: str | None
    order_id: str | None
    exec_id: str | None


@dataclass(frozen=True, slots=True)
class MalformedReport:
    """A report with a missing or invalid field; nothing was applied.

    Attributes:
        msg_type: its MsgType.
        tag: the field at fault.
        reason: what is wrong.
    """

    msg_type: str
    tag: int
    reason: str


@dataclass(frozen=True, slots=True)
class MassStatusCompleted:
    """The last answer to an OrderMassStatusRequest (AF) arrived.

    Attributes:
        mass_status_req_id: MassStatusReqID (584).
        reported: ClOrdIDs the LP reported, in order.
        adopted: of those, the orders the tracker did not know and now does.
        missing: open local orders in the request's scope (symbol, side, created before the
            request) that the LP did not report: it does not know them, or lost them.
    """

    mass_status_req_id: str
    reported: tuple[str, ...]
    adopted: tuple[str, ...]
    missing: tuple[str, ...]


TrackerEvent = (
    OrderUpdate
    | IllegalTransition
    | QuantityMismatch
    | Overfill
    | DuplicateIgnored
    | UnknownOrder
    | MalformedReport
    | MassStatusCompleted
)
"""Everything the tracker reports."""

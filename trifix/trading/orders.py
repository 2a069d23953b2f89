"""The order tracker: every order of one session, from what was sent and what came back.

Theory of operation. `OrderTracker` is sans-IO: it never sends, reads a clock or touches a
store. The caller (the gateway) tells it what it is about to send (`on_sent`, which raises on
misuse and then changes nothing) and hands it every application message received
(`on_received`, which returns what changed as values, `TrackerEvent`). Order states move only
through `trifix.trading.order_state`; an ExecutionReport the state machine refuses is reported
as an `IllegalTransition` and not applied.

- ClOrdID chains: a cancel or replace gets a new ClOrdID (11) naming the current one as
  OrigClOrdID (41); every ClOrdID ever used for an order finds it (`get`), and OrderID (37)
  too once the LP assigned it.
- Quantities: CumQty, LeavesQty and AvgPx are computed from the fills (LastQty 32, LastPx 31)
  in Decimal and compared with the LP's (`QuantityMismatch`); more filled than ordered is an
  `Overfill`. Snapshots (status reports, restatements) are authoritative: when the LP reports
  more filled than the fills seen, the difference is adopted as a reconciling fill.
- Duplicates: an ExecID seen before (a PossDup resend) is ignored, as is an OrderCancelReject
  for a request already rejected.
- Restart: `recover` re-feeds the stored sent messages and the received reports in time
  order; an OrderMassStatusRequest (AF) answered by status reports (ExecType I with
  MassStatusReqID 584, TotNumReports 911, LastRptRequested 912) reconciles the local orders
  with the LP's, adopting orders it did not know and listing open ones the LP did not report.

What was sent is recorded by `trifix.trading._order_requests` (a mixin of `OrderTracker`, with
the errors it raises, re-exported here); this module keeps the queries, what is received and
the recovery.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from trifix.core.errors import FieldValueError
from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    MsgType,
    OrdStatus,
    OrdType,
    Side,
    Tag,
)
from trifix.trading._order_record import (
    ZERO,
    MassStatusRun,
    OrderRecord,
    RecoveryError,
    Report,
    timed,
)
from trifix.trading._order_requests import (
    DuplicateClOrdIDError,
    OrderRequests,
    OrderTrackingError,
    SupportsToMessage,
    UnknownOrderError,
    _wire,
)
from trifix.trading.order_state import (
    ENDED,
    PENDING_REQUEST,
    IllegalTransitionError,
    OrderEvent,
    OrderState,
    apply,
    classify,
    state_from_ord_status,
)
from trifix.trading.order_views import (
    DuplicateIgnored,
    Fill,
    IllegalTransition,
    MalformedReport,
    MassStatusCompleted,
    OrderUpdate,
    OrderView,
    Overfill,
    PendingRequest,
    QuantityMismatch,
    TrackerEvent,
    UnknownOrder,
)

__all__ = [
    "DuplicateClOrdIDError",
    "OrderTracker",
    "OrderTrackingError",
    "RecoveryError",
    "SupportsToMessage",
    "UnknownOrderError",
]


_SNAPSHOTS: Final = frozenset({OrderEvent.STATUS, OrderEvent.RESTATED})
_FILLS: Final = frozenset({OrderEvent.FILL, OrderEvent.PARTIAL_FILL})


class OrderTracker(OrderRequests):
    """Every order of one session, with its state, quantities and ClOrdID chain.

    Args:
        avg_px_tolerance: the largest difference between the computed average price and the
            LP's AvgPx (6) that is not a mismatch; at least half a unit of the last decimal
            the LP sent is always tolerated (LPs round AvgPx).
    """

    def __init__(self, *, avg_px_tolerance: Decimal = ZERO) -> None:
        self._avg_px_tolerance = avg_px_tolerance
        self._orders: list[OrderRecord] = []
        self._by_cl_ord_id: dict[str, OrderRecord] = {}
        self._by_order_id: dict[str, OrderRecord] = {}
        self._exec_ids: set[str] = set()
        self._rejected_requests: set[str] = set()
        self._mass_status: dict[str, MassStatusRun] = {}

    # -- queries ---------------------------------------------------------------------------
    def get(self, cl_ord_id: str) -> OrderView | None:
        """The order any of whose ClOrdIDs (original, replaces, cancels) is `cl_ord_id`."""
        order = self._by_cl_ord_id.get(cl_ord_id)
        return order.view() if order is not None else None

    def get_by_order_id(self, order_id: str) -> OrderView | None:
        """The order the LP knows as `order_id` (OrderID, 37)."""
        order = self._by_order_id.get(order_id)
        return order.view() if order is not None else None

    def __contains__(self, cl_ord_id: object) -> bool:
        """Whether `cl_ord_id` was ever used by an order of this tracker."""
        return cl_ord_id in self._by_cl_ord_id

    def __len__(self) -> int:
        """How many orders the tracker holds."""
        return len(self._orders)

    def orders(
        self,
        *,
        symbol: str | None = None,
        side: Side | None = None,
        status: OrderState | Collection[OrderState] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        open_only: bool = False,
    ) -> list[OrderView]:
        """The orders matching every filter given, oldest first.

        Args:
            symbol: only this Symbol.
            side: only this Side.
            status: only orders in this state (or one of these states).
            since: only orders created at or after this instant.
            until: only orders created before this instant.
            open_only: only orders not ended (see `OrderView.is_open`).
        """
        states = {status} if isinstance(status, OrderState) else status
        return [
            o.view()
            for o in self._orders
            if (symbol is None or o.symbol == symbol)
            and (side is None or o.side is side)
            and (states is None or o.machine.state in states)
            and (since is None or o.created_at >= since)
            and (until is None or o.created_at < until)
            and (not open_only or o.machine.state not in ENDED)
        ]

    def open_orders(self) -> list[OrderView]:
        """The orders not ended (working, pending or held)."""
        return self.orders(open_only=True)

    # -- what was received -------------------------------------------------------------------
    def on_received(self, msg: Message | SupportsToMessage, now: datetime) -> list[TrackerEvent]:
        """Apply an incoming message: ExecutionReport (8) or OrderCancelReject (9).

        Returns what changed and what went wrong, in order; any other message type gives [].
        Nothing raises for a bad report: it comes back as a `MalformedReport`.
        """
        m = _wire(msg)
        msg_type = m.msg_type
        try:
            if msg_type == MsgType.EXECUTION_REPORT:
                return self._execution_report(Report.read(m), now)
            if msg_type == MsgType.ORDER_CANCEL_REJECT:
                return self._cancel_reject(m, now)
        except FieldValueError as exc:
            return [MalformedReport(msg_type, exc.tag, str(exc))]
        return []

    def _find(self, *ids: str | None, order_id: str | None = None) -> OrderRecord | None:
        for cl_ord_id in ids:
            if cl_ord_id is not None and cl_ord_id in self._by_cl_ord_id:
                return self._by_cl_ord_id[cl_ord_id]
        return self._by_order_id.get(order_id) if order_id is not None else None

    def _execution_report(self, r: Report, now: datetime) -> list[TrackerEvent]:
        event = classify(r.exec_type, r.ord_status, leaves_zero=r.leaves_qty == ZERO)
        counted = event is not OrderEvent.STATUS  # status answers may reuse an ExecID
        if counted and r.exec_id in self._exec_ids:
            return [DuplicateIgnored(MsgType.EXECUTION_REPORT, r.cl_ord_id, r.exec_id)]
        if event in _FILLS and (r.last_qty is None or r.last_px is None):
            tag = Tag.LAST_QTY if r.last_qty is None else Tag.LAST_PX
            return [
                MalformedReport(MsgType.EXECUTION_REPORT, tag, "a fill needs LastQty and LastPx")
            ]
        run = self._mass_status.get(r.mass_status_req_id) if r.mass_status_req_id else None
        if run is not None and r.tot_num_reports == 0:
            return self._mass_status_done(run)  # the LP has no orders to report
        order = self._find(r.cl_ord_id, r.orig_cl_ord_id, order_id=r.order_id)
        events: list[TrackerEvent] = []
        if order is None:
            if event not in _SNAPSHOTS or r.cl_ord_id is None:
                return [UnknownOrder(MsgType.EXECUTION_REPORT, r.cl_ord_id, r.order_id, r.exec_id)]
            order, update = self._adopt(r, now)
            events.append(update)
            if run is not None:
                run.adopted.append(order.cl_ord_id)
        else:
            events += self._apply_report(order, r, event, now)
        if counted:
            self._exec_ids.add(r.exec_id)
        if run is not None:
            run.received += 1
            run.reported.append(order.cl_ord_id)
            if r.last_rpt_requested or (
                r.tot_num_reports is not None and run.received >= r.tot_num_reports
            ):
                events += self._mass_status_done(run)
        return events

    def _apply_report(
        self, order: OrderRecord, r: Report, event: OrderEvent, now: datetime
    ) -> list[TrackerEvent]:
        previous = order.machine
        try:
            machine = apply(previous, event, r.ord_status)
        except IllegalTransitionError as exc:
            return [
                IllegalTransition(
                    order.cl_ord_id, previous.state, event, r.ord_status, r.exec_id, str(exc)
                )
            ]
        fill: Fill | None = None
        if event in _FILLS:
            assert r.last_qty is not None
            assert r.last_px is not None
            fill = Fill(r.exec_id, r.last_qty, r.last_px, r.transact_time or now)
            order.add_fill(fill)
        elif event in (OrderEvent.TRADE_BUSTED, OrderEvent.TRADE_CORRECTED):
            self._correct(order, r, event)
        pending = order.pending
        if pending is not None and machine.state not in PENDING_REQUEST:
            # The request was answered (canceled, replaced) or overtaken by the order's end.
            order.pending = None
            if event in (OrderEvent.REPLACED, OrderEvent.CANCELED):
                self._take_request(order, pending, r)
        elif event in _SNAPSHOTS:
            order.order_qty = r.order_qty if r.order_qty is not None else order.order_qty
            order.price = r.price if r.price is not None else order.price
        if r.order_id and order.order_id != r.order_id:
            order.order_id = r.order_id
            self._by_order_id[r.order_id] = order
        order.machine = machine
        order.updated_at = now
        order.text = r.text if r.text is not None else order.text
        if r.ord_rej_reason is not None:
            order.ord_rej_reason = r.ord_rej_reason
        events: list[TrackerEvent] = []
        if event in _SNAPSHOTS and r.cum_qty > order.cum_qty:
            events += self._reconcile(order, r, now)
        events.insert(0, OrderUpdate(order.view(), previous.state, event, r.exec_id, fill, r.text))
        if order.cum_qty > order.order_qty:
            events.append(Overfill(order.cl_ord_id, order.order_qty, order.cum_qty))
        events += self._compare(order, r)
        return events

    def _take_request(self, order: OrderRecord, pending: PendingRequest, r: Report) -> None:
        """The accepted request's ClOrdID (and, for a replace, its terms) become the order's."""
        order.cl_ord_id = r.cl_ord_id if r.cl_ord_id in self._by_cl_ord_id else pending.cl_ord_id
        order.chain.append(order.cl_ord_id)
        if pending.event is OrderEvent.SEND_REPLACE:
            order.order_qty = r.order_qty or pending.order_qty or order.order_qty
            order.price = r.price if r.price is not None else pending.price
            order.ord_type = r.ord_type or pending.ord_type or order.ord_type

    def _correct(self, order: OrderRecord, r: Report, event: OrderEvent) -> None:
        """Apply a trade bust (ExecType H) or correction (G) to the fill ExecRefID names."""
        for i, old in enumerate(order.fills):
            if old.exec_id == r.exec_ref_id:
                if event is OrderEvent.TRADE_BUSTED:
                    del order.fills[i]
                else:
                    order.fills[i] = replace(
                        old, qty=r.last_qty or old.qty, price=r.last_px or old.price
                    )
                order.recompute()
                return
        # An unknown ExecRefID leaves the fills as they are; `_compare` reports the difference.

    def _reconcile(self, order: OrderRecord, r: Report, now: datetime) -> list[TrackerEvent]:
        """Adopt what a snapshot says was filled beyond the fills seen, as one fill."""
        missing = r.cum_qty - order.cum_qty
        price = (r.avg_px * r.cum_qty - order.traded_value) / missing
        mismatch = QuantityMismatch(order.cl_ord_id, Tag.CUM_QTY, order.cum_qty, r.cum_qty, True)
        order.add_fill(Fill(r.exec_id, missing, price, r.transact_time or now, reconciled=True))
        return [mismatch]

    def _compare(self, order: OrderRecord, r: Report) -> list[TrackerEvent]:
        out: list[TrackerEvent] = []
        if order.cum_qty != r.cum_qty:
            out.append(QuantityMismatch(order.cl_ord_id, Tag.CUM_QTY, order.cum_qty, r.cum_qty))
        elif r.cum_qty:
            exponent = r.avg_px.as_tuple().exponent
            half_unit = Decimal(5).scaleb(exponent - 1) if isinstance(exponent, int) else ZERO
            if abs(order.avg_px - r.avg_px) > max(half_unit, self._avg_px_tolerance):
                out.append(QuantityMismatch(order.cl_ord_id, Tag.AVG_PX, order.avg_px, r.avg_px))
        if order.leaves_qty != r.leaves_qty:
            out.append(
                QuantityMismatch(order.cl_ord_id, Tag.LEAVES_QTY, order.leaves_qty, r.leaves_qty)
            )
        return out

    def _adopt(self, r: Report, now: datetime) -> tuple[OrderRecord, OrderUpdate]:
        """An order first seen in a status report (after a restart): take the LP's word."""
        assert r.cl_ord_id is not None
        machine = state_from_ord_status(r.ord_status, filled=r.cum_qty > ZERO)
        order = OrderRecord(
            cl_ord_id=r.cl_ord_id,
            symbol=r.symbol or "",
            side=r.side or Side.BUY,
            ord_type=r.ord_type or OrdType.LIMIT,
            order_qty=r.order_qty if r.order_qty is not None else r.cum_qty + r.leaves_qty,
            price=r.price,
            created_at=r.transact_time or now,
            updated_at=now,
            machine=machine,
            order_id=r.order_id,
            chain=[r.cl_ord_id],
            text=r.text,
        )
        if r.cum_qty:
            order.add_fill(Fill(r.exec_id, r.cum_qty, r.avg_px, now, reconciled=True))
        self._orders.append(order)
        self._by_cl_ord_id[r.cl_ord_id] = order
        self._by_order_id[r.order_id] = order
        return order, OrderUpdate(order.view(), None, OrderEvent.STATUS, r.exec_id)

    def _mass_status_done(self, run: MassStatusRun) -> list[TrackerEvent]:
        del self._mass_status[run.req_id]
        seen = set(run.reported)
        missing = tuple(
            o.cl_ord_id
            for o in self._orders
            if o.machine.state not in ENDED
            and o.cl_ord_id not in seen
            and o.created_at <= run.sent_at
            and (run.symbol is None or o.symbol == run.symbol)
            and (run.side is None or o.side is run.side)
        )
        return [MassStatusCompleted(run.req_id, tuple(run.reported), tuple(run.adopted), missing)]

    def _cancel_reject(self, m: Message, now: datetime) -> list[TrackerEvent]:
        cl_ord_id = m.get_str(Tag.CL_ORD_ID)
        orig = m.get_str(Tag.ORIG_CL_ORD_ID, None)
        if cl_ord_id in self._rejected_requests:
            return [DuplicateIgnored(MsgType.ORDER_CANCEL_REJECT, cl_ord_id, None)]
        order = self._find(cl_ord_id, orig)
        if order is None:
            return [
                UnknownOrder(
                    MsgType.ORDER_CANCEL_REJECT, cl_ord_id, m.get_str(Tag.ORDER_ID, None), None
                )
            ]
        previous = order.machine
        pending = order.pending
        event = OrderEvent.CANCEL_REJECTED
        reported = m.get_enum(Tag.ORD_STATUS, OrdStatus, None)
        answers_pending = pending is not None and pending.cl_ord_id == cl_ord_id
        try:
            if pending is not None and not answers_pending:
                raise IllegalTransitionError(previous.state, event, reported)
            machine = apply(previous, event, reported)
        except IllegalTransitionError as exc:
            return [
                IllegalTransition(order.cl_ord_id, previous.state, event, reported, None, str(exc))
            ]
        self._rejected_requests.add(cl_ord_id)
        order.machine = machine
        order.pending = None
        order.updated_at = now
        order.cxl_rej_reason = m.get_enum(Tag.CXL_REJ_REASON, CxlRejReason, None)
        text = m.get_str(Tag.TEXT, None)
        order.text = text if text is not None else order.text
        return [OrderUpdate(order.view(), previous.state, event, None, None, text)]

    # -- restart -------------------------------------------------------------------------------
    def recover(self, sent: Iterable[Message], received: Iterable[Message]) -> list[TrackerEvent]:
        """Rebuild the orders from stored traffic: sent and received messages, in time order.

        Both streams must each be in the order they happened (as a store keeps them); they are
        merged by SendingTime (52), falling back to TransactTime (60), a sent message first on
        a tie. A sent message the tracker refuses (a duplicate ClOrdID...) is reported as an
        `IllegalTransition` with no event rather than raised, so one bad record does not stop
        the recovery.

        Raises:
            RecoveryError: a message has neither SendingTime nor TransactTime.
        """
        events: list[TrackerEvent] = []
        merged = heapq.merge(timed(sent, 0), timed(received, 1))
        for at, direction, _, msg in merged:
            if direction == 1:
                events += self.on_received(msg, at)
                continue
            try:
                update = self.on_sent(msg, at)
            except (OrderTrackingError, IllegalTransitionError, FieldValueError) as exc:
                cl_ord_id = msg.get_str(Tag.CL_ORD_ID, None)
                events.append(IllegalTransition(cl_ord_id, None, None, None, None, str(exc)))
            else:
                if update is not None:
                    events.append(update)
        return events

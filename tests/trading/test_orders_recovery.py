"""OrderTracker after a restart: replay of stored traffic, and mass status reconciliation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trading.orderfixtures import T0, at, cancel, d, er, fill, nos, replace
from trifix.core.message import Message
from trifix.core.tags import ExecType, MassStatusReqType, OrdStatus, Side, Tag
from trifix.trading.order_state import OrderEvent, OrderState
from trifix.trading.order_views import (
    IllegalTransition,
    MassStatusCompleted,
    OrderUpdate,
    QuantityMismatch,
)
from trifix.trading.orders import OrderTracker, RecoveryError

S = OrderState


def status(
    cl_ord_id: str | None,
    req: str | None,
    ord_status: OrdStatus,
    *,
    tot_num_reports: int | None = None,
    last_rpt_requested: bool | None = None,
    **kw: Any,
) -> Message:
    extra: list[tuple[int, object]] = []
    if req is not None:
        extra.append((Tag.MASS_STATUS_REQ_ID, req))
    if tot_num_reports is not None:
        extra.append((Tag.TOT_NUM_REPORTS, tot_num_reports))
    if last_rpt_requested is not None:
        extra.append((Tag.LAST_RPT_REQUESTED, last_rpt_requested))
    return er(cl_ord_id, "0", ExecType.ORDER_STATUS, ord_status, extra=tuple(extra), **kw)


def test_mass_status_request_builder() -> None:
    every = OrderTracker.mass_status_request("M1").to_message()
    assert every.get_str(Tag.MASS_STATUS_REQ_ID) == "M1"
    assert every.get_int(Tag.MASS_STATUS_REQ_TYPE) == MassStatusReqType.STATUS_FOR_ALL_ORDERS
    assert Tag.SYMBOL not in every
    one = OrderTracker.mass_status_request("M2", symbol="EUR/USD", side=Side.SELL).to_message()
    assert one.get_int(Tag.MASS_STATUS_REQ_TYPE) == (
        MassStatusReqType.STATUS_FOR_ORDERS_FOR_A_SECURITY
    )
    assert (one.get_str(Tag.SYMBOL), one.get_str(Tag.SIDE)) == ("EUR/USD", "2")


def test_mass_status_reconciles_the_local_orders() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("A"), at(0))
    tracker.on_received(er("A", "E1", ExecType.NEW, OrdStatus.NEW), at(1))
    tracker.on_sent(nos("B", side=Side.SELL), at(2))  # the LP never got it
    tracker.on_sent(nos("J", symbol="USD/JPY"), at(3))  # out of the request's scope
    assert tracker.on_sent(OrderTracker.mass_status_request("M1", symbol="EUR/USD"), at(4)) is None

    first = tracker.on_received(status("A", "M1", OrdStatus.NEW, tot_num_reports=2), at(5))
    assert len(first) == 1
    assert isinstance(first[0], OrderUpdate)
    assert first[0].event is OrderEvent.STATUS

    unknown = status(
        "X", "M1", OrdStatus.PARTIALLY_FILLED, order_id="O9", qty=200, cum=50, avg="1.2",
        price="1.25", tot_num_reports=2, last_rpt_requested=True,
    )  # fmt: skip
    events = tracker.on_received(unknown, at(6))
    adopted = events[0]
    assert isinstance(adopted, OrderUpdate)
    assert adopted.previous is None
    view = adopted.order
    assert (view.state, view.order_qty, view.cum_qty, view.leaves_qty) == (
        S.PARTIALLY_FILLED,
        200,
        50,
        150,
    )
    assert view.avg_px == d("1.2")
    assert view.fills[0].reconciled
    assert tracker.get_by_order_id("O9") == view
    assert events[1:] == [MassStatusCompleted("M1", ("A", "X"), ("X",), ("B",))]


def test_mass_status_with_no_orders() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("A"), at(0))
    tracker.on_sent(OrderTracker.mass_status_request("M1").to_message(), at(1))
    nothing = er(
        None, "0", ExecType.ORDER_STATUS, OrdStatus.REJECTED, order_id="NONE", qty=None,
        extra=((Tag.MASS_STATUS_REQ_ID, "M1"), (Tag.TOT_NUM_REPORTS, 0)),
    )  # fmt: skip
    assert tracker.on_received(nothing, at(2)) == [MassStatusCompleted("M1", (), (), ("A",))]


def test_mass_status_completes_on_the_count() -> None:
    tracker = OrderTracker()
    tracker.on_sent(OrderTracker.mass_status_request("M1"), at(0))
    events = tracker.on_received(status("A", "M1", OrdStatus.NEW, tot_num_reports=1), at(1))
    assert events[-1] == MassStatusCompleted("M1", ("A",), ("A",), ())


def test_status_reporting_more_filled_adopts_the_difference() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("A"), at(0))
    tracker.on_received(fill("A", "E1", 20, "1.0", cum=20, avg="1.0"), at(1))
    # The LP says 60 filled at 1.1 on average: 40 more at 1.15, fills this side never saw.
    events = tracker.on_received(
        status("A", None, OrdStatus.PARTIALLY_FILLED, cum=60, avg="1.1"), at(2)
    )
    update = events[0]
    assert isinstance(update, OrderUpdate)
    assert (update.order.cum_qty, update.order.avg_px, update.order.leaves_qty) == (
        60,
        d("1.1"),
        40,
    )
    assert update.order.fills[-1].qty == 40
    assert update.order.fills[-1].price == d("1.15")
    assert events[1:] == [QuantityMismatch("A", Tag.CUM_QTY, d(20), d(60), adopted=True)]


def test_status_for_an_unknown_order_without_cl_ord_id_is_unknown() -> None:
    tracker = OrderTracker()
    events = tracker.on_received(status(None, None, OrdStatus.NEW), at(0))
    assert len(events) == 1
    assert type(events[0]).__name__ == "UnknownOrder"


def stamped(msg: Message, seconds: float) -> Message:
    msg.set(Tag.SENDING_TIME, at(seconds))
    return msg


def session_traffic() -> tuple[list[tuple[str, Message, float]], list[Message], list[Message]]:
    """A day's traffic: (direction, message, time), and the same split as a store keeps it."""
    script: list[tuple[str, Message, float]] = [
        ("out", nos("A", 100, "1.1"), 0),
        ("in", er("A", "E1", ExecType.NEW, OrdStatus.NEW), 1),
        ("in", fill("A", "E2", 30, "1.1", cum=30, avg="1.1"), 2),
        ("out", replace("B", "A", 200, "1.2"), 3),
        ("in", er("B", "E3", ExecType.REPLACED, OrdStatus.PARTIALLY_FILLED, orig="A", qty=200,
                  cum=30, avg="1.1", price="1.2"), 4),
        ("out", replace("C", "B", 150, "1.3"), 5),
        ("in", er("C", "E4", ExecType.REPLACED, OrdStatus.PARTIALLY_FILLED, orig="B", qty=150,
                  cum=30, avg="1.1", price="1.3"), 6),
        ("out", nos("Z", 10, "1.0"), 7),
        ("in", er("Z", "E5", ExecType.NEW, OrdStatus.NEW, order_id="O2", qty=10), 8),
        ("out", cancel("Q", "Z"), 9),
    ]  # fmt: skip
    sent = [stamped(m, t) for direction, m, t in script if direction == "out"]
    received = [stamped(m, t) for direction, m, t in script if direction == "in"]
    return script, sent, received


def test_recover_gives_the_tracker_fed_live() -> None:
    script, sent, received = session_traffic()
    live = OrderTracker()
    for direction, msg, t in script:
        if direction == "out":
            live.on_sent(msg, at(t))
        else:
            live.on_received(msg, at(t))
    recovered = OrderTracker()
    events = recovered.recover(sent, received)
    assert all(isinstance(e, OrderUpdate) for e in events)
    assert recovered.orders() == live.orders()
    view = recovered.get("A")
    assert view is not None
    assert (view.chain, view.state, view.order_qty, view.leaves_qty) == (
        ("A", "B", "C"),
        S.REPLACED,
        150,
        120,
    )
    z = recovered.get("Q")
    assert z is not None
    assert z.state is S.PENDING_CANCEL


def test_recover_reports_what_it_cannot_apply() -> None:
    tracker = OrderTracker()
    sent = [stamped(nos("A"), 0), stamped(nos("A"), 1), stamped(cancel("C", "nope"), 2)]
    events = tracker.recover(sent, [])
    assert isinstance(events[0], OrderUpdate)
    problems = events[1:]
    assert all(isinstance(e, IllegalTransition) for e in problems)
    assert [e.cl_ord_id for e in problems] == ["A", "C"]  # type: ignore[union-attr]
    assert "already used" in problems[0].reason  # type: ignore[union-attr]


def test_recover_falls_back_to_transact_time_and_needs_a_time() -> None:
    tracker = OrderTracker()
    assert len(tracker.recover([nos("A")], [])) == 1  # TransactTime T0
    bare = er("A", "E1", ExecType.NEW, OrdStatus.NEW)
    with pytest.raises(RecoveryError, match="neither SendingTime nor TransactTime"):
        tracker.recover([], [bare])


@st.composite
def fill_sequences(draw: st.DrawFn) -> tuple[Decimal, list[tuple[Decimal, Decimal]]]:
    qty = Decimal(draw(st.integers(min_value=1, max_value=10_000)))
    fills: list[tuple[Decimal, Decimal]] = []
    left = qty
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        if left == 0:
            break
        lot = Decimal(draw(st.integers(min_value=1, max_value=int(left))))
        price = Decimal(draw(st.integers(min_value=1, max_value=2_000_000))).scaleb(-5)
        fills.append((lot, price))
        left -= lot
    return qty, fills


@settings(max_examples=200, deadline=None)
@given(fill_sequences())
def test_random_fills_keep_quantities_and_vwap(
    case: tuple[Decimal, list[tuple[Decimal, Decimal]]],
) -> None:
    qty, fills = case
    tracker = OrderTracker()
    tracker.on_sent(nos("A", str(qty), "1"), T0)
    tracker.on_received(er("A", "E0", ExecType.NEW, OrdStatus.NEW, qty=str(qty)), T0)
    cum = Decimal(0)
    value = Decimal(0)
    for n, (lot, price) in enumerate(fills):
        cum += lot
        value += lot * price
        report = fill(
            "A", f"E{n + 1}", str(lot), str(price), cum=str(cum), avg=str(value / cum),
            qty=str(qty),
        )  # fmt: skip
        events = tracker.on_received(report, T0)
        assert not [e for e in events if not isinstance(e, OrderUpdate)], events
        view = tracker.get("A")
        assert view is not None
        assert view.cum_qty + view.leaves_qty == qty
        assert view.cum_qty == cum
        assert view.avg_px == value / cum
        assert view.state is (S.FILLED if cum == qty else S.PARTIALLY_FILLED)

"""OrderTracker: lifecycle, ClOrdID chains, quantities, duplicates and what it reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.trading.orderfixtures import (
    T0,
    at,
    cancel,
    cancel_reject,
    d,
    er,
    fill,
    nos,
    replace,
)
from trifix.core.errors import LocalProtocolError
from trifix.core.tags import CxlRejReason, ExecType, OrdStatus, OrdType, Side, Tag
from trifix.trading.messages import NewOrderSingle, OrderCancelRequest
from trifix.trading.order_state import IllegalTransitionError, OrderEvent, OrderState
from trifix.trading.order_views import (
    DuplicateIgnored,
    IllegalTransition,
    MalformedReport,
    OrderUpdate,
    OrderView,
    Overfill,
    QuantityMismatch,
    TrackerEvent,
    UnknownOrder,
)
from trifix.trading.orders import (
    DuplicateClOrdIDError,
    OrderTracker,
    OrderTrackingError,
    UnknownOrderError,
)

S = OrderState


def only_update(events: list[TrackerEvent]) -> OrderUpdate:
    assert len(events) == 1, events
    update = events[0]
    assert isinstance(update, OrderUpdate)
    return update


def acked(qty: int = 100, price: str = "1.1000") -> OrderTracker:
    tracker = OrderTracker()
    tracker.on_sent(nos("A", qty, price), T0)
    only_update(tracker.on_received(er("A", "E0", ExecType.NEW, OrdStatus.NEW, qty=qty), at(1)))
    return tracker


def test_place_ack_partial_fill_and_fill() -> None:
    tracker = OrderTracker()
    sent = tracker.on_sent(nos("A", 100, "1.1000"), T0)
    assert sent is not None
    assert sent.previous is None
    assert sent.event is OrderEvent.SEND_NEW
    assert sent.order.state is S.PENDING_NEW
    assert sent.order.leaves_qty == 100
    assert "A" in tracker
    assert len(tracker) == 1

    ack = only_update(tracker.on_received(er("A", "E1", ExecType.NEW, OrdStatus.NEW), at(1)))
    assert (ack.previous, ack.order.state, ack.exec_id) == (S.PENDING_NEW, S.NEW, "E1")
    assert ack.order.order_id == "O1"

    part = only_update(tracker.on_received(fill("A", "E2", 40, "1.1000", cum=40, avg="1.1"), at(2)))
    assert part.event is OrderEvent.PARTIAL_FILL
    assert part.fill is not None
    assert (part.fill.qty, part.fill.price, part.fill.exec_id) == (40, d("1.1000"), "E2")
    view = part.order
    assert (view.state, view.cum_qty, view.leaves_qty, view.avg_px) == (
        S.PARTIALLY_FILLED,
        40,
        60,
        d("1.1"),
    )
    assert view.is_working
    assert view.is_open

    done = only_update(
        tracker.on_received(fill("A", "E3", 60, "1.0900", cum=100, avg="1.094"), at(3))
    )
    assert done.event is OrderEvent.FILL
    view = done.order
    assert (view.state, view.cum_qty, view.leaves_qty) == (S.FILLED, 100, 0)
    assert view.avg_px == d("1.094")
    assert view.is_ended
    assert not view.is_open
    assert len(view.fills) == 2
    assert tracker.get_by_order_id("O1") == tracker.get("A") == view
    assert tracker.get("nope") is None
    assert tracker.get_by_order_id("nope") is None


def test_views_are_immutable_snapshots() -> None:
    tracker = acked()
    before = tracker.get("A")
    tracker.on_received(fill("A", "E2", 40, "1.1", cum=40, avg="1.1"), at(2))
    assert before is not None
    assert before.state is S.NEW
    with pytest.raises(AttributeError):
        before.state = S.FILLED  # type: ignore[misc]


def test_replace_chain_and_cancel() -> None:
    tracker = acked()
    tracker.on_received(fill("A", "E2", 30, "1.1000", cum=30, avg="1.1"), at(2))
    sent = tracker.on_sent(replace("B", "A", 200, "1.2000"), at(3))
    assert sent is not None
    assert sent.order.state is S.PENDING_REPLACE
    assert sent.order.pending is not None
    assert (sent.order.pending.cl_ord_id, sent.order.pending.order_qty) == ("B", 200)
    assert tracker.get("B") == sent.order  # found by the pending request's ClOrdID too

    ack = er(
        "B", "E3", ExecType.PENDING_REPLACE, OrdStatus.PENDING_REPLACE, orig="A", cum=30, avg="1.1"
    )
    assert only_update(tracker.on_received(ack, at(4))).order.state is S.PENDING_REPLACE
    done = er(
        "B", "E4", ExecType.REPLACED, OrdStatus.PARTIALLY_FILLED, orig="A", qty=200, cum=30,
        avg="1.1", price="1.2000",
    )  # fmt: skip
    view = only_update(tracker.on_received(done, at(5))).order
    assert (view.state, view.cl_ord_id, view.chain) == (S.REPLACED, "B", ("A", "B"))
    assert (view.order_qty, view.price, view.leaves_qty, view.pending) == (200, d("1.2"), 170, None)
    assert tracker.get("A") == tracker.get("B") == view

    tracker.on_sent(cancel("C", "B"), at(6))
    out = er("C", "E5", ExecType.CANCELED, OrdStatus.CANCELED, orig="B", qty=200, cum=30, avg="1.1")
    view = only_update(tracker.on_received(out, at(7))).order
    assert (view.state, view.cl_ord_id, view.chain) == (S.CANCELED, "C", ("A", "B", "C"))
    assert (view.cum_qty, view.leaves_qty) == (30, 0)


def test_replace_taking_its_terms_from_the_request() -> None:
    tracker = acked()
    tracker.on_sent(replace("B", "A", 150, None), at(1))
    done = er("B", "E1", ExecType.REPLACED, OrdStatus.NEW, orig="A", qty=None, leaves=150)
    view = only_update(tracker.on_received(done, at(2))).order
    assert (view.order_qty, view.price, view.ord_type) == (150, None, OrdType.MARKET)


def test_sending_mistakes_raise_and_change_nothing() -> None:
    tracker = acked()
    with pytest.raises(DuplicateClOrdIDError, match="'A'"):
        tracker.on_sent(nos("A"), at(1))
    with pytest.raises(UnknownOrderError, match="'Z'"):
        tracker.on_sent(cancel("C", "Z"), at(1))
    tracker.on_sent(cancel("C", "A"), at(2))
    with pytest.raises(IllegalTransitionError, match="SEND_REPLACE in state PENDING_CANCEL"):
        tracker.on_sent(replace("D", "A", 10, "1"), at(3))
    assert "D" not in tracker
    with pytest.raises(DuplicateClOrdIDError):
        tracker.on_sent(cancel("C", "A"), at(3))
    view = tracker.get("A")
    assert view is not None
    assert view.state is S.PENDING_CANCEL
    assert isinstance(DuplicateClOrdIDError("x"), LocalProtocolError)


def test_request_must_name_the_current_cl_ord_id() -> None:
    tracker = acked()
    tracker.on_sent(replace("B", "A", 50, "1.1"), at(1))
    tracker.on_received(er("B", "E1", ExecType.REPLACED, OrdStatus.NEW, orig="A", qty=50), at(2))
    with pytest.raises(UnknownOrderError, match="current ClOrdID 'B'"):
        tracker.on_sent(cancel("C", "A"), at(3))


def test_cancel_reject_returns_to_the_prior_state_moved_by_fills() -> None:
    tracker = acked()
    tracker.on_sent(cancel("C", "A"), at(1))
    tracker.on_received(fill("A", "E1", 10, "1.1", cum=10, avg="1.1"), at(2))
    view = tracker.get("A")
    assert view is not None
    assert (view.state, view.cum_qty) == (S.PENDING_CANCEL, 10)
    rej = cancel_reject("C", "A", OrdStatus.PARTIALLY_FILLED, reason=CxlRejReason.OTHER)
    update = only_update(tracker.on_received(rej, at(3)))
    assert (update.previous, update.order.state) == (S.PENDING_CANCEL, S.PARTIALLY_FILLED)
    assert update.event is OrderEvent.CANCEL_REJECTED
    assert update.order.cxl_rej_reason is CxlRejReason.OTHER
    assert update.text == update.order.text == "refused"
    assert update.order.pending is None
    # A PossDup resend of the same reject is ignored.
    again = tracker.on_received(cancel_reject("C", "A", OrdStatus.NEW, poss_dup=True), at(4))
    assert again == [DuplicateIgnored("9", "C", None)]


def test_too_late_to_cancel() -> None:
    tracker = acked()
    tracker.on_sent(cancel("C", "A"), at(1))
    done = fill("A", "E1", 100, "1.1", cum=100, avg="1.1", extra=())
    assert only_update(tracker.on_received(done, at(2))).order.state is S.FILLED
    rej = cancel_reject("C", "A", OrdStatus.FILLED)
    update = only_update(tracker.on_received(rej, at(3)))
    assert (update.previous, update.order.state) == (S.FILLED, S.FILLED)
    assert update.order.cxl_rej_reason is CxlRejReason.TOO_LATE_TO_CANCEL


def test_fill_while_cancel_pending_reported_as_pending_cancel() -> None:
    # FIX 4.4 OrdStatus precedence: PendingCancel outranks Filled; LeavesQty 0 decides.
    tracker = acked()
    tracker.on_sent(cancel("C", "A"), at(1))
    report = er(
        "A", "E1", ExecType.TRADE, OrdStatus.PENDING_CANCEL, cum=100, leaves=0, avg="1.1",
        last_qty=100, last_px="1.1",
    )  # fmt: skip
    update = only_update(tracker.on_received(report, at(2)))
    assert update.event is OrderEvent.FILL
    assert update.order.state is S.FILLED


def test_unexpected_cancel_reject_is_illegal() -> None:
    tracker = acked()
    events = tracker.on_received(cancel_reject("C", "A", OrdStatus.NEW), at(1))
    assert len(events) == 1
    assert isinstance(events[0], IllegalTransition)
    assert events[0].event is OrderEvent.CANCEL_REJECTED
    tracker.on_sent(cancel("D", "A"), at(2))
    (illegal,) = tracker.on_received(cancel_reject("X", "A", OrdStatus.NEW), at(3))
    assert isinstance(illegal, IllegalTransition)
    assert illegal.state is S.PENDING_CANCEL
    unknown = tracker.on_received(cancel_reject("Q", "R", OrdStatus.NEW), at(4))
    assert unknown == [UnknownOrder("9", "Q", "O1", None)]


def test_duplicate_exec_id_is_ignored() -> None:
    tracker = acked()
    report = fill("A", "E1", 40, "1.1", cum=40, avg="1.1")
    tracker.on_received(report, at(1))
    assert tracker.on_received(report, at(2)) == [DuplicateIgnored("8", "A", "E1")]
    view = tracker.get("A")
    assert view is not None
    assert view.cum_qty == 40


def test_illegal_report_is_reported_and_not_applied() -> None:
    tracker = acked()
    tracker.on_sent(cancel("C", "A"), at(1))
    tracker.on_received(er("C", "E1", ExecType.CANCELED, OrdStatus.CANCELED, orig="A"), at(2))
    late = fill("A", "E2", 50, "1.1", cum=50, avg="1.1")
    (event,) = tracker.on_received(late, at(3))
    assert isinstance(event, IllegalTransition)
    assert (event.state, event.event, event.reported, event.exec_id) == (
        S.CANCELED,
        OrderEvent.PARTIAL_FILL,
        OrdStatus.PARTIALLY_FILLED,
        "E2",
    )
    assert "PARTIAL_FILL in state CANCELED" in event.reason
    view = tracker.get("A")
    assert view is not None
    assert (view.state, view.cum_qty, view.fills) == (S.CANCELED, 0, ())
    # The refused report is not applied on a resend either.
    assert tracker.on_received(late, at(4)) == [DuplicateIgnored("8", "A", "E2")]


def test_overfill_is_reported() -> None:
    tracker = acked()
    tracker.on_received(fill("A", "E1", 80, "1.1", cum=80, avg="1.1"), at(1))
    events = tracker.on_received(fill("A", "E2", 40, "1.1", cum=120, avg="1.1"), at(2))
    assert isinstance(events[0], OrderUpdate)
    assert Overfill("A", d(100), d(120)) in events


def test_lp_quantities_are_checked() -> None:
    tracker = acked()
    bad = fill("A", "E1", 40, "1.1", cum=45, leaves=55, avg="1.1")
    events = tracker.on_received(bad, at(1))
    assert QuantityMismatch("A", Tag.CUM_QTY, d(40), d(45)) in events
    assert QuantityMismatch("A", Tag.LEAVES_QTY, d(60), d(55)) in events


def test_avg_px_rounding_is_tolerated_but_errors_are_not() -> None:
    tracker = acked(qty=300)
    tracker.on_received(fill("A", "E1", 100, "1.1", cum=100, avg="1.1", qty=300), at(1))
    tracker.on_received(fill("A", "E2", 100, "1.1", cum=200, avg="1.1", qty=300), at(2))
    # VWAP 1.1333...; the LP rounds to 4 places.
    rounded = fill("A", "E3", 100, "1.2", cum=300, avg="1.1333", qty=300)
    assert len(tracker.on_received(rounded, at(3))) == 1
    tracker2 = acked()
    wrong = fill("A", "E1", 50, "1.1", cum=50, avg="1.1002")
    assert tracker2.on_received(wrong, at(1))[1:] == [
        QuantityMismatch("A", Tag.AVG_PX, d("1.1"), d("1.1002"))
    ]
    tolerant = OrderTracker(avg_px_tolerance=Decimal("0.001"))
    tolerant.on_sent(nos("A"), T0)
    assert len(tolerant.on_received(wrong, at(1))) == 1


def test_unknown_order() -> None:
    tracker = OrderTracker()
    events = tracker.on_received(fill("Z", "E1", 1, "1", cum=1, avg="1"), at(1))
    assert events == [UnknownOrder("8", "Z", "O1", "E1")]


def test_order_id_finds_a_report_without_cl_ord_id() -> None:
    tracker = acked()
    report = fill(None, "E1", 10, "1.1", cum=10, avg="1.1")  # type: ignore[arg-type]
    update = only_update(tracker.on_received(report, at(1)))
    assert update.order.cl_ord_id == "A"


@pytest.mark.parametrize(
    ("omit", "tag"),
    [((Tag.EXEC_ID,), Tag.EXEC_ID), ((Tag.LAST_PX,), Tag.LAST_PX), ((Tag.LAST_QTY,), Tag.LAST_QTY)],
)
def test_malformed_report(omit: tuple[int, ...], tag: int) -> None:
    tracker = acked()
    report = fill("A", "E1", 10, "1.1", cum=10, avg="1.1", omit=omit)
    (event,) = tracker.on_received(report, at(1))
    assert isinstance(event, MalformedReport)
    assert (event.msg_type, event.tag) == ("8", tag)


def test_bad_enum_is_malformed() -> None:
    tracker = acked()
    report = er("A", "E1", ExecType.NEW, OrdStatus.NEW, extra=((Tag.ORD_REJ_REASON, "zz"),))
    (event,) = tracker.on_received(report, at(1))
    assert isinstance(event, MalformedReport)
    assert event.tag == Tag.ORD_REJ_REASON


def test_other_messages_are_ignored() -> None:
    tracker = OrderTracker()
    heartbeat = nos("A").copy()
    heartbeat.set(Tag.MSG_TYPE, "0")
    assert tracker.on_received(heartbeat, T0) == []
    assert tracker.on_sent(heartbeat, T0) is None


def test_rejected_new_order() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("A"), T0)
    report = er(
        "A", "E1", ExecType.REJECTED, OrdStatus.REJECTED, order_id="NONE",
        extra=((Tag.ORD_REJ_REASON, 1), (Tag.TEXT, "unknown symbol")),
    )  # fmt: skip
    view = only_update(tracker.on_received(report, at(1))).order
    assert view.state is S.REJECTED
    assert view.text == "unknown symbol"
    assert view.ord_rej_reason is not None
    assert view.ord_rej_reason.name == "UNKNOWN_SYMBOL"


def test_cancel_chasing_an_unacknowledged_order() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("A"), T0)
    tracker.on_sent(cancel("C", "A"), at(1))
    assert (
        only_update(
            tracker.on_received(er("A", "E1", ExecType.NEW, OrdStatus.NEW), at(2))
        ).order.state
        is S.PENDING_CANCEL
    )
    done = er("C", "E2", ExecType.CANCELED, OrdStatus.CANCELED, orig="A")
    assert only_update(tracker.on_received(done, at(3))).order.state is S.CANCELED


def test_trade_bust_and_correction() -> None:
    tracker = acked()
    tracker.on_received(fill("A", "E1", 100, "1.1", cum=100, avg="1.1"), at(1))
    corrected = er(
        "A", "E2", ExecType.TRADE_CORRECT, OrdStatus.PARTIALLY_FILLED, cum=60, avg="1.2",
        last_qty=60, last_px="1.2", extra=((Tag.EXEC_REF_ID, "E1"),),
    )  # fmt: skip
    view = only_update(tracker.on_received(corrected, at(2))).order
    assert (view.state, view.cum_qty, view.avg_px, view.leaves_qty) == (
        S.PARTIALLY_FILLED,
        60,
        d("1.2"),
        40,
    )
    busted = er(
        "A", "E3", ExecType.TRADE_CANCEL, OrdStatus.NEW, cum=0, avg=0,
        extra=((Tag.EXEC_REF_ID, "E1"),),
    )  # fmt: skip
    view = only_update(tracker.on_received(busted, at(3))).order
    assert (view.state, view.cum_qty, view.fills) == (S.NEW, 0, ())
    unknown_ref = er(
        "A", "E4", ExecType.TRADE_CANCEL, OrdStatus.NEW, cum=5, avg="1",
        extra=((Tag.EXEC_REF_ID, "E9"),),
    )  # fmt: skip
    events = tracker.on_received(unknown_ref, at(4))
    assert QuantityMismatch("A", Tag.CUM_QTY, d(0), d(5)) in events


def test_typed_messages_are_accepted() -> None:
    tracker = OrderTracker()
    order = NewOrderSingle(
        cl_ord_id="A", symbol="EUR/USD", side=Side.SELL, order_qty=d(5), ord_type=OrdType.LIMIT,
        price=d("1.2"), transact_time=T0,
    )  # fmt: skip
    update = tracker.on_sent(order, T0)
    assert update is not None
    assert (update.order.side, update.order.order_qty) == (Side.SELL, 5)
    request = OrderCancelRequest(
        cl_ord_id="C", orig_cl_ord_id="A", symbol="EUR/USD", side=Side.SELL, transact_time=T0
    )
    pending = tracker.on_sent(request, at(1))
    assert pending is not None
    assert pending.order.state is S.PENDING_CANCEL


def test_send_failed_undoes_on_sent() -> None:
    tracker = acked()
    tracker.on_sent(replace("B", "A", 50, "1.1"), at(1))
    update = tracker.on_send_failed("B", at(2))
    assert update is not None
    assert update.order.state is S.NEW
    assert update.order.pending is None
    assert "B" not in tracker
    tracker.on_sent(nos("N"), at(3))
    assert tracker.on_send_failed("N", at(4)) is None
    assert "N" not in tracker
    assert len(tracker) == 1
    with pytest.raises(UnknownOrderError):
        tracker.on_send_failed("A", at(5))  # acknowledged: it did leave
    with pytest.raises(OrderTrackingError):
        tracker.on_send_failed("nope", at(5))


def test_orders_filters() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("A", symbol="EUR/USD", side=Side.BUY), at(0))
    tracker.on_sent(nos("B", symbol="USD/JPY", side=Side.SELL), at(10))
    tracker.on_sent(nos("C", symbol="EUR/USD", side=Side.SELL), at(20))
    tracker.on_received(er("C", "E1", ExecType.REJECTED, OrdStatus.REJECTED, order_id="X"), at(21))

    def ids(views: list[OrderView]) -> list[str]:
        return [v.cl_ord_id for v in views]

    assert ids(tracker.orders()) == ["A", "B", "C"]
    assert ids(tracker.orders(symbol="EUR/USD")) == ["A", "C"]
    assert ids(tracker.orders(side=Side.SELL)) == ["B", "C"]
    assert ids(tracker.orders(status=S.REJECTED)) == ["C"]
    assert ids(tracker.orders(status={S.PENDING_NEW, S.REJECTED})) == ["A", "B", "C"]
    assert ids(tracker.orders(since=at(10))) == ["B", "C"]
    assert ids(tracker.orders(until=at(10))) == ["A"]
    assert ids(tracker.orders(since=at(5), until=at(15))) == ["B"]
    assert ids(tracker.open_orders()) == ["A", "B"]
    assert ids(tracker.orders(symbol="EUR/USD", side=Side.SELL, open_only=True)) == []


def test_status_request() -> None:
    tracker = acked()
    request = tracker.status_request("A")
    msg = request.to_message()
    assert msg.msg_type == "H"
    assert (msg.get_str(Tag.CL_ORD_ID), msg.get_str(Tag.ORDER_ID)) == ("A", "O1")
    assert msg.get_str(Tag.SYMBOL) == "EUR/USD"
    with pytest.raises(UnknownOrderError):
        tracker.status_request("Z")


def test_status_report_confirms_a_known_order() -> None:
    tracker = acked()
    status = er("A", "0", ExecType.ORDER_STATUS, OrdStatus.NEW)
    update = only_update(tracker.on_received(status, at(1)))
    assert (update.event, update.order.state) == (OrderEvent.STATUS, S.NEW)
    # Status answers may all carry ExecID 0: never taken for duplicates.
    assert only_update(tracker.on_received(status, at(2))).order.state is S.NEW

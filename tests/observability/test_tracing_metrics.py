"""Session spans, order spans and metrics, driven by events and frames directly."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.trace import StatusCode

from tests.observability.conftest import Otel, fake_handle
from trifix.core import events as ev
from trifix.core.message import Message
from trifix.core.tags import ExecType, MsgType, OrdStatus, Tag
from trifix.observability import MetricsObserver, OrderTracker, SessionSpans, reject_of


def frame(msg_type: str, *fields: tuple[int, object]) -> bytes:
    msg = Message.new(msg_type, *fields)
    msg.set(Tag.SENDER_COMP_ID, "GW")
    msg.set(Tag.TARGET_COMP_ID, "LP")
    msg.set(Tag.MSG_SEQ_NUM, 2)
    return msg.encode()


def report(cl_ord_id: str, exec_type: str = ExecType.NEW) -> ev.AppMessageReceived:
    return ev.AppMessageReceived(
        Message.new(
            MsgType.EXECUTION_REPORT,
            (Tag.CL_ORD_ID, cl_ord_id),
            (Tag.EXEC_TYPE, exec_type),
            (Tag.ORD_STATUS, OrdStatus.NEW),
        )
    )


def test_logon_resend_and_reconnect_spans(otel: Otel) -> None:
    spans = SessionSpans(otel.tracer_provider.get_tracer("t"))
    handle = fake_handle("LP")
    spans.on_connected(handle, "10.0.0.1:9876")
    spans.on_event(handle, ev.LogonSent(1, False))
    spans.on_event(handle, ev.LoggedOn(30, False))
    spans.on_event(handle, ev.GapDetected(5, 9, 5, 0))
    spans.on_event(handle, ev.GapDetected(5, 10, 5, 0))  # still the same gap
    spans.on_event(handle, ev.GapFilled(11))
    spans.on_event(handle, ev.ResendRequested(3, 4))
    spans.on_event(handle, ev.GapDetected(12, 14, 12, 0))
    spans.on_event(handle, ev.Disconnected("peer timed out", error=True))
    spans.on_error(handle, "connect to x:1 failed")
    spans.on_event(handle, ev.LogonSent(1, False))  # a logon span without on_connected
    spans.on_event(handle, ev.Disconnected("logon timeout", error=True))
    spans.on_connected(handle, "10.0.0.2:9876")
    spans.on_event(handle, ev.LoggedOn(30, False))
    spans.on_event(handle, ev.HeartbeatSent(None))
    spans.on_event(handle, ev.Disconnected("bye"))
    spans.on_connected(handle, "10.0.0.2:9876")
    spans.on_connected(handle, "10.0.0.2:9876")  # supersedes the open logon span
    spans.close()

    logons = otel.finished("fix.logon")
    assert [s.status.status_code for s in logons] == [  # type: ignore[attr-defined]
        StatusCode.UNSET,
        StatusCode.ERROR,
        StatusCode.UNSET,
        StatusCode.ERROR,
        StatusCode.ERROR,
    ]
    assert logons[0].attributes["net.peer.name"] == "10.0.0.1:9876"  # type: ignore[attr-defined]
    gaps = otel.finished("fix.resend_request")
    assert [g.attributes["fix.received"] for g in gaps] == [9, 14]  # type: ignore[attr-defined]
    assert gaps[0].attributes["fix.next_expected"] == 11  # type: ignore[attr-defined]
    assert gaps[1].status.status_code is StatusCode.ERROR  # type: ignore[attr-defined]
    (resend,) = otel.finished("fix.resend")
    assert dict(resend.attributes) == {"fix.session": "LP", "fix.begin": 3, "fix.end": 4}  # type: ignore[attr-defined]
    (reconnect,) = otel.finished("fix.reconnect")
    assert reconnect.attributes["fix.attempts"] == 2  # a failed connect, then a connection  # type: ignore[attr-defined]
    assert reconnect.attributes["fix.reason"] == "peer timed out"  # type: ignore[attr-defined]


def test_order_spans_from_written_frames(otel: Otel) -> None:
    now = [100.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    tracker = OrderTracker(
        otel.tracer_provider.get_tracer("t"), otel.metrics, clock=clock, max_open=2
    )
    handle = fake_handle("LP")
    order = frame(MsgType.NEW_ORDER_SINGLE, (Tag.CL_ORD_ID, "A"), (Tag.SYMBOL, "EURUSD"))
    cancel = frame(MsgType.ORDER_CANCEL_REQUEST, (Tag.CL_ORD_ID, "B"), (Tag.ORIG_CL_ORD_ID, "A"))
    tracker.on_sent(
        handle, [frame(MsgType.HEARTBEAT), order, cancel, frame(MsgType.NEW_ORDER_SINGLE)]
    )
    assert tracker.open_count == 2
    now[0] = 100.25
    tracker.on_event(handle, report("A"))
    tracker.on_event(handle, report("unknown"))
    tracker.on_event(handle, ev.AppMessageReceived(Message.new(MsgType.EXECUTION_REPORT)))
    tracker.on_event(
        handle,
        ev.AppMessageReceived(Message.new(MsgType.ORDER_CANCEL_REJECT, (Tag.CL_ORD_ID, "B"))),
    )
    assert tracker.open_count == 0
    (order_span,) = otel.finished("fix.order")
    attributes = order_span.attributes  # type: ignore[attr-defined]
    assert attributes["fix.cl_ord_id"] == "A"
    assert attributes["fix.symbol"] == "EURUSD"
    assert attributes["fix.exec_type"] == "0"
    assert attributes["fix.ord_status"] == "0"
    (cancel_span,) = otel.finished("fix.cancel")
    assert cancel_span.attributes["fix.answer"] == "9"  # type: ignore[attr-defined]
    assert "fix.symbol" not in cancel_span.attributes  # type: ignore[attr-defined]
    ((attrs, point),) = otel.points("fix_order_ack_latency_seconds")
    assert attrs == {"session": "LP"}
    assert point.sum == 0.25

    # Too many waiting: the oldest ends with an error. The same ClOrdID again replaces its span.
    for cl_ord_id in ("C", "D", "D", "E"):
        tracker.sent("LP", cl_ord_id, None)
    assert tracker.open_count == 2
    errors = [
        s for s in otel.spans.get_finished_spans() if s.status.status_code is StatusCode.ERROR
    ]
    assert sorted(s.attributes["fix.cl_ord_id"] for s in errors) == ["C", "D"]  # type: ignore[index]
    tracker.close()
    assert tracker.open_count == 0
    manual = OrderTracker(otel.tracer_provider.get_tracer("t"), auto=False)
    manual.on_sent(handle, [order])
    assert manual.open_count == 0
    assert manual.answered("LP", report("A").message) is None


def test_rejects_counted_by_kind_and_reason(otel: Otel) -> None:
    observer = MetricsObserver(otel.metrics)
    handle = fake_handle("LP")
    rejected = report("A", ExecType.REJECTED).message
    rejected.set(Tag.ORD_REJ_REASON, "TOO-LONG-A-REASON")
    events = [
        ev.AppMessageReceived(rejected),
        ev.AppMessageReceived(
            Message.new(MsgType.MARKET_DATA_REQUEST_REJECT, (Tag.MD_REQ_REJ_REASON, "1"))
        ),
        ev.AppMessageReceived(
            Message.new(MsgType.BUSINESS_MESSAGE_REJECT, (Tag.BUSINESS_REJECT_REASON, 3))
        ),
        ev.AppMessageReceived(
            Message.new(MsgType.BUSINESS_MESSAGE_REJECT, (Tag.BUSINESS_REJECT_REASON, 3))
        ),
        report("B"),
        ev.LoggedOn(30, False),
    ]
    for event in events:
        observer.on_event(handle, event)
    otel.metrics.record_reject("LP", "local", "throttled")
    otel.metrics.record_tick("LP", 0.0001)
    counts = {
        (a["kind"], a["reason"]): p.value  # type: ignore[attr-defined]
        for a, p in otel.points("fix_rejects")
    }
    assert counts == {
        ("order", "other"): 1,
        ("market_data", "1"): 1,
        ("business_received", "3"): 2,
        ("local", "throttled"): 1,
    }
    assert reject_of(report("B")) is None
    assert otel.points("fix_market_data_latency_seconds")[0][1].count == 1  # type: ignore[attr-defined]

"""Log levels per event, as the operations plan sets them, and the two formatters."""

from __future__ import annotations

import io
import json
import logging

import pytest

from tests.observability.conftest import LogCapture, fake_handle
from trifix.core import events as ev
from trifix.core.message import Message
from trifix.core.tags import BusinessRejectReason, ExecType, MsgType, SessionRejectReason, Tag
from trifix.observability import ConsoleFormatter, JsonFormatter, LogObserver, configure_logging
from trifix.observability.sessionlog import describe

D, INF, W, E = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR
REJECT_ER = Message.new(
    MsgType.EXECUTION_REPORT,
    (Tag.CL_ORD_ID, "C1"),
    (Tag.EXEC_TYPE, ExecType.REJECTED),
    (Tag.ORD_REJ_REASON, 3),
    (Tag.TEXT, "too big"),
)


@pytest.mark.parametrize(
    ("event", "level", "fields"),
    [
        (ev.LogonSent(1, False), INF, {"seq": 1}),
        (ev.LoggedOn(30, True), INF, {"heartbeat_interval": 30}),
        (ev.LogoutSent("bye"), INF, {"text": "bye"}),
        (ev.LogoutReceived(None, True), INF, {"solicited": True}),
        (ev.Disconnected("logout"), INF, {"reason": "logout"}),
        (ev.Disconnected("timeout", error=True), E, {"reason": "timeout"}),
        (ev.GapDetected(5, 9, 5, 0), W, {"expected": 5, "received": 9}),
        (ev.GapFilled(10), INF, {"next_expected": 10}),
        (ev.ResendRequested(2, 4), INF, {"begin": 2, "end": 4}),
        (ev.SequenceResetReceived(7, True), INF, {"gap_fill": True}),
        (ev.SequenceResetReceived(7, False), W, {"new_seq": 7}),
        (ev.SequencesReset("new day"), INF, {"reason": "new day"}),
        (ev.TestRequestSent("TEST1"), W, {"test_req_id": "TEST1"}),
        (ev.PeerTimedOut(), E, {}),
        (ev.GarbledMessageIgnored("bad", b"554=pw\x01junk\x0155=X"), W, {"data": "?|55=X"}),
        (ev.DuplicateIgnored(3, "D"), INF, {"seq": 3}),
        (ev.HeartbeatSent(None), D, {"test_req_id": None}),
        (
            ev.RejectSent(4, SessionRejectReason.REQUIRED_TAG_MISSING, 55, "x"),
            W,
            {"kind": "session_sent", "reason": "1"},
        ),
        (
            ev.RejectReceived(Message.new(MsgType.REJECT), 4, None, None),
            W,
            {"kind": "session_received", "reason": "none"},
        ),
        (
            ev.BusinessRejectSent(4, "Z", BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE, "no"),
            W,
            {"kind": "business_sent", "reason": "3"},
        ),
        (ev.AppMessageReceived(REJECT_ER), W, {"kind": "order", "reason": "3", "text": "too big"}),
        (ev.Event(), INF, {}),
    ],
)
def test_levels_per_event(event: ev.Event, level: int, fields: dict[str, object]) -> None:
    got_level, text, got_fields = describe(event)
    assert got_level == level, text
    assert fields.items() <= got_fields.items()


def test_observer_logs_messages_at_debug_and_rejects_at_warning(json_logs: LogCapture) -> None:
    observer = LogObserver()
    handle = fake_handle("LP1")
    plain = Message.new(MsgType.EXECUTION_REPORT, (Tag.CL_ORD_ID, "C1"), (Tag.EXEC_TYPE, "0"))
    observer.on_event(handle, ev.AppMessageReceived(plain))
    observer.on_event(handle, ev.AppMessageReceived(REJECT_ER))
    observer.on_event(handle, ev.AdminMessageReceived(Message.new(MsgType.HEARTBEAT)))
    observer.on_connected(handle, "127.0.0.1:1")
    observer.on_error(handle, "connect to x:1 failed")
    records = json_logs.records()
    assert [(r["level"], r["logger"]) for r in records] == [
        ("DEBUG", "trifix.messages"),
        ("DEBUG", "trifix.messages"),
        ("WARNING", "trifix.session"),
        ("DEBUG", "trifix.messages"),
        ("INFO", "trifix.session"),
        ("ERROR", "trifix.session"),
    ]
    assert records[2]["kind"] == "order"
    assert records[2]["session"] == "LP1"
    assert records[0]["msg_type"] == "8"
    assert records[0]["direction"] == "in"


def test_nothing_is_formatted_below_the_level() -> None:
    stream = io.StringIO()
    handler = configure_logging("WARNING", "console", stream=stream)
    try:
        observer = LogObserver()
        handle = fake_handle()
        observer.on_event(handle, ev.AppMessageReceived(Message.new(MsgType.NEWS)))
        observer.on_sent(handle, [b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01"])
        observer.on_event(handle, ev.LoggedOn(30, False))
        observer.on_event(handle, ev.GapDetected(5, 9, 5, 0))
    finally:
        logging.getLogger("trifix").removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert (
        " WARNING trifix.session [LP] sequence gap: resend requested event=GapDetected" in lines[0]
    )


def test_formatters_redact_tracebacks_and_reject_bad_settings() -> None:
    logger = logging.getLogger("test.observability")
    try:
        raise ValueError("bad logon 554=hunter2 1=12345678")
    except ValueError:
        record = logger.makeRecord(
            "x",
            E,
            "f",
            1,
            "failed %s",
            ("554=again",),
            exc_info=__import__("sys").exc_info(),
            extra={"fix": {"n": 1, "flag": True, "none": None, "obj": ["554=pw"]}},
        )
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert "hunter2" not in line
    assert "again" not in line
    assert "pw" not in line
    assert data["n"] == 1
    assert data["flag"] is True
    assert data["none"] is None
    assert "ValueError" in data["exception"]
    console = ConsoleFormatter().format(record)
    assert "hunter2" not in console
    assert "\nTraceback" in console
    assert "ValueError: bad logon 554=<redacted>" in console
    with pytest.raises(ValueError, match="log format"):
        configure_logging("INFO", "xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log level"):
        configure_logging("LOUD")


def test_configure_logging_replaces_its_handler() -> None:
    logger = logging.getLogger("trifix")
    first = configure_logging(logging.INFO, "json", stream=io.StringIO())
    second = configure_logging("debug", "console", stream=io.StringIO())
    try:
        assert first not in logger.handlers
        assert second in logger.handlers
        assert logger.level == logging.DEBUG
    finally:
        logger.removeHandler(second)
        logger.propagate = True

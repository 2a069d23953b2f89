"""Session events as log lines, at the levels the operations plan sets.

======================================================  =========
every FIX message in and out (redacted)                 DEBUG
connected, Logon sent/done, Logout, resends, resets     INFO
rejects (both ways, business and order), gaps,          WARNING
heartbeat misses (our TestRequest), garbled frames
peer timed out, disconnect on a fault, connect/read/    ERROR
write failures
======================================================  =========

Messages go to the ``trifix.messages`` logger, everything else to ``trifix.session``; each line
carries ``session`` and ``event`` fields (see `trifix.observability.logs`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    DuplicateIgnored,
    Event,
    GapDetected,
    GapFilled,
    GarbledMessageIgnored,
    HeartbeatSent,
    LoggedOn,
    LogonSent,
    LogoutReceived,
    LogoutSent,
    PeerTimedOut,
    ResendRequested,
    SequenceResetReceived,
    SequencesReset,
    TestRequestSent,
)
from trifix.observability.redact import DEFAULT_POLICY, RedactionPolicy, redact
from trifix.observability.rejects import reject_of
from trifix.runtime import SessionHandle
from trifix.runtime.handle import SessionObserver

__all__ = ["LogObserver", "describe"]

MESSAGES_LOGGER = "trifix.messages"
SESSION_LOGGER = "trifix.session"

_DEBUG, _INFO, _WARNING, _ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR


def describe(event: Event) -> tuple[int, str, dict[str, object]]:
    """The level, text and structured fields `event` is logged with (messages excluded)."""
    reject = reject_of(event)
    if reject is not None:
        fields: dict[str, object] = {"kind": reject.kind, "reason": reject.reason}
        if reject.text:
            fields["text"] = reject.text
        return _WARNING, f"reject ({reject.kind})", fields
    match event:
        case LogonSent(seq=seq, reset=reset):
            return _INFO, "logon sent", {"seq": seq, "reset": reset}
        case LoggedOn(heartbeat_interval=hb, reset=reset):
            return _INFO, "logged on", {"heartbeat_interval": hb, "reset": reset}
        case LogoutSent(text=text):
            return _INFO, "logout sent", {"text": text}
        case LogoutReceived(text=text, solicited=solicited):
            return _INFO, "logout received", {"text": text, "solicited": solicited}
        case Disconnected(reason=reason, error=error):
            return (_ERROR if error else _INFO), "disconnected", {"reason": reason}
        case GapDetected(expected=expected, received=received, begin=begin, end=end):
            fields = {"expected": expected, "received": received, "begin": begin, "end": end}
            return _WARNING, "sequence gap: resend requested", fields
        case GapFilled(next_expected=nxt):
            return _INFO, "gap filled", {"next_expected": nxt}
        case ResendRequested(begin=begin, end=end):
            return _INFO, "peer asked for a resend", {"begin": begin, "end": end}
        case SequenceResetReceived(new_seq=new_seq, gap_fill=gap_fill):
            level = _INFO if gap_fill else _WARNING
            return level, "sequence reset received", {"new_seq": new_seq, "gap_fill": gap_fill}
        case SequencesReset(reason=reason):
            return _INFO, "sequence numbers reset to 1", {"reason": reason}
        case TestRequestSent(test_req_id=test_req_id):
            return _WARNING, "heartbeat missed: test request sent", {"test_req_id": test_req_id}
        case PeerTimedOut():
            return _ERROR, "peer timed out", {}
        case GarbledMessageIgnored(reason=reason, data=data):
            return _WARNING, "garbled message ignored", {"reason": reason, "data": redact(data)}
        case DuplicateIgnored(seq=seq, msg_type=msg_type):
            return _INFO, "duplicate ignored", {"seq": seq, "msg_type": msg_type}
        case HeartbeatSent(test_req_id=test_req_id):
            return _DEBUG, "heartbeat sent", {"test_req_id": test_req_id}
    return _INFO, type(event).__name__, {}


class LogObserver(SessionObserver):
    """Logs one session's events and messages (attach with `SessionHandle.add_observer`)."""

    def __init__(self, policy: RedactionPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.messages = logging.getLogger(MESSAGES_LOGGER)
        self.session = logging.getLogger(SESSION_LOGGER)

    def on_event(self, handle: SessionHandle, event: Event) -> None:
        """Log a received message at DEBUG, then the event at its level."""
        if isinstance(event, AppMessageReceived | AdminMessageReceived):
            if self.messages.isEnabledFor(_DEBUG):
                message = event.message
                self.messages.debug(
                    "in %s",
                    redact(message, self.policy),
                    extra={
                        "fix": {
                            "session": handle.id,
                            "direction": "in",
                            "msg_type": message.msg_type,
                        }
                    },
                )
            if isinstance(event, AdminMessageReceived) or reject_of(event) is None:
                return
        level, text, fields = describe(event)
        if self.session.isEnabledFor(level):
            fields = {"session": handle.id, "event": type(event).__name__, **fields}
            self.session.log(level, text, extra={"fix": fields})

    def on_sent(self, handle: SessionHandle, frames: Sequence[bytes]) -> None:
        """Log every written message at DEBUG."""
        if not self.messages.isEnabledFor(_DEBUG):
            return
        for frame in frames:
            self.messages.debug(
                "out %s",
                redact(frame, self.policy),
                extra={"fix": {"session": handle.id, "direction": "out"}},
            )

    def on_connected(self, handle: SessionHandle, peer: str) -> None:
        """Log the new transport at INFO."""
        self.session.info(
            "connected", extra={"fix": {"session": handle.id, "event": "Connected", "peer": peer}}
        )

    def on_error(self, handle: SessionHandle, text: str) -> None:
        """Log a failure at ERROR (the formatter redacts it)."""
        self.session.error(
            "failure: %s", text, extra={"fix": {"session": handle.id, "event": "Error"}}
        )

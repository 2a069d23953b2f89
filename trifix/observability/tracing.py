"""Traces through the OpenTelemetry API: session spans and per-order spans.

`SessionSpans` (a session observer) makes:

* ``fix.logon``: from the transport coming up to LoggedOn (or the disconnect that ended it,
  with an error status);
* ``fix.resend_request``: from a gap we detected (our ResendRequest) to GapFilled, or to the
  end of the connection (error status);
* ``fix.resend``: the peer's ResendRequest that we answered, with its range (a point in time:
  the replay streams inside the runtime);
* ``fix.reconnect``: from a disconnect on a fault to the next LoggedOn, with the number of
  connection attempts it took.

`OrderTracker` makes one span per order, ``fix.order`` (NewOrderSingle), ``fix.cancel`` or
``fix.replace``, from the moment it was written to the first ExecutionReport (or
OrderCancelReject) with its ClOrdID; attributes ``fix.session`` (the LP), ``fix.cl_ord_id``,
``fix.symbol``, and on the answer ``fix.exec_type`` / ``fix.ord_status``. For orders it also
records the order-to-ack latency (`Metrics.record_order_ack`). Attached as an observer it
finds orders in what the session writes, so the trading layer does nothing; a layer that wants
the span to start earlier (before its own checks) calls `OrderTracker.sent` itself and attaches
the tracker with ``auto=False``.

Library code uses only `opentelemetry.trace`; `trifix.observability.setup` configures the SDK.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from trifix.core.errors import FixError
from trifix.core.events import (
    AppMessageReceived,
    Disconnected,
    Event,
    GapDetected,
    GapFilled,
    LoggedOn,
    LogonSent,
    ResendRequested,
)
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.observability.metrics import Metrics
from trifix.runtime import SessionHandle
from trifix.runtime.handle import SessionObserver

__all__ = ["OrderTracker", "SessionSpans"]

_SESSION = "fix.session"


def _end(span: Span | None, error: str | None = None) -> None:
    if span is None:
        return
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, error))
    span.end()


@dataclass(slots=True)
class _Open:
    logon: Span | None = None
    gap: Span | None = None
    reconnect: Span | None = None
    attempts: int = 0


class SessionSpans(SessionObserver):
    """Logon, resend and reconnect spans for the sessions it observes (see module docs)."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        self.tracer = tracer if tracer is not None else trace.get_tracer("trifix")
        self._open: dict[str, _Open] = {}

    def _state(self, handle: SessionHandle) -> _Open:
        state = self._open.get(handle.id)
        if state is None:
            state = self._open[handle.id] = _Open()
        return state

    def on_connected(self, handle: SessionHandle, peer: str) -> None:
        """Start the logon span (and count an attempt of a reconnect in progress)."""
        state = self._state(handle)
        state.attempts += 1
        _end(state.logon, "superseded by a new connection")
        state.logon = self.tracer.start_span(
            "fix.logon", attributes={_SESSION: handle.id, "net.peer.name": peer}
        )

    def on_error(self, handle: SessionHandle, text: str) -> None:
        """A failed connect counts as a reconnect attempt."""
        state = self._state(handle)
        if state.reconnect is not None:
            state.attempts += 1
            state.reconnect.add_event("attempt failed", {"error": text})

    def on_event(self, handle: SessionHandle, event: Event) -> None:
        """Start or end spans on the session's events."""
        match event:
            case LogonSent(seq=seq, reset=reset):
                state = self._state(handle)
                if state.logon is None:
                    state.logon = self.tracer.start_span(
                        "fix.logon", attributes={_SESSION: handle.id}
                    )
                state.logon.add_event("logon sent", {"fix.seq": seq, "fix.reset": reset})
            case LoggedOn(heartbeat_interval=hb, reset=reset):
                state = self._state(handle)
                if state.logon is not None:
                    state.logon.set_attributes({"fix.heartbeat_interval": hb, "fix.reset": reset})
                    _end(state.logon)
                    state.logon = None
                if state.reconnect is not None:
                    state.reconnect.set_attribute("fix.attempts", state.attempts)
                    _end(state.reconnect)
                    state.reconnect = None
            case GapDetected(expected=expected, received=received, begin=begin, end=end):
                state = self._state(handle)
                if state.gap is None:
                    state.gap = self.tracer.start_span(
                        "fix.resend_request",
                        attributes={
                            _SESSION: handle.id,
                            "fix.expected": expected,
                            "fix.received": received,
                            "fix.begin": begin,
                            "fix.end": end,
                        },
                    )
            case GapFilled(next_expected=nxt):
                state = self._state(handle)
                if state.gap is not None:
                    state.gap.set_attribute("fix.next_expected", nxt)
                    _end(state.gap)
                    state.gap = None
            case ResendRequested(begin=begin, end=end):
                self.tracer.start_span(
                    "fix.resend",
                    attributes={_SESSION: handle.id, "fix.begin": begin, "fix.end": end},
                ).end()
            case Disconnected(reason=reason, error=error):
                state = self._state(handle)
                _end(state.logon, reason)
                _end(state.gap, reason)
                state.logon = state.gap = None
                if error and state.reconnect is None:
                    state.attempts = 0
                    state.reconnect = self.tracer.start_span(
                        "fix.reconnect", attributes={_SESSION: handle.id, "fix.reason": reason}
                    )
            case _:
                pass

    def close(self) -> None:
        """End every open span (the observer is being detached)."""
        for state in self._open.values():
            for span in (state.logon, state.gap, state.reconnect):
                _end(span, "observation stopped")
        self._open.clear()


_TRACED: dict[str, str] = {
    MsgType.NEW_ORDER_SINGLE: "fix.order",
    MsgType.ORDER_CANCEL_REQUEST: "fix.cancel",
    MsgType.ORDER_CANCEL_REPLACE_REQUEST: "fix.replace",
}
_TRACED_PREFIXES = tuple(b"\x0135=" + mt.encode() + b"\x01" for mt in _TRACED)
_ANSWERS = frozenset({MsgType.EXECUTION_REPORT, MsgType.ORDER_CANCEL_REJECT})


@dataclass(slots=True)
class _Pending:
    span: Span
    started: float
    is_order: bool


class OrderTracker(SessionObserver):
    """One span per order, cancel or replace, from send to the first answer.

    Args:
        tracer: where spans go (the global ``trifix`` tracer by default).
        metrics: receives the order-to-ack latency, if given.
        clock: monotonic seconds for the latency (trio's clock in tests).
        auto: find orders in what the session writes (see the module docstring).
        max_open: spans waiting for an answer; beyond this the oldest ends with an error.
    """

    def __init__(
        self,
        tracer: Tracer | None = None,
        metrics: Metrics | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        auto: bool = True,
        max_open: int = 10_000,
    ) -> None:
        self.tracer = tracer if tracer is not None else trace.get_tracer("trifix")
        self.metrics = metrics
        self.clock = clock
        self.auto = auto
        self.max_open = max_open
        self._pending: OrderedDict[tuple[str, str], _Pending] = OrderedDict()

    @property
    def open_count(self) -> int:
        """Spans still waiting for their answer."""
        return len(self._pending)

    def sent(
        self,
        session: str,
        cl_ord_id: str,
        symbol: str | None,
        msg_type: str = MsgType.NEW_ORDER_SINGLE,
    ) -> None:
        """Start the span of a request sent to `session` (the LP) with `cl_ord_id`."""
        key = (session, cl_ord_id)
        old = self._pending.pop(key, None)
        if old is not None:
            _end(old.span, "ClOrdID sent again before an answer")
        attributes = {_SESSION: session, "fix.cl_ord_id": cl_ord_id, "fix.msg_type": msg_type}
        if symbol is not None:
            attributes["fix.symbol"] = symbol
        span = self.tracer.start_span(_TRACED.get(msg_type, "fix.order"), attributes=attributes)
        self._pending[key] = _Pending(span, self.clock(), msg_type == MsgType.NEW_ORDER_SINGLE)
        while len(self._pending) > self.max_open:
            _key, oldest = self._pending.popitem(last=False)
            _end(oldest.span, "no answer (too many orders waiting)")

    def answered(self, session: str, message: Message) -> float | None:
        """End the span `message` (an ExecutionReport or OrderCancelReject) answers.

        Returns the seconds since `sent`, or None when no span waited for this ClOrdID.
        """
        cl_ord_id = message.get(Tag.CL_ORD_ID)
        if cl_ord_id is None:
            return None
        pending = self._pending.pop((session, cl_ord_id.decode("latin-1")), None)
        if pending is None:
            return None
        elapsed = self.clock() - pending.started
        span = pending.span
        for tag, name in ((Tag.EXEC_TYPE, "fix.exec_type"), (Tag.ORD_STATUS, "fix.ord_status")):
            value = message.get(tag)
            if value is not None:
                span.set_attribute(name, value.decode("latin-1"))
        span.set_attribute("fix.answer", message.msg_type)
        _end(span)
        if pending.is_order and self.metrics is not None:
            self.metrics.record_order_ack(session, elapsed)
        return elapsed

    def on_sent(self, handle: SessionHandle, frames: Sequence[bytes]) -> None:
        """With `auto`, start a span for every order, cancel or replace written."""
        if not self.auto:
            return
        for frame in frames:
            head = frame[:40]  # 8=FIX.4.4|9=NNNN|35=X| is well within
            if not any(prefix in head for prefix in _TRACED_PREFIXES):
                continue
            try:
                message = Message.from_frame(frame)
            except FixError:  # pragma: no cover - we encoded it ourselves
                continue
            cl_ord_id = message.get(Tag.CL_ORD_ID)
            if cl_ord_id is not None:
                symbol = message.get(Tag.SYMBOL)
                self.sent(
                    handle.id,
                    cl_ord_id.decode("latin-1"),
                    symbol.decode("latin-1") if symbol is not None else None,
                    message.msg_type,
                )

    def on_event(self, handle: SessionHandle, event: Event) -> None:
        """End the span an ExecutionReport or OrderCancelReject answers."""
        if (
            self._pending
            and isinstance(event, AppMessageReceived)
            and event.message.msg_type in _ANSWERS
        ):
            self.answered(handle.id, event.message)

    def close(self) -> None:
        """End every span still waiting (the tracker is being detached)."""
        for pending in self._pending.values():
            _end(pending.span, "no answer before observation stopped")
        self._pending.clear()

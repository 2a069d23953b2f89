"""Time in the session: heartbeats, TestRequests and the logon, logout and resend timeouts.

Theory of operation (FIX 4.4 Volume 2, "Heartbeat", "TestRequest"): the core reads no clock.
The driver asks `next_deadline()` when something falls due and calls `handle_timer(now)` then
(or later: whatever is overdue is done once). While ACTIVE, a Heartbeat goes out after
HeartBtInt seconds of our silence; after HeartBtInt x (1 + `test_request_delay_multiplier`) of
the peer's silence a TestRequest goes out, and if the peer stays silent as long again the
session disconnects (`PeerTimedOut`). An outstanding ResendRequest of ours that brought nothing
for `resend_request_timeout` is sent again. Before ACTIVE and in LOGOUT_SENT the only timer is
the logon or logout timeout. HeartBtInt 0 turns heartbeats and TestRequests off.

`SessionTimers` is a mixin of `trifix.core.session.Session`, which holds the state it works on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from trifix.core import admin
from trifix.core.events import Event, HeartbeatSent, PeerTimedOut, TestRequestSent
from trifix.core.message import Message
from trifix.core.settings import SessionSettings
from trifix.core.state import SessionState

if TYPE_CHECKING:
    from trifix.core.recovery import Gap

__all__ = ["SessionTimers"]


class SessionTimers:
    """Mixin of `Session`: `next_deadline` and `handle_timer`."""

    if TYPE_CHECKING:
        # Session state and helpers used here, defined by `Session` and its other mixins.
        settings: SessionSettings
        _state: SessionState
        _next_in: int
        _events: list[Event]
        _heartbeat_interval: int
        _last_sent: datetime | None
        _last_received: datetime | None
        _test_request: tuple[str, datetime] | None
        _test_request_count: int
        _deadline: datetime | None
        _gap: Gap | None

        def _emit(self, msg: Message, now: datetime, *, persist: bool = False) -> int: ...
        def _disconnect(self, reason: str, *, error: bool) -> None: ...
        def _request_gap(self, expected: int, received: int, now: datetime) -> None: ...

    def next_deadline(self) -> datetime | None:
        """When `handle_timer` must next be called; None when no timer runs."""
        state = self._state
        if state is SessionState.DISCONNECTED:
            return None
        if state is not SessionState.ACTIVE:
            return self._deadline
        hb = self._heartbeat_interval
        if hb <= 0:
            gap = self._gap
            return gap.progress_at + self.settings.resend_request_timeout if gap else None
        interval = timedelta(seconds=hb)
        patience = interval * (1 + self.settings.test_request_delay_multiplier)
        assert self._last_sent is not None
        assert self._last_received is not None
        heartbeat_due = self._last_sent + interval
        if self._test_request is not None:
            peer_due = self._test_request[1] + patience
        else:
            peer_due = self._last_received + patience
        due = min(heartbeat_due, peer_due)
        if self._gap is not None:
            due = min(due, self._gap.progress_at + self.settings.resend_request_timeout)
        return due

    def handle_timer(self, now: datetime) -> None:
        """Do whatever is due at `now`: heartbeats, test requests, timeouts."""
        state = self._state
        if state is SessionState.DISCONNECTED:
            return
        if state is not SessionState.ACTIVE:
            if self._deadline is not None and now >= self._deadline:
                if state is SessionState.LOGOUT_SENT:
                    self._disconnect("logout timeout: no Logout answer", error=True)
                else:
                    self._disconnect("logon timeout: no Logon received", error=True)
            return
        gap = self._gap
        if gap is not None and now >= gap.progress_at + self.settings.resend_request_timeout:
            # Our request or its answer was lost (or ignored): ask again from where we are.
            self._gap = None
            self._request_gap(self._next_in, max(gap.highest, self._next_in + 1), now)
        hb = self._heartbeat_interval
        if hb <= 0:
            return
        interval = timedelta(seconds=hb)
        patience = interval * (1 + self.settings.test_request_delay_multiplier)
        assert self._last_sent is not None
        assert self._last_received is not None
        if self._test_request is not None:
            if (
                now >= self._test_request[1] + patience
                and self._last_received <= self._test_request[1]
            ):
                self._events.append(PeerTimedOut())
                self._disconnect("peer timed out: no answer to TestRequest", error=True)
                return
            if self._last_received > self._test_request[1]:
                self._test_request = None  # the peer spoke; any data will do
        if self._test_request is None and now >= self._last_received + patience:
            self._test_request_count += 1
            test_req_id = f"TEST{self._test_request_count}"
            self._test_request = (test_req_id, now)
            self._emit(admin.test_request(test_req_id), now)
            self._events.append(TestRequestSent(test_req_id))
        if now >= self._last_sent + interval:
            self._emit(admin.heartbeat(), now)
            self._events.append(HeartbeatSent(None))

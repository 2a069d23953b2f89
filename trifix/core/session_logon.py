"""The connection's life: connect, the Logon and Logout exchanges, disconnect, sequence resets.

Theory of operation (FIX 4.4 Volume 2, "Logon", "Logout", "ResetSeqNumFlag"): an initiator
sends Logon as soon as the transport is up; an acceptor waits for one, checks credentials,
CompIDs and SendingTime, and answers with its own Logon (taking the initiator's HeartBtInt). A
Logon above the expected sequence number is accepted, then the gap below it is requested
(`trifix.core.recovery`); NextExpectedMsgSeqNum (789), when enabled, asks us to replay what the
peer missed. ResetSeqNumFlag (141=Y) resets both sequence numbers, on connecting or inside an
active session. A Logout is answered with a Logout; ours waits for the answer up to the logout
timeout (`trifix.core.session_timers`). Every state change goes through `trifix.core.state`.

`LogonLogout` is a mixin of `trifix.core.session.Session`, which holds the state it works on.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import TYPE_CHECKING

from trifix.core import admin
from trifix.core.codec import Framer, GarbledFrame
from trifix.core.errors import LocalProtocolError
from trifix.core.events import (
    AdminMessageReceived,
    Disconnected,
    Event,
    GarbledMessageIgnored,
    LoggedOn,
    LogonSent,
    LogoutReceived,
    LogoutSent,
    ResendRequested,
    SequencesReset,
)
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.state import SessionState, Trigger, transition
from trifix.core.tags import Tag
from trifix.core.validate import check_comp_ids, check_sending_time

if TYPE_CHECKING:
    from trifix.core.recovery import Gap
    from trifix.core.replay import Replay

__all__ = ["LogonLogout"]

_Y = b"Y"


class LogonLogout:
    """Mixin of `Session`: connecting, logging on and off, disconnecting, resetting sequences."""

    if TYPE_CHECKING:
        # Session state and helpers used here, defined by `Session` and its other mixins.
        settings: SessionSettings
        _state: SessionState
        _next_out: int
        _next_in: int
        _framer: Framer
        _events: list[Event]
        _out: list[bytes]
        _held: list[bytes] | None
        _store_msgs: list[tuple[int, bytes]]
        _store_reset: bool
        _store_dirty: bool
        _heartbeat_interval: int
        _last_sent: datetime | None
        _last_received: datetime | None
        _test_request: tuple[str, datetime] | None
        _deadline: datetime | None
        _gap: Gap | None
        _stash: dict[int, Message | None]
        _replay: Replay | None
        _reset_requested: bool

        def _emit(self, msg: Message, now: datetime, *, persist: bool = False) -> int: ...
        def _flush_held(self) -> None: ...
        def _drain(self, now: datetime) -> None: ...
        def _request_gap(self, expected: int, received: int, now: datetime) -> None: ...

    # -- connection lifecycle ---------------------------------------------------------------------
    def connection_made(self, now: datetime) -> None:
        """A transport is up. An initiator sends its Logon; an acceptor waits for one."""
        s = self.settings
        if s.role is Role.INITIATOR:
            self._state = transition(self._state, Trigger.CONNECT_INITIATOR)
        else:
            self._state = transition(self._state, Trigger.CONNECT_ACCEPTOR)
        self._framer = Framer()
        self._out.clear()  # bytes queued for a dead connection never reach a new one
        self._held = None
        self._last_received = now
        self._last_sent = now
        self._deadline = now + s.logon_timeout
        if s.role is Role.INITIATOR:
            reset = s.reset_on_logon
            if reset:
                self._reset_sequences("ResetOnLogon")
            self._reset_requested = reset
            self._heartbeat_interval = s.heartbeat_interval
            self._send_logon(now, reset)

    def refresh(self, next_sender_seq: int, next_target_seq: int) -> None:
        """Take sequence numbers from the store again (RefreshOnLogon); only while
        disconnected."""
        if self._state is not SessionState.DISCONNECTED:
            raise LocalProtocolError("refresh() is only allowed while disconnected")
        if next_sender_seq < 1 or next_target_seq < 1:
            raise LocalProtocolError("sequence numbers start at 1")
        self._next_out = next_sender_seq
        self._next_in = next_target_seq

    def reset_sequences(self, reason: str) -> None:
        """Reset both sequence numbers to 1 (a new session period); only while disconnected."""
        if self._state is not SessionState.DISCONNECTED:
            raise LocalProtocolError("reset_sequences() is only allowed while disconnected")
        self._reset_sequences(reason)

    def connection_lost(self, now: datetime, reason: str = "connection lost") -> None:
        """The transport ended (EOF, error). No-op when already disconnected."""
        if self._state is SessionState.DISCONNECTED:
            return
        for frame in self._framer.close():
            if isinstance(frame, GarbledFrame):
                self._events.append(GarbledMessageIgnored(frame.reason, frame.data))
        error = self._state is not SessionState.LOGOUT_SENT
        self._disconnect(reason, error=error)

    def logout(self, now: datetime, text: str | None = None) -> None:
        """Start a Logout: send it and wait for the answer up to the logout timeout."""
        if self._state is SessionState.ACTIVE:
            self._send_logout(now, text)
        elif self._state in (SessionState.AWAITING_LOGON, SessionState.LOGON_SENT):
            self._disconnect(text or "logout before logon completed", error=False)

    # -- logon and logout -------------------------------------------------------------------------
    def _on_logon(self, msg: Message, seq: int, now: datetime) -> None:
        s = self.settings
        acceptor = self._state is SessionState.AWAITING_LOGON
        reset = msg.get(Tag.RESET_SEQ_NUM_FLAG) == _Y
        if acceptor and s.password is not None:
            user = msg.get(Tag.USERNAME) or b""
            pwd = msg.get(Tag.PASSWORD) or b""
            ok_user = s.username is None or hmac.compare_digest(user, s.username.encode())
            if not (ok_user and hmac.compare_digest(pwd, s.password.encode())):
                self._refuse_logon(now, "Invalid username or password")
                return
        if s.check_comp_id:
            error = check_comp_ids(msg, s.sender_comp_id, s.target_comp_id)
            if error is not None:
                self._refuse_logon(now, error.text)
                return
        if s.check_latency:
            error = check_sending_time(msg, now, s.max_latency)
            if error is not None:
                self._refuse_logon(now, error.text)
                return
        if acceptor:
            self._heartbeat_interval = msg.get_int(Tag.HEART_BT_INT)
            if reset or s.reset_on_logon:
                self._reset_sequences("ResetSeqNumFlag on Logon" if reset else "ResetOnLogon")
            # Our answer carries 141=Y only when the peer's Logon did (as QuickFIX): an
            # initiator that did not ask would take it as the peer resetting on its own.
        elif reset and not self._reset_requested:
            self._reset_sequences("peer reset sequence numbers on Logon")
        elif self._reset_requested and not reset:
            self._refuse_logon(now, "Logon answer lacks ResetSeqNumFlag=Y")
            return
        self._reset_requested = False
        if reset and seq != 1:
            self._refuse_logon(now, f"ResetSeqNumFlag=Y with MsgSeqNum {seq}, expected 1")
            return
        expected = self._next_in
        if seq < expected:
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self._refuse_logon(now, text)
            return
        next_expected = msg.get_int(Tag.NEXT_EXPECTED_MSG_SEQ_NUM, None)
        self._state = transition(self._state, Trigger.LOGON_RECEIVED)
        self._deadline = None
        self._events.append(AdminMessageReceived(msg))
        replay_from: int | None = None
        our_next_before_logon = self._next_out
        in_sequence = seq == expected
        if in_sequence:
            # Processed: our answer's NextExpectedMsgSeqNum (789) and LastMsgSeqNumProcessed
            # (369) must count it, or the peer replays its Logon to us.
            self._next_in = seq + 1
            self._store_dirty = True
        if acceptor:
            self._send_logon(now, reset)
        if s.enable_next_expected_msg_seq_num and next_expected is not None:
            if next_expected > our_next_before_logon:
                text = (
                    f"NextExpectedMsgSeqNum {next_expected} too high, "
                    f"our next is {our_next_before_logon}"
                )
                self._send_logout(now, text)
                self._disconnect(text, error=True)
                return
            if next_expected < our_next_before_logon:
                replay_from = next_expected
        self._events.append(LoggedOn(self._heartbeat_interval, reset))
        if replay_from is not None:
            self._events.append(ResendRequested(replay_from, our_next_before_logon - 1))
        if in_sequence:
            self._drain(now)
        else:
            self._stash[seq] = None  # counted once the gap below it is filled
            self._request_gap(expected, seq, now)

    def _on_logon_while_active(self, msg: Message, seq: int, now: datetime) -> None:
        """A Logon inside an active session: only a sequence reset (141=Y, 34=1) is legal."""
        text = None
        if msg.get(Tag.RESET_SEQ_NUM_FLAG) != _Y:
            text = "Logon received while already logged on"
        elif seq != 1:
            text = f"ResetSeqNumFlag=Y with MsgSeqNum {seq}, expected 1"
        if text is not None:
            self._send_logout(now, text)
            self._disconnect(text, error=True)
            return
        self._reset_sequences("ResetSeqNumFlag on Logon during the session")
        self._next_in = 2  # the peer's Logon was its message 1
        self._send_logon(now, True)
        self._events.append(LoggedOn(self._heartbeat_interval, True))

    def _send_logon(self, now: datetime, reset: bool) -> None:
        s = self.settings
        next_expected = self._next_in if s.enable_next_expected_msg_seq_num else None
        initiator = s.role is Role.INITIATOR
        msg = admin.logon(
            self._heartbeat_interval,
            reset=reset,
            next_expected=next_expected,
            username=s.username if initiator else None,
            password=s.password if initiator else None,
        )
        seq = self._emit(msg, now)
        self._events.append(LogonSent(seq, reset))

    def _refuse_logon(self, now: datetime, text: str) -> None:
        """Answer a bad Logon with Logout and disconnect."""
        self._emit(admin.logout(text), now)
        self._events.append(LogoutSent(text))
        self._disconnect(text, error=True)

    def _on_logout(self, msg: Message, now: datetime) -> None:
        text = msg.get_str(Tag.TEXT, None)
        if self._state is SessionState.LOGOUT_SENT:
            self._events.append(LogoutReceived(text, solicited=True))
            if self.settings.reset_on_logout:
                self._reset_sequences("ResetOnLogout")
            self._disconnect("logout completed", error=False)
            return
        self._events.append(LogoutReceived(text, solicited=False))
        self._emit(admin.logout(), now)
        self._events.append(LogoutSent(None))
        if self.settings.reset_on_logout:
            self._reset_sequences("ResetOnLogout")
        self._disconnect(f"peer logged out: {text}" if text else "peer logged out", error=False)

    def _send_logout(self, now: datetime, text: str | None) -> None:
        self._emit(admin.logout(text), now)
        self._events.append(LogoutSent(text))
        if self._state is not SessionState.LOGOUT_SENT:
            self._state = transition(self._state, Trigger.LOGOUT_SENT)
        self._deadline = now + self.settings.logout_timeout

    def _disconnect(self, reason: str, *, error: bool) -> None:
        self._state = transition(self._state, Trigger.DISCONNECT)
        self._deadline = None
        self._test_request = None
        self._gap = None
        self._stash.clear()
        self._reset_requested = False
        if self._replay is not None:
            self._replay = None
            self._flush_held()
        if self.settings.reset_on_disconnect:
            self._reset_sequences("ResetOnDisconnect")
        self._events.append(Disconnected(reason, error))

    def _reset_sequences(self, reason: str) -> None:
        self._next_out = 1
        self._next_in = 1
        self._store_msgs = []
        self._store_reset = True
        self._store_dirty = True
        self._stash.clear()
        self._gap = None
        self._events.append(SequencesReset(reason))

"""The FIX 4.4 session layer as a pure state machine (sans-IO).

Theory of operation. A `Session` owns the session's sequence numbers and the rules of FIX 4.4
Volume 2 ("Session Protocol") and the FIX session-layer test cases; it owns no socket, no clock
and no store. Its driver (the trio runtime, a test, the conformance runner) feeds it what
happened and carries out what it asks:

* in:  `connection_made(now)`, `receive_data(bytes, now)` (b"" is end of stream),
  `send(message, now)`, `logout(now)`, `handle_timer(now)`, `connection_lost(now)`;
* out: `events()` (facts for the application: see `trifix.core.events`),
  `store_update()` (what must be stored *before* the bytes go out), `data_to_send()` (bytes to
  write, in order), `next_deadline()` (when to call `handle_timer` next).

Received messages are processed in sequence. A message above the expected sequence number is
stashed and a ResendRequest (7=expected, 16=0, or chunks) goes out; once the gap is filled the
stash is drained in order. A message below it is a duplicate (PossDupFlag=Y: ignored) or a fatal
error (Logout, disconnect). Every invalid message is answered with the Reject the validator
names and consumes its sequence number. Resends we owe are replayed from the driver's store
through `Replay` (streamed, so a million messages need bounded memory): application messages go
out again with PossDupFlag=Y and OrigSendingTime, admin messages and unstored ranges become
SequenceReset-GapFill.

The expected inbound sequence number advances as soon as a message has been turned into events
(`store_update()` reports it). A driver must not persist it past an application message it has
not handed over yet: the trio runtime holds the stored number back to the first undelivered one
(docs/runtime.md, "What the store holds after a crash"), so a crash re-requests rather than
loses a message.

Layout: `Session` is one object assembled from a mixin per concern, so each module stays small.
This module holds its state, its outputs, the inbound path (framing, checks, processing a
message in sequence, rejects) and sending: the hot path, kept in one place. The rest:

* `trifix.core.session_logon`: the connection's life (connect, the Logon and Logout exchanges,
  disconnect, sequence resets);
* `trifix.core.recovery`: sequence recovery (the stash above a gap, our ResendRequests, the
  peer's ResendRequest and SequenceReset, replaying what we owe through `trifix.core.replay`);
* `trifix.core.session_timers`: heartbeats, TestRequests and timeouts;
* `trifix.core.state`: the states and the legal moves between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from trifix.core import admin
from trifix.core.codec import Framer, GarbledFrame
from trifix.core.errors import FieldValueError, LocalProtocolError
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    BusinessRejectSent,
    DuplicateIgnored,
    Event,
    GarbledMessageIgnored,
    HeartbeatSent,
    LogoutReceived,
    RejectReceived,
    RejectSent,
)
from trifix.core.fields import format_utc_timestamp, parse_utc_timestamp
from trifix.core.message import Message, tag_key
from trifix.core.recovery import Gap, SequenceRecovery, check_orig_sending_time
from trifix.core.replay import Replay
from trifix.core.session_logon import LogonLogout
from trifix.core.session_timers import SessionTimers
from trifix.core.settings import SessionSettings
from trifix.core.state import CONNECTED, SessionState
from trifix.core.tags import (
    ADMIN_MSG_TYPES,
    BusinessRejectReason,
    MsgType,
    SessionRejectReason,
    Tag,
)
from trifix.core.validate import (
    ValidationError,
    Validator,
    check_comp_ids,
    check_sending_time,
)

__all__ = ["Replay", "Session", "StoreUpdate"]

_Y = b"Y"
_MT_LOGON = MsgType.LOGON.value
_MT_LOGOUT = MsgType.LOGOUT.value
_MT_HEARTBEAT = MsgType.HEARTBEAT.value
_MT_TEST_REQUEST = MsgType.TEST_REQUEST.value
_MT_RESEND_REQUEST = MsgType.RESEND_REQUEST.value
_MT_REJECT = MsgType.REJECT.value
_MT_SEQUENCE_RESET = MsgType.SEQUENCE_RESET.value
_K_SENDER = tag_key(Tag.SENDER_COMP_ID)
_K_TARGET = tag_key(Tag.TARGET_COMP_ID)
_K_SEQ = tag_key(Tag.MSG_SEQ_NUM)
_K_SENDING_TIME = tag_key(Tag.SENDING_TIME)
_K_POSS_DUP = tag_key(Tag.POSS_DUP_FLAG)
_K_LAST_PROCESSED = tag_key(Tag.LAST_MSG_SEQ_NUM_PROCESSED)
_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class StoreUpdate:
    """What the driver must make durable before writing the pending bytes.

    Attributes:
        reset: clear the session's stored messages first (sequence numbers were reset).
        messages: sent messages to store, as (seq, raw bytes).
        next_sender_seq, next_target_seq: the sequence numbers to store.
    """

    reset: bool
    messages: list[tuple[int, bytes]]
    next_sender_seq: int
    next_target_seq: int


class Session(LogonLogout, SequenceRecovery, SessionTimers):
    """One FIX session (see the module docstring for how to drive it).

    Args:
        settings: identity and options.
        next_sender_seq: the sequence number of our next message (from the store).
        next_target_seq: the sequence number we expect next from the peer (from the store).
        validator: a shared `Validator`; one is made from `settings.validation` if omitted.
    """

    def __init__(
        self,
        settings: SessionSettings,
        *,
        next_sender_seq: int = 1,
        next_target_seq: int = 1,
        validator: Validator | None = None,
    ) -> None:
        if next_sender_seq < 1 or next_target_seq < 1:
            raise LocalProtocolError("sequence numbers start at 1")
        self.settings = settings
        self._validator = validator or Validator(options=settings.validation)
        self._begin = settings.begin_string.encode()
        self._sender = settings.sender_comp_id.encode()
        self._target = settings.target_comp_id.encode()
        self._last_second: tuple[bytes, datetime] = (b"", datetime.min)
        self._state = SessionState.DISCONNECTED
        self._next_out = next_sender_seq
        self._next_in = next_target_seq
        self._framer = Framer()
        self._events: list[Event] = []
        self._out: list[bytes] = []
        self._held: list[bytes] | None = None  # new output while a replay is streaming
        self._store_msgs: list[tuple[int, bytes]] = []
        self._store_reset = False
        self._store_dirty = False
        self._heartbeat_interval = settings.heartbeat_interval
        self._last_sent: datetime | None = None
        self._last_received: datetime | None = None
        self._test_request: tuple[str, datetime] | None = None
        self._test_request_count = 0
        self._deadline: datetime | None = None  # logon or logout timeout
        self._gap: Gap | None = None
        # Messages above a gap, by sequence number; None for one handled on arrival (a Logon,
        # a ResendRequest) whose number is only counted once the gap below it is filled.
        self._stash: dict[int, Message | None] = {}
        self._draining = False
        self._replay: Replay | None = None
        self._reset_requested = False  # we sent 141=Y and wait for the peer's 141=Y
        self.messages_received = 0
        """Frames received and processed (garbled ones excluded), since this object was made."""
        self.messages_sent = 0
        """Messages sent, resends and gap fills included, since this object was made."""

    # -- inspection ------------------------------------------------------------------------
    @property
    def state(self) -> SessionState:
        """The current `SessionState`."""
        return self._state

    @property
    def next_sender_seq(self) -> int:
        """The sequence number our next message will carry."""
        return self._next_out

    @property
    def next_target_seq(self) -> int:
        """The sequence number we expect next from the peer."""
        return self._next_in

    @property
    def heartbeat_interval(self) -> int:
        """The HeartBtInt in force (the initiator's, once logged on)."""
        return self._heartbeat_interval

    @property
    def holding_output(self) -> bool:
        """True while a replay streams: new messages are held back until it finishes."""
        return self._held is not None

    @property
    def is_connected(self) -> bool:
        """True while a transport is up (any state but DISCONNECTED)."""
        return self._state in CONNECTED

    @property
    def is_logged_on(self) -> bool:
        """True while ACTIVE."""
        return self._state is SessionState.ACTIVE

    @property
    def awaiting_resend(self) -> bool:
        """True while a ResendRequest of ours is outstanding."""
        return self._gap is not None

    # -- outputs ---------------------------------------------------------------------------
    def events(self) -> list[Event]:
        """Events since the last call, in order."""
        out, self._events = self._events, []
        return out

    def data_to_send(self) -> list[bytes]:
        """Encoded messages to write, in order. Store `store_update()` first."""
        out, self._out = self._out, []
        return out

    def store_update(self) -> StoreUpdate | None:
        """What to persist before writing `data_to_send()`; None when nothing changed."""
        if not self._store_dirty:
            return None
        update = StoreUpdate(self._store_reset, self._store_msgs, self._next_out, self._next_in)
        self._store_msgs = []
        self._store_reset = False
        self._store_dirty = False
        return update

    # -- receiving ---------------------------------------------------------------------------
    def receive_data(self, data: bytes, now: datetime) -> None:
        """Bytes from the transport; b"" means the peer closed it."""
        if not data:
            self.connection_lost(now, "peer closed the connection")
            return
        if self._state is SessionState.DISCONNECTED:
            return  # late bytes after we decided to disconnect
        for frame in self._framer.feed(data):
            if isinstance(frame, GarbledFrame):
                self._events.append(GarbledMessageIgnored(frame.reason, frame.data))
                continue
            self._last_received = now
            self.messages_received += 1
            self._dispatch(frame, now)
            if not self.is_connected:
                break

    def receive_message(self, msg: Message, now: datetime) -> None:
        """Process one already framed message (for drivers that frame themselves)."""
        if self._state is SessionState.DISCONNECTED:
            raise LocalProtocolError("receive_message() while disconnected")
        self._last_received = now
        self._dispatch(msg, now)

    def _dispatch(self, msg: Message, now: datetime) -> None:
        """`_on_message`, answering a field that a handler could not read: with validation off
        nothing else catches a missing HeartBtInt, NewSeqNo or BeginSeqNo (as QuickFIX does)."""
        try:
            self._on_message(msg, now)
        except FieldValueError as exc:
            reason = (
                SessionRejectReason.REQUIRED_TAG_MISSING
                if exc.missing
                else SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE
            )
            error = ValidationError(reason, exc.tag, msg.msg_type)
            if self._state in (SessionState.AWAITING_LOGON, SessionState.LOGON_SENT):
                self._refuse_logon(now, f"Invalid Logon: {error.text}")
            elif self._state is not SessionState.DISCONNECTED:
                self._reject(msg, error, now)

    def _on_message(self, msg: Message, now: datetime) -> None:
        s = self.settings
        mt = msg.msg_type
        state = self._state
        if msg.begin_string != self._begin:
            text = f"Incorrect BeginString {msg.begin_string.decode('latin-1')}"
            if state is SessionState.ACTIVE:
                self._send_logout(now, text)
            self._disconnect(text, error=True)
            return
        if state is not SessionState.ACTIVE and state is not SessionState.LOGOUT_SENT:
            if mt == _MT_LOGOUT and state is SessionState.LOGON_SENT:
                why = msg.get_str(Tag.TEXT, None)
                self._events.append(LogoutReceived(why, solicited=False))
                self._disconnect(f"logon refused: {why or 'Logout received'}", error=True)
                return
            if mt != _MT_LOGON:
                self._disconnect(f"first message was not a Logon (35={mt})", error=True)
                return
        if s.validate:
            error = self._validator.validate(msg)
            if error is not None:
                if mt == _MT_LOGON and state is not SessionState.ACTIVE:
                    self._refuse_logon(now, f"Invalid Logon: {error.text}")
                else:
                    self._reject(msg, error, now)
                return
        raw_seq = msg.get_key(_K_SEQ)
        if raw_seq is not None and raw_seq.isdigit():
            seq = int(raw_seq)
        else:
            self._reject(
                msg,
                ValidationError(SessionRejectReason.REQUIRED_TAG_MISSING, Tag.MSG_SEQ_NUM, mt),
                now,
            )
            return
        if mt == _MT_LOGON and state in (SessionState.AWAITING_LOGON, SessionState.LOGON_SENT):
            self._on_logon(msg, seq, now)
            return
        if s.check_comp_id and (
            msg.get_key(_K_SENDER) != self._target or msg.get_key(_K_TARGET) != self._sender
        ):
            error = check_comp_ids(msg, s.sender_comp_id, s.target_comp_id)
            if error is not None:
                self._reject_and_logout(msg, seq, error, now)
                return
        if s.check_latency and not self._recent(msg, now):
            error = check_sending_time(msg, now, s.max_latency)
            if error is not None:
                self._reject_and_logout(msg, seq, error, now)
                return
        poss_dup = msg.get_key(_K_POSS_DUP) == _Y
        if poss_dup and mt != _MT_SEQUENCE_RESET:
            error = check_orig_sending_time(msg)
            if error is not None:
                self._reject(msg, error, now)
                return
        if mt == _MT_SEQUENCE_RESET and msg.get(Tag.GAP_FILL_FLAG) != _Y:
            self._on_sequence_reset(msg, seq, now, gap_fill=False)  # Reset mode: seq ignored
            return
        if mt == _MT_LOGON and state is SessionState.ACTIVE:
            self._on_logon_while_active(msg, seq, now)  # a reset starts at 1: no seq checks
            return
        expected = self._next_in
        if seq > expected:
            if mt == _MT_RESEND_REQUEST:
                self._on_resend_request(msg)  # answer at once (simultaneous resend)
                self._stash[seq] = None
            elif mt == _MT_LOGOUT:
                self._on_logout(msg, now)
                return
            elif len(self._stash) < s.max_stashed_messages:
                self._stash[seq] = msg
            self._request_gap(expected, seq, now)
            return
        if seq < expected:
            if poss_dup:
                self._events.append(DuplicateIgnored(seq, mt))
                return
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self._send_logout(now, text)
            self._disconnect(text, error=True)
            return
        self._process(msg, seq, poss_dup, now)
        self._drain(now)

    def _recent(self, msg: Message, now: datetime) -> bool:
        """Fast SendingTime check: True when surely within max_latency of now.

        Parses only the whole-second part, once per distinct second (the last one is cached),
        and leaves a second of slack; anything else goes to the exact `check_sending_time`.
        """
        raw = msg.get_key(_K_SENDING_TIME)
        if raw is None or len(raw) < 17:
            return False
        prefix = raw[:17]
        cached = self._last_second
        if cached[0] != prefix:
            try:
                cached = self._last_second = (prefix, parse_utc_timestamp(prefix))
            except ValueError:
                return False
        return abs(now - cached[1]) + _ONE_SECOND <= self.settings.max_latency

    def _process(self, msg: Message, seq: int, poss_dup: bool, now: datetime) -> None:
        """Handle a message whose sequence number is the expected one."""
        mt = msg.msg_type
        if mt in ADMIN_MSG_TYPES:
            self._process_admin(msg, mt, seq, now)
            return
        self._next_in = seq + 1
        self._store_dirty = True
        supported = self.settings.supported_app_msg_types
        if supported is not None and mt not in supported:
            text = f"Unsupported Message Type {mt}"
            reason = BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE
            self._emit(admin.business_reject(seq, mt, reason, text), now)
            self._events.append(BusinessRejectSent(seq, mt, int(reason), text))
            return
        poss_resend = msg.get(Tag.POSS_RESEND) == _Y
        self._events.append(AppMessageReceived(msg, poss_dup, poss_resend))

    def _process_admin(self, msg: Message, mt: str, seq: int, now: datetime) -> None:
        if mt == _MT_SEQUENCE_RESET:
            self._on_sequence_reset(msg, seq, now, gap_fill=True)
            return
        self._next_in = seq + 1
        self._store_dirty = True
        self._events.append(AdminMessageReceived(msg))
        if mt == _MT_HEARTBEAT:
            pending = self._test_request
            if pending is not None and msg.get(Tag.TEST_REQ_ID) == pending[0].encode():
                self._test_request = None
        elif mt == _MT_TEST_REQUEST:
            test_req_id = msg.get(Tag.TEST_REQ_ID)
            self._emit(admin.heartbeat(test_req_id), now)
            self._events.append(HeartbeatSent(_text(test_req_id)))
        elif mt == _MT_RESEND_REQUEST:
            self._on_resend_request(msg)
        elif mt == _MT_REJECT:
            self._events.append(
                RejectReceived(
                    msg,
                    msg.get_int(Tag.REF_SEQ_NUM, None),
                    msg.get_int(Tag.SESSION_REJECT_REASON, None),
                    msg.get_str(Tag.TEXT, None),
                )
            )
        elif mt == _MT_LOGOUT:
            self._on_logout(msg, now)
        elif mt == _MT_LOGON:
            self._on_logon_while_active(msg, seq, now)

    # -- rejects -------------------------------------------------------------------------------
    def _reject(self, msg: Message, error: ValidationError, now: datetime) -> None:
        """Answer with a Reject; it consumes the message's sequence number when expected."""
        raw_seq = msg.get(Tag.MSG_SEQ_NUM) or b""
        seq = int(raw_seq) if raw_seq.isdigit() else 0
        if seq == self._next_in:
            self._next_in = seq + 1
            self._store_dirty = True
        self._emit(admin.reject(seq, error), now)
        self._events.append(RejectSent(seq, error.reason, error.ref_tag, error.text))
        self._drain(now)

    def _reject_and_logout(
        self, msg: Message, seq: int, error: ValidationError, now: datetime
    ) -> None:
        """CompID and SendingTime problems: Reject, then Logout and disconnect."""
        self._reject(msg, error, now)
        if self._state is SessionState.ACTIVE or self._state is SessionState.LOGOUT_SENT:
            self._send_logout(now, error.text)
            self._disconnect(error.text, error=True)

    # -- sending -------------------------------------------------------------------------------
    def send(self, msg: Message, now: datetime) -> int:
        """Send an application message; returns the sequence number it was given.

        Raises LocalProtocolError unless the session is logged on, or for admin messages
        (the session sends those itself).
        """
        if self._state is not SessionState.ACTIVE:
            raise LocalProtocolError(f"cannot send while {self._state.value}: not logged on")
        mt = msg.msg_type
        if mt in ADMIN_MSG_TYPES and mt != _MT_REJECT:
            raise LocalProtocolError(f"MsgType {mt} is sent by the session itself")
        return self._emit(msg, now, persist=self.settings.persist_messages and mt != _MT_REJECT)

    def _stamp(self, msg: Message, seq: int, now: datetime) -> None:
        s = self.settings
        fields = [
            (_K_SENDER, self._sender),
            (_K_TARGET, self._target),
            (_K_SEQ, b"%d" % seq),
            (_K_SENDING_TIME, format_utc_timestamp(now, s.timestamp_precision)),
        ]
        if s.enable_last_msg_seq_num_processed:
            fields.append((_K_LAST_PROCESSED, b"%d" % (self._next_in - 1)))
        msg.stamp_header(fields)

    def _emit(self, msg: Message, now: datetime, *, persist: bool = False) -> int:
        seq = self._next_out
        self._stamp(msg, seq, now)
        raw = msg.encode(self._begin)
        self._next_out = seq + 1
        self.messages_sent += 1
        if persist:
            self._store_msgs.append((seq, raw))
        self._store_dirty = True
        if self._held is not None:
            self._held.append(raw)
        else:
            self._out.append(raw)
        self._last_sent = now
        return seq

    def _flush_held(self) -> None:
        if self._held is not None:
            self._out.extend(self._held)
            self._held = None


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None

"""Sequence recovery: gaps in what we receive, and resends of what we sent.

Theory of operation (FIX 4.4 Volume 2, "Message Recovery", "ResendRequest", "SequenceReset"):

* A message above the expected sequence number opens a gap: it is kept in the stash (by
  sequence number, up to `SessionSettings.max_stashed_messages`) and a ResendRequest goes out
  for [expected, received - 1] (EndSeqNo 0, or chunks of `resend_request_chunk_size`). The
  outstanding request is a `Gap`; while it is open, later messages only raise its `highest`.
  Whenever the expected number moves (a message processed, a gap fill, a reject consuming a
  number), `_drain` processes the stash in order; the gap is filled once `highest` is behind us.
  A request that brings nothing for `resend_request_timeout` is sent again
  (`trifix.core.session_timers`).
* A SequenceReset-GapFill moves the expected number forward in sequence; Reset mode
  (123 absent or N) ignores MsgSeqNum; both may only move it forward (else Reject 373=5).
* A ResendRequest from the peer becomes a `ResendRequested` event for the range we actually
  sent; the driver answers it from its store through `begin_replay` / `replay` and
  `trifix.core.replay.Replay`, while new output is held back so the peer sees the range first.
* A PossDup message must carry an OrigSendingTime no later than its SendingTime.

`SequenceRecovery` is a mixin of `trifix.core.session.Session`, which holds the state it works
on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from trifix.core import admin
from trifix.core.errors import FieldValueError, LocalProtocolError
from trifix.core.events import (
    AdminMessageReceived,
    Event,
    GapDetected,
    GapFilled,
    ResendRequested,
    SequenceResetReceived,
)
from trifix.core.message import Message
from trifix.core.replay import Replay
from trifix.core.settings import SessionSettings
from trifix.core.state import CONNECTED, SessionState
from trifix.core.tags import MsgType, SessionRejectReason, Tag
from trifix.core.validate import ValidationError

__all__ = ["Gap", "SequenceRecovery", "check_orig_sending_time"]

_Y = b"Y"
_MT_LOGOUT = MsgType.LOGOUT.value


@dataclass(slots=True)
class Gap:
    """An outstanding ResendRequest of ours: asked for [begin, end]; `highest` is the largest
    sequence number seen from the peer, so the gap is filled once we have processed it."""

    begin: int
    end: int
    highest: int
    progress_at: datetime
    """When the request went out or the last gap message arrived: if nothing more comes
    within `SessionSettings.resend_request_timeout`, the request is sent again."""
    progress_seq: int = 0


class SequenceRecovery:
    """Mixin of `Session`: the stash above a gap, ResendRequests both ways, SequenceReset."""

    if TYPE_CHECKING:
        # Session state and helpers used here, defined by `Session` and its other mixins.
        settings: SessionSettings
        _state: SessionState
        _begin: bytes
        _next_out: int
        _next_in: int
        _events: list[Event]
        _out: list[bytes]
        _held: list[bytes] | None
        _store_dirty: bool
        _last_sent: datetime | None
        _gap: Gap | None
        _stash: dict[int, Message | None]
        _draining: bool
        _replay: Replay | None
        messages_sent: int

        def _emit(self, msg: Message, now: datetime, *, persist: bool = False) -> int: ...
        def _stamp(self, msg: Message, seq: int, now: datetime) -> None: ...
        def _flush_held(self) -> None: ...
        def _process(self, msg: Message, seq: int, poss_dup: bool, now: datetime) -> None: ...
        def _reject(self, msg: Message, error: ValidationError, now: datetime) -> None: ...
        def _on_logout(self, msg: Message, now: datetime) -> None: ...

    # -- gaps in what we receive ------------------------------------------------------------------
    def _drain(self, now: datetime) -> None:
        """Process stashed messages that are now in sequence; close or extend the gap."""
        if self._draining:
            return  # the outer _drain call carries on
        self._draining = True
        try:
            self._drain_stash(now)
        finally:
            self._draining = False

    def _drain_stash(self, now: datetime) -> None:
        stash = self._stash
        while stash and self._state is SessionState.ACTIVE:
            for old in [k for k in stash if k < self._next_in]:
                del stash[old]  # skipped by a gap fill or a reset
            seq = self._next_in
            if seq not in stash:
                break
            msg = stash.pop(seq)
            if msg is None:  # handled when it arrived: only its number is left to count
                self._next_in = seq + 1
                self._store_dirty = True
                continue
            if msg.msg_type == _MT_LOGOUT:
                self._on_logout(msg, now)
                return
            self._process(msg, seq, msg.get(Tag.POSS_DUP_FLAG) == _Y, now)
        gap = self._gap
        if gap is None or self._state is not SessionState.ACTIVE:
            return
        if self._next_in > gap.progress_seq:
            gap.progress_seq = self._next_in
            gap.progress_at = now
        if self._next_in > gap.highest:
            self._gap = None
            self._events.append(GapFilled(self._next_in))
        elif gap.end and self._next_in > gap.end:
            self._gap = None  # this chunk is done: ask for the next one
            self._request_gap(self._next_in, gap.highest, now)

    def _request_gap(self, expected: int, received: int, now: datetime) -> None:
        """Ask for [expected, received - 1] unless an outstanding request already covers it."""
        s = self.settings
        gap = self._gap
        if gap is not None:
            gap.highest = max(gap.highest, received)
            # The outstanding request covers any later message too: with EndSeqNo 0 the peer
            # resends all it has sent, and a chunked request moves on chunk by chunk to
            # `highest` (see _drain_stash).
            if not s.send_redundant_resend_requests:
                return
        chunk = s.resend_request_chunk_size
        end = 0 if chunk == 0 else min(expected + chunk - 1, received - 1)
        highest = max(received, gap.highest if gap else received)
        self._gap = Gap(expected, end, highest, now, expected)
        self._emit(admin.resend_request(expected, end), now)
        self._events.append(GapDetected(expected, received, expected, end))

    def _on_resend_request(self, msg: Message) -> None:
        begin = msg.get_int(Tag.BEGIN_SEQ_NO)
        end = msg.get_int(Tag.END_SEQ_NO)
        last = self._next_out - 1
        if end == 0 or end > last:
            end = last
        if begin < 1 or begin > end:
            return  # nothing we sent lies in that range
        self._events.append(ResendRequested(begin, end))

    def _on_sequence_reset(self, msg: Message, seq: int, now: datetime, *, gap_fill: bool) -> None:
        new_seq = msg.get_int(Tag.NEW_SEQ_NO)
        expected = self._next_in
        if new_seq < expected:
            error = ValidationError(
                SessionRejectReason.VALUE_IS_INCORRECT,
                Tag.NEW_SEQ_NO,
                msg.msg_type,
                f"attempt to lower sequence number, invalid value NewSeqNo={new_seq}",
            )
            self._reject(msg, error, now)
            return
        self._events.append(AdminMessageReceived(msg))
        self._next_in = new_seq if new_seq > expected else (seq + 1 if gap_fill else expected)
        self._store_dirty = True
        self._events.append(SequenceResetReceived(self._next_in, gap_fill))
        self._drain(now)

    # -- resending what we sent -------------------------------------------------------------------
    def _queue_replayed(self, msg: Message, now: datetime, stamp_seq: int | None = None) -> None:
        """Queue a resent message or a gap fill: ahead of any held new output, not stored again
        (for `Replay`). A gap fill is stamped with the sequence number it stands at."""
        if stamp_seq is not None:
            self._stamp(msg, stamp_seq, now)
        self._out.append(msg.encode(self._begin))
        self._last_sent = now
        self.messages_sent += 1

    def begin_replay(self, begin: int, end: int, now: datetime) -> Replay:
        """Start answering a ResendRequest for [begin, end]; feed it stored messages.

        Output of new messages is held back until `Replay.finish`, so the peer sees the
        replayed range in order before anything new.
        """
        if self._replay is not None:
            raise LocalProtocolError("a replay is already in progress")
        if self._state not in CONNECTED:
            raise LocalProtocolError("cannot replay while disconnected")
        self._replay = Replay(self, begin, end, now)
        self._held = []
        return self._replay

    def replay(
        self, begin: int, end: int, stored: Iterable[tuple[int, bytes]], now: datetime
    ) -> None:
        """Answer a ResendRequest in one go from `stored` (seq, raw) pairs in ascending order."""
        replay = self.begin_replay(begin, end, now)
        replay.feed(stored)
        replay.finish()

    def _end_replay(self) -> None:
        self._replay = None
        self._flush_held()


def check_orig_sending_time(msg: Message) -> ValidationError | None:
    """PossDup messages need OrigSendingTime (122), no later than SendingTime (52)."""
    mt = msg.msg_type
    orig = msg.get(Tag.ORIG_SENDING_TIME)
    if orig is None:
        return ValidationError(SessionRejectReason.REQUIRED_TAG_MISSING, Tag.ORIG_SENDING_TIME, mt)
    try:
        if msg.get_utc_timestamp(Tag.ORIG_SENDING_TIME) > msg.get_utc_timestamp(Tag.SENDING_TIME):
            return ValidationError(
                SessionRejectReason.SENDING_TIME_ACCURACY_PROBLEM, Tag.ORIG_SENDING_TIME, mt
            )
    except FieldValueError as exc:
        return ValidationError(SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE, exc.tag, mt)
    return None

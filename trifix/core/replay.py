"""Answering a ResendRequest from the store: what the session sends again, and what it fills.

FIX 4.4 Volume 2, "Resending messages": application messages are resent with PossDupFlag=Y
and their original SendingTime as OrigSendingTime; session-level messages are not resent but
skipped with a SequenceReset-GapFill, as are sequence numbers the store does not hold. The
replay is streamed (`feed` any number of chunks), so a resend of a million messages needs no
more memory than one chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from trifix.core import admin
from trifix.core.errors import CodecError, LocalProtocolError
from trifix.core.fields import format_utc_timestamp
from trifix.core.message import Message
from trifix.core.tags import Tag

if TYPE_CHECKING:
    from trifix.core.recovery import SequenceRecovery

__all__ = ["Replay"]


class Replay:
    """Answers one ResendRequest from stored messages, streamed in any number of `feed` calls.

    Application messages are sent again with PossDupFlag=Y, OrigSendingTime (their original
    SendingTime) and a new SendingTime; admin messages and sequence numbers missing from the
    store are covered by SequenceReset-GapFill messages, consecutive ones merged into one.
    """

    def __init__(self, session: SequenceRecovery, begin: int, end: int, now: datetime) -> None:
        self._session = session
        self._next = begin  # first sequence number not yet covered
        self._end = end
        self._now = now
        self._done = False

    def feed(self, stored: Iterable[tuple[int, bytes]]) -> None:
        """Replay stored (seq, raw) pairs, ascending; pairs outside the range are skipped."""
        if self._done:
            raise LocalProtocolError("feed() after finish()")
        persist = self._session.settings.persist_messages
        for seq, raw in stored:
            if seq < self._next or seq > self._end or not persist:
                continue
            try:
                msg = Message.from_frame(raw)
            except CodecError:  # a stored frame that no longer parses is covered by a gap fill
                continue
            if msg.is_admin():
                continue
            if seq > self._next:
                self._gap_fill(seq)
            self._resend(msg, seq)
            self._next = seq + 1

    def finish(self) -> None:
        """Cover the rest of the range with a gap fill and release held output."""
        if self._done:
            return
        self._done = True
        if self._next <= self._end:
            self._gap_fill(self._end + 1)
        self._session._end_replay()

    def _gap_fill(self, new_seq: int) -> None:
        msg = admin.gap_fill(new_seq, self._now)
        self._session._queue_replayed(msg, self._now, stamp_seq=self._next)
        self._next = new_seq

    def _resend(self, msg: Message, seq: int) -> None:
        s = self._session
        orig = msg.get(Tag.SENDING_TIME)
        msg.set(Tag.POSS_DUP_FLAG, True)
        if orig is not None:
            msg.set(Tag.ORIG_SENDING_TIME, orig)
        msg.set(Tag.SENDING_TIME, format_utc_timestamp(self._now, s.settings.timestamp_precision))
        s._queue_replayed(msg, self._now)

"""`MemoryStore`: the message store contract kept in a dict, for tests and throwaway sessions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self

from trifix.core.errors import StoreError, StoreLockedError
from trifix.store.base import (
    SessionUpdate,
    StoredSequences,
    check_now,
    check_seq,
    check_session_id,
    check_update,
)

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Session:
    next_sender_seq: int
    next_target_seq: int
    creation_time: datetime
    messages: dict[int, bytes] = field(default_factory=dict)


class MemoryStore:
    """A `MessageStore` that keeps everything in memory and loses it with the object.

    It follows the same contract as the persistent stores, locks included: a session can be
    open once per `MemoryStore` object. Messages stay after `close_session`, so a test can
    close a session and open it again to simulate a restart.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._sessions: dict[str, _Session] = {}
        self._open: set[str] = set()
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._open)} open sessions"
        return f"<MemoryStore {len(self._sessions)} sessions, {state}>"

    def open_session(self, session_id: str, now: datetime) -> StoredSequences:
        """Register and lock a session; see `MessageStore.open_session`."""
        self._check_usable()
        check_session_id(session_id)
        moment = check_now(now)
        if session_id in self._open:
            raise StoreLockedError(
                f"session {session_id!r} is already open in this MemoryStore; "
                "call close_session() before opening it again"
            )
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = _Session(1, 1, moment)
        self._open.add(session_id)
        return self._snapshot(session)

    def close_session(self, session_id: str) -> None:
        """Release a session's lock; does nothing if it is not open."""
        self._open.discard(session_id)

    def sequences(self, session_id: str) -> StoredSequences:
        """Return a session's sequence numbers and creation time."""
        return self._snapshot(self._session(session_id))

    def write(self, updates: Sequence[SessionUpdate]) -> None:
        """Apply every update, all or nothing; see `MessageStore.write`."""
        self._check_usable()
        sessions = [self._session(update.session_id) for update in updates]
        for update in updates:
            check_update(update)
        for session, update in zip(sessions, updates, strict=True):
            session.messages.update((seq, bytes(raw)) for seq, raw in update.messages)
            if update.next_sender_seq is not None:
                session.next_sender_seq = update.next_sender_seq
            if update.next_target_seq is not None:
                session.next_target_seq = update.next_target_seq

    def get_range(self, session_id: str, begin: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Return stored messages with ``begin <= seq <= end`` (``end == 0``: no bound)."""
        session = self._session(session_id)
        check_seq(begin, "begin")
        if end != 0:
            check_seq(end, "end")
        messages = session.messages
        selected = sorted(seq for seq in messages if seq >= begin and (end == 0 or seq <= end))
        return iter([(seq, messages[seq]) for seq in selected])

    def reset(self, session_id: str, now: datetime) -> None:
        """Start a session over with sequence numbers 1/1 and no messages."""
        session = self._session(session_id)
        moment = check_now(now)
        session.next_sender_seq = session.next_target_seq = 1
        session.creation_time = moment
        session.messages.clear()

    def set_next_sender_seq(self, session_id: str, seq: int) -> None:
        """Set the next outgoing sequence number."""
        session = self._session(session_id)
        session.next_sender_seq = check_seq(seq, "next_sender_seq")

    def set_next_target_seq(self, session_id: str, seq: int) -> None:
        """Set the next expected incoming sequence number."""
        session = self._session(session_id)
        session.next_target_seq = check_seq(seq, "next_target_seq")

    def trim(self, session_id: str, before_seq: int) -> int:
        """Delete stored messages with ``seq < before_seq``; return how many."""
        session = self._session(session_id)
        check_seq(before_seq, "before_seq")
        doomed = [seq for seq in session.messages if seq < before_seq]
        for seq in doomed:
            del session.messages[seq]
        return len(doomed)

    def session_ids(self) -> list[str]:
        """Return the ids of every known session, sorted."""
        self._check_usable()
        return sorted(self._sessions)

    def close(self) -> None:
        """Release every session and refuse further use; the data is dropped."""
        self._closed = True
        self._open.clear()
        self._sessions.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_usable(self) -> None:
        if self._closed:
            raise StoreError("this MemoryStore is closed")

    def _session(self, session_id: str) -> _Session:
        self._check_usable()
        check_session_id(session_id)
        if session_id not in self._open:
            raise StoreError(
                f"session {session_id!r} is not open in this MemoryStore; call open_session() first"
            )
        return self._sessions[session_id]

    @staticmethod
    def _snapshot(session: _Session) -> StoredSequences:
        return StoredSequences(
            session.next_sender_seq, session.next_target_seq, session.creation_time
        )

"""The message store contract: records, the `MessageStore` protocol and shared checks.

A store keeps, per FIX session, the next sender and target sequence numbers, the session's
creation time, and the raw bytes of every message sent (so a ResendRequest can be answered after
a restart). The sans-IO core never touches a store: it reports what must be stored and the
runtime calls `MessageStore.write` before the bytes reach the socket.

Rules every implementation follows (the contract suite in ``tests/store`` checks them):

* A session must be opened with `MessageStore.open_session` before anything else is done with
  it; opening takes an exclusive lock, so one session is driven by one store object at a time.
* `MessageStore.write` is a group commit: every update given lands in one transaction, all or
  nothing, with one sync.
* Time is always passed in; a store never reads the clock.
* Misuse raises `StoreError` (`StoreLockedError` for a session open elsewhere); a bad number
  (a sequence number below 1) raises `ValueError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from trifix.core.errors import StoreError

__all__ = [
    "MAX_SEQ",
    "MAX_SESSION_ID_BYTES",
    "MessageStore",
    "SessionUpdate",
    "StoredSequences",
    "check_now",
    "check_seq",
    "check_session_id",
    "check_update",
    "from_micros",
    "to_micros",
]

MAX_SESSION_ID_BYTES = 120
"""Longest session id, in UTF-8 bytes (it becomes part of a key and of a lock file name)."""

MAX_SEQ = (1 << 64) - 1
"""Largest sequence number a store accepts (stored as an unsigned 64-bit integer)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class SessionUpdate:
    """What one session needs stored, as part of a `MessageStore.write` batch.

    Attributes:
        session_id: the session the update belongs to; it must be open in the store.
        messages: sent messages as ``(seq, raw bytes)``; an existing message with the same
            sequence number is replaced.
        next_sender_seq: the new next outgoing sequence number, or None to leave it.
        next_target_seq: the new next expected incoming sequence number, or None to leave it.
    """

    session_id: str
    messages: Sequence[tuple[int, bytes]] = ()
    next_sender_seq: int | None = None
    next_target_seq: int | None = None


@dataclass(frozen=True, slots=True)
class StoredSequences:
    """The persistent state of one session, as a store reads it back.

    Attributes:
        next_sender_seq: the sequence number the next sent message gets.
        next_target_seq: the sequence number expected on the next received message.
        creation_time: when the session was created or last reset (UTC-aware, µs precision).
    """

    next_sender_seq: int
    next_target_seq: int
    creation_time: datetime


class MessageStore(Protocol):
    """Sequence numbers and sent messages of FIX sessions.

    Stores are synchronous and blocking (an LMDB commit may fsync); the trio runtime calls them
    from a worker thread. A store object is not thread-safe: its calls must not overlap.
    """

    def open_session(self, session_id: str, now: datetime) -> StoredSequences:
        """Register a session and lock it for this store object.

        A new session starts with both next sequence numbers at 1 and ``creation_time=now``;
        an existing one is returned as stored.

        Args:
            session_id: non-empty, without NUL, at most `MAX_SESSION_ID_BYTES` in UTF-8.
            now: the current time, timezone-aware.

        Raises:
            StoreLockedError: the session is already open (here or in another process).
            StoreError: the id is invalid or the store is closed.
        """
        ...

    def close_session(self, session_id: str) -> None:
        """Release the session's lock; does nothing if it is not open here."""
        ...

    def sequences(self, session_id: str) -> StoredSequences:
        """Return the session's stored sequence numbers and creation time."""
        ...

    def write(self, updates: Sequence[SessionUpdate]) -> None:
        """Store every update in one transaction with one sync (group commit).

        Either all of it is stored or, after a crash or an error, none of it.

        Raises:
            StoreError: a session is not open, or the store failed.
            ValueError: a sequence number is below 1 (nothing is written).
        """
        ...

    def get_range(self, session_id: str, begin: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Yield stored sent messages with ``begin <= seq <= end`` in order.

        ``end == 0`` means no upper bound. Missing sequence numbers are skipped. Arguments are
        checked at the call; the messages are read lazily, in chunks, so any range can be
        streamed in bounded memory. Each chunk sees the latest committed state.
        """
        ...

    def reset(self, session_id: str, now: datetime) -> None:
        """Start the session over: next sequence numbers 1/1, no messages, ``creation_time=now``."""
        ...

    def set_next_sender_seq(self, session_id: str, seq: int) -> None:
        """Set the next outgoing sequence number (``seq >= 1``)."""
        ...

    def set_next_target_seq(self, session_id: str, seq: int) -> None:
        """Set the next expected incoming sequence number (``seq >= 1``)."""
        ...

    def trim(self, session_id: str, before_seq: int) -> int:
        """Delete the session's stored messages with ``seq < before_seq``; return how many."""
        ...

    def session_ids(self) -> list[str]:
        """Return the ids of every session the store knows, open or not, sorted."""
        ...

    def close(self) -> None:
        """Release every lock and the store's resources; calling it again does nothing."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def check_session_id(session_id: object) -> bytes:
    """Validate a session id and return it encoded as UTF-8.

    Raises:
        StoreError: the id is not a non-empty string of at most `MAX_SESSION_ID_BYTES` UTF-8
            bytes without NUL characters.
    """
    if not isinstance(session_id, str) or not session_id:
        raise StoreError(f"session id must be a non-empty string, got {session_id!r}")
    if "\x00" in session_id:
        raise StoreError(f"session id must not contain NUL characters: {session_id!r}")
    try:
        encoded = session_id.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(f"session id is not valid Unicode text: {session_id!r}") from exc
    if len(encoded) > MAX_SESSION_ID_BYTES:
        raise StoreError(
            f"session id is {len(encoded)} bytes in UTF-8, longer than the "
            f"{MAX_SESSION_ID_BYTES} a store accepts: {session_id!r}"
        )
    return encoded


def check_seq(value: object, what: str) -> int:
    """Return ``value`` if it is a sequence number in ``1..MAX_SEQ``.

    Raises:
        ValueError: it is not an int in range (``what`` names it in the message).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int, got {value!r}")
    if not 1 <= value <= MAX_SEQ:
        raise ValueError(f"{what} must be between 1 and {MAX_SEQ}, got {value}")
    return value


def check_update(update: SessionUpdate) -> None:
    """Check every number in an update, so a bad one is refused before anything is written."""
    for seq, _raw in update.messages:
        # The common case checked inline: this runs for every message of every commit.
        if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
            check_seq(seq, f"message sequence number for session {update.session_id!r}")
    if update.next_sender_seq is not None:
        check_seq(update.next_sender_seq, "next_sender_seq")
    if update.next_target_seq is not None:
        check_seq(update.next_target_seq, "next_target_seq")


def check_now(now: object) -> datetime:
    """Return ``now`` converted to UTC; it must be a timezone-aware datetime.

    Raises:
        ValueError: ``now`` is not a datetime or is naive.
    """
    if not isinstance(now, datetime):
        raise ValueError(f"now must be a datetime, got {now!r}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now!r}")
    return now.astimezone(UTC)


def to_micros(moment: datetime) -> int:
    """Return an aware datetime as whole microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Return the UTC datetime ``micros`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)

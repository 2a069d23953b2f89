"""A read-only view of an LMDB message store, for operators: usable while the gateway runs.

`LmdbStore` takes each session's lock before it reads anything, because it is the store of a
running engine. An operator looking at sequence numbers must not need that lock: LMDB lets any
number of processes read while one writes, each read transaction seeing the last committed
state. `StoreView` opens the environment read-only, takes no session lock, creates nothing,
and reads the layout `trifix.store.lmdb_store` documents (``seqs``: session id → next sender
seq, next target seq, creation time; ``msgs``: session id + NUL + big-endian seq → message).
The tests write through `LmdbStore` and read back through this view, so the two cannot drift.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import lmdb

from trifix.core.errors import StoreError
from trifix.store import StoredSequences
from trifix.store.base import MAX_SEQ, check_session_id, from_micros

__all__ = ["SessionSummary", "StoreView", "UnknownSessionError"]

_SEQS: Final = struct.Struct(">QQq")
_SEQ: Final = struct.Struct(">Q")
_SEP: Final = b"\x00"
_CHUNK: Final = 1000  # messages per read transaction: bounded memory, no long-lived reader
_DATA_FILE: Final = "data.mdb"
_ALREADY_OPEN: Final = "already open in this process"


class UnknownSessionError(StoreError):
    """The store has no session of that id (the message lists the ones it has)."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One session of a store, as `trifix store seq` shows it.

    Attributes:
        session_id: the session's id in the store.
        sequences: next sender and target sequence numbers, creation time.
        first_stored, last_stored: the lowest and highest stored message seq (None if none).
    """

    session_id: str
    sequences: StoredSequences
    first_stored: int | None
    last_stored: int | None


class StoreView:
    """Read-only access to a store directory written by `LmdbStore`.

    Args:
        path: the store directory.

    Raises:
        StoreError: the directory does not exist, holds no store, or cannot be read.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        if not path.is_dir():
            raise StoreError(
                f"no store at {path}: the directory does not exist (give --store DIR or "
                "--config FILE; the gateway's default is ./fixstore)"
            )
        if not (path / _DATA_FILE).is_file():
            raise StoreError(f"{path} is not a trifix store: it has no {_DATA_FILE}")
        try:
            env = lmdb.open(str(path), readonly=True, max_dbs=2, lock=True)
        except lmdb.Error as exc:
            if _ALREADY_OPEN in str(exc):
                raise StoreError(
                    f"store {path} is already open in this process; inspect it from another "
                    "process (the trifix command)"
                ) from exc
            raise StoreError(f"cannot open store {path} read-only: {exc}") from exc
        try:
            self._seqs = env.open_db(b"seqs", create=False)
            self._msgs = env.open_db(b"msgs", create=False)
        except lmdb.Error as exc:
            env.close()
            raise StoreError(f"{path} is not a trifix store: {exc}") from exc
        self._env = env

    @property
    def path(self) -> Path:
        """The store directory."""
        return self._path

    def close(self) -> None:
        """Close the environment; idempotent."""
        self._env.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def session_ids(self) -> list[str]:
        """Every session id in the store, sorted."""
        with self._read() as txn:
            cursor = txn.cursor(db=self._seqs)
            return [key.decode("utf-8") for key in cursor.iternext(values=False)]

    def sequences(self, session_id: str) -> StoredSequences:
        """A session's sequence numbers, or `UnknownSessionError`."""
        key = check_session_id(session_id)
        with self._read() as txn:
            packed = txn.get(key, db=self._seqs)
        if packed is None:
            known = ", ".join(self.session_ids()) or "none"
            raise UnknownSessionError(
                f"store {self._path} has no session {session_id!r} (sessions: {known})"
            )
        if len(packed) != _SEQS.size:
            raise StoreError(f"store {self._path}: the record of {session_id!r} is corrupt")
        sender, target, created = _SEQS.unpack(packed)
        return StoredSequences(sender, target, from_micros(created))

    def summary(self, session_id: str) -> SessionSummary:
        """Sequence numbers and the range of stored messages of one session."""
        sequences = self.sequences(session_id)
        prefix = check_session_id(session_id) + _SEP
        with self._read() as txn:
            cursor = txn.cursor(db=self._msgs)
            first = last = None
            if cursor.set_range(prefix) and cursor.key().startswith(prefix):
                first = _SEQ.unpack_from(cursor.key(), len(prefix))[0]
                # The record just before the first key past this session's run is its last.
                past = cursor.set_range(prefix + b"\xff" * (_SEQ.size + 1))
                (cursor.prev if past else cursor.last)()
                last = _SEQ.unpack_from(cursor.key(), len(prefix))[0]
        return SessionSummary(session_id, sequences, first, last)

    def messages(
        self, session_id: str, begin: int = 1, end: int = 0
    ) -> Iterator[tuple[int, bytes]]:
        """Stored messages with ``begin <= seq <= end`` (``end == 0``: no bound), in order.

        Read `_CHUNK` at a time, each chunk in its own short read transaction.
        """
        self.sequences(session_id)  # an unknown session is an error now, not an empty range
        prefix = check_session_id(session_id) + _SEP
        start = prefix + _SEQ.pack(max(begin, 1))
        return self._stream(prefix, start, prefix + _SEQ.pack(end or MAX_SEQ))

    def _stream(self, prefix: bytes, start: bytes, stop: bytes) -> Iterator[tuple[int, bytes]]:
        while True:
            with self._read() as txn:
                cursor = txn.cursor(db=self._msgs)
                chunk: list[tuple[bytes, bytes]] = []
                if cursor.set_range(start):
                    for key, raw in cursor.iternext():
                        if key > stop or len(chunk) == _CHUNK:
                            break
                        chunk.append((key, bytes(raw)))
            for key, raw in chunk:
                yield _SEQ.unpack_from(key, len(prefix))[0], raw
            if len(chunk) < _CHUNK:
                return
            start = chunk[-1][0] + _SEP

    def _read(self) -> lmdb.Transaction[bytes]:
        """A read transaction; adopts a map the writer grew meanwhile."""
        try:
            return self._env.begin()
        except lmdb.MapResizedError:  # pragma: no cover - needs a writer growing the map
            self._env.set_mapsize(0)
            return self._env.begin()

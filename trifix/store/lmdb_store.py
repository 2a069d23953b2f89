"""`LmdbStore`: the default, persistent message store, on LMDB.

Layout: one LMDB environment per store directory, with two named databases.

* ``seqs``: session id (UTF-8) → ``>QQq``: next sender seq, next target seq, creation time in
  microseconds since the Unix epoch.
* ``msgs``: session id (UTF-8) + ``b"\\x00"`` + seq (8 bytes, big-endian) → the raw message.
  Session ids contain no NUL, so one session's keys form one contiguous, ordered run, even when
  an id is a prefix of another ("A" and "AB").

Every change is one LMDB write transaction; a crash leaves either all of it or none of it.
``sync="durable"`` fsyncs each commit; ``sync="os"`` leaves writing back to the OS (a process
crash loses nothing, a machine crash may lose the last commits) and `LmdbStore.flush` forces it.

Locks: each open session holds ``fcntl.flock(LOCK_EX | LOCK_NB)`` on
``<dir>/locks/<hex of the UTF-8 id>.lock``. The kernel drops the lock when the process dies, so a
crash never leaves a session locked. Several processes may share a store directory as long as
they drive different sessions.
"""

from __future__ import annotations

import fcntl
import functools
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Self, TypeAlias, TypeVar

import lmdb

from trifix.core.errors import StoreError, StoreLockedError
from trifix.store.base import (
    MAX_SEQ,
    SessionUpdate,
    StoredSequences,
    check_now,
    check_seq,
    check_session_id,
    check_update,
    from_micros,
    to_micros,
)

__all__ = ["LmdbStore", "SyncPolicy"]

SyncPolicy = Literal["durable", "os"]
"""``"durable"``: fsync every commit. ``"os"``: let the OS write back; `LmdbStore.flush` syncs."""

_T = TypeVar("_T")
_Txn: TypeAlias = "lmdb.Transaction[bytes]"

_SEQS = struct.Struct(">QQq")
_SEQ = struct.Struct(">Q")
_SEP = b"\x00"
_RANGE_CHUNK = 1000  # messages per read transaction in get_range: bounds memory, frees the txn
_MAX_ATTEMPTS = 64  # map doublings or resizes before giving up on one transaction
_ALREADY_OPEN = "already open in this process"  # py-lmdb's message for a second Environment


class LmdbStore:
    """A `MessageStore` on LMDB: durable, crash-safe, shared by processes session by session.

    Args:
        path: the store directory; created if missing.
        sync: ``"durable"`` (default) fsyncs every commit; ``"os"`` leaves it to the OS.
        map_size: initial size of the memory map, in bytes. It grows by doubling when full.
        max_map_size: the map never grows beyond this; a write that does not fit then fails.

    Raises:
        StoreError: the path is not a directory, cannot be created, or holds a corrupt
            environment.
        StoreLockedError: the directory is already open by another `LmdbStore` in this process.
        ValueError: a bad ``sync`` or map size.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sync: SyncPolicy = "durable",
        map_size: int = 1 << 30,
        max_map_size: int = 1 << 40,
    ) -> None:
        if sync not in ("durable", "os"):
            raise ValueError(f'sync must be "durable" or "os", got {sync!r}')
        if map_size < 1 or max_map_size < map_size:
            raise ValueError(
                f"need 1 <= map_size <= max_map_size, got {map_size=} and {max_map_size=}"
            )
        self._path = Path(path)
        self._sync = sync
        self._max_map_size = max_map_size
        self._locks: dict[str, int] = {}  # open session id -> fd holding its flock
        self._lock_dir = self._path / "locks"
        self._make_dirs()
        durable = sync == "durable"
        try:
            env = lmdb.open(
                str(self._path), map_size=map_size, max_dbs=2, sync=durable, metasync=durable
            )
        except lmdb.Error as exc:
            if _ALREADY_OPEN in str(exc):
                raise StoreLockedError(
                    f"store {self._path} is already open in this process; share that "
                    "LmdbStore (one per engine) or close it before opening the path again"
                ) from exc
            raise StoreError(
                f"cannot open store {self._path}: {exc}; is it an LMDB store directory "
                "that trifix created?"
            ) from exc
        try:
            self._seqs = env.open_db(b"seqs")
            self._msgs = env.open_db(b"msgs")
        except lmdb.Error as exc:
            env.close()
            raise StoreError(f"cannot open the databases of store {self._path}: {exc}") from exc
        self._env: lmdb.Environment | None = env

    def __repr__(self) -> str:
        state = "closed" if self._env is None else f"{len(self._locks)} open sessions"
        return f"<LmdbStore {str(self._path)!r} sync={self._sync} {state}>"

    @property
    def path(self) -> Path:
        """The store directory."""
        return self._path

    def open_session(self, session_id: str, now: datetime) -> StoredSequences:
        """Register and lock a session; see `MessageStore.open_session`."""
        key = check_session_id(session_id)
        moment = check_now(now)
        self._live_env()
        if session_id in self._locks:
            raise StoreLockedError(
                f"session {session_id!r} in store {self._path} is already open in this "
                "LmdbStore; call close_session() before opening it again"
            )
        fd = self._lock(session_id, key)
        try:

            def register(txn: _Txn) -> bytes:
                packed = txn.get(key, db=self._seqs)
                if packed is None:
                    packed = _SEQS.pack(1, 1, to_micros(moment))
                    txn.put(key, packed, db=self._seqs)
                return packed

            stored = self._unpack(session_id, self._run(register, write=True))
        except BaseException:
            os.close(fd)
            raise
        self._locks[session_id] = fd
        return stored

    def close_session(self, session_id: str) -> None:
        """Release a session's lock; does nothing if it is not open here."""
        fd = self._locks.pop(session_id, None)
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock

    def sequences(self, session_id: str) -> StoredSequences:
        """Return a session's sequence numbers and creation time."""
        key = self._open_key(session_id)
        return self._unpack(
            session_id, self._run(lambda txn: txn.get(key, db=self._seqs), write=False)
        )

    def write(self, updates: Sequence[SessionUpdate]) -> None:
        """Store every update in one transaction with one sync; see `MessageStore.write`."""
        self._live_env()
        keys = [self._open_key(update.session_id) for update in updates]
        for update in updates:
            check_update(update)
        if not updates:
            return

        def apply(txn: _Txn) -> None:
            cursor = txn.cursor(db=self._msgs)
            for key, update in zip(keys, updates, strict=True):
                if update.messages:
                    prefix = key + _SEP
                    cursor.putmulti(
                        [(prefix + _SEQ.pack(seq), raw) for seq, raw in update.messages]
                    )
                if update.next_sender_seq is not None or update.next_target_seq is not None:
                    packed = txn.get(key, db=self._seqs)
                    sender, target, created = self._unpack_raw(update.session_id, packed)
                    if update.next_sender_seq is not None:
                        sender = update.next_sender_seq
                    if update.next_target_seq is not None:
                        target = update.next_target_seq
                    txn.put(key, _SEQS.pack(sender, target, created), db=self._seqs)

        self._run(apply, write=True)

    def get_range(self, session_id: str, begin: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Stream stored messages with ``begin <= seq <= end`` (``end == 0``: no bound).

        Arguments are checked now; messages are read lazily, `_RANGE_CHUNK` at a time, each
        chunk in its own short read transaction, so memory stays bounded for any range and no
        reader is held open between chunks.
        """
        key = self._open_key(session_id)
        check_seq(begin, "begin")
        if end != 0:
            check_seq(end, "end")
        prefix = key + _SEP
        stop = prefix + _SEQ.pack(end or MAX_SEQ)
        return self._stream(session_id, prefix, prefix + _SEQ.pack(begin), stop)

    def reset(self, session_id: str, now: datetime) -> None:
        """Start a session over, in one transaction: seqs 1/1, no messages, new creation time."""
        key = self._open_key(session_id)
        packed = _SEQS.pack(1, 1, to_micros(check_now(now)))

        def apply(txn: _Txn) -> None:
            self._delete_below(txn, key + _SEP, key + _SEP + b"\xff" * (_SEQ.size + 1))
            txn.put(key, packed, db=self._seqs)

        self._run(apply, write=True)

    def set_next_sender_seq(self, session_id: str, seq: int) -> None:
        """Set the next outgoing sequence number."""
        self._open_key(session_id)
        self.write([SessionUpdate(session_id, next_sender_seq=check_seq(seq, "next_sender_seq"))])

    def set_next_target_seq(self, session_id: str, seq: int) -> None:
        """Set the next expected incoming sequence number."""
        self._open_key(session_id)
        self.write([SessionUpdate(session_id, next_target_seq=check_seq(seq, "next_target_seq"))])

    def trim(self, session_id: str, before_seq: int) -> int:
        """Delete stored messages with ``seq < before_seq`` in one transaction; return how many."""
        prefix = self._open_key(session_id) + _SEP
        stop = prefix + _SEQ.pack(check_seq(before_seq, "before_seq"))
        return self._run(lambda txn: self._delete_below(txn, prefix, stop), write=True)

    def session_ids(self) -> list[str]:
        """Return the ids of every session in the store, open or not, sorted."""

        def read(txn: _Txn) -> list[str]:
            cursor = txn.cursor(db=self._seqs)
            return [key.decode("utf-8") for key in cursor.iternext(values=False)]

        return self._run(read, write=False)

    @property
    def sync(self) -> SyncPolicy:
        """The sync policy: "durable" (fsync every commit) or "os"."""
        return self._sync

    def flush(self) -> None:
        """Force committed data to disk (useful with ``sync="os"``)."""
        env = self._live_env()
        try:
            env.sync(True)
        except lmdb.Error as exc:
            raise StoreError(f"store {self._path}: sync failed: {exc}") from exc

    def close(self) -> None:
        """Sync, close the environment and release every session lock; idempotent."""
        env, self._env = self._env, None
        if env is None:
            return
        try:
            if self._sync == "os":
                env.sync(True)
            env.close()
        finally:
            for fd in self._locks.values():
                os.close(fd)
            self._locks.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------------

    def _make_dirs(self) -> None:
        if self._path.exists() and not self._path.is_dir():
            raise StoreError(f"store path {self._path} exists and is not a directory")
        try:
            self._lock_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store directory {self._path}: {exc}") from exc

    def _live_env(self) -> lmdb.Environment:
        if self._env is None:
            raise StoreError(f"store {self._path} is closed")
        return self._env

    def _open_key(self, session_id: str) -> bytes:
        """Return the key of a session that must be open in this store."""
        self._live_env()
        key = check_session_id(session_id)
        if session_id not in self._locks:
            raise StoreError(
                f"session {session_id!r} is not open in store {self._path}; "
                "call open_session() first"
            )
        return key

    def _lock(self, session_id: str, key: bytes) -> int:
        """Take the session's lock file, or raise `StoreLockedError`; return its descriptor."""
        lock_path = self._lock_dir / f"{key.hex()}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create lock file {lock_path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise StoreLockedError(
                f"session {session_id!r} in store {self._path} is already open elsewhere "
                f"({holder or 'holder unknown'}); stop that engine or close the session there "
                "first, or give each engine its own store directory"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot lock {lock_path}: {exc}") from exc
        # For the message above, in whoever fails next; the kernel lock is what counts.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode("ascii"), 0)
        return fd

    def _run(self, body: Callable[[_Txn], _T], *, write: bool) -> _T:
        """Run ``body`` in a transaction (committed if ``write``), growing the map when full.

        ``body`` may run more than once, so it must act only on the transaction.
        """
        env = self._live_env()
        try:
            for _ in range(_MAX_ATTEMPTS):
                try:
                    with env.begin(write=write) as txn:
                        return body(txn)
                except lmdb.MapFullError:
                    self._grow(env)
                except lmdb.MapResizedError:
                    env.set_mapsize(0)  # another process grew the map: adopt its size
        except lmdb.Error as exc:
            what = "write" if write else "read"
            raise StoreError(f"store {self._path}: {what} failed: {exc}") from exc
        raise StoreError(f"store {self._path}: gave up after {_MAX_ATTEMPTS} map resizes")

    def _grow(self, env: lmdb.Environment) -> None:
        current = env.info()["map_size"]
        if current >= self._max_map_size:
            raise StoreError(
                f"store {self._path} is full: the map reached max_map_size="
                f"{self._max_map_size} bytes; raise max_map_size or trim old messages"
            )
        env.set_mapsize(min(current * 2, self._max_map_size))

    def _stream(
        self, session_id: str, prefix: bytes, start: bytes, stop: bytes
    ) -> Iterator[tuple[int, bytes]]:
        offset = len(prefix)
        while True:
            self._open_key(session_id)  # the store or session may have closed between chunks
            chunk = self._run(
                functools.partial(_read_chunk, db=self._msgs, start=start, stop=stop), write=False
            )
            for key, raw in chunk:
                yield _SEQ.unpack_from(key, offset)[0], raw
            if len(chunk) < _RANGE_CHUNK:
                return
            start = chunk[-1][0] + b"\x00"  # the smallest key after the last one read

    def _delete_below(self, txn: _Txn, start: bytes, stop: bytes) -> int:
        """Delete the messages with ``start <= key < stop``; return how many."""
        count = 0
        cursor = txn.cursor(db=self._msgs)
        if cursor.set_range(start):
            while (key := cursor.key()) and key < stop:
                cursor.delete()  # moves to the next record
                count += 1
        return count

    def _unpack_raw(self, session_id: str, packed: bytes | None) -> tuple[int, int, int]:
        if packed is None or len(packed) != _SEQS.size:
            raise StoreError(
                f"store {self._path}: the sequence record of session {session_id!r} is "
                f"missing or corrupt ({packed!r})"
            )
        sender, target, created = _SEQS.unpack(packed)
        return sender, target, created

    def _unpack(self, session_id: str, packed: bytes | None) -> StoredSequences:
        sender, target, created = self._unpack_raw(session_id, packed)
        return StoredSequences(sender, target, from_micros(created))


def _read_chunk(
    txn: _Txn, *, db: lmdb._Database, start: bytes, stop: bytes
) -> list[tuple[bytes, bytes]]:
    """Read up to `_RANGE_CHUNK` records with ``start <= key <= stop``."""
    cursor = txn.cursor(db=db)
    if not cursor.set_range(start):
        return []
    chunk: list[tuple[bytes, bytes]] = []
    for key, raw in cursor.iternext():
        if key > stop:
            break
        chunk.append((key, raw))
        if len(chunk) == _RANGE_CHUNK:
            break
    return chunk

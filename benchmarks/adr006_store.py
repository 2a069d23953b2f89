"""Measurements behind ADR-006 (store choice): durable writes of sent messages, three ways.

Run from the repository root: ``python benchmarks/adr006_store.py [DIR]`` (DIR: where the
stores are written, by default a temporary directory; use the disk the gateway would use).

Each candidate stores 200-byte messages with their sequence number and the session's next
sequence number, durably (synced to disk before the call returns), committed in batches of
100 (group commit) and one by one:

* LMDB through `trifix.store.LmdbStore` (``sync="durable"``);
* SQLite (standard library), WAL journal, ``synchronous=FULL``, one transaction per batch;
* an append-only file with ``os.fsync`` per batch, as a file store that syncs would do (no
  index: a resend would scan the file).

Then the read a ResendRequest causes: 10,000 of 20,000 stored messages streamed in order, LMDB's
`get_range` against SQLite's ``SELECT ... BETWEEN``. Prints messages per second, the best of a
few rounds (the machine is shared).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from trifix.store import LmdbStore, SessionUpdate

PAYLOAD = b"8=FIX.4.4\x01" + b"x" * 180 + b"\x0110=000\x01"
ROUNDS = 3
SESSION = "BENCH"


def lmdb_writer(path: Path) -> tuple[Callable[[list[int]], None], Callable[[], None]]:
    store = LmdbStore(path / "lmdb")
    store.open_session(SESSION, datetime.now(UTC))

    def write(seqs: list[int]) -> None:
        messages = [(seq, PAYLOAD) for seq in seqs]
        store.write([SessionUpdate(SESSION, messages, next_sender_seq=seqs[-1] + 1)])

    return write, store.close


def sqlite_writer(path: Path) -> tuple[Callable[[list[int]], None], Callable[[], None]]:
    db = sqlite3.connect(path / "store.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE msgs (session TEXT, seq INTEGER, raw BLOB, PRIMARY KEY (session, seq))"
    )
    db.execute("CREATE TABLE seqs (session TEXT PRIMARY KEY, sender INTEGER)")

    def write(seqs: list[int]) -> None:
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO msgs VALUES (?, ?, ?)", [(SESSION, s, PAYLOAD) for s in seqs]
        )
        db.execute("INSERT OR REPLACE INTO seqs VALUES (?, ?)", (SESSION, seqs[-1] + 1))
        db.execute("COMMIT")

    return write, db.close


def file_writer(path: Path) -> tuple[Callable[[list[int]], None], Callable[[], None]]:
    f = open(path / "store.log", "ab")  # noqa: SIM115 (closed by the returned callable)

    def write(seqs: list[int]) -> None:
        f.write(b"".join(b"%d " % s + PAYLOAD + b"\n" for s in seqs))
        f.flush()
        os.fsync(f.fileno())

    return write, f.close


def measure(
    factory: Callable[[Path], tuple[Callable[[list[int]], None], Callable[[], None]]],
    root: Path,
    batch: int,
    total: int,
) -> float:
    best = 0.0
    for round_ in range(ROUNDS):
        where = root / f"{factory.__name__}-{batch}-{round_}"
        where.mkdir()
        write, close = factory(where)
        start = time.perf_counter()
        for first in range(1, total + 1, batch):
            write(list(range(first, first + batch)))
        elapsed = time.perf_counter() - start
        close()
        best = max(best, total / elapsed)
    return best


def read_lmdb(path: Path) -> float:
    """Messages per second streamed back by a resend of 10,000 of 20,000 stored messages."""
    with LmdbStore(path / "read-lmdb") as store:
        store.open_session(SESSION, datetime.now(UTC))
        store.write([SessionUpdate(SESSION, [(s, PAYLOAD) for s in range(1, 20_001)])])
        return _best(lambda: sum(1 for _ in store.get_range(SESSION, 5_001, 15_000)))


def read_sqlite(path: Path) -> float:
    db = sqlite3.connect(path / "read.sqlite", isolation_level=None)
    db.execute(
        "CREATE TABLE msgs (session TEXT, seq INTEGER, raw BLOB, PRIMARY KEY (session, seq))"
    )
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO msgs VALUES (?, ?, ?)", [(SESSION, s, PAYLOAD) for s in range(1, 20_001)]
    )
    db.execute("COMMIT")
    query = "SELECT seq, raw FROM msgs WHERE session = ? AND seq BETWEEN ? AND ? ORDER BY seq"
    rate = _best(lambda: sum(1 for _ in db.execute(query, (SESSION, 5_001, 15_000))))
    db.close()
    return rate


def _best(read: Callable[[], int]) -> float:
    best = 0.0
    for _ in range(ROUNDS * 3):
        start = time.perf_counter()
        count = read()
        best = max(best, count / (time.perf_counter() - start))
    return best


def main() -> None:
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        root = Path(tmp)
        print(f"durable writes of {len(PAYLOAD)}-byte messages, best of {ROUNDS} rounds, in {root}")
        print(f"{'store':<34}{'batch 100 msg/s':>18}{'batch 1 msg/s':>16}")
        for name, factory in (
            ("LMDB (LmdbStore, durable)", lmdb_writer),
            ("SQLite WAL, synchronous=FULL", sqlite_writer),
            ("append-only file + fsync", file_writer),
        ):
            grouped = measure(factory, root, 100, 20_000)
            single = measure(factory, root, 1, 500)
            print(f"{name:<34}{grouped:>18,.0f}{single:>16,.0f}")
        print("resend: stream 10,000 of 20,000 stored messages in order")
        print(f"{'LMDB get_range':<34}{read_lmdb(root):>18,.0f} msg/s")
        print(f"{'SQLite SELECT ... BETWEEN':<34}{read_sqlite(root):>18,.0f} msg/s")


if __name__ == "__main__":
    main()

"""What `LmdbStore` adds to the contract: on-disk layout, process locks, map growth, streaming."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import textwrap
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import lmdb
import pytest

from trifix.core.errors import StoreError, StoreLockedError
from trifix.store import LmdbStore, SessionUpdate, StoredSequences
from trifix.store.base import to_micros

from ._crash_child import child_env

T0 = datetime(2024, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def run_python(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter that can import trifix; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


TRY_OPEN = """
    import sys
    from datetime import UTC, datetime
    from trifix.core.errors import StoreLockedError
    from trifix.store import LmdbStore

    with LmdbStore(sys.argv[1]) as store:
        for session_id in sys.argv[2:]:
            try:
                store.open_session(session_id, datetime(2024, 1, 1, tzinfo=UTC))
            except StoreLockedError as exc:
                print(session_id, "locked:", exc)
            else:
                print(session_id, "open")
"""


def test_a_session_is_locked_across_processes(tmp_path: Path) -> None:
    with LmdbStore(tmp_path) as store:
        store.open_session("S", T0)
        out = run_python(TRY_OPEN, str(tmp_path), "S", "T").splitlines()
        assert out[0].startswith("S locked: ")
        assert str(tmp_path) in out[0]
        assert f"pid {os.getpid()}" in out[0]
        assert out[1] == "T open"
        # The child's session was created in the shared environment.
        assert store.session_ids() == ["S", "T"]
        store.close_session("S")
        assert run_python(TRY_OPEN, str(tmp_path), "S").splitlines() == ["S open"]


def test_a_second_store_on_the_same_path_in_one_process(tmp_path: Path) -> None:
    with (
        LmdbStore(tmp_path),
        pytest.raises(StoreLockedError, match="already open in this process"),
    ):
        LmdbStore(tmp_path)
    with LmdbStore(tmp_path) as store:
        assert store.session_ids() == []


def test_layout_on_disk(tmp_path: Path) -> None:
    with LmdbStore(tmp_path) as store:
        store.open_session("FIX.4.4:A->B", T0)
        store.write([SessionUpdate("FIX.4.4:A->B", [(7, b"raw")], next_sender_seq=8)])
        lock_file = tmp_path / "locks" / f"{b'FIX.4.4:A->B'.hex()}.lock"
        assert lock_file.is_file()
    env = lmdb.open(str(tmp_path), max_dbs=2, readonly=True)
    try:
        with env.begin() as txn:
            seqs = dict(txn.cursor(env.open_db(b"seqs", txn=txn, create=False)))
            messages = dict(txn.cursor(env.open_db(b"msgs", txn=txn, create=False)))
    finally:
        env.close()
    assert seqs == {b"FIX.4.4:A->B": struct.pack(">QQq", 8, 1, to_micros(T0))}
    assert messages == {b"FIX.4.4:A->B\x00" + (7).to_bytes(8, "big"): b"raw"}


def test_creates_missing_directories(tmp_path: Path) -> None:
    with LmdbStore(tmp_path / "a" / "b") as store:
        assert store.open_session("S", T0) == StoredSequences(1, 1, T0)
    assert (tmp_path / "a" / "b" / "data.mdb").is_file()


def test_a_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("not a store")
    with pytest.raises(StoreError, match=rf"{re.escape(str(path))}.*not a directory"):
        LmdbStore(path)


def test_a_corrupt_environment(tmp_path: Path) -> None:
    (tmp_path / "data.mdb").write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match=re.escape(str(tmp_path))) as info:
        LmdbStore(tmp_path)
    assert not isinstance(info.value, StoreLockedError)


def test_a_corrupt_sequence_record_releases_the_lock(tmp_path: Path) -> None:
    with LmdbStore(tmp_path) as store:
        store.open_session("S", T0)
    env = lmdb.open(str(tmp_path), max_dbs=2)
    with env.begin(write=True) as txn:
        txn.put(b"S", b"short", db=env.open_db(b"seqs", txn=txn))
    env.close()
    with LmdbStore(tmp_path) as store:
        with pytest.raises(StoreError, match=r"'S'.*corrupt"):
            store.open_session("S", T0)
        with pytest.raises(StoreError, match="not open"):
            store.sequences("S")
    # The failed open left no lock behind.
    assert run_python(TRY_OPEN, str(tmp_path), "T") == "T open\n"


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sync"):
        LmdbStore(tmp_path, sync="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_map_size"):
        LmdbStore(tmp_path, map_size=1 << 20, max_map_size=1 << 19)


def test_the_map_grows_when_full(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 16  # 4 KiB
    with LmdbStore(tmp_path, map_size=64 * 1024) as store:
        store.open_session("S", T0)
        for first in range(1, 1001, 100):  # 4 MB in batches, each larger than the first map
            batch = [(seq, blob + seq.to_bytes(4, "big")) for seq in range(first, first + 100)]
            store.write([SessionUpdate("S", batch, next_sender_seq=first + 100)])
    # Reopening with the tiny map again still sees everything.
    with LmdbStore(tmp_path, map_size=64 * 1024) as store:
        assert store.open_session("S", T0).next_sender_seq == 1001
        got = list(store.get_range("S", 1, 0))
        assert got == [(seq, blob + seq.to_bytes(4, "big")) for seq in range(1, 1001)]
        store.write([SessionUpdate("S", [(1001, blob)], next_sender_seq=1002)])


def test_a_write_beyond_max_map_size_fails_cleanly(tmp_path: Path) -> None:
    with LmdbStore(tmp_path, map_size=64 * 1024, max_map_size=256 * 1024) as store:
        store.open_session("S", T0)
        store.write([SessionUpdate("S", [(1, b"small")], next_sender_seq=2)])
        too_big = [(seq, b"x" * 4096) for seq in range(2, 200)]
        with pytest.raises(StoreError, match=r"full.*max_map_size"):
            store.write([SessionUpdate("S", too_big, next_sender_seq=200)])
        # Nothing of the failed write is there, and the store still works.
        assert store.sequences("S") == StoredSequences(2, 1, T0)
        assert list(store.get_range("S", 1, 0)) == [(1, b"small")]
        store.write([SessionUpdate("S", [(2, b"next")], next_sender_seq=3)])
        assert list(store.get_range("S", 2, 0)) == [(2, b"next")]


GROW = """
    import sys
    from datetime import UTC, datetime
    from trifix.store import LmdbStore, SessionUpdate

    with LmdbStore(sys.argv[1], map_size=64 * 1024) as store:
        store.open_session("C", datetime(2024, 1, 1, tzinfo=UTC))
        batch = [(seq, b"c" * 4096) for seq in range(1, 1001)]
        store.write([SessionUpdate("C", batch, next_sender_seq=1001)])
"""


def test_the_map_grown_by_another_process(tmp_path: Path) -> None:
    with LmdbStore(tmp_path, map_size=64 * 1024) as store:
        store.open_session("P", T0)
        run_python(GROW, str(tmp_path))  # grows the shared map far beyond ours
        store.write([SessionUpdate("P", [(1, b"p")], next_sender_seq=2)])
        store.open_session("C", T0)
        assert sum(1 for _ in store.get_range("C", 1, 0)) == 1000
        assert list(store.get_range("P", 1, 0)) == [(1, b"p")]


def test_get_range_streams_in_bounded_memory(tmp_path: Path) -> None:
    count, size = 200_000, 100
    with LmdbStore(tmp_path, sync="os") as store:
        store.open_session("S", T0)
        for first in range(1, count + 1, 20_000):
            batch = [
                (seq, seq.to_bytes(8, "big") * (size // 8)) for seq in range(first, first + 20_000)
            ]
            store.write([SessionUpdate("S", batch)])
        tracemalloc.start()
        try:
            messages = store.get_range("S", 1, 0)
            first_few = [next(messages) for _ in range(5)]
            after_first_few = tracemalloc.get_traced_memory()[0]
            expected = 6
            for seq, raw in messages:
                assert seq == expected
                assert raw[:8] == seq.to_bytes(8, "big")
                expected += 1
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert [seq for seq, _ in first_few] == [1, 2, 3, 4, 5]
    assert expected == count + 1
    total = count * size
    # The whole range is about 20 MB; a chunk of 1000 messages is about 0.2 MB.
    assert after_first_few < total / 20
    assert peak < total / 10


def test_each_chunk_of_a_range_sees_the_latest_commit(tmp_path: Path) -> None:
    with LmdbStore(tmp_path) as store:
        store.open_session("S", T0)
        store.write([SessionUpdate("S", [(seq, b"old") for seq in range(1, 2501)])])
        messages = store.get_range("S", 1, 0)
        head = [next(messages) for _ in range(1500)]
        # A write and a trim between chunks: no read transaction is being held.
        store.write([SessionUpdate("S", [(2600, b"new"), (2400, b"replaced")])])
        assert store.trim("S", 2200) == 2199
        tail = list(messages)
    assert head == [(seq, b"old") for seq in range(1, 1501)]
    # The first chunk (1..1000) was read already; the second (1001..2000) too, before the trim.
    assert [seq for seq, _ in tail] == [*range(1501, 2001), *range(2200, 2501), 2600]
    assert dict(tail)[2400] == b"replaced"


def test_a_range_stops_when_the_store_closes(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path)
    store.open_session("S", T0)
    store.write([SessionUpdate("S", [(seq, b"m") for seq in range(1, 3001)])])
    messages = store.get_range("S", 1, 0)
    assert next(messages) == (1, b"m")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        list(messages)


def test_sync_os_and_flush(tmp_path: Path) -> None:
    with LmdbStore(tmp_path, sync="os") as store:
        store.open_session("S", T0)
        store.write([SessionUpdate("S", [(1, b"one")], next_sender_seq=2)])
        store.flush()
        # White box: the environment really was opened without per-commit syncs.
        assert store._env is not None
        flags = store._env.flags()
        assert (flags["sync"], flags["metasync"]) == (False, False)
    with LmdbStore(tmp_path) as store:
        assert store.open_session("S", T0) == StoredSequences(2, 1, T0)
        assert store._env is not None
        assert store._env.flags()["sync"]
        assert list(store.get_range("S", 1, 0)) == [(1, b"one")]
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.flush()

"""The `MessageStore` contract, run against every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

import trifix.store
from trifix.core.errors import StoreError, StoreLockedError
from trifix.store import (
    LmdbStore,
    MemoryStore,
    MessageStore,
    SessionUpdate,
    StoredSequences,
)

T0 = datetime(2024, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
T1 = T0 + timedelta(days=1, microseconds=1)


@dataclass
class Harness:
    """Makes stores of one kind, and "restarts" them: a new object over the same data."""

    kind: str
    tmp_path: Path
    made: list[MessageStore] = field(default_factory=list)

    def make(self) -> MessageStore:
        store: MessageStore
        if self.kind == "memory":
            store = MemoryStore()
        else:
            store = LmdbStore(self.tmp_path / f"store{len(self.made)}")
        self.made.append(store)
        return store

    def reopen(self, store: MessageStore) -> MessageStore:
        if isinstance(store, LmdbStore):
            store.close()
            store = LmdbStore(store.path)
            self.made.append(store)
            return store
        # A MemoryStore's data lives in the object: releasing its sessions is the restart.
        for session_id in store.session_ids():
            store.close_session(session_id)
        return store

    def close_all(self) -> None:
        for store in self.made:
            store.close()


@pytest.fixture(params=["memory", "lmdb"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made = Harness(request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def store(harness: Harness) -> MessageStore:
    return harness.make()


def msgs(*seqs: int, tag: bytes = b"m") -> list[tuple[int, bytes]]:
    return [(seq, b"8=FIX.4.4\x01" + tag + str(seq).encode()) for seq in seqs]


def test_public_surface() -> None:
    assert sorted(trifix.store.__all__) == [
        "LmdbStore",
        "MemoryStore",
        "MessageStore",
        "SessionUpdate",
        "StoreError",
        "StoreLockedError",
        "StoredSequences",
        "SyncPolicy",
    ]


def test_new_session_starts_at_one(store: MessageStore) -> None:
    assert store.session_ids() == []
    assert store.open_session("S", T0) == StoredSequences(1, 1, T0)
    assert store.sequences("S") == StoredSequences(1, 1, T0)
    assert store.session_ids() == ["S"]
    assert list(store.get_range("S", 1, 0)) == []


def test_creation_time_is_stored_in_utc(store: MessageStore) -> None:
    local = T0.astimezone(timezone(timedelta(hours=-5)))
    created = store.open_session("S", local).creation_time
    assert created == T0
    assert created.utcoffset() == timedelta(0)


def test_existing_session_keeps_its_state(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.write([SessionUpdate("S", msgs(1, 2), next_sender_seq=3, next_target_seq=9)])
    store.close_session("S")
    assert store.open_session("S", T1) == StoredSequences(3, 9, T0)


def test_write_and_sequences(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.write([SessionUpdate("S", msgs(1, 2, 3), next_sender_seq=4, next_target_seq=7)])
    assert store.sequences("S") == StoredSequences(4, 7, T0)
    assert list(store.get_range("S", 1, 0)) == msgs(1, 2, 3)
    store.write([SessionUpdate("S", next_target_seq=8)])
    assert store.sequences("S") == StoredSequences(4, 8, T0)
    store.write([SessionUpdate("S", msgs(4), next_sender_seq=5)])
    assert store.sequences("S") == StoredSequences(5, 8, T0)
    store.write([])
    assert store.sequences("S") == StoredSequences(5, 8, T0)


def test_write_replaces_a_message_with_the_same_seq(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.write([SessionUpdate("S", msgs(1, 2))])
    store.write([SessionUpdate("S", msgs(2, tag=b"new"))])
    assert list(store.get_range("S", 1, 0)) == msgs(1) + msgs(2, tag=b"new")


def test_one_write_spans_sessions(store: MessageStore) -> None:
    store.open_session("A", T0)
    store.open_session("B", T0)
    store.write(
        [
            SessionUpdate("A", msgs(1, 2), next_sender_seq=3),
            SessionUpdate("B", msgs(1), next_target_seq=5),
            SessionUpdate("A", msgs(3), next_sender_seq=4),
        ]
    )
    assert store.sequences("A") == StoredSequences(4, 1, T0)
    assert store.sequences("B") == StoredSequences(1, 5, T0)
    assert list(store.get_range("A", 1, 0)) == msgs(1, 2, 3)
    assert list(store.get_range("B", 1, 0)) == msgs(1)


def test_get_range_bounds(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.write([SessionUpdate("S", msgs(1, 2, 3, 4, 6, 7, 8, 10))])

    def seqs(begin: int, end: int) -> list[int]:
        return [seq for seq, _ in store.get_range("S", begin, end)]

    assert seqs(3, 7) == [3, 4, 6, 7]
    assert seqs(5, 5) == []
    assert seqs(6, 6) == [6]
    assert seqs(8, 0) == [8, 10]
    assert seqs(1, 0) == [1, 2, 3, 4, 6, 7, 8, 10]
    assert seqs(11, 0) == []
    assert seqs(9, 9) == []
    assert seqs(7, 3) == []
    assert seqs(1, 2**64 - 1) == seqs(1, 0)
    assert list(store.get_range("S", 2, 3)) == msgs(2, 3)


def test_get_range_across_many_chunks(store: MessageStore) -> None:
    store.open_session("S", T0)
    present = [seq for seq in range(1, 3500) if seq % 1000 not in (0, 1, 999)]
    store.write([SessionUpdate("S", msgs(*present))])
    assert list(store.get_range("S", 1, 0)) == msgs(*present)
    assert [seq for seq, _ in store.get_range("S", 998, 2002)] == [
        seq for seq in present if 998 <= seq <= 2002
    ]


def test_sessions_whose_ids_are_prefixes_do_not_mix(store: MessageStore) -> None:
    for session_id in ("A", "AB", "B", "A B"):
        store.open_session(session_id, T0)
    store.write(
        [
            SessionUpdate("A", msgs(1, 2, 3, tag=b"a")),
            SessionUpdate("AB", msgs(1, 2, 3, tag=b"ab")),
            SessionUpdate("B", msgs(2, tag=b"b")),
            SessionUpdate("A B", msgs(9, tag=b"a b")),
        ]
    )
    assert list(store.get_range("A", 1, 0)) == msgs(1, 2, 3, tag=b"a")
    assert list(store.get_range("AB", 2, 0)) == msgs(2, 3, tag=b"ab")
    assert list(store.get_range("B", 1, 0)) == msgs(2, tag=b"b")
    assert store.trim("A", 3) == 2
    assert list(store.get_range("AB", 1, 0)) == msgs(1, 2, 3, tag=b"ab")
    store.reset("A", T1)
    assert list(store.get_range("A", 1, 0)) == []
    assert list(store.get_range("AB", 1, 0)) == msgs(1, 2, 3, tag=b"ab")
    assert list(store.get_range("A B", 1, 0)) == msgs(9, tag=b"a b")
    assert store.session_ids() == ["A", "A B", "AB", "B"]


def test_reset(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.open_session("T", T0)
    store.write(
        [
            SessionUpdate("S", msgs(1, 2, 3), next_sender_seq=4, next_target_seq=6),
            SessionUpdate("T", msgs(1), next_sender_seq=2),
        ]
    )
    store.reset("S", T1)
    assert store.sequences("S") == StoredSequences(1, 1, T1)
    assert list(store.get_range("S", 1, 0)) == []
    assert store.sequences("T") == StoredSequences(2, 1, T0)
    assert list(store.get_range("T", 1, 0)) == msgs(1)


def test_set_next_seqs(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.set_next_sender_seq("S", 42)
    assert store.sequences("S") == StoredSequences(42, 1, T0)
    store.set_next_target_seq("S", 7)
    assert store.sequences("S") == StoredSequences(42, 7, T0)
    store.set_next_sender_seq("S", 1)
    assert store.sequences("S") == StoredSequences(1, 7, T0)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="next_sender_seq"):
            store.set_next_sender_seq("S", bad)
        with pytest.raises(ValueError, match="next_target_seq"):
            store.set_next_target_seq("S", bad)
    assert store.sequences("S") == StoredSequences(1, 7, T0)


def test_trim(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.write([SessionUpdate("S", msgs(1, 2, 4, 5, 6), next_sender_seq=7)])
    assert store.trim("S", 1) == 0
    assert store.trim("S", 5) == 3
    assert list(store.get_range("S", 1, 0)) == msgs(5, 6)
    assert store.trim("S", 5) == 0
    assert store.trim("S", 100) == 2
    assert list(store.get_range("S", 1, 0)) == []
    assert store.sequences("S") == StoredSequences(7, 1, T0)
    with pytest.raises(ValueError, match="before_seq"):
        store.trim("S", 0)


def test_double_open_is_locked(store: MessageStore) -> None:
    store.open_session("S", T0)
    with pytest.raises(StoreLockedError, match=r"'S'.*close_session"):
        store.open_session("S", T0)
    store.open_session("T", T0)  # other sessions are not affected
    store.close_session("S")
    store.close_session("S")  # closing twice is harmless
    assert store.open_session("S", T1) == StoredSequences(1, 1, T0)


def test_lock_message_names_the_store(store: MessageStore) -> None:
    store.open_session("S", T0)
    with pytest.raises(StoreLockedError) as info:
        store.open_session("S", T0)
    where = str(store.path) if isinstance(store, LmdbStore) else "MemoryStore"
    assert where in str(info.value)


@pytest.mark.parametrize("session_id", ["", "A\x00B", "\ud800", "x" * 121])
def test_bad_session_ids(store: MessageStore, session_id: str) -> None:
    with pytest.raises(StoreError, match="session id"):
        store.open_session(session_id, T0)
    assert store.session_ids() == []


def test_longest_session_id(store: MessageStore) -> None:
    longest = "é" * 60  # 120 bytes in UTF-8
    store.open_session(longest, T0)
    store.write([SessionUpdate(longest, msgs(1))])
    assert store.session_ids() == [longest]
    assert list(store.get_range(longest, 1, 0)) == msgs(1)


def test_session_must_be_open(store: MessageStore) -> None:
    store.open_session("S", T0)
    store.write([SessionUpdate("S", msgs(1))])
    store.close_session("S")
    calls: list[Callable[[], object]] = [
        lambda: store.sequences("S"),
        lambda: store.write([SessionUpdate("S", msgs(2))]),
        lambda: store.get_range("S", 1, 0),
        lambda: store.reset("S", T1),
        lambda: store.set_next_sender_seq("S", 5),
        lambda: store.set_next_target_seq("S", 5),
        lambda: store.trim("S", 5),
        lambda: store.sequences("never-opened"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match=r"not open.*open_session"):
            call()
    assert store.open_session("S", T0) == StoredSequences(1, 1, T0)
    assert list(store.get_range("S", 1, 0)) == msgs(1)


def test_bad_write_stores_nothing(store: MessageStore) -> None:
    store.open_session("S", T0)
    good = SessionUpdate("S", msgs(1, 2), next_sender_seq=3)
    for bad in (
        SessionUpdate("S", msgs(3, 0)),
        SessionUpdate("S", next_sender_seq=0),
        SessionUpdate("S", next_target_seq=-4),
    ):
        with pytest.raises(ValueError):
            store.write([good, bad])
    with pytest.raises(StoreError, match="not open"):
        store.write([good, SessionUpdate("other", msgs(1))])
    assert store.sequences("S") == StoredSequences(1, 1, T0)
    assert list(store.get_range("S", 1, 0)) == []


def test_bad_numbers_and_times(store: MessageStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.open_session("S", datetime(2024, 1, 1))
    store.open_session("S", T0)
    with pytest.raises(ValueError, match="begin"):
        store.get_range("S", 0, 5)
    with pytest.raises(ValueError, match="end"):
        store.get_range("S", 1, -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.reset("S", datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        store.write([SessionUpdate("S", [(2**64, b"too big")])])
    assert store.sequences("S") == StoredSequences(1, 1, T0)


def test_closed_store(store: MessageStore) -> None:
    store.open_session("S", T0)
    with store:
        pass
    store.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.open_session("S", T0)
    with pytest.raises(StoreError, match="closed"):
        store.sequences("S")
    with pytest.raises(StoreError, match="closed"):
        store.session_ids()
    with pytest.raises(StoreError, match="closed"):
        store.write([])


def test_reopen_keeps_everything(harness: Harness) -> None:
    store = harness.make()
    store.open_session("S", T0)
    store.open_session("T", T1)
    store.write(
        [
            SessionUpdate("S", msgs(1, 2, 3), next_sender_seq=4, next_target_seq=11),
            SessionUpdate("T", msgs(5), next_sender_seq=6),
        ]
    )
    store = harness.reopen(store)
    assert store.session_ids() == ["S", "T"]
    assert store.open_session("S", T1) == StoredSequences(4, 11, T0)
    assert store.open_session("T", T0) == StoredSequences(6, 1, T1)
    assert list(store.get_range("S", 1, 0)) == msgs(1, 2, 3)
    assert list(store.get_range("T", 1, 0)) == msgs(5)


# -- the store against a dict model ------------------------------------------------------------

SESSIONS = ("A", "AB", "B")
session_ids = st.sampled_from(SESSIONS)
seq_numbers = st.integers(min_value=1, max_value=40)
moments = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
updates = st.builds(
    SessionUpdate,
    session_ids,
    st.lists(st.tuples(seq_numbers, st.binary(max_size=20)), max_size=6),
    st.none() | seq_numbers,
    st.none() | seq_numbers,
)


@dataclass
class ModelSession:
    next_sender_seq: int = 1
    next_target_seq: int = 1
    creation_time: datetime = T0
    messages: dict[int, bytes] = field(default_factory=dict)


class StoreMatchesModel(RuleBasedStateMachine):
    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        self.store = self.harness.make()
        self.model = {session_id: ModelSession() for session_id in SESSIONS}

    @initialize()
    def open_all(self) -> None:
        for session_id in SESSIONS:
            self.store.open_session(session_id, T0)

    @rule(batch=st.lists(updates, max_size=4))
    def write(self, batch: list[SessionUpdate]) -> None:
        self.store.write(batch)
        for update in batch:
            session = self.model[update.session_id]
            session.messages.update(update.messages)
            if update.next_sender_seq is not None:
                session.next_sender_seq = update.next_sender_seq
            if update.next_target_seq is not None:
                session.next_target_seq = update.next_target_seq

    @rule(session_id=session_ids, now=moments)
    def reset(self, session_id: str, now: datetime) -> None:
        self.store.reset(session_id, now)
        self.model[session_id] = ModelSession(creation_time=now)

    @rule(session_id=session_ids, before=seq_numbers)
    def trim(self, session_id: str, before: int) -> None:
        messages = self.model[session_id].messages
        doomed = [seq for seq in messages if seq < before]
        assert self.store.trim(session_id, before) == len(doomed)
        for seq in doomed:
            del messages[seq]

    @rule(session_id=session_ids, seq=seq_numbers, sender=st.booleans())
    def set_next(self, session_id: str, seq: int, sender: bool) -> None:
        if sender:
            self.store.set_next_sender_seq(session_id, seq)
            self.model[session_id].next_sender_seq = seq
        else:
            self.store.set_next_target_seq(session_id, seq)
            self.model[session_id].next_target_seq = seq

    @rule()
    def restart(self) -> None:
        self.store = self.harness.reopen(self.store)
        for session_id in SESSIONS:
            self.store.open_session(session_id, T1)

    @rule(session_id=session_ids, begin=seq_numbers, end=st.just(0) | seq_numbers)
    def get_range(self, session_id: str, begin: int, end: int) -> None:
        messages = self.model[session_id].messages
        expected = [
            (seq, messages[seq])
            for seq in sorted(messages)
            if begin <= seq and (end == 0 or seq <= end)
        ]
        assert list(self.store.get_range(session_id, begin, end)) == expected

    @invariant()
    def sequences_match(self) -> None:
        for session_id, session in self.model.items():
            assert self.store.sequences(session_id) == StoredSequences(
                session.next_sender_seq, session.next_target_seq, session.creation_time
            )

    def teardown(self) -> None:
        self.store.close()


def test_store_matches_dict_model(harness: Harness) -> None:
    machine = type("Machine", (StoreMatchesModel,), {"harness": harness})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=60, stateful_step_count=25, deadline=None)
    )

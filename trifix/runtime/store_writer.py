"""Group commit: every session's pending store updates go to the store in one transaction.

The store is blocking (an LMDB commit may fsync), so it runs in one worker thread at a time.
While a commit is in flight, updates from every session accumulate; the next commit takes them
all, so durability costs one sync per batch rather than per message.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TypeVar

import trio

from trifix.core.session import StoreUpdate
from trifix.store import MemoryStore, MessageStore, SessionUpdate

T = TypeVar("T")

DEFER_SECONDS = 0.05
"""The longest an inbound-only update waits for a commit to ride along with."""


class StoreWriter:
    """Owns the store for an engine: commits in batches, reads in chunks, one call at a time."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store
        # A store that never waits for the disk (in memory, or LMDB leaving syncs to the OS)
        # is called inline: no thread hop, no task hop (and tests on trio's MockClock stay
        # deterministic, since a worker thread lets mock time jump).
        self._inline = isinstance(store, MemoryStore) or getattr(store, "sync", None) == "os"
        self._limiter = trio.CapacityLimiter(1)
        self._pending: list[tuple[str, StoreUpdate, datetime]] = []
        self._waiters: list[trio.Event] = []
        self._wakeup = trio.Event()
        self._errors: dict[trio.Event, BaseException] = {}
        self._deferred_since: float | None = None
        self.commits = 0

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The committing task; start it in the engine's nursery."""
        task_status.started()
        while True:
            # Wait for an update someone waits on, or for deferred ones to come due.
            while not self._waiters:
                since = self._deferred_since
                if since is not None and trio.current_time() >= since + DEFER_SECONDS:
                    break
                with trio.move_on_at(math.inf if since is None else since + DEFER_SECONDS):
                    await self._wakeup.wait()
                self._wakeup = trio.Event()
            self._deferred_since = None
            batch, self._pending = self._pending, []
            waiters, self._waiters = self._waiters, []
            if not batch:
                continue
            try:
                await self.call(self._apply, batch)
                self.commits += 1
            except Exception as exc:  # reported to every waiter; the engine decides
                for waiter in waiters:
                    self._errors[waiter] = exc
            for waiter in waiters:
                waiter.set()

    def _apply(self, batch: Sequence[tuple[str, StoreUpdate, datetime]]) -> None:
        updates: list[SessionUpdate] = []
        for session_id, update, now in batch:
            if update.reset:
                if updates:  # what came before the reset in this batch goes first
                    self.store.write(updates)
                    updates = []
                self.store.reset(session_id, now)
            updates.append(
                SessionUpdate(
                    session_id, update.messages, update.next_sender_seq, update.next_target_seq
                )
            )
        self.store.write(updates)

    async def flush(self) -> None:
        """Commit whatever is pending now (on shutdown, before the store closes)."""
        batch, self._pending = self._pending, []
        waiters, self._waiters = self._waiters, []
        self._deferred_since = None
        if batch:
            await self.call(self._apply, batch)
        for waiter in waiters:
            waiter.set()

    def defer(self, session_id: str, update: StoreUpdate, now: datetime) -> None:
        """Store an update that only records inbound progress, without waiting for it.

        No bytes depend on it, so it needs no sync of its own: it rides along with the next
        commit, or is committed after `DEFER_SECONDS`. A crash in between loses at most that
        much inbound progress, and the peer resends it (flagged PossDup): what matters for the
        outbound side, the sequence numbers of bytes already written, is always committed
        before the bytes go out. The inbound number given here never counts an application
        message not yet handed to the application (the connection holds it back), so no
        message is lost, whenever the crash comes.
        """
        self._pending.append((session_id, update, now))
        if self._deferred_since is None:
            self._deferred_since = trio.current_time()
            self._wakeup.set()  # let the run loop start the deferral clock

    async def commit(self, session_id: str, update: StoreUpdate, now: datetime) -> None:
        """Make `update` durable (in the next group commit) and return when it is."""
        if self._inline:  # nothing to batch for: store it (and anything deferred) right now
            batch, self._pending = self._pending, []
            batch.append((session_id, update, now))
            self._deferred_since = None
            self._apply(batch)
            self.commits += 1
            return  # no checkpoint: the writer's send_all (or its next wait) is the next one
        done = trio.Event()
        self._pending.append((session_id, update, now))
        self._waiters.append(done)
        self._wakeup.set()
        await done.wait()
        error = self._errors.pop(done, None)
        if error is not None:
            raise error

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run a blocking store call in the store's worker thread."""
        if self._inline:
            result = fn(*args)  # before the checkpoint: no other task slips in between
            await trio.lowlevel.checkpoint()
            return result
        return await trio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def read_chunks(
        self, session_id: str, begin: int, end: int, chunk: int = 1000
    ) -> AsyncIterator[list[tuple[int, bytes]]]:
        """Stored messages of [begin, end] in chunks, each read in the worker thread, so a
        huge range never sits in memory at once. Consume it fully (or close it)."""
        it = await self.call(self.store.get_range, session_id, begin, end)

        def take() -> list[tuple[int, bytes]]:
            return list(itertools.islice(it, chunk))

        while True:
            part = await self.call(take)
            if not part:
                return
            yield part
            if len(part) < chunk:
                return

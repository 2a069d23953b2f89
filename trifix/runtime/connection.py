"""One transport's life for a session: reader, writer, timer and dispatcher in one nursery.

Theory of operation. The sans-IO `Session` core is called from several tasks (the reader with
received bytes, the timer, the application's `send`), never concurrently since trio runs one
task at a time and core calls do not await. After each call the caller `notify`s the
connection's tasks:

* the *writer* (the only task that writes to the socket) takes the core's `store_update()` and
  `data_to_send()` together, has the update committed (group commit across sessions, in the
  store's worker thread; in place for a store that never waits for the disk) and only then
  writes the bytes, all of the batch in one `send_all`;
* the core counts a received message as soon as it has processed it, but the runtime stores
  the expected inbound sequence number only up to the first application message not yet
  handed to the application's channel (see `Connection._store_update`): a crash before
  delivery makes the next logon ask the peer for that message again instead of losing it.
  While it holds the number back, the writer looks again every `DEFER_SECONDS` and records
  what the application has taken since. Admin messages and gap fills are never held back. If
  the connection ends with application messages still undelivered, the core is rewound to the
  first of them, so the next logon asks for them again in this process too;
* events are delivered to the application's channel in order, one deliverer at a time (a
  `trio.Lock`): the *reader* delivers what the bytes it fed produced before it reads more, so
  a slow application slows the peer down (TCP back-pressure) instead of growing memory; the
  *dispatcher* delivers what sends and timers produced. Delivering also streams replays from
  the store when the peer asks for a resend, and starts closing on `Disconnected`;
* the *timer* sleeps until the core's `next_deadline()` (woken only when that moves earlier)
  and calls `handle_timer`.

When the connection ends, the nursery ends and everything in it; nothing of this connection
survives into the next one.
"""

from __future__ import annotations

import logging
import ssl
from collections import deque
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import trio

from trifix.core.events import (
    AppMessageReceived,
    Disconnected,
    Event,
    LoggedOn,
    ResendRequested,
    SequencesReset,
)
from trifix.core.session import StoreUpdate
from trifix.runtime.store_writer import DEFER_SECONDS

if TYPE_CHECKING:
    from trifix.runtime.handle import SessionHandle

_log = logging.getLogger("trifix.runtime")
_READ_SIZE = 65536
_CLOSE_GRACE = 5.0  # seconds to flush a final Logout before the socket is closed anyway
_TRANSPORT_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError, OSError)


class Connection:
    """Drives `handle`'s session core over `stream` until the connection ends."""

    def __init__(self, handle: SessionHandle, stream: trio.abc.Stream, peer: str) -> None:
        self.handle = handle
        self.stream = handle.stream_filter(stream) if handle.stream_filter else stream
        self.peer = peer
        self._core = handle.core
        self._writer_wake = trio.Event()
        self._timer_wake = trio.Event()
        self._dispatch_wake = trio.Event()
        self._dispatch_lock = trio.Lock()  # one deliverer at a time keeps events in order
        self._closing = False
        self._cancel = trio.CancelScope()
        self._finished = trio.Event()
        self._timer_target: datetime | None = None  # when the timer task will next look
        # Events taken from the core, in order, not yet dispatched; and of those taken (in
        # flight included), the application messages of this sequence period not yet in the
        # application's channel. The first of them bounds the inbound number we store.
        self._pending: deque[Event] = deque()
        self._undelivered: deque[AppMessageReceived] = deque()
        self._held: StoreUpdate | None = None  # the last update given, if it held back
        self.logged_on = False
        """True once this connection completed a Logon (the initiator's measure of success)."""

    def notify(self, *, dispatch: bool = True) -> None:
        """The core was called: its outputs, events or deadline may have changed."""
        self._writer_wake.set()
        if dispatch:
            self._dispatch_wake.set()
        # Sending and receiving only push deadlines later, and a timer that wakes early just
        # sleeps again: wake it only when the core's next deadline is before its own.
        target = self._timer_target
        if target is None:
            self._timer_wake.set()
        else:
            deadline = self._core.next_deadline()
            if deadline is not None and deadline < target:
                self._timer_wake.set()

    async def run(self, initial: bytes = b"") -> None:
        """Run the connection to its end. `initial` holds bytes already read (acceptor)."""
        core = self._core
        clock = self.handle.clock
        core.connection_made(clock())
        if initial:
            core.receive_data(initial, clock())
        self.handle._attach(self)
        try:
            with self._cancel:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer)
                    nursery.start_soon(self._dispatcher)
                    nursery.start_soon(self._timer)
                    nursery.start_soon(self._reader)
                    self.notify()
        finally:
            with trio.CancelScope(shield=True):
                if core.is_connected:
                    core.connection_lost(clock(), "connection closed")
                with trio.move_on_after(1):  # a stalled application must not hold us here
                    await self._dispatch_pending()
                self._settle()
                self.handle._detach(self)
                await trio.aclose_forcefully(self.stream)
                self._finished.set()

    async def _reader(self) -> None:
        core = self._core
        handle = self.handle
        while core.is_connected:
            try:
                data = bytes(await self.stream.receive_some(_READ_SIZE))
            except _TRANSPORT_ERRORS as exc:
                handle._note_error(f"read failed: {exc!r}")
                data = b""
            now = handle.clock()
            handle._stats_in(data, now)
            core.receive_data(data, now)
            self.notify(dispatch=False)
            # Deliver what these bytes produced before reading more: a slow application
            # back-pressures the peer, and no task switch stands between bytes and events.
            await self._deliver_all()

    async def _deliver_all(self) -> None:
        """Deliver every pending event, holding the dispatch lock; no task switch unless the
        lock is taken or the application's channel is full (the reader's next receive and
        the dispatcher's next wait are the checkpoints)."""
        lock = self._dispatch_lock
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            await self._dispatch_pending()
        finally:
            lock.release()

    async def _writer(self) -> None:
        core = self._core
        handle = self.handle
        while True:
            update = self._store_update()
            data = core.data_to_send()
            written_up_to = core.next_sender_seq  # what these bytes cover, before any await
            if update is not None:
                if data or update.messages or update.reset:
                    # The bytes' sequence numbers must be durable before the bytes go out.
                    await handle.store.commit(handle.id, update, handle.clock())
                else:
                    handle.store.defer(handle.id, update, handle.clock())
            if data:
                try:
                    await self.stream.send_all(data[0] if len(data) == 1 else b"".join(data))
                except _TRANSPORT_ERRORS as exc:
                    handle._note_error(f"write failed: {exc!r}")
                    core.connection_lost(handle.clock(), "write failed")
                    self.notify()
                    self._closing = True
                else:
                    handle._note_sent(data)
                    handle._flushed(written_up_to)
                continue
            if update is not None:
                continue
            if core.is_connected and not core.holding_output:  # idle: everything is written
                handle._flushed(core.next_sender_seq)
            if self._closing:
                self._cancel.cancel()
                return
            if self._held is None:
                await self._writer_wake.wait()
            else:  # look again soon: the application's progress moves the stored number on
                with trio.move_on_after(DEFER_SECONDS):
                    await self._writer_wake.wait()
            self._writer_wake = trio.Event()

    async def _dispatcher(self) -> None:
        """Delivers the events of core calls made outside the reader (sends, timers)."""
        while True:
            await self._deliver_all()
            await self._dispatch_wake.wait()
            self._dispatch_wake = trio.Event()

    async def _dispatch_pending(self) -> None:
        pending = self._pending
        while True:
            self._collect()
            if not pending:
                break
            while pending:
                await self._dispatch(pending.popleft())

    def _collect(self) -> None:
        """Take the core's new events (no await: nothing can slip in between)."""
        events = self._core.events()
        if not events:
            return
        self._pending.extend(events)
        undelivered = self._undelivered
        for event in events:
            if type(event) is AppMessageReceived:
                undelivered.append(event)
            elif type(event) is SequencesReset:
                # A new sequence period: numbers before it mean nothing to the store now.
                undelivered.clear()

    def _store_update(self) -> StoreUpdate | None:
        """The core's store update, with the inbound sequence number held back to the first
        application message not yet delivered.

        Called with no await since the last `_collect` of the caller's own, so every message the
        core has counted is either in the application's channel or in `_undelivered`. When the
        core has nothing new but an earlier update was held back and the application has taken
        messages since, an inbound-only update records that progress.
        """
        self._collect()
        core = self._core
        update = core.store_update()
        undelivered = self._undelivered
        if update is None:
            held = self._held
            if held is None:
                return None
            target = core.next_target_seq
            if undelivered:
                target = min(target, undelivered[0].message.seq_num)
            if target == held.next_target_seq:
                return None
            update = StoreUpdate(False, [], held.next_sender_seq, target)
        elif undelivered:
            first = undelivered[0].message.seq_num
            if first < update.next_target_seq:
                update = replace(update, next_target_seq=first)
        self._held = update if update.next_target_seq < core.next_target_seq else None
        return update

    def _settle(self) -> None:
        """The connection is over: application messages it did not deliver are forgotten by
        the core (rewound to the first of them, so the next logon asks the peer for them
        again) and the last inbound progress is queued for the store."""
        self._collect()
        core = self._core
        handle = self.handle
        undelivered = self._undelivered
        if undelivered:  # the core is disconnected: `run` made sure of it
            first = undelivered[0].message.seq_num
            _log.warning(
                "session %s: %d application messages from MsgSeqNum %d on were not delivered "
                "before the connection ended; the next logon asks for them again",
                handle.id,
                len(undelivered),
                first,
            )
            core.refresh(core.next_sender_seq, min(first, core.next_target_seq))
        update = self._store_update()
        if update is not None:
            handle.store.defer(handle.id, update, handle.clock())
        self._pending.clear()
        undelivered.clear()

    async def _dispatch(self, event: Event) -> None:
        handle = self.handle
        if type(event) is AppMessageReceived:  # the common case, first
            await handle._deliver(event)
            undelivered = self._undelivered
            if undelivered and undelivered[0] is event:
                undelivered.popleft()
            return
        if isinstance(event, ResendRequested):
            await self._replay(event)
        elif isinstance(event, LoggedOn):
            self.logged_on = True
        elif isinstance(event, Disconnected):
            self._closing = True
            self._writer_wake.set()
            handle._note_disconnect(event)
        await handle._deliver(event)

    async def _replay(self, event: ResendRequested) -> None:
        core = self._core
        handle = self.handle
        if not core.is_connected:
            return
        replay = core.begin_replay(event.begin, event.end, handle.clock())
        try:
            chunks = handle.store.read_chunks(handle.id, event.begin, event.end)
            async for chunk in chunks:
                replay.feed(chunk)
                self._writer_wake.set()
        finally:
            replay.finish()
            self._writer_wake.set()

    async def _timer(self) -> None:
        core = self._core
        clock = self.handle.clock
        while core.is_connected:
            deadline = core.next_deadline()
            self._timer_target = deadline
            wake = self._timer_wake
            if deadline is None:
                await wake.wait()
            else:
                delay = (deadline - clock()).total_seconds()
                if delay > 0:
                    with trio.move_on_after(max(delay, 0.001)):
                        await wake.wait()
            if wake.is_set():
                self._timer_wake = trio.Event()
            due = core.next_deadline()
            if due is not None and due <= clock():
                core.handle_timer(clock())
                self.notify()

    async def close(self, grace: float = _CLOSE_GRACE) -> None:
        """Close now: give the writer `grace` seconds to flush, then cancel everything."""
        self._closing = True
        self._writer_wake.set()
        with trio.move_on_after(grace):
            await self._finished.wait()
        self._cancel.cancel()

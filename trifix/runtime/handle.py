"""`SessionHandle`: what an application holds for one session."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import trio

from trifix.core.errors import LocalProtocolError
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    Event,
    LoggedOn,
    SequenceResetReceived,
)
from trifix.core.message import Message
from trifix.core.session import Session
from trifix.core.state import SessionState
from trifix.core.tags import MsgType
from trifix.runtime.specs import Clock, SessionSpec
from trifix.runtime.store_writer import StoreWriter
from trifix.runtime.throttle import Throttle

if TYPE_CHECKING:
    from trifix.runtime.connection import Connection


_log = logging.getLogger("trifix.runtime")
_MSG_TYPE_FIELD = b"\x0135="


class NotLoggedOnError(LocalProtocolError):
    """`send` was called while the session is not logged on."""


class SessionObserver:
    """Sees a session's life without taking anything from the application's event channel.

    Attach with `SessionHandle.add_observer`. The runtime calls these methods synchronously,
    in the session's own task, so they must be quick and must not block (count, log, start or
    end a span). An exception from an observer is logged and ignored: observing must never
    break a session. The default methods do nothing; override what you need.
    """

    def on_event(self, handle: SessionHandle, event: Event) -> None:
        """`event` is about to be delivered to the application (same order, same events)."""

    def on_sent(self, handle: SessionHandle, frames: Sequence[bytes]) -> None:
        """`frames` (encoded messages) were written to the socket, in order."""

    def on_connected(self, handle: SessionHandle, peer: str) -> None:
        """A transport to `peer` is up (before any Logon)."""

    def on_error(self, handle: SessionHandle, text: str) -> None:
        """A failure the session records as its `last_error` (connect, read, write...)."""


@dataclass(frozen=True, slots=True)
class SessionStatistics:
    """A snapshot of one session, for health checks, dashboards and tests."""

    id: str
    state: SessionState
    enabled: bool
    connected: bool
    logged_on: bool
    peer: str | None
    next_sender_seq: int
    next_target_seq: int
    messages_in: int
    """Every message received (admin ones included), since the engine started."""
    messages_out: int
    """Every message sent (resends and gap fills included), since the engine started."""
    app_messages_in: int
    """Application messages delivered to the application."""
    bytes_in: int
    connects: int
    reconnect_attempts: int
    logged_on_since: datetime | None
    last_received: datetime | None
    last_error: str | None
    awaiting_resend: bool = False
    """True while a ResendRequest of ours is outstanding (the inbound sequence has a gap)."""
    messages_in_by_type: Mapping[str, int] = field(default_factory=dict)
    """Messages processed in sequence, by MsgType (Logon, Heartbeat... and application ones)."""
    messages_out_by_type: Mapping[str, int] = field(default_factory=dict)
    """Messages written to the socket, by MsgType (resends and gap fills included)."""
    event_counts: Mapping[str, int] = field(default_factory=dict)
    """Session events delivered, by event class name (``"GapDetected"``, ``"PeerTimedOut"``...)."""


class SessionHandle:
    """One configured session: its core, its connection (when there is one), its events.

    Applications use `send`, `wait_logged_on`, `events`, `logout` and `statistics`; the
    runtime's initiator and acceptor attach connections to it.
    """

    def __init__(
        self, spec: SessionSpec, core: Session, store: StoreWriter, clock: Clock, buffer: int
    ) -> None:
        self.spec = spec
        self.id = spec.id
        self.core = core
        self.store = store
        self.clock = clock
        self.enabled = spec.enabled
        self._throttle = Throttle(spec.throttle) if spec.throttle else None
        self._events_send, self._events_recv = trio.open_memory_channel[Event](buffer)
        self._connection: Connection | None = None
        self._logged_on = trio.Event()
        self._disconnected = trio.Event()
        self._flush_waiters: list[tuple[int, trio.Event]] = []
        self._messages_in = 0
        self._bytes_in = 0
        self._connects = 0
        self.reconnect_attempts = 0
        self.initiator_running = False
        self._logged_on_since: datetime | None = None
        self._last_received: datetime | None = None
        self._last_error: str | None = None
        self._in_by_type: dict[str, int] = {}
        self._out_by_type: dict[bytes, int] = {}
        self._event_counts: dict[type[Event], int] = {}
        self._observers: tuple[SessionObserver, ...] = ()
        self.stream_filter: Callable[[trio.abc.Stream], trio.abc.Stream] | None = None
        """Wraps each new connection's stream before the session uses it, whichever way it was
        made (accepted, dialled or given to `Engine.run_connection`): for tests and simulators
        that tamper with the wire, e.g. drop chosen frames. None leaves streams alone."""

    # -- application API ------------------------------------------------------------------
    @property
    def state(self) -> SessionState:
        """The core's `SessionState`."""
        return self.core.state

    @property
    def is_logged_on(self) -> bool:
        """True while the session is logged on."""
        return self.core.is_logged_on and self._connection is not None

    async def wait_logged_on(self) -> None:
        """Return once the session is logged on (at once if it already is)."""
        while not self.is_logged_on:
            await self._logged_on.wait()

    async def wait_disconnected(self) -> None:
        """Return once the current connection (if any) has ended."""
        if self._connection is not None:
            await self._disconnected.wait()

    async def send(self, message: Message) -> int:
        """Send an application message; returns its sequence number.

        The message is queued in sequence at once; it is stored and written by the
        connection's writer right after (see `wait_flushed`). Waits for the throttle when one is
        configured with on_limit="wait".

        Raises:
            NotLoggedOnError: the session is not logged on.
            ThrottledError: over the rate limit with on_limit="error".
        """
        if self._throttle is not None:
            await self._throttle.acquire(self.id)
        connection = self._connection
        if connection is None or not self.core.is_logged_on:
            raise NotLoggedOnError(f"session {self.id} is not logged on ({self.state.value})")
        seq = self.core.send(message, self.clock())
        connection.notify()
        return seq

    async def wait_flushed(self) -> None:
        """Return once everything sent so far is stored and written to the socket.

        Raises:
            NotLoggedOnError: the connection ended first. What was sent is stored, so the
                peer gets it again when it asks for a resend after the next logon.
        """
        target = self.core.next_sender_seq
        if self._flushed_seq >= target:
            return
        if self._connection is None:
            raise NotLoggedOnError(f"session {self.id} is not connected: nothing is written")
        done = trio.Event()
        self._flush_waiters.append((target, done))
        await done.wait()
        if self._flushed_seq < target:
            raise NotLoggedOnError(
                f"session {self.id}: the connection ended before messages up to "
                f"{target - 1} were written; they are stored and will be resent on request"
            )

    _flushed_seq = 0

    async def logout(self, text: str | None = None) -> None:
        """Log out and wait for the connection to end (answer or logout timeout)."""
        connection = self._connection
        if connection is None:
            return
        self.core.logout(self.clock(), text)
        connection.notify()
        await self._disconnected.wait()

    def events(self) -> trio.MemoryReceiveChannel[Event]:
        """Every event of this session (application messages included), in order.

        A memory channel: ``async for event in handle.events()`` or
        ``await handle.events().receive()``; all callers share one stream of events. It is
        closed when the engine stops, after the last events (the Logout) have been delivered,
        so an ``async for`` over it ends by itself.
        """
        return self._events_recv

    def _close_events(self) -> None:
        self._events_send.close()

    def statistics(self) -> SessionStatistics:
        """A snapshot of the session's state and counters."""
        conn = self._connection
        return SessionStatistics(
            id=self.id,
            state=self.core.state,
            enabled=self.enabled,
            connected=conn is not None,
            logged_on=self.is_logged_on,
            peer=conn.peer if conn else None,
            next_sender_seq=self.core.next_sender_seq,
            next_target_seq=self.core.next_target_seq,
            messages_in=self.core.messages_received,
            messages_out=self.core.messages_sent,
            app_messages_in=self._messages_in,
            bytes_in=self._bytes_in,
            connects=self._connects,
            reconnect_attempts=self.reconnect_attempts,
            logged_on_since=self._logged_on_since,
            last_received=self._last_received,
            last_error=self._last_error,
            awaiting_resend=self.core.awaiting_resend,
            messages_in_by_type=dict(self._in_by_type),
            messages_out_by_type={k.decode("latin-1"): v for k, v in self._out_by_type.items()},
            event_counts={k.__name__: v for k, v in self._event_counts.items()},
        )

    def add_observer(self, observer: SessionObserver) -> None:
        """Let `observer` see this session's events, writes, connections and errors."""
        if observer not in self._observers:
            self._observers = (*self._observers, observer)

    def remove_observer(self, observer: SessionObserver) -> None:
        """Stop calling `observer` (no error if it was not attached)."""
        self._observers = tuple(o for o in self._observers if o is not observer)

    def reconfigure(self, spec: SessionSpec) -> None:
        """Take a changed spec's reloadable settings (see `Engine.reconfigure_session`)."""
        if spec.id != self.id:
            raise LocalProtocolError(f"spec {spec.id} does not belong to session {self.id}")
        self.spec = spec
        self.enabled = spec.enabled
        self._throttle = Throttle(spec.throttle) if spec.throttle else None

    # -- runtime side ------------------------------------------------------------------------
    def is_busy(self) -> bool:
        """True while a connection is attached (a new one must be refused)."""
        return self._connection is not None

    @property
    def connection(self) -> Connection | None:
        """The live connection, if any."""
        return self._connection

    def _attach(self, connection: Connection) -> None:
        self._connection = connection
        self._disconnected = trio.Event()
        self._flushed_seq = 0
        self._connects += 1
        for observer in self._observers:
            try:
                observer.on_connected(self, connection.peer)
            except Exception:
                _log.exception("session %s: observer %r failed", self.id, observer)

    def _detach(self, connection: Connection) -> None:
        if self._connection is connection:
            self._connection = None
            self._logged_on = trio.Event()
            self._logged_on_since = None
            self._disconnected.set()
            for _target, done in self._flush_waiters:
                done.set()  # nothing more will be written on this connection
            self._flush_waiters = []

    async def _deliver(self, event: Event) -> None:
        """Hand `event` to the application's channel. It waits (a checkpoint) only while the
        channel is full: a reader delivering a batch of events runs on without a task switch
        per event, and the application takes the whole batch in its next turn."""
        self._observe(event)
        try:
            self._events_send.send_nowait(event)
        except trio.WouldBlock:
            await self._events_send.send(event)

    def _observe(self, event: Event) -> None:
        """Count `event` and show it to the observers, just before it is delivered."""
        kind = type(event)
        counts = self._event_counts
        counts[kind] = counts.get(kind, 0) + 1
        if isinstance(event, AppMessageReceived | AdminMessageReceived):
            mt = event.message.msg_type
            by_type = self._in_by_type
            by_type[mt] = by_type.get(mt, 0) + 1
            if kind is AppMessageReceived:
                self._messages_in += 1
        elif isinstance(event, LoggedOn):
            self._logged_on_since = self.clock()
            self._logged_on.set()
        elif kind is SequenceResetReceived:
            by_type = self._in_by_type
            by_type[MsgType.SEQUENCE_RESET] = by_type.get(MsgType.SEQUENCE_RESET, 0) + 1
        for observer in self._observers:
            try:
                observer.on_event(self, event)
            except Exception:
                _log.exception("session %s: observer %r failed", self.id, observer)

    def _note_disconnect(self, event: Disconnected) -> None:
        if event.error:
            self._last_error = event.reason

    def _note_error(self, text: str) -> None:
        self._last_error = text
        for observer in self._observers:
            try:
                observer.on_error(self, text)
            except Exception:
                _log.exception("session %s: observer %r failed", self.id, observer)

    def _note_sent(self, frames: list[bytes]) -> None:
        """Count what was written by MsgType (35 is the third field of every frame we encode)."""
        by_type = self._out_by_type
        for frame in frames:
            start = frame.find(_MSG_TYPE_FIELD) + 4
            mt = frame[start : frame.find(b"\x01", start)]
            by_type[mt] = by_type.get(mt, 0) + 1
        for observer in self._observers:
            try:
                observer.on_sent(self, frames)
            except Exception:
                _log.exception("session %s: observer %r failed", self.id, observer)

    def _stats_in(self, data: bytes, now: datetime) -> None:
        self._bytes_in += len(data)
        if data:
            self._last_received = now

    def _flushed(self, next_seq: int) -> None:
        self._flushed_seq = next_seq
        if self._flush_waiters:
            keep = []
            for target, done in self._flush_waiters:
                if next_seq >= target:
                    done.set()
                else:
                    keep.append((target, done))
            self._flush_waiters = keep

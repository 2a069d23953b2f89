"""The engine: sessions, their store, initiators and the acceptor, supervised in one nursery.

    async with open_engine(spec) as engine:
        lp = engine.session("LP1")
        await lp.wait_logged_on()
        await lp.send(order)
        async for event in lp.events():
            ...

Leaving the block logs every session out (up to its logout timeout), stops every task and
closes the store.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import trio

from trifix.core.errors import LocalProtocolError
from trifix.core.session import Session
from trifix.core.settings import Role
from trifix.runtime.acceptor import Acceptor
from trifix.runtime.connection import Connection
from trifix.runtime.handle import SessionHandle
from trifix.runtime.initiator import run_initiator
from trifix.runtime.specs import Clock, EngineSpec, SessionSpec, system_clock
from trifix.runtime.store_writer import StoreWriter
from trifix.store import LmdbStore, MemoryStore, MessageStore


class Engine:
    """A running engine: look sessions up with `session(id)`."""

    def __init__(self, spec: EngineSpec, store: StoreWriter, clock: Clock) -> None:
        self.spec = spec
        self.store = store
        self.clock = clock
        self.sessions: dict[str, SessionHandle] = {}
        self.acceptor: Acceptor | None = None
        self._nursery: trio.Nursery | None = None
        self.rng = random.Random()

    def session(self, session_id: str) -> SessionHandle:
        """The handle of a configured session. Raises KeyError naming the known ones."""
        try:
            return self.sessions[session_id]
        except KeyError:
            known = ", ".join(sorted(self.sessions)) or "none"
            raise KeyError(f"no session {session_id!r} (configured: {known})") from None

    @property
    def listen_port(self) -> int | None:
        """The acceptor's actual port (useful when configured as 0)."""
        return self.acceptor.port if self.acceptor else None

    def statistics(self) -> Mapping[str, object]:
        """Every session's statistics, by id."""
        return {sid: h.statistics() for sid, h in self.sessions.items()}

    async def run_connection(
        self, session_id: str, stream: trio.abc.Stream, peer: str = "in-process"
    ) -> None:
        """Run `session_id` over an already connected stream until the connection ends.

        For transports the engine does not open itself: in-process pairs (the embedded
        simulator, tests on `trio.testing.memory_stream_pair`), or sockets accepted elsewhere.
        Raises LocalProtocolError if the session is already connected.
        """
        handle = self.session(session_id)
        if handle.connection is not None:
            raise LocalProtocolError(f"session {session_id} is already connected")
        await Connection(handle, stream, peer).run()

    def reconfigure_session(self, spec: SessionSpec) -> None:
        """Apply the reloadable part of a changed session: schedule, reconnection policy,
        throttle and enabled. Identity, hosts and TLS need a restart (the config layer says so).

        Disabling logs the session out (in the background) and stops reconnecting; enabling
        starts connecting again (an initiator) or accepting (an acceptor).
        """
        handle = self.session(spec.id)
        was_enabled = handle.enabled
        handle.reconfigure(spec)
        nursery = self._nursery
        if nursery is None:
            return
        if was_enabled and not spec.enabled and handle.connection is not None:
            nursery.start_soon(self._logout, handle)
        if not was_enabled and spec.enabled:
            self._start_session(handle)

    async def add_session(self, spec: SessionSpec) -> SessionHandle:
        """Start a new session in the running engine (its store entry is created if new)."""
        if spec.id in self.sessions:
            raise LocalProtocolError(f"session {spec.id} already exists")
        handle = await self._make_handle(spec)
        self.sessions[spec.id] = handle
        if spec.settings.role is Role.ACCEPTOR and self.acceptor is not None:
            self.acceptor.add(handle)
        self._start_session(handle)
        return handle

    async def _make_handle(self, spec: SessionSpec) -> SessionHandle:
        now = self.clock()
        stored = await self.store.call(self.store.store.open_session, spec.id, now)
        core = Session(
            spec.settings,
            next_sender_seq=stored.next_sender_seq,
            next_target_seq=stored.next_target_seq,
        )
        if spec.schedule.needs_reset(stored.creation_time, now):
            core.reset_sequences("new session period")
        return SessionHandle(spec, core, self.store, self.clock, self.spec.event_buffer)

    def _start_session(self, handle: SessionHandle) -> None:
        spec = handle.spec
        if self._nursery is None or not handle.enabled:
            return
        if spec.settings.role is Role.INITIATOR and spec.hosts and not handle.initiator_running:
            self._nursery.start_soon(run_initiator, self, handle)

    async def shutdown(self) -> None:
        """Log every connected session out, concurrently, each within its logout timeout."""
        async with trio.open_nursery() as nursery:
            for handle in self.sessions.values():
                if handle.connection is not None:
                    nursery.start_soon(self._logout, handle)

    @staticmethod
    async def _logout(handle: SessionHandle) -> None:
        timeout = handle.spec.settings.logout_timeout.total_seconds() + 1
        with trio.move_on_after(timeout):
            if handle.core.is_logged_on:
                await handle.logout("shutting down")
        connection = handle.connection
        if connection is not None:
            await connection.close(grace=1)


def _open_store(spec: EngineSpec) -> MessageStore:
    if spec.store_path is None:
        return MemoryStore()
    return LmdbStore(spec.store_path, sync=spec.store_sync)


@asynccontextmanager
async def open_engine(
    spec: EngineSpec, *, clock: Clock = system_clock, store: MessageStore | None = None
) -> AsyncIterator[Engine]:
    """Start an engine for `spec`; see the module docstring.

    Args:
        spec: sessions, store and listening port.
        clock: wall time (tests pass one driven by trio's MockClock).
        store: a store to use instead of the one `spec` describes (it is not closed here).
    """
    own_store = store is None
    message_store = store if store is not None else _open_store(spec)
    try:
        writer = StoreWriter(message_store)
        engine = Engine(spec, writer, clock)
        for session_spec in spec.sessions:
            engine.sessions[session_spec.id] = await engine._make_handle(session_spec)
        async with trio.open_nursery() as nursery:
            engine._nursery = nursery
            await nursery.start(writer.run)
            acceptors = [
                h for h in engine.sessions.values() if h.spec.settings.role is Role.ACCEPTOR
            ]
            if acceptors and spec.listen_port is not None:
                engine.acceptor = Acceptor(engine, acceptors)
                await nursery.start(engine.acceptor.serve)
            for handle in engine.sessions.values():
                engine._start_session(handle)
            try:
                yield engine
            finally:
                with trio.CancelScope(shield=True):
                    await engine.shutdown()
                nursery.cancel_scope.cancel()
        with trio.CancelScope(shield=True):
            await writer.flush()  # deferred inbound progress, before the store closes
        for handle in engine.sessions.values():
            handle._close_events()  # `async for event in handle.events()` ends here
    finally:
        if own_store:
            message_store.close()

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
from trifix.runtime.specs import Clock, EngineSpec, system_clock
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
        now = clock()
        for session_spec in spec.sessions:
            stored = message_store.open_session(session_spec.id, now)
            core = Session(
                session_spec.settings,
                next_sender_seq=stored.next_sender_seq,
                next_target_seq=stored.next_target_seq,
            )
            if session_spec.schedule.needs_reset(stored.creation_time, now):
                core.reset_sequences("new session period")
            handle = SessionHandle(session_spec, core, writer, clock, spec.event_buffer)
            engine.sessions[session_spec.id] = handle
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
                if handle.spec.settings.role is Role.INITIATOR and handle.spec.hosts:
                    nursery.start_soon(run_initiator, engine, handle)
            try:
                yield engine
            finally:
                with trio.CancelScope(shield=True):
                    await engine.shutdown()
                nursery.cancel_scope.cancel()
    finally:
        if own_store:
            message_store.close()

"""Running a simulator: the engine, the listening port, and one application per session.

    async with open_simulator(spec) as sim:
        print(sim.port)                       # the port it listens on (spec.listen_port 0)
        gw = sim.session("GW")                # a `SimSession`: its controls
        gw.set_behaviour(fill="none")
        ...

The simulator is a client of trifix's public runtime API: an `Engine` whose acceptor sessions
are connected through `Engine.run_connection`. It listens itself (instead of the engine's own
acceptor) so it can put a `FaultyStream` under each connection: that is where induced gaps and
dropped heartbeats happen. Routing is the acceptor's: by the SenderCompID and TargetCompID of
the first message, which must be a Logon.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from simulator.echo import EchoApp
from simulator.lp import LPApp
from simulator.market import Book, Market
from simulator.session import SessionApp, SimSession
from simulator.spec import AppMode, SimulatorSpec
from trifix.core.codec import Framer
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, open_engine, system_clock
from trifix.runtime.specs import Clock
from trifix.store import MessageStore

__all__ = [
    "FIRST_MESSAGE_TIMEOUT",
    "Simulator",
    "SimulatorControl",
    "open_simulator",
    "serve_simulator",
]

FIRST_MESSAGE_TIMEOUT = 10.0
"""Seconds a new connection has to send its Logon."""

_TRANSPORT_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


class Simulator:
    """A running simulator: its sessions' controls, its market and its port.

    Attributes:
        spec: what it runs.
        port: the port it listens on, or None when it does not listen.
        market: the simulated market all LP sessions share.
        refused: why connections were refused, oldest first (unknown CompIDs, busy session...).
    """

    def __init__(self, spec: SimulatorSpec, market: Market) -> None:
        self.spec = spec
        self.market = market
        self.port: int | None = None
        self.sessions: dict[str, SimSession] = {}
        self.refused: list[str] = []

    def session(self, session_id: str) -> SimSession:
        """The controls of a session. Raises KeyError naming the known ones."""
        try:
            return self.sessions[session_id]
        except KeyError:
            known = ", ".join(sorted(self.sessions))
            raise KeyError(f"no session {session_id!r} (configured: {known})") from None

    def book(self, symbol: str) -> Book:
        """The simulated book of `symbol` now (what a subscriber's book should show)."""
        return self.market.book(symbol)

    async def run_connection(
        self, session_id: str, stream: trio.abc.Stream, peer: str = "in-process"
    ) -> None:
        """Run `session_id` over an already connected stream (tests, in-process peers)."""
        await self.session(session_id).run_connection(stream, peer)

    # -- listening ----------------------------------------------------------------------------
    async def serve(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on the spec's port and serve connections until cancelled."""
        spec = self.spec
        assert spec.listen_port is not None
        listeners: list[trio.abc.Listener[trio.abc.Stream]] = list(
            await trio.open_tcp_listeners(spec.listen_port, host=spec.listen_host)
        )
        first = listeners[0]
        assert isinstance(first, trio.SocketListener)
        self.port = first.socket.getsockname()[1]
        if spec.tls is not None:
            ctx = spec.tls.server_context()
            listeners = [trio.SSLListener(listener, ctx) for listener in listeners]
        task_status.started()
        await trio.serve_listeners(self._serve_one, listeners)

    async def _serve_one(self, stream: trio.abc.Stream) -> None:
        peer = _peer_name(stream)
        try:
            data, first = await _first_message(stream)
            session = self._route(peer, first)
            if session is not None:
                await session.run_connection(stream, peer, data)
        finally:
            await trio.aclose_forcefully(stream)

    def _route(self, peer: str, first: Message | None) -> SimSession | None:
        if first is None or first.msg_type != MsgType.LOGON:
            self.refused.append(f"{peer}: no FIX Logon received")
            return None
        key = (first.get_str(Tag.SENDER_COMP_ID, ""), first.get_str(Tag.TARGET_COMP_ID, ""))
        for session in self.sessions.values():
            settings = session.spec.session.settings
            if (settings.target_comp_id, settings.sender_comp_id) != key:
                continue
            if session.handle.is_busy():
                self.refused.append(f"{peer}: session {session.id} is already connected")
                return None
            if not session.accepting:
                self.refused.append(f"{peer}: session {session.id} is restarting")
                return None
            return session
        self.refused.append(f"{peer}: unknown CompIDs {key[0]}->{key[1]}")
        return None


SimulatorControl = Simulator
"""The control API's name in the docs and in the conformance runner: the `Simulator` itself."""


def _peer_name(stream: trio.abc.Stream) -> str:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if isinstance(inner, trio.SocketStream):
        host, port = inner.socket.getpeername()[:2]
        return f"{host}:{port}"
    return "unknown"


async def _first_message(stream: trio.abc.Stream) -> tuple[bytes, Message | None]:
    """Read until the first frame: every byte read, and that frame when it is a message."""
    framer = Framer()
    data = b""
    with trio.move_on_after(FIRST_MESSAGE_TIMEOUT):
        try:
            while True:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return data, None
                data += chunk
                for frame in framer.feed(chunk):
                    return data, frame if isinstance(frame, Message) else None
        except _TRANSPORT_ERRORS:
            return data, None
    return data, None


def _make_app(simulator: Simulator, session: SimSession, rng: random.Random) -> SessionApp:
    if session.app_mode is AppMode.ECHO:
        return EchoApp(session.handle)
    return LPApp(session, simulator.market, rng)


@asynccontextmanager
async def open_simulator(
    spec: SimulatorSpec, *, clock: Clock = system_clock, store: MessageStore | None = None
) -> AsyncIterator[Simulator]:
    """Start a simulator for `spec`; leaving the block logs every session out and stops it.

    Args:
        spec: sessions, instruments, seed, port.
        clock: wall time (tests pass one that follows trio's MockClock).
        store: a store to use instead of the one `spec` describes (it is not closed here).

    Yields:
        The running `Simulator`: `port`, `session(id)` controls, `book(symbol)`.
    """
    engine_spec = EngineSpec(
        sessions=[s.session for s in spec.sessions],
        store_path=spec.store_path,
        store_sync=spec.store_sync,
        listen_port=None,  # the simulator listens itself, to put faults under connections
    )
    market = Market(spec.instruments, spec.seed, clock)
    simulator = Simulator(spec, market)
    async with (
        open_engine(engine_spec, clock=clock, store=store) as engine,
        trio.open_nursery() as nursery,
    ):
        for session_spec in spec.sessions:
            session = SimSession(session_spec, engine)
            rng = random.Random(f"{spec.seed}:{session.id}")
            session.app = _make_app(simulator, session, rng)
            simulator.sessions[session.id] = session
            nursery.start_soon(session.app.serve)
        nursery.start_soon(market.run, spec.tick_interval)
        if spec.listen_port is not None:
            await nursery.start(simulator.serve)
        try:
            yield simulator
        finally:
            with trio.CancelScope(shield=True):
                await engine.shutdown()  # a Logout on every live connection first
            nursery.cancel_scope.cancel()


async def serve_simulator(
    spec: SimulatorSpec,
    *,
    clock: Clock = system_clock,
    task_status: trio.TaskStatus[Simulator] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a simulator until cancelled; `nursery.start(serve_simulator, spec)` returns it
    once it listens (so its `port` is known)."""
    async with open_simulator(spec, clock=clock) as simulator:
        task_status.started(simulator)
        await trio.sleep_forever()

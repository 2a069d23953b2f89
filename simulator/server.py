"""Running a simulator: the engine, the listening port, and one application per session.

    async with open_simulator(spec) as sim:
        print(sim.port)                       # the port it listens on (spec.listen_port 0)
        gw = sim.session("GW")                # a `SimSession`: its controls
        gw.set_behaviour(fill="none")
        ...

The simulator is a client of trifix's public runtime API: an `Engine` whose acceptor serves
every session on one port (routing by the Logon's CompIDs, refusing unknown or busy sessions).
Each session's `SessionHandle.stream_filter` puts a `FaultyStream` under its connections: that
is where induced gaps and dropped heartbeats happen.
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
from trifix.runtime import Engine, EngineSpec, open_engine, system_clock
from trifix.runtime.specs import Clock
from trifix.store import MessageStore

__all__ = [
    "Simulator",
    "SimulatorControl",
    "open_simulator",
    "serve_simulator",
]


class Simulator:
    """A running simulator: its sessions' controls, its market and its port.

    Attributes:
        spec: what it runs.
        market: the simulated market all LP sessions share.
        engine: the trifix engine running its sessions.
    """

    def __init__(self, spec: SimulatorSpec, market: Market, engine: Engine) -> None:
        self.spec = spec
        self.market = market
        self.engine = engine
        self.sessions: dict[str, SimSession] = {}

    @property
    def port(self) -> int | None:
        """The port it listens on, or None when it does not listen."""
        return self.engine.listen_port

    @property
    def refused(self) -> list[str]:
        """Why connections were refused, oldest first (unknown CompIDs, busy session...)."""
        acceptor = self.engine.acceptor
        return acceptor.refused if acceptor is not None else []

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


SimulatorControl = Simulator
"""The control API's name in the docs and in the conformance runner: the `Simulator` itself."""


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
        listen_host=spec.listen_host,
        listen_port=spec.listen_port,
        acceptor_tls=spec.tls,
    )
    market = Market(spec.instruments, spec.seed, clock)
    async with (
        open_engine(engine_spec, clock=clock, store=store) as engine,
        trio.open_nursery() as nursery,
    ):
        simulator = Simulator(spec, market, engine)
        for session_spec in spec.sessions:
            session = SimSession(session_spec, engine, nursery)
            rng = random.Random(f"{spec.seed}:{session.id}")
            session.app = _make_app(simulator, session, rng)
            simulator.sessions[session.id] = session
            nursery.start_soon(session.app.serve)
        nursery.start_soon(market.run, spec.tick_interval)
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

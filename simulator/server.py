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

`run_mini_lp(engine, session_id)` serves one session of an engine the caller runs (its own
listening port, store or `Engine.run_connection`) in LP mode, with the default behaviour: the
embedded LP of `trifix run`, `trifix replay --through simulator` and the gateway tests.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import trio

from simulator.echo import EchoApp
from simulator.instruments import DEFAULT_INSTRUMENTS, Instrument
from simulator.lp import LPApp
from simulator.market import Book, Market
from simulator.session import SessionApp, SimSession
from simulator.spec import AppMode, SimSessionSpec, SimulatorSpec
from trifix.runtime import Engine, EngineSpec, open_engine, system_clock
from trifix.runtime.specs import Clock
from trifix.store import MessageStore

__all__ = [
    "Simulator",
    "SimulatorControl",
    "open_simulator",
    "run_mini_lp",
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


def _start(simulator: Simulator, nursery: trio.Nursery) -> None:
    """Start every session's application and the market's walk in `nursery`."""
    spec = simulator.spec
    for session_spec in spec.sessions:
        session = SimSession(session_spec, simulator.engine, nursery)
        rng = random.Random(f"{spec.seed}:{session.id}")
        session.app = _make_app(simulator, session, rng)
        simulator.sessions[session.id] = session
        nursery.start_soon(session.app.serve)
    nursery.start_soon(simulator.market.run, spec.tick_interval)


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
        _start(simulator, nursery)
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


async def run_mini_lp(
    engine: Engine,
    session_id: str,
    *,
    seed: int = 0,
    instruments: Sequence[Instrument] = DEFAULT_INSTRUMENTS,
    tick_interval: float = 0.25,
) -> None:
    """Serve `session_id` of a running `engine` as a simulated LP until cancelled.

    The session runs in LP mode (docs/simulator.md) with the default `Behaviour`: orders fill
    by the resting model, market data shows each instrument's `levels`, and QuoteRequests,
    status requests and mass status requests are answered. The caller's engine connects the
    session (its listening port or `Engine.run_connection`) and keeps its store. This task
    consumes every event of the session, so nothing else should read its
    `SessionHandle.events()`.

    Args:
        engine: a running engine (see `trifix.runtime.open_engine`).
        session_id: the session to serve; it must be an acceptor.
        seed: seeds the market's walk (and the session's random choices); the same seed gives
            the same prices.
        instruments: what the LP quotes and trades (symbols must be unique).
        tick_interval: seconds between two steps of the market (and market data updates).

    Raises:
        KeyError: `engine` has no session `session_id`.
        ValueError: duplicate symbols, `tick_interval` not above 0, or an initiator session.
    """
    handle = engine.session(session_id)
    spec = SimulatorSpec(
        [SimSessionSpec(handle.spec)],
        instruments=instruments,
        seed=seed,
        tick_interval=tick_interval,
        listen_port=None,
    )
    simulator = Simulator(spec, Market(spec.instruments, seed, engine.clock), engine)
    async with trio.open_nursery() as nursery:
        _start(simulator, nursery)

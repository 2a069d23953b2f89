"""Helpers for simulator tests: a trifix initiator ("the gateway") connected to a simulator,
over memory streams on trio's MockClock or over 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import trio
import trio.testing

from simulator import (
    AppMode,
    Behaviour,
    Instrument,
    SimSessionSpec,
    Simulator,
    SimulatorSpec,
    open_simulator,
)
from simulator.instruments import DEFAULT_INSTRUMENTS
from trifix.core.events import AppMessageReceived, Event
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.validate import Validator
from trifix.runtime import Engine, EngineSpec, SessionHandle, SessionSpec, open_engine

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
VALIDATOR = Validator()


def wall_clock() -> Callable[[], datetime]:
    """Wall time that follows trio's (mock) clock, starting at T0."""
    base = trio.current_time()
    return lambda: T0 + timedelta(seconds=trio.current_time() - base)


def sim_session(
    app: AppMode = AppMode.LP, behaviour: Behaviour | None = None, **settings: Any
) -> SimSessionSpec:
    base = SessionSettings("LP", "GW", Role.ACCEPTOR)
    return SimSessionSpec(
        SessionSpec("GW", replace(base, **settings)), app, behaviour or Behaviour()
    )


def sim_spec(
    *sessions: SimSessionSpec,
    instruments: Sequence[Instrument] = DEFAULT_INSTRUMENTS,
    **options: Any,
) -> SimulatorSpec:
    return SimulatorSpec(
        sessions or (sim_session(),), instruments=instruments, listen_port=None, **options
    )


class Peer:
    """The initiator's side: sends, and hands out application messages in order."""

    def __init__(self, handle: SessionHandle, engine: Engine) -> None:
        self.handle = handle
        self.engine = engine
        self.events: list[Event] = []

    async def send(self, msg: Message) -> int:
        return await self.handle.send(msg)

    async def next(self, within: float = 5) -> Message:
        """The next application message (checked against the FIX 4.4 dictionary)."""
        with trio.fail_after(within):
            async for event in self.handle.events():
                self.events.append(event)
                if isinstance(event, AppMessageReceived):
                    msg = event.message
                    assert VALIDATOR.validate(msg) is None, msg
                    return msg
        raise AssertionError("the event stream ended")

    async def event(self, kind: type[Event], within: float = 5) -> Event:
        """The next event of `kind` (others are kept in `events`)."""
        with trio.fail_after(within):
            async for event in self.handle.events():
                self.events.append(event)
                if isinstance(event, kind):
                    return event
        raise AssertionError("the event stream ended")

    async def collect(self, seconds: float) -> list[Message]:
        """Every application message received in the next `seconds` (of mock time)."""
        out: list[Message] = []
        with trio.move_on_after(seconds):
            while True:
                out.append(await self.next(within=seconds + 1))
        return out


@asynccontextmanager
async def connected(
    spec: SimulatorSpec | None = None, **gw_options: Any
) -> AsyncIterator[tuple[Peer, Simulator]]:
    """A gateway initiator logged on to a simulator over a memory stream pair."""
    spec = spec or sim_spec()
    clock = wall_clock()
    gw_settings = replace(SessionSettings("GW", "LP", Role.INITIATOR), **gw_options)
    gw_spec = EngineSpec([SessionSpec("LP", gw_settings)])
    async with (
        open_simulator(spec, clock=clock) as sim,
        open_engine(gw_spec, clock=clock) as gw,
        trio.open_nursery() as nursery,
    ):
        peer = Peer(gw.session("LP"), gw)
        await connect(nursery, sim, peer)
        yield peer, sim
        nursery.cancel_scope.cancel()


async def connect(
    nursery: trio.Nursery, sim: Simulator | Engine, peer: Peer, session: str = "GW"
) -> None:
    """Connect `peer` to `sim` (a simulator, or the engine `run_mini_lp` serves) again over a
    new memory stream pair, and wait for the logon."""
    await peer.handle.wait_disconnected()
    a, b = trio.testing.memory_stream_pair()
    nursery.start_soon(peer.engine.run_connection, "LP", a)
    nursery.start_soon(sim.run_connection, session, b)
    with trio.fail_after(5):
        await peer.handle.wait_logged_on()

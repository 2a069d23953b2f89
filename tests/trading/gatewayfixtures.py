"""Harness for the gateway tests: a gateway engine whose sessions are connected, over memory
streams on trio's MockClock, to scripted fake LPs (an acceptor engine the test drives message
by message) or to the bundled simulators."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import trio
import trio.testing

from simulator import (
    AppMode,
    Behaviour,
    SimSessionSpec,
    Simulator,
    SimulatorSpec,
    open_simulator,
    run_mini_lp,
)
from simulator import Instrument as SimInstrument
from tests.trading.mdfixtures import entry, snapshot_message
from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MDEntryType, MsgType, OrdType, Side, Tag
from trifix.runtime import Engine, EngineSpec, SessionHandle, SessionSpec, open_engine
from trifix.store import MessageStore
from trifix.trading.gateway import Gateway, open_gateway
from trifix.trading.messages import NewOrderSingle
from trifix.trading.routing import LPConfig
from trifix.trading.updates import GatewayUpdate

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

RunConnection = Callable[[str, trio.abc.Stream], Awaitable[None]]


def wall_clock() -> Callable[[], datetime]:
    """Wall time that follows trio's (mock) clock, starting at T0."""
    base = trio.current_time()
    return lambda: T0 + timedelta(seconds=trio.current_time() - base)


def gw_session(session_id: str, **options: Any) -> SessionSpec:
    """A gateway-side initiator session: SenderCompID GW, TargetCompID `session_id`."""
    settings = SessionSettings("GW", session_id, Role.INITIATOR, heartbeat_interval=30)
    return SessionSpec(session_id, replace(settings, **options))


def lp_session(session_id: str, lp_comp_id: str, **options: Any) -> SessionSpec:
    """An LP-side acceptor session for the gateway session `lp_comp_id`."""
    settings = SessionSettings(lp_comp_id, "GW", Role.ACCEPTOR, heartbeat_interval=30)
    return SessionSpec(session_id, replace(settings, **options))


@dataclass
class Link:
    """A gateway session and its counterparty, reconnectable."""

    handle: SessionHandle
    gw_run: RunConnection
    peer_run: RunConnection
    peer_id: str

    async def connect(self, nursery: trio.Nursery) -> None:
        await self.handle.wait_disconnected()
        a, b = trio.testing.memory_stream_pair()
        nursery.start_soon(self.gw_run, self.handle.id, a)
        nursery.start_soon(self.peer_run, self.peer_id, b)
        with trio.fail_after(5):
            await self.handle.wait_logged_on()


class FakeLP:
    """The LP side of one session, scripted by the test."""

    def __init__(self, handle: SessionHandle) -> None:
        self.handle = handle

    async def next(self, within: float = 5) -> Message:
        """The next application message the gateway sent."""
        with trio.fail_after(within):
            async for event in self.handle.events():
                if isinstance(event, AppMessageReceived):
                    return event.message
        raise AssertionError("the event stream ended")

    async def send(self, msg: Message) -> None:
        await self.handle.send(msg)

    async def snapshot(self, symbol: str, bid: str, offer: str, size: int = 1_000_000) -> str:
        """Answer the next MarketDataRequest with a snapshot; returns its MDReqID."""
        request = await self.next()
        assert request.msg_type == MsgType.MARKET_DATA_REQUEST, request
        req_id = request.get_str(Tag.MD_REQ_ID)
        entries = [entry(MDEntryType.BID, bid, size), entry(MDEntryType.OFFER, offer, size)]
        await self.send(snapshot_message(symbol, entries, req_id=req_id))
        return req_id


@dataclass
class Desk:
    """A running gateway with its links and fake LPs."""

    gw: Gateway
    engine: Engine
    nursery: trio.Nursery
    links: dict[str, Link]
    fakes: dict[str, FakeLP] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=lambda: T0)


@asynccontextmanager
async def fake_desk(
    configs: Sequence[LPConfig],
    *,
    connect: bool = True,
    gw_options: dict[str, Any] | None = None,
    store: MessageStore | None = None,
    lp_store: MessageStore | None = None,
    **gateway_options: Any,
) -> AsyncIterator[Desk]:
    """A gateway over `configs`, each session connected to a fake LP engine (unless not
    `connect`: then call `desk.links[id].connect(desk.nursery)`)."""
    clock = wall_clock()
    ids = sorted({s for c in configs for s in (c.order_session, c.md_session) if s is not None})
    gw_spec = EngineSpec([gw_session(i, **(gw_options or {})) for i in ids])
    lp_spec = EngineSpec([lp_session(f"GW-{i}", i) for i in ids])
    async with (
        open_engine(gw_spec, clock=clock, store=store) as gw_engine,
        open_engine(lp_spec, clock=clock, store=lp_store) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        links = {
            i: Link(gw_engine.session(i), gw_engine.run_connection, lp_engine.run_connection,
                    f"GW-{i}")
            for i in ids
        }  # fmt: skip
        if connect:
            for link in links.values():
                await link.connect(nursery)
        fakes = {i: FakeLP(lp_engine.session(f"GW-{i}")) for i in ids}
        async with open_gateway(gw_engine, configs, **gateway_options) as gw:
            yield Desk(gw, gw_engine, nursery, links, fakes, clock)
        nursery.cancel_scope.cancel()


def limit(
    cl_ord_id: str,
    qty: int | str = 1000,
    price: str | None = "1.1000",
    *,
    side: Side = Side.BUY,
    symbol: str = "EURUSD",
) -> NewOrderSingle:
    return NewOrderSingle(
        cl_ord_id=cl_ord_id,
        symbol=symbol,
        side=side,
        order_qty=Decimal(qty),
        ord_type=OrdType.LIMIT if price is not None else OrdType.MARKET,
        price=Decimal(price) if price is not None else None,
        transact_time=T0,
    )


class Collector:
    """Collects a gateway's updates in the background."""

    def __init__(self) -> None:
        self.updates: list[GatewayUpdate] = []
        self._changed = trio.Event()

    async def run(self, gw: Gateway, buffer: int = 1000, *, task_status: Any) -> None:
        async with gw.open_updates(buffer) as updates:
            task_status.started()
            async for update in updates:
                self.updates.append(update)
                self._changed.set()
                self._changed = trio.Event()

    async def wait_for(
        self, predicate: Callable[[GatewayUpdate], bool], within: float = 5
    ) -> GatewayUpdate:
        seen = 0
        with trio.fail_after(within):
            while True:
                for update in self.updates[seen:]:
                    if predicate(update):
                        return update
                seen = len(self.updates)
                await self._changed.wait()

    def of(self, kind: type[Any]) -> list[Any]:
        return [u for u in self.updates if isinstance(u, kind)]


async def collector(desk: Desk, buffer: int = 1000) -> Collector:
    c = Collector()
    await desk.nursery.start(c.run, desk.gw, buffer)
    return c


def eur(mid_bid: str = "1.08500", mid_offer: str = "1.08510", levels: int = 3) -> SimInstrument:
    """The simulator's EURUSD, with a few levels and frequent trades."""
    return SimInstrument(
        "EURUSD", Decimal(mid_bid), Decimal(mid_offer), Decimal("0.00001"),
        min_qty=Decimal(1), max_qty=Decimal(5_000_000), levels=levels, trade_probability=0.5,
    )  # fmt: skip


@dataclass(frozen=True)
class SimLP:
    """One LP played by its own full simulator (its own market)."""

    config: LPConfig
    behaviour: Behaviour = field(default_factory=Behaviour)
    instrument: SimInstrument = field(default_factory=eur)
    seed: int = 0


@asynccontextmanager
async def sim_desk(
    lps: Sequence[SimLP], *, tick_interval: float = 0.25, **gateway_options: Any
) -> AsyncIterator[tuple[Desk, dict[str, Simulator]]]:
    """A gateway whose LPs are each a full simulator, over memory streams."""
    clock = wall_clock()
    ids = [s for lp in lps for s in dict.fromkeys((lp.config.order_session, lp.config.md_session))
           if s is not None]  # fmt: skip
    gw_spec = EngineSpec([gw_session(i) for i in ids])
    async with AsyncExitStack() as stack:
        gw_engine = await stack.enter_async_context(open_engine(gw_spec, clock=clock))
        nursery = await stack.enter_async_context(trio.open_nursery())
        sims: dict[str, Simulator] = {}
        links: dict[str, Link] = {}
        for lp in lps:
            sessions = [s for s in dict.fromkeys((lp.config.order_session, lp.config.md_session))
                        if s is not None]  # fmt: skip
            spec = SimulatorSpec(
                [SimSessionSpec(lp_session(f"GW-{s}", s), AppMode.LP, lp.behaviour)
                 for s in sessions],
                instruments=[lp.instrument], seed=lp.seed, tick_interval=tick_interval,
                listen_port=None,
            )  # fmt: skip
            sim = await stack.enter_async_context(open_simulator(spec, clock=clock))
            sims[lp.config.name] = sim
            for s in sessions:
                links[s] = Link(gw_engine.session(s), gw_engine.run_connection,
                                sim.run_connection, f"GW-{s}")  # fmt: skip
                await links[s].connect(nursery)
        configs = [lp.config for lp in lps]
        gw = await stack.enter_async_context(open_gateway(gw_engine, configs, **gateway_options))
        yield Desk(gw, gw_engine, nursery, links, {}, clock), sims
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def mini_desk(config: LPConfig, **gateway_options: Any) -> AsyncIterator[Desk]:
    """A gateway with one LP played by `simulator.run_mini_lp` (orders and market data)."""
    clock = wall_clock()
    assert config.order_session is not None
    sid = config.order_session
    gw_spec = EngineSpec([gw_session(sid)])
    lp_spec = EngineSpec([lp_session(f"GW-{sid}", sid)])
    async with (
        open_engine(gw_spec, clock=clock) as gw_engine,
        open_engine(lp_spec, clock=clock) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        link = Link(gw_engine.session(sid), gw_engine.run_connection, lp_engine.run_connection,
                    f"GW-{sid}")  # fmt: skip
        nursery.start_soon(functools.partial(run_mini_lp, lp_engine, f"GW-{sid}", tick_interval=1))
        await link.connect(nursery)
        async with open_gateway(gw_engine, [config], **gateway_options) as gw:
            yield Desk(gw, gw_engine, nursery, {sid: link}, {}, clock)
        nursery.cancel_scope.cancel()


async def poll(condition: Callable[[], bool], within: float = 30) -> None:
    """Wait (in mock time) until `condition()` holds: for state the gateway keeps, not updates."""
    with trio.fail_after(within):
        while not condition():  # noqa: ASYNC110 - polling a plain predicate is the point
            await trio.sleep(0.05)


async def until(gw: Gateway, cl_ord_id: str, *states: Any, within: float = 30) -> None:
    """Wait until the order `cl_ord_id` is in one of `states`."""

    def reached() -> bool:
        view = gw.order(cl_ord_id)
        return view is not None and view.state in states

    await poll(reached, within)


def usable_books(gw: Gateway, symbol: str, *lps: str) -> Callable[[], bool]:
    """A predicate: every LP named has a usable book of `symbol`."""

    def check() -> bool:
        return all((b := gw.book(symbol, lp)) is not None and b.usable for lp in lps)

    return check

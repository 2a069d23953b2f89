"""Harness for the gateway tests: a gateway engine whose sessions are connected, over memory
streams on trio's MockClock, to scripted fake LPs (an acceptor engine the test drives message
by message) or to the bundled simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import trio
import trio.testing

from tests.trading.mdfixtures import entry, snapshot_message
from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MDEntryType, MsgType, OrdType, Side, Tag
from trifix.runtime import Engine, EngineSpec, SessionHandle, SessionSpec, open_engine
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
    for key, value in options.items():
        settings = _replace(settings, key, value)
    return SessionSpec(session_id, settings)


def lp_session(session_id: str, lp_comp_id: str, **options: Any) -> SessionSpec:
    """An LP-side acceptor session for the gateway session `lp_comp_id`."""
    settings = SessionSettings(lp_comp_id, "GW", Role.ACCEPTOR, heartbeat_interval=30)
    for key, value in options.items():
        settings = _replace(settings, key, value)
    return SessionSpec(session_id, settings)


def _replace(settings: SessionSettings, key: str, value: Any) -> SessionSettings:
    from dataclasses import replace

    return replace(settings, **{key: value})


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
    **gateway_options: Any,
) -> AsyncIterator[Desk]:
    """A gateway over `configs`, each session connected to a fake LP engine."""
    clock = wall_clock()
    ids = sorted({s for c in configs for s in (c.order_session, c.md_session) if s is not None})
    gw_spec = EngineSpec([gw_session(i, **(gw_options or {})) for i in ids])
    lp_spec = EngineSpec([lp_session(f"GW-{i}", i) for i in ids])
    async with (
        open_engine(gw_spec, clock=clock) as gw_engine,
        open_engine(lp_spec, clock=clock) as lp_engine,
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

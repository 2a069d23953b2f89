"""Shared helpers for runtime tests: specs for a GW initiator and an LP acceptor, and a wall
clock that follows trio's clock (so MockClock drives heartbeats and timeouts too)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import trio
import trio.testing

from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import Engine, EngineSpec, ReconnectPolicy, SessionSpec, open_engine

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FAST_RECONNECT = ReconnectPolicy(
    initial_delay=timedelta(milliseconds=20),
    max_delay=timedelta(milliseconds=100),
    jitter=0,
)


def trio_wall_clock(start: datetime = T0) -> Callable[[], datetime]:
    """Wall time that advances with trio's clock (call inside trio.run)."""
    base = trio.current_time()
    return lambda: start + timedelta(seconds=trio.current_time() - base)


def gw_settings(**options: object) -> SessionSettings:
    base = SessionSettings("GW", "LP", Role.INITIATOR, heartbeat_interval=30)
    return replace(base, **options)  # type: ignore[arg-type]


def lp_settings(sender: str = "LP", target: str = "GW", **options: object) -> SessionSettings:
    base = SessionSettings(sender, target, Role.ACCEPTOR, heartbeat_interval=30)
    return replace(base, **options)  # type: ignore[arg-type]


def gw_spec(hosts: list[tuple[str, int]], **kw: object) -> EngineSpec:
    settings = kw.pop("settings", gw_settings())
    session = SessionSpec("LP", settings, hosts=hosts, reconnect=FAST_RECONNECT, **kw)  # type: ignore[arg-type]
    return EngineSpec([session])


def lp_spec(*sessions: SessionSpec, **kw: object) -> EngineSpec:
    if not sessions:
        sessions = (SessionSpec("GW", lp_settings()),)
    return EngineSpec(list(sessions), listen_port=0, **kw)  # type: ignore[arg-type]


def order(n: int) -> Message:
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, f"C{n}"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, datetime.now(UTC)),
        (Tag.ORD_TYPE, "1"),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.ORDER_QTY, 100),
    )


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until `predicate()` holds (checked every few ms), failing after `within` s."""
    with trio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - the conditions live in other objects
            await trio.sleep(0.005)


class ProxyStream(trio.abc.Stream):
    """A stream that forwards to another; tests override a method to misbehave."""

    def __init__(self, inner: trio.abc.Stream) -> None:
        self.inner = inner

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        return await self.inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def memory_pair(
    gw: SessionSpec,
    lp: SessionSpec,
    *,
    gw_stream: Callable[[trio.abc.Stream], trio.abc.Stream] = lambda s: s,
    lp_stream: Callable[[trio.abc.Stream], trio.abc.Stream] = lambda s: s,
    lp_scope: trio.CancelScope | None = None,
) -> AsyncIterator[tuple[Engine, Engine]]:
    """A GW engine and an LP engine connected over an in-memory stream pair, on a wall clock
    that follows trio's (so MockClock drives their timers). `lp_scope` lets a test stop the
    LP's side alone."""
    clock = trio_wall_clock()
    a, b = trio.testing.memory_stream_pair()
    async with (
        open_engine(EngineSpec([gw]), clock=clock) as gw_engine,
        open_engine(EngineSpec([lp]), clock=clock) as lp_engine,
        trio.open_nursery() as nursery,
    ):

        async def lp_side() -> None:
            with lp_scope or trio.CancelScope():
                await lp_engine.run_connection(lp.id, lp_stream(b))

        nursery.start_soon(gw_engine.run_connection, gw.id, gw_stream(a))
        nursery.start_soon(lp_side)
        yield gw_engine, lp_engine
        nursery.cancel_scope.cancel()

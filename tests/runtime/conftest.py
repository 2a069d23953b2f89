"""Shared helpers for runtime tests: specs for a GW initiator and an LP acceptor, and a wall
clock that follows trio's clock (so MockClock drives heartbeats and timeouts too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import trio

from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, ReconnectPolicy, SessionSpec

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

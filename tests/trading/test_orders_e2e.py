"""The tracker, checks and breaker following real traffic with the mini LP simulator.

Two engines over a memory stream pair on trio's MockClock: place, replace, cancel, a too-late
cancel, a reject (which the breaker counts) and a fill, every report applied by the tracker
with no illegal transition, mismatch or duplicate.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import trio
import trio.testing

from simulator import run_mini_lp
from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import OrdType, Side
from trifix.runtime import EngineSpec, SessionHandle, SessionSpec, open_engine
from trifix.trading.breaker import BreakerSettings, CircuitBreaker, FailureKind
from trifix.trading.messages import NewOrderSingle, OrderCancelReplaceRequest, OrderCancelRequest
from trifix.trading.order_state import OrderEvent, OrderState
from trifix.trading.order_views import OrderUpdate, OrderView, TrackerEvent
from trifix.trading.orders import OrderTracker

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
S = OrderState


class Desk:
    """A minimal driver: what the gateway will do, inline."""

    def __init__(self, handle: SessionHandle, clock: Callable[[], datetime]) -> None:
        self.handle = handle
        self.clock = clock
        self.tracker = OrderTracker()
        self.breaker = CircuitBreaker("LP", BreakerSettings(failure_threshold=2))

    async def send(
        self, msg: NewOrderSingle | OrderCancelRequest | OrderCancelReplaceRequest
    ) -> None:
        self.breaker.allow(self.clock())
        self.tracker.on_sent(msg, self.clock())
        await self.handle.send(msg.to_message())

    async def answer(self) -> list[TrackerEvent]:
        """The tracker's events for the next application message."""
        with trio.fail_after(5):
            async for event in self.handle.events():
                if isinstance(event, AppMessageReceived):
                    events = self.tracker.on_received(event.message, self.clock())
                    for e in events:
                        assert isinstance(e, OrderUpdate), e
                        if e.event is OrderEvent.REJECTED:
                            self.breaker.record_failure(self.clock(), FailureKind.REJECT)
                        elif e.event is OrderEvent.ACK_NEW:
                            self.breaker.record_success(self.clock())
                    return events
        raise AssertionError("the event stream ended")

    async def view_after_answer(self) -> OrderView:
        (update,) = await self.answer()
        assert isinstance(update, OrderUpdate)
        return update.order


@asynccontextmanager
async def desk() -> AsyncIterator[Desk]:
    base = trio.current_time()

    def clock() -> datetime:
        return T0 + timedelta(seconds=trio.current_time() - base)

    gw_spec = EngineSpec([SessionSpec("LP", SessionSettings("GW", "LP", Role.INITIATOR))])
    lp_spec = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))])
    a, b = trio.testing.memory_stream_pair()
    async with (
        open_engine(gw_spec, clock=clock) as gw,
        open_engine(lp_spec, clock=clock) as lp,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(gw.run_connection, "LP", a)
        nursery.start_soon(lp.run_connection, "GW", b)
        nursery.start_soon(functools.partial(run_mini_lp, lp, "GW", tick_interval=3600))
        handle = gw.session("LP")
        with trio.fail_after(5):
            await handle.wait_logged_on()
        yield Desk(handle, clock)
        nursery.cancel_scope.cancel()


def limit(cl_ord_id: str, qty: int, price: str, symbol: str = "EURUSD") -> NewOrderSingle:
    return NewOrderSingle(
        cl_ord_id=cl_ord_id, symbol=symbol, side=Side.BUY, order_qty=Decimal(qty),
        ord_type=OrdType.LIMIT, price=Decimal(price), transact_time=T0,
    )  # fmt: skip


async def test_order_lifecycle_with_the_simulator(autojump_clock: trio.testing.MockClock) -> None:
    async with desk() as d:
        # Place a resting order, replace it, cancel it; then a cancel that comes too late.
        await d.send(limit("A", 1000, "0.5000"))
        view = await d.view_after_answer()
        assert (view.state, view.order_id) == (S.NEW, "O1")
        await d.send(
            OrderCancelReplaceRequest(
                cl_ord_id="B",
                orig_cl_ord_id="A",
                symbol="EURUSD",
                side=Side.BUY,
                ord_type=OrdType.LIMIT,
                order_qty=Decimal(2000),
                price=Decimal("0.6000"),
                transact_time=T0,
            )
        )
        view = await d.view_after_answer()
        assert (view.state, view.chain, view.order_qty, view.price) == (
            S.REPLACED,
            ("A", "B"),
            2000,
            Decimal("0.6000"),
        )
        await d.send(
            OrderCancelRequest(
                cl_ord_id="C",
                orig_cl_ord_id="B",
                symbol="EURUSD",
                side=Side.BUY,
                transact_time=T0,
            )
        )
        view = await d.view_after_answer()
        assert (view.state, view.leaves_qty, view.chain) == (S.CANCELED, 0, ("A", "B", "C"))

        # A marketable order fills at once; a cancel sent after the fill is too late. The
        # tracker refuses to send a cancel for an ended order, so it goes out raw.
        await d.send(limit("M", 1000, "99.0000"))
        assert (await d.view_after_answer()).state is S.NEW
        filled = await d.view_after_answer()
        assert (filled.state, filled.cum_qty, filled.leaves_qty) == (S.FILLED, 1000, 0)
        assert filled.avg_px == filled.fills[0].price
        late = OrderCancelRequest(
            cl_ord_id="L", orig_cl_ord_id="M", symbol="EURUSD", side=Side.BUY, transact_time=T0
        )
        await d.handle.send(late.to_message())
        (update,) = await d.answer()
        assert isinstance(update, OrderUpdate)
        assert (update.event, update.previous, update.order.state) == (
            OrderEvent.CANCEL_REJECTED,
            S.FILLED,
            S.FILLED,
        )

        # Two rejects (unknown symbol) trip the breaker: the next order is stopped here.
        for n in (1, 2):
            await d.send(limit(f"R{n}", 1000, "1.0000", symbol="NOPE"))
            assert (await d.view_after_answer()).state is S.REJECTED
        assert not d.breaker.would_allow(d.clock())
        assert [o.cl_ord_id for o in d.tracker.orders(status=S.REJECTED)] == ["R1", "R2"]


async def test_restart_recovers_from_the_traffic(autojump_clock: trio.testing.MockClock) -> None:
    sent: list[Message] = []
    async with desk() as d:
        for msg in (limit("A", 1000, "0.5000"), limit("M", 1000, "99.0000")):
            await d.send(msg)
            stored = msg.to_message()
            sent.append(stored)
        received: list[Message] = []
        with trio.fail_after(5):
            async for event in d.handle.events():
                if isinstance(event, AppMessageReceived):
                    received.append(event.message)
                    if len(received) == 3:
                        break
    restarted = OrderTracker()
    events = restarted.recover(sent, received)
    assert all(isinstance(e, OrderUpdate) for e in events), events
    a, m = restarted.get("A"), restarted.get("M")
    assert a is not None
    assert m is not None
    assert (a.state, m.state, m.cum_qty) == (S.NEW, S.FILLED, 1000)

"""MarketDataSession against the mini LP over memory streams, on trio's MockClock: subscribe,
follow the book, re-snapshot an inconsistent book, resubscribe after a reconnect, and keep a
consolidated BBO of two LPs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import trio
import trio.testing

from simulator import Instrument, run_mini_lp
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import Engine, EngineSpec, SessionSpec, open_engine
from trifix.trading.bbo import ConsolidatedBBO
from trifix.trading.book import BookStyle, InconsistencyKind
from trifix.trading.marketdata import (
    BookInconsistent,
    BookUpdated,
    MarketDataEvent,
    MarketDataManager,
    SubscriptionState,
)
from trifix.trading.mdsession import MarketDataSession

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SPREAD = Decimal("0.00010")  # the mini LP's EURUSD spread


def wall_clock() -> Callable[[], datetime]:
    base = trio.current_time()
    return lambda: T0 + timedelta(seconds=trio.current_time() - base)


class Link:
    """A GW engine and one mini LP engine per name, connected over memory streams."""

    def __init__(self, gw: Engine, lps: dict[str, Engine], nursery: trio.Nursery) -> None:
        self.gw = gw
        self.lps = lps
        self.nursery = nursery
        self.scopes: dict[str, trio.CancelScope] = {}

    def connect(self, name: str) -> None:
        scope = self.scopes[name] = trio.CancelScope()
        a, b = trio.testing.memory_stream_pair()

        async def run() -> None:
            with scope:
                async with trio.open_nursery() as n:
                    n.start_soon(self.gw.run_connection, name, a)
                    n.start_soon(self.lps[name].run_connection, "GW", b)

        self.nursery.start_soon(run)

    def drop(self, name: str) -> None:
        self.scopes[name].cancel()


@asynccontextmanager
async def linked(*names: str, seed: int = 0) -> AsyncIterator[Link]:
    clock = wall_clock()
    gw_spec = EngineSpec([SessionSpec(n, SessionSettings("GW", n, Role.INITIATOR)) for n in names])
    async with open_engine(gw_spec, clock=clock) as gw, trio.open_nursery() as nursery:
        lps = {}
        for i, n in enumerate(names):
            spec = EngineSpec([SessionSpec("GW", SessionSettings(n, "GW", Role.ACCEPTOR))])
            lps[n] = await nursery.start(_serve_lp, spec, clock, seed + i)
        link = Link(gw, lps, nursery)
        for n in names:
            link.connect(n)
        yield link
        nursery.cancel_scope.cancel()


async def _serve_lp(
    spec: EngineSpec,
    clock: Callable[[], datetime],
    seed: int,
    task_status: trio.TaskStatus[Engine] = trio.TASK_STATUS_IGNORED,
) -> None:
    instruments = [Instrument("EURUSD", Decimal("1.08500"), Decimal("1.08510"), Decimal("0.00001"))]
    async with open_engine(spec, clock=clock) as engine:
        task_status.started(engine)
        await run_mini_lp(engine, "GW", seed=seed, instruments=instruments, tick_interval=0.25)


async def test_subscribe_and_follow_a_top_of_book(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[MarketDataEvent] = []
    async with linked("LP1") as link:
        md = MarketDataSession(link.gw.session("LP1"), on_event=seen.append)
        link.nursery.start_soon(md.run)
        sub = await md.subscribe("EURUSD", depth=1)
        assert sub.style is BookStyle.TOP_OF_BOOK
        book = await md.wait_usable("EURUSD")
        assert sub.state is SubscriptionState.ACTIVE
        tops = set()
        with trio.move_on_after(5):
            while True:
                await md.wait_changed()
                top = book.top()
                assert top.bid is not None
                assert top.offer is not None
                assert top.offer.price - top.bid.price == SPREAD
                assert top.bid.size == top.offer.size == Decimal(1_000_000)
                tops.add(top.bid.price)
        assert book.usable
        assert book.updates_applied >= 30
        assert len(tops) > 3  # the price moved
        assert not any(isinstance(e, BookInconsistent) for e in seen)
        await md.unsubscribe(sub)
        assert md.manager.book("EURUSD") is None


async def test_inconsistent_book_is_resnapshotted(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[MarketDataEvent] = []
    async with linked("LP1") as link:
        # Full depth by price: the mini LP's Change to a new price names no known level.
        md = MarketDataSession(link.gw.session("LP1"), on_event=seen.append)
        link.nursery.start_soon(md.run)
        await md.subscribe("EURUSD", style=BookStyle.BY_PRICE)
        book = await md.wait_usable("EURUSD")
        with trio.move_on_after(3):
            while True:
                await md.wait_changed()
        bad = [e for e in seen if isinstance(e, BookInconsistent)]
        assert bad
        assert bad[0].inconsistency.kind in (
            InconsistencyKind.UNKNOWN_LEVEL,
            InconsistencyKind.CROSSED,
        )
        assert book.snapshots > 1  # fresh snapshots came in answer
        after = seen[seen.index(bad[0]) :]
        assert any(isinstance(e, BookUpdated) for e in after)


async def test_resubscribe_after_reconnect(autojump_clock: trio.testing.MockClock) -> None:
    async with linked("LP1") as link:
        handle = link.gw.session("LP1")
        await handle.wait_logged_on()  # the driver starts on a logged-on session
        md = MarketDataSession(handle, MarketDataManager("LP1", req_id_prefix="R"))
        link.nursery.start_soon(md.run)
        sub = await md.subscribe("EURUSD", depth=1)
        book = await md.wait_usable("EURUSD")
        first = sub.md_req_id
        link.drop("LP1")
        while book.usable:
            await md.wait_changed()
        assert book.stale is not None
        assert book.stale.kind is InconsistencyKind.DISCONNECTED
        assert sub.state is SubscriptionState.STALE
        await trio.sleep(1)
        link.connect("LP1")
        await md.wait_usable("EURUSD")
        assert sub.md_req_id != first
        assert sub.state is SubscriptionState.ACTIVE
        before = book.updates_applied
        await trio.sleep(2)
        assert book.updates_applied > before


async def test_consolidated_bbo_of_two_lps(autojump_clock: trio.testing.MockClock) -> None:
    bbo = ConsolidatedBBO()
    async with linked("LP1", "LP2", seed=7) as link:
        sessions = []
        for name in ("LP1", "LP2"):
            md = MarketDataSession(link.gw.session(name), on_event=bbo.on_market_data)
            link.nursery.start_soon(md.run)
            await md.subscribe("EURUSD", depth=1)
            sessions.append(md)
        books = [await md.wait_usable("EURUSD") for md in sessions]
        with trio.move_on_after(3):
            while True:
                await sessions[0].wait_changed()
                best = bbo.best("EURUSD")
                tops = [b.top() for b in books if b.usable]
                assert best.bid is not None
                assert best.offer is not None
                assert best.bid.price == max(t.bid.price for t in tops if t.bid)
                assert best.offer.price == min(t.offer.price for t in tops if t.offer)
                assert best.bid.lp in ("LP1", "LP2")

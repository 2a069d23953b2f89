"""`run_mini_lp`: LP mode on one session of an engine the caller runs, as `trifix run`, replay
and the gateway tests use it; here against a trifix initiator over a memory stream pair, on
trio's MockClock.

LP mode itself (fill models, rejects, quotes, status, faults) is tested in test_lp.py and
test_faults.py; these tests pin what the callers rely on: the opening prices, the demo's order
flows message by message, market data for several symbols, the seed, and the arguments.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from simulator import DEFAULT_INSTRUMENTS, Instrument, run_mini_lp
from tests.simulator.harness import Peer, connect, wall_clock
from tests.simulator.test_lp import cancel, f, md_request, new_order, replace, status
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, SessionSpec, open_engine

NOW = "20261125-09:00:00.000"  # TransactTime of anything answered at mock time 0
HEADER = {Tag.MSG_SEQ_NUM, Tag.SENDER_COMP_ID, Tag.TARGET_COMP_ID, Tag.SENDING_TIME}
GW_SPEC = EngineSpec([SessionSpec("LP", SessionSettings("GW", "LP", Role.INITIATOR))])
LP_SPEC = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))])


def body(msg: Message) -> dict[int, str]:
    """MsgType and the body fields (the standard header left out), by tag, as text."""
    return {tag: value.decode() for tag, value in msg.fields() if tag not in HEADER}


def entries(msg: Message) -> list[tuple[str, ...]]:
    """The MDEntries of a W or X as tuples of their field values."""
    return [tuple(v.decode() for _, v in g.fields()) for g in msg.group(Tag.NO_MD_ENTRIES)]


@asynccontextmanager
async def connected(**lp_options: Any) -> AsyncIterator[Peer]:
    """A gateway initiator logged on to `run_mini_lp` serving the acceptor of another engine."""
    clock = wall_clock()
    async with (
        open_engine(GW_SPEC, clock=clock) as gw,
        open_engine(LP_SPEC, clock=clock) as lp,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(functools.partial(run_mini_lp, lp, "GW", **lp_options))
        peer = Peer(gw.session("LP"), gw)
        await connect(nursery, lp, peer)
        yield peer
        nursery.cancel_scope.cancel()


# -- the demo's order flows ------------------------------------------------------------------------
async def test_market_order_fills_at_the_opening_offer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(new_order("C1", "1", 1_000_000))
        new, fill = await gw.next(), await gw.next()
        await gw.send(status("C1"))
        known = await gw.next()
    order = {55: "EURUSD", 54: "1", 38: "1000000", 40: "1"}
    assert body(new) == {35: "8", 37: "O1", 11: "C1", 17: "E1", 150: "0", 39: "0"} | order | {
        151: "1000000",
        14: "0",
        6: "0",
        60: NOW,
    }
    assert body(fill) == {35: "8", 37: "O1", 11: "C1", 17: "E2", 150: "F", 39: "2"} | order | {
        32: "1000000",
        31: "1.08510",  # the opening offer
        151: "0",
        14: "1000000",
        6: "1.08510",
        60: NOW,
    }
    assert f(known, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.CUM_QTY) == ("I", "2", "1000000")


async def test_marketable_limit_fills_at_its_price_and_a_resting_one_is_replaced_then_canceled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(new_order("S1", "2", 250_000, symbol="GBPUSD", price="1.26400"))
        sold, sell_fill = await gw.next(), await gw.next()
        await gw.send(new_order("B1", "1", 1_000_000, price="1.07000"))
        rests = await gw.next()
        await gw.send(replace("B2", "B1", 3_000_000, "1.07500"))
        replaced = await gw.next()
        await gw.send(cancel("B3", "B2"))
        canceled = await gw.next()
        await gw.send(cancel("B4", "B3"))
        too_late = await gw.next()
        assert await gw.collect(2) == []  # nothing fills after the cancel
    assert f(sold, Tag.EXEC_TYPE, Tag.ORDER_ID, Tag.PRICE) == ("0", "O1", "1.26400")
    assert f(sell_fill, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.LAST_PX, Tag.AVG_PX) == (
        "F",
        "2",
        "1.26400",  # a sell under the bid fills at its own price
        "1.26400",
    )
    assert f(rests, Tag.EXEC_TYPE, Tag.ORDER_ID, Tag.LEAVES_QTY) == ("0", "O2", "1000000")
    resting = {55: "EURUSD", 54: "1", 40: "2", 38: "3000000", 44: "1.07500", 14: "0", 6: "0"}
    assert body(replaced) == resting | {35: "8", 37: "O2", 11: "B2", 41: "B1", 17: "E4"} | {
        150: "5",
        39: "0",
        151: "3000000",
        60: NOW,
    }
    assert body(canceled) == resting | {35: "8", 37: "O2", 11: "B3", 41: "B2", 17: "E5"} | {
        150: "4",
        39: "4",
        151: "0",
        60: NOW,
    }
    assert body(too_late) == {
        35: "9",
        37: "O2",
        11: "B4",
        41: "B3",
        39: "4",
        60: NOW,
        434: "1",
        102: "0",
        58: "too late: the order is canceled",
    }


async def test_a_reused_cl_ord_id_is_rejected(autojump_clock: trio.testing.MockClock) -> None:
    async with connected() as gw:
        await gw.send(new_order("C1", "1", 1_000_000))
        await gw.next()
        await gw.next()
        await gw.send(new_order("C1", "2", 1_000_000))
        dup = await gw.next()
    assert f(dup, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.ORD_REJ_REASON, Tag.ORDER_ID) == (
        "8",
        "8",
        "6",
        "NONE",
    )


# -- market data -----------------------------------------------------------------------------------
async def test_snapshot_then_incrementals_for_two_symbols_then_unsubscribe(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(md_request("M1", depth=1, types=("0", "1"), symbols=("EURUSD", "GBPUSD")))
        eur, gbp = await gw.next(), await gw.next()
        updates = await gw.collect(1.1)  # steps at 0.25, 0.5, 0.75 and 1.0 s
        await gw.send(md_request("M1", kind="2"))
        after = await gw.collect(1.0)
    assert (eur.msg_type, eur[Tag.MD_REQ_ID], eur[Tag.SYMBOL]) == ("W", b"M1", b"EURUSD")
    # MDEntryType, MDEntryPx, MDEntrySize, MDEntryPositionNo
    assert entries(eur) == [("0", "1.08500", "1000000", "1"), ("1", "1.08510", "1000000", "1")]
    assert entries(gbp) == [("0", "1.26500", "1000000", "1"), ("1", "1.26515", "1000000", "1")]
    assert [m.msg_type for m in updates] == ["X"] * 4
    for update in updates:
        assert update[Tag.MD_REQ_ID] == b"M1"
        rows = entries(update)
        # MDUpdateAction, MDEntryType, Symbol, MDEntryPx, MDEntrySize, MDEntryPositionNo
        assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
            ("1", "0", "EURUSD", "1"),
            ("1", "1", "EURUSD", "1"),
            ("1", "0", "GBPUSD", "1"),
            ("1", "1", "GBPUSD", "1"),
        ]
        assert Decimal(rows[1][3]) - Decimal(rows[0][3]) == Decimal("0.00010")  # spread kept
        assert Decimal(rows[3][3]) - Decimal(rows[2][3]) == Decimal("0.00015")
    eur_bids = [Decimal(entries(u)[0][3]) for u in updates]
    steps = [b - a for a, b in zip([Decimal("1.08500"), *eur_bids], eur_bids, strict=False)]
    assert all(abs(s) <= Decimal("0.00003") for s in steps)  # at most max_step ticks a step
    assert len(set(eur_bids)) > 1  # the market walks
    assert after == []


async def test_same_seed_same_prices(autojump_clock: trio.testing.MockClock) -> None:
    async def prices(seed: int) -> list[list[tuple[str, ...]]]:
        async with connected(seed=seed, tick_interval=0.5) as gw:
            await gw.send(md_request("M1", types=("0", "1"), symbols=("USDJPY",)))
            await gw.next()
            return [entries(m) for m in await gw.collect(5.2)]

    first, again, other = await prices(1), await prices(1), await prices(2)
    assert len(first) == 10
    assert first == again
    assert first != other


async def test_snapshot_only_full_refresh_and_bad_requests(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(md_request("S", types=("1",), symbols=("AUDUSD",), kind="0"))
        snap = await gw.next()
        assert await gw.collect(0.6) == []  # a snapshot only: no updates
        await gw.send(md_request("F", types=("0", "1"), symbols=("AUDUSD",), update_type=0))
        await gw.next()
        full = await gw.collect(0.6)
        await gw.send(md_request("M1", symbols=("EURUSD", "XAUUSD")))
        unknown = await gw.next()
        await gw.send(md_request("M2", types=("4",)))  # opening prices are not published
        unsupported = await gw.next()
        await gw.send(md_request("F", symbols=("GBPUSD",)))
        duplicate = await gw.next()
        await gw.send(md_request("M9", kind="2"))
        not_subscribed = await gw.next()
    assert entries(snap) == [("1", "0.65512", "1000000", "1")]
    assert [(m.msg_type, m[Tag.MD_REQ_ID]) for m in full] == [("W", b"F")] * 2
    assert body(unknown) == {35: "Y", 262: "M1", 281: "0", 58: "unknown symbol: XAUUSD"}
    assert f(unsupported, Tag.MD_REQ_ID, Tag.MD_REQ_REJ_REASON) == ("M2", "8")
    assert f(duplicate, Tag.MD_REQ_ID, Tag.MD_REQ_REJ_REASON) == ("F", "1")
    assert body(not_subscribed) == {35: "Y", 262: "M9", 58: "no subscription 'M9' to cancel"}


async def test_subscriptions_end_with_the_connection_orders_do_not(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = wall_clock()
    async with (
        open_engine(GW_SPEC, clock=clock) as gw,
        open_engine(LP_SPEC, clock=clock) as lp,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(run_mini_lp, lp, "GW")
        client = Peer(gw.session("LP"), gw)
        for attempt in range(2):
            await connect(nursery, lp, client)
            if attempt == 0:
                await client.send(md_request("M1", types=("0", "1")))
                await client.next()
                assert len(await client.collect(0.6)) == 2
                await client.send(new_order("B1", "1", 1_000_000, price="1.07000"))
                await client.next()
                await client.handle.logout()
            else:
                assert await client.collect(1.0) == []  # no updates for the old subscription
                await client.send(md_request("M1", types=("0", "1")))  # the MDReqID is free
                assert (await client.next()).msg_type == MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH
                await client.send(status("B1"))
                still = await client.next()
                assert f(still, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.ORDER_ID) == ("I", "0", "O1")
        nursery.cancel_scope.cancel()


async def test_run_mini_lp_checks_its_arguments() -> None:
    spec = EngineSpec(
        [
            SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR)),
            SessionSpec("OUT", SessionSettings("GW", "LP2", Role.INITIATOR)),
        ]
    )
    async with open_engine(spec) as lp:
        with pytest.raises(ValueError, match="duplicate symbols: EURUSD"):
            await run_mini_lp(lp, "GW", instruments=DEFAULT_INSTRUMENTS[:1] * 2)
        with pytest.raises(ValueError, match="tick_interval"):
            await run_mini_lp(lp, "GW", tick_interval=0)
        with pytest.raises(KeyError, match="no session 'NOPE'"):
            await run_mini_lp(lp, "NOPE")
        with pytest.raises(ValueError, match="only runs acceptors"):
            await run_mini_lp(lp, "OUT")


@pytest.mark.parametrize(
    ("bid", "offer", "tick", "options", "error"),
    [
        ("2", "1", "0.1", {}, "bid < offer"),
        ("1", "2", "0", {}, "tick > 0"),
        ("1", "2", "0.1", {"max_step": -1}, "max_step >= 0"),
        ("1", "2", "0.1", {"size": Decimal(0)}, "size > 0"),
        ("1", "2", "0.1", {"min_qty": Decimal(5), "max_qty": Decimal(1)}, "min_qty <= max_qty"),
        ("1", "2", "0.1", {"levels": 0}, "levels >= 1"),
        ("1", "2", "0.1", {"trade_probability": 1.5}, "trade_probability <= 1"),
    ],
)
def test_instrument_checks_its_terms(
    bid: str, offer: str, tick: str, options: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        Instrument("X", Decimal(bid), Decimal(offer), Decimal(tick), **options)
    assert [i.symbol for i in DEFAULT_INSTRUMENTS] == ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD"]

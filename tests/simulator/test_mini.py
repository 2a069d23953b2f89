"""The mini LP against a trifix initiator, over a memory stream pair on trio's MockClock.

Every application message the gateway side receives is checked against the FIX 4.4 dictionary,
and the gateway's session validates it too (an invalid one would be answered with a Reject,
which `Gateway` fails on).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from simulator import DEFAULT_INSTRUMENTS, Instrument, run_mini_lp
from trifix.core.events import AppMessageReceived, BusinessRejectSent, RejectReceived, RejectSent
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.core.validate import Validator
from trifix.runtime import EngineSpec, SessionHandle, SessionSpec, open_engine

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW = "20261125-09:00:00.000"  # TransactTime of anything answered at mock time 0
HEADER = {Tag.MSG_SEQ_NUM, Tag.SENDER_COMP_ID, Tag.TARGET_COMP_ID, Tag.SENDING_TIME}
VALIDATOR = Validator()


def wall_clock() -> Callable[[], datetime]:
    """Wall time that follows trio's (mock) clock, starting at T0."""
    base = trio.current_time()
    return lambda: T0 + timedelta(seconds=trio.current_time() - base)


def body(msg: Message) -> dict[int, str]:
    """MsgType and the body fields (the standard header left out), by tag, as text."""
    return {tag: value.decode() for tag, value in msg.fields() if tag not in HEADER}


class Gateway:
    """The initiator's side: sends requests, hands out the answers in order."""

    def __init__(self, handle: SessionHandle) -> None:
        self.handle = handle
        self.received: list[Message] = []

    async def send(self, msg: Message) -> None:
        await self.handle.send(msg)

    async def next(self, within: float = 5) -> Message:
        """The next application message (fails on any reject in either direction)."""
        with trio.fail_after(within):
            async for event in self.handle.events():
                assert not isinstance(event, RejectSent | RejectReceived | BusinessRejectSent), (
                    event
                )
                if isinstance(event, AppMessageReceived):
                    msg = event.message
                    assert VALIDATOR.validate(msg) is None, msg
                    self.received.append(msg)
                    return msg
        raise AssertionError("the event stream ended")

    async def collect(self, seconds: float) -> list[Message]:
        """Every application message received in the next `seconds` (of mock time)."""
        out: list[Message] = []
        with trio.move_on_after(seconds):
            while True:
                out.append(await self.next(within=seconds + 1))
        return out


@asynccontextmanager
async def connected(**lp_options: Any) -> AsyncIterator[Gateway]:
    clock = wall_clock()
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
        nursery.start_soon(functools.partial(run_mini_lp, lp, "GW", **lp_options))
        handle = gw.session("LP")
        with trio.fail_after(5):
            await handle.wait_logged_on()
        yield Gateway(handle)
        nursery.cancel_scope.cancel()


def new_order(
    cl_ord_id: str,
    side: str,
    qty: int,
    symbol: str = "EURUSD",
    price: str | None = None,
    ord_type: str | None = None,
) -> Message:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, T0),
        (Tag.ORDER_QTY, qty),
        (Tag.ORD_TYPE, ord_type or ("1" if price is None else "2")),
    )
    if price is not None:
        msg.set(Tag.PRICE, Decimal(price))
    return msg


def cancel(cl_ord_id: str, orig: str, side: str = "1", symbol: str = "EURUSD") -> Message:
    return Message.new(
        MsgType.ORDER_CANCEL_REQUEST,
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, T0),
    )


def replace(
    cl_ord_id: str, orig: str, qty: int, price: str, side: str = "1", symbol: str = "EURUSD"
) -> Message:
    return Message.new(
        MsgType.ORDER_CANCEL_REPLACE_REQUEST,
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, T0),
        (Tag.ORDER_QTY, qty),
        (Tag.ORD_TYPE, "2"),
        (Tag.PRICE, Decimal(price)),
    )


def md_request(
    req_id: str, *symbols: str, kind: str = "1", types: tuple[str, ...] = ("0", "1"), **extra: Any
) -> Message:
    msg = Message.new(
        MsgType.MARKET_DATA_REQUEST,
        (Tag.MD_REQ_ID, req_id),
        (Tag.SUBSCRIPTION_REQUEST_TYPE, kind),
        (Tag.MARKET_DEPTH, 1),
        (Tag.MD_UPDATE_TYPE, extra.get("update_type", 1)),
    )
    msg.add_group(Tag.NO_MD_ENTRY_TYPES, [[(Tag.MD_ENTRY_TYPE, t)] for t in types])
    return msg.add_group(Tag.NO_RELATED_SYM, [[(Tag.SYMBOL, s)] for s in symbols])


def entries(msg: Message) -> list[tuple[str, ...]]:
    """The MDEntries of a W or X as tuples of their field values."""
    return [tuple(v.decode() for _, v in g.fields()) for g in msg.group(Tag.NO_MD_ENTRIES)]


# -- orders ----------------------------------------------------------------------------------------
async def test_market_order_gets_new_then_fill_at_the_offer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(new_order("C1", "1", 1_000_000))
        new, fill = await gw.next(), await gw.next()
    assert body(new) == {
        35: "8",
        37: "O1",
        11: "C1",
        17: "E1",
        150: "0",
        39: "0",
        55: "EURUSD",
        54: "1",
        38: "1000000",
        40: "1",
        151: "1000000",
        14: "0",
        6: "0",
        60: NOW,
    }
    assert body(fill) == {
        35: "8",
        37: "O1",
        11: "C1",
        17: "E2",
        150: "F",
        39: "2",
        55: "EURUSD",
        54: "1",
        38: "1000000",
        40: "1",
        32: "1000000",
        31: "1.08510",  # the opening offer
        151: "0",
        14: "1000000",
        6: "1.08510",
        60: NOW,
    }


async def test_marketable_limit_order_fills_at_its_own_price(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(new_order("S1", "2", 250_000, symbol="GBPUSD", price="1.26400"))
        new, fill = await gw.next(), await gw.next()
    assert (new[Tag.EXEC_TYPE], new[Tag.PRICE], new[Tag.ORD_TYPE]) == (b"0", b"1.26400", b"2")
    assert body(fill) | {17: "?"} == {
        35: "8",
        37: "O1",
        11: "S1",
        17: "?",
        150: "F",
        39: "2",
        55: "GBPUSD",
        54: "2",
        38: "250000",
        40: "2",
        44: "1.26400",
        32: "250000",
        31: "1.26400",
        151: "0",
        14: "250000",
        6: "1.26400",
        60: NOW,
    }


async def test_resting_order_is_canceled(autojump_clock: trio.testing.MockClock) -> None:
    async with connected() as gw:
        await gw.send(new_order("B1", "1", 2_000_000, price="1.07000"))
        new = await gw.next()
        assert (new[Tag.EXEC_TYPE], new[Tag.ORD_STATUS], new[Tag.LEAVES_QTY]) == (
            b"0",
            b"0",
            b"2000000",
        )
        await gw.send(cancel("B2", "B1"))
        canceled = await gw.next()
    assert body(canceled) == {
        35: "8",
        37: "O1",
        11: "B2",
        41: "B1",
        17: "E2",
        150: "4",
        39: "4",
        55: "EURUSD",
        54: "1",
        38: "2000000",
        40: "2",
        44: "1.07000",
        151: "0",
        14: "0",
        6: "0",
        60: NOW,
    }


async def test_resting_order_is_replaced_then_filled_when_made_marketable(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(new_order("B1", "1", 1_000_000, price="1.07000"))
        await gw.next()
        await gw.send(replace("B2", "B1", 3_000_000, "1.07500"))
        replaced = await gw.next()
        assert body(replaced) == {
            35: "8",
            37: "O1",
            11: "B2",
            41: "B1",
            17: "E2",
            150: "5",
            39: "0",
            55: "EURUSD",
            54: "1",
            38: "3000000",
            40: "2",
            44: "1.07500",
            151: "3000000",
            14: "0",
            6: "0",
            60: NOW,
        }
        await gw.send(replace("B3", "B2", 3_000_000, "1.09000"))
        again, fill = await gw.next(), await gw.next()
    assert (again[Tag.EXEC_TYPE], again[Tag.ORIG_CL_ORD_ID], again[Tag.CL_ORD_ID]) == (
        b"5",
        b"B2",
        b"B3",
    )
    assert body(fill) | {17: "?"} == {
        35: "8",
        37: "O1",
        11: "B3",
        17: "?",
        150: "F",
        39: "2",
        55: "EURUSD",
        54: "1",
        38: "3000000",
        40: "2",
        44: "1.09000",
        32: "3000000",
        31: "1.09000",
        151: "0",
        14: "3000000",
        6: "1.09000",
        60: NOW,
    }


async def test_resting_order_fills_when_the_market_reaches_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(seed=7) as gw:
        await gw.send(new_order("B1", "1", 1_000_000, price="1.08508"))  # 2 ticks under the offer
        assert (await gw.next())[Tag.EXEC_TYPE] == b"0"
        fill = await gw.next(within=600)
    assert (fill[Tag.EXEC_TYPE], fill[Tag.LAST_PX], fill[Tag.ORD_STATUS]) == (
        b"F",
        b"1.08508",
        b"2",
    )
    assert fill.get_utc_timestamp(Tag.TRANSACT_TIME) > T0  # on a price tick, not at once


async def test_cancel_of_an_unknown_order_is_rejected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(cancel("X2", "NOPE"))
        reject = await gw.next()
    assert body(reject) == {
        35: "9",
        37: "NONE",
        11: "X2",
        41: "NOPE",
        39: "8",
        60: NOW,
        434: "1",
        102: "1",
        58: "unknown order",
    }


async def test_cancel_or_replace_of_a_filled_order_is_too_late(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(new_order("C1", "1", 1_000_000))
        await gw.next()
        await gw.next()
        await gw.send(cancel("C2", "C1"))
        too_late = await gw.next()
        await gw.send(replace("C3", "C1", 5, "1.1"))
        replace_too_late = await gw.next()
    assert body(too_late) == {
        35: "9",
        37: "O1",
        11: "C2",
        41: "C1",
        39: "2",
        60: NOW,
        434: "1",
        102: "0",
        58: "too late: the order is filled",
    }
    assert (replace_too_late[Tag.CXL_REJ_RESPONSE_TO], replace_too_late[Tag.CXL_REJ_REASON]) == (
        b"2",
        b"0",
    )


async def test_replace_of_an_unknown_order_is_rejected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(replace("R2", "R1", 5, "1.1"))
        reject = await gw.next()
    assert body(reject)[434] == "2"
    assert body(reject)[102] == "1"


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (new_order("C1", "1", 5, symbol="XAUUSD"), "1"),
        (new_order("C1", "1", 0), "13"),
        (new_order("C1", "1", 5, ord_type="2"), "11"),  # limit without a price
        (new_order("C1", "5", 5), "11"),  # sell short
    ],
)
async def test_bad_orders_are_rejected(
    autojump_clock: trio.testing.MockClock, order: Message, reason: str
) -> None:
    async with connected() as gw:
        await gw.send(order.copy())
        rejected = await gw.next()
    assert body(rejected)[150] == "8"
    assert body(rejected)[39] == "8"
    assert body(rejected)[37] == "NONE"
    assert body(rejected)[103] == reason


async def test_duplicate_cl_ord_id_is_rejected(autojump_clock: trio.testing.MockClock) -> None:
    async with connected() as gw:
        await gw.send(new_order("C1", "1", 1_000_000))
        await gw.next()
        await gw.next()
        await gw.send(new_order("C1", "2", 1_000_000))
        dup = await gw.next()
        await gw.send(new_order("C2", "1", 1, price="1.0"))
        await gw.next()
        await gw.send(cancel("C1", "C2"))  # a ClOrdID already used
        cxl = await gw.next()
    assert (dup[Tag.EXEC_TYPE], dup[Tag.ORD_REJ_REASON]) == (b"8", b"6")
    assert (cxl.msg_type, cxl[Tag.CXL_REJ_REASON]) == ("9", b"6")


async def test_unsupported_message_gets_a_business_reject(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(Message.new(MsgType.NEWS, (Tag.HEADLINE, "hello"), (Tag.NO_LINES_OF_TEXT, 0)))
        reject = await gw.next()
    assert (reject.msg_type, reject[Tag.REF_MSG_TYPE], reject[Tag.BUSINESS_REJECT_REASON]) == (
        "j",
        b"B",
        b"3",
    )


# -- market data -----------------------------------------------------------------------------------
async def test_snapshot_then_incrementals_then_unsubscribe(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(md_request("M1", "EURUSD", "GBPUSD"))
        eur, gbp = await gw.next(), await gw.next()
        updates = await gw.collect(1.1)  # ticks at 0.25, 0.5, 0.75 and 1.0 s
        await gw.send(md_request("M1", "EURUSD", kind="2"))
        after = await gw.collect(1.0)
    assert body(eur) == {
        35: "W",
        262: "M1",
        55: "EURUSD",
        268: "2",
        269: "1",
        270: "1.08510",
        271: "1000000",
    }
    assert entries(eur) == [("0", "1.08500", "1000000"), ("1", "1.08510", "1000000")]
    assert entries(gbp) == [("0", "1.26500", "1000000"), ("1", "1.26515", "1000000")]
    assert [m.msg_type for m in updates] == ["X"] * 4
    for update in updates:
        assert update[Tag.MD_REQ_ID] == b"M1"
        rows = entries(update)
        assert [(r[0], r[1], r[2]) for r in rows] == [
            ("1", "0", "EURUSD"),
            ("1", "1", "EURUSD"),
            ("1", "0", "GBPUSD"),
            ("1", "1", "GBPUSD"),
        ]
        for bid, offer in ((rows[0], rows[1]), (rows[2], rows[3])):
            spread = Decimal(offer[3]) - Decimal(bid[3])
            assert spread in (Decimal("0.00010"), Decimal("0.00015"))
    eur_bids = [Decimal(entries(u)[0][3]) for u in updates]
    steps = [b - a for a, b in zip([Decimal("1.08500"), *eur_bids], eur_bids, strict=False)]
    assert all(abs(s) <= Decimal("0.00003") for s in steps)  # at most max_step ticks a tick
    assert after == []


async def test_same_seed_same_prices(autojump_clock: trio.testing.MockClock) -> None:
    async def prices(seed: int) -> list[list[tuple[str, ...]]]:
        async with connected(seed=seed) as gw:
            await gw.send(md_request("M1", "USDJPY"))
            await gw.next()
            return [entries(m) for m in await gw.collect(2.6)]

    first, again, other = await prices(1), await prices(1), await prices(2)
    assert len(first) == 10
    assert first == again
    assert first != other


async def test_snapshot_only_and_full_refresh_subscriptions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(md_request("S", "AUDUSD", kind="0", types=("1",)))
        snap = await gw.next()
        assert await gw.collect(0.6) == []  # a snapshot only: no updates
        await gw.send(md_request("F", "AUDUSD", update_type=0))
        await gw.next()
        full = await gw.collect(0.6)
    assert entries(snap) == [("1", "0.65512", "1000000")]
    assert [(m.msg_type, m[Tag.MD_REQ_ID]) for m in full] == [("W", b"F")] * 2


async def test_unknown_symbol_and_other_bad_requests_are_rejected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected() as gw:
        await gw.send(md_request("M1", "EURUSD", "XAUUSD"))
        unknown = await gw.next()
        await gw.send(md_request("M2", "EURUSD", types=("2",)))
        trades = await gw.next()
        await gw.send(md_request("M3", "EURUSD"))
        await gw.next()
        await gw.send(md_request("M3", "GBPUSD"))
        duplicate = await gw.next()
        await gw.send(md_request("M9", "EURUSD", kind="2"))
        not_subscribed = await gw.next()
    assert body(unknown) == {35: "Y", 262: "M1", 281: "0", 58: "unknown symbol: XAUUSD"}
    assert (trades.msg_type, trades[Tag.MD_REQ_REJ_REASON]) == ("Y", b"8")
    assert (duplicate.msg_type, duplicate[Tag.MD_REQ_REJ_REASON]) == ("Y", b"1")
    assert body(not_subscribed) == {35: "Y", 262: "M9", 58: "no subscription 'M9' to cancel"}


async def test_subscriptions_end_with_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = wall_clock()
    gw_spec = EngineSpec([SessionSpec("LP", SessionSettings("GW", "LP", Role.INITIATOR))])
    lp_spec = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))])
    async with (
        open_engine(gw_spec, clock=clock) as gw,
        open_engine(lp_spec, clock=clock) as lp,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(run_mini_lp, lp, "GW")
        for attempt in range(2):
            a, b = trio.testing.memory_stream_pair()
            nursery.start_soon(gw.run_connection, "LP", a)
            nursery.start_soon(lp.run_connection, "GW", b)
            client = Gateway(gw.session("LP"))
            await client.handle.wait_logged_on()
            if attempt == 0:
                await client.send(md_request("M1", "EURUSD"))
                await client.next()
                assert len(await client.collect(0.6)) == 2
                await client.handle.logout()
            else:
                assert await client.collect(1.0) == []  # no updates for the old subscription
                await client.send(md_request("M1", "EURUSD"))  # the MDReqID is free again
                assert (await client.next()).msg_type == "W"
        nursery.cancel_scope.cancel()


def test_instrument_checks_its_prices() -> None:
    with pytest.raises(ValueError, match="bid < offer"):
        Instrument("X", Decimal(2), Decimal(1), Decimal("0.1"))
    with pytest.raises(ValueError, match="tick > 0"):
        Instrument("X", Decimal(1), Decimal(2), Decimal(0))
    assert [i.symbol for i in DEFAULT_INSTRUMENTS] == ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD"]


async def test_run_mini_lp_checks_its_arguments() -> None:
    spec = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))])
    async with open_engine(spec) as lp:
        with pytest.raises(ValueError, match="duplicate symbols"):
            await run_mini_lp(lp, "GW", instruments=DEFAULT_INSTRUMENTS[:1] * 2)
        with pytest.raises(ValueError, match="tick_interval"):
            await run_mini_lp(lp, "GW", tick_interval=0)
        with pytest.raises(KeyError, match="no session 'NOPE'"):
            await run_mini_lp(lp, "NOPE")

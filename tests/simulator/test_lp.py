"""LP mode end to end against a trifix initiator, on memory streams and trio's MockClock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from simulator import Behaviour, FillModel, Instrument, RejectRule, SimulatorSpec
from tests.simulator.harness import T0, connected, sim_session, sim_spec
from trifix.core.message import Message
from trifix.core.tags import MsgType, Side, Tag

EUR = Instrument(
    "EURUSD",
    Decimal("1.08500"),
    Decimal("1.08510"),
    Decimal("0.00001"),
    min_qty=Decimal(1),
    max_qty=Decimal(5_000_000),
    levels=3,
    trade_probability=1.0,
)


def spec(behaviour: Behaviour | None = None, **options: Any) -> SimulatorSpec:
    return sim_spec(sim_session(behaviour=behaviour), instruments=[EUR], **options)


def new_order(
    cl_ord_id: str, side: str = "1", qty: int = 1_000_000, price: str | None = None, **extra: object
) -> Message:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, extra.pop("symbol", "EURUSD")),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, T0),
        (Tag.ORDER_QTY, qty),
        (Tag.ORD_TYPE, extra.pop("ord_type", "1" if price is None else "2")),
    )
    if price is not None:
        msg.set(Tag.PRICE, Decimal(price))
    for tag, value in extra.items():
        msg.set(getattr(Tag, tag), value)
    return msg


def cancel(cl_ord_id: str, orig: str) -> Message:
    return Message.new(
        MsgType.ORDER_CANCEL_REQUEST,
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, T0),
    )


def replace(cl_ord_id: str, orig: str, qty: int, price: str) -> Message:
    return Message.new(
        MsgType.ORDER_CANCEL_REPLACE_REQUEST,
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, T0),
        (Tag.ORDER_QTY, qty),
        (Tag.ORD_TYPE, "2"),
        (Tag.PRICE, Decimal(price)),
    )


def status(cl_ord_id: str) -> Message:
    return Message.new(
        MsgType.ORDER_STATUS_REQUEST,
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.SIDE, "1"),
    )


def md_request(
    req_id: str,
    depth: int = 0,
    types: tuple[str, ...] = ("0", "1", "2"),
    symbols: tuple[str, ...] = ("EURUSD",),
    kind: str = "1",
    update_type: int = 1,
) -> Message:
    msg = Message.new(
        MsgType.MARKET_DATA_REQUEST,
        (Tag.MD_REQ_ID, req_id),
        (Tag.SUBSCRIPTION_REQUEST_TYPE, kind),
        (Tag.MARKET_DEPTH, depth),
        (Tag.MD_UPDATE_TYPE, update_type),
    )
    msg.add_group(Tag.NO_MD_ENTRY_TYPES, [[(Tag.MD_ENTRY_TYPE, t)] for t in types])
    return msg.add_group(Tag.NO_RELATED_SYM, [[(Tag.SYMBOL, s)] for s in symbols])


def quote_request(req_id: str, symbol: str = "EURUSD") -> Message:
    msg = Message.new(MsgType.QUOTE_REQUEST, (Tag.QUOTE_REQ_ID, req_id))
    return msg.add_group(Tag.NO_RELATED_SYM, [[(Tag.SYMBOL, symbol), (Tag.ORDER_QTY, 500_000)]])


def f(msg: Message, *tags: int) -> tuple[str, ...]:
    return tuple(msg[t].decode() for t in tags)


async def test_market_order_is_acked_then_filled_at_the_offer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(spec()) as (gw, _):
        await gw.send(new_order("C1"))
        ack, fill = await gw.next(), await gw.next()
    assert f(ack, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.ORDER_ID) == ("0", "0", "O1")
    assert f(fill, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.LAST_PX, Tag.CUM_QTY) == (
        "F",
        "2",
        "1.08510",
        "1000000",
    )


async def test_resting_limit_fills_when_the_market_crosses_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(spec()) as (gw, sim):
        await gw.send(new_order("B1", price="1.08507"))  # under the offer: rests
        assert (await gw.next())[Tag.EXEC_TYPE] == b"0"
        fill = await gw.next(within=600)
        assert (
            sim.book("EURUSD").offer <= Decimal("1.08507")
            or fill.get_utc_timestamp(Tag.TRANSACT_TIME) > T0
        )
    assert f(fill, Tag.EXEC_TYPE, Tag.LAST_PX) == ("F", "1.08507")


async def test_immediate_model_partial_slices_and_cancel_of_the_rest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = Behaviour(fill=FillModel.IMMEDIATE, slices=4, slice_interval=1.0)
    async with connected(spec(behaviour)) as (gw, _):
        await gw.send(new_order("S1", side="2", qty=1_000, price="1.2"))
        ack, first = await gw.next(), await gw.next()
        assert f(first, Tag.LAST_QTY, Tag.ORD_STATUS, Tag.LAST_PX) == ("250", "1", "1.2")
        second = await gw.next()
        assert f(second, Tag.CUM_QTY, Tag.LEAVES_QTY) == ("500", "500")
        await gw.send(cancel("S2", "S1"))
        canceled = await gw.next()
        assert await gw.collect(3) == []  # no slice after the cancel
    assert ack[Tag.EXEC_TYPE] == b"0"
    assert f(canceled, Tag.EXEC_TYPE, Tag.CUM_QTY, Tag.LEAVES_QTY) == ("4", "500", "0")


@pytest.mark.parametrize(
    ("rule", "order", "reason"),
    [
        (RejectRule(all=True), new_order("R1"), "99"),
        (RejectRule(symbols=frozenset({"EURUSD"})), new_order("R1"), "99"),
        (RejectRule(sides=frozenset({Side.SELL})), new_order("R1", side="2"), "99"),
        (RejectRule(qty_above=Decimal(10)), new_order("R1", qty=11), "99"),
        (None, new_order("R1", qty=6_000_000), "13"),  # above the instrument's max_qty
        (None, new_order("R1", symbol="XAUUSD"), "1"),
        (None, new_order("R1", qty=0), "13"),
        (None, new_order("R1", ord_type="2"), "11"),  # a limit order without a price
        (None, new_order("R1", side="5"), "11"),  # sell short
    ],
)
async def test_reject_rules(
    autojump_clock: trio.testing.MockClock, rule: RejectRule | None, order: Message, reason: str
) -> None:
    async with connected(spec(Behaviour(reject=rule))) as (gw, _):
        await gw.send(order.copy())
        rejected = await gw.next()
    assert f(rejected, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.ORD_REJ_REASON) == ("8", "8", reason)


async def test_reject_ratio_is_seeded(autojump_clock: trio.testing.MockClock) -> None:
    async def outcomes(seed: int) -> list[bytes]:
        rule = RejectRule(ratio=0.5)
        behaviour = Behaviour(reject=rule, fill=FillModel.NONE)
        async with connected(spec(behaviour, seed=seed)) as (gw, _):
            for n in range(12):
                await gw.send(new_order(f"C{n}"))
            return [(await gw.next())[Tag.EXEC_TYPE] for _ in range(12)]

    first, again = await outcomes(3), await outcomes(3)
    assert first == again
    assert set(first) == {b"0", b"8"}


async def test_set_behaviour_at_run_time(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec()) as (gw, sim):
        lp = sim.session("GW")
        lp.set_behaviour(reject={"all": True, "text": "closed"})
        await gw.send(new_order("C1"))
        assert f(await gw.next(), Tag.EXEC_TYPE, Tag.TEXT) == ("8", "closed")
        lp.set_behaviour(reject=None, fill="none")
        await gw.send(new_order("C2"))
        assert (await gw.next())[Tag.EXEC_TYPE] == b"0"
        assert await gw.collect(2) == []
        with pytest.raises(TypeError):
            lp.set_behaviour(nonsense=1)
        with pytest.raises(ValueError, match="slices"):
            lp.set_behaviour(slices=0)


async def test_cancel_and_replace_rejects(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec(Behaviour(fill=FillModel.NONE))) as (gw, _):
        await gw.send(cancel("X2", "NOPE"))
        unknown = await gw.next()
        await gw.send(new_order("C1", price="1.0"))
        await gw.next()
        await gw.send(replace("C2", "C1", 2_000_000, "1.01"))
        replaced = await gw.next()
        await gw.send(cancel("C3", "C2"))
        await gw.next()
        await gw.send(cancel("C4", "C3"))
        too_late = await gw.next()
        await gw.send(replace("C1", "C3", 5, "1.0"))  # a ClOrdID already used
        dup = await gw.next()
    assert f(unknown, Tag.CXL_REJ_RESPONSE_TO, Tag.CXL_REJ_REASON) == ("1", "1")
    assert f(replaced, Tag.EXEC_TYPE, Tag.ORDER_QTY, Tag.PRICE) == ("5", "2000000", "1.01")
    assert f(too_late, Tag.CXL_REJ_REASON, Tag.ORD_STATUS) == ("0", "4")
    assert f(dup, Tag.CXL_REJ_RESPONSE_TO, Tag.CXL_REJ_REASON) == ("2", "6")


async def test_market_data_depth_incrementals_and_trades(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(spec()) as (gw, sim):
        await gw.send(md_request("M1", depth=2))
        snapshot = await gw.next()
        updates = await gw.collect(0.6)
        book = sim.book("EURUSD")
    entries = list(snapshot.group(Tag.NO_MD_ENTRIES))
    assert [(g[Tag.MD_ENTRY_TYPE], g[Tag.MD_ENTRY_POSITION_NO]) for g in entries] == [
        (b"0", b"1"),
        (b"0", b"2"),
        (b"1", b"1"),
        (b"1", b"2"),
    ]
    assert len(updates) == 2
    last = updates[-1].group(Tag.NO_MD_ENTRIES)
    assert [g[Tag.MD_ENTRY_TYPE] for g in last] == [b"0", b"0", b"1", b"1", b"2"]
    assert Decimal(last[0][Tag.MD_ENTRY_PX].decode()) == book.bid
    assert Decimal(last[2][Tag.MD_ENTRY_PX].decode()) == book.offer


async def test_quote_request_and_orders_on_the_quote(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(spec(Behaviour(quote_validity=2.0))) as (gw, sim):
        await gw.send(quote_request("QR1"))
        quote = await gw.next()
        qid = quote[Tag.QUOTE_ID].decode()
        await gw.send(new_order("C1", qty=500_000, ord_type="D", QUOTE_ID=qid))
        ack, fill = await gw.next(), await gw.next()
        await gw.send(new_order("C2", qty=600_000, ord_type="D", QUOTE_ID=qid))
        too_big = await gw.next()
        await trio.sleep(3)
        await gw.send(new_order("C3", qty=1, ord_type="D", QUOTE_ID=qid))
        expired = await gw.next()
        sim.session("GW").set_behaviour(quote_tradeable=False)
        await gw.send(quote_request("QR2"))
        indicative = await gw.next()
        await gw.send(new_order("C4", qty=1, ord_type="D", QUOTE_ID=indicative[Tag.QUOTE_ID]))
        refused = await gw.next()
        await gw.send(quote_request("QR3", symbol="XAUUSD"))
        unknown = await gw.next()
    assert f(quote, Tag.QUOTE_REQ_ID, Tag.QUOTE_TYPE, Tag.BID_SIZE) == ("QR1", "1", "500000")
    assert ack[Tag.EXEC_TYPE] == b"0"
    assert fill[Tag.LAST_PX] == quote[Tag.OFFER_PX]
    assert f(too_big, Tag.ORD_REJ_REASON) == ("13",)
    assert f(expired, Tag.ORD_REJ_REASON) == ("8",)
    assert indicative[Tag.QUOTE_TYPE] == b"0"
    assert b"indicative" in refused[Tag.TEXT]
    assert f(unknown, Tag.QUOTE_REQUEST_REJECT_REASON) == ("1",)


async def test_latency_delays_answers(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec(Behaviour(latency=2.0, latency_jitter=0.5))) as (gw, _):
        start = trio.current_time()
        await gw.send(new_order("C1"))
        await gw.next()
        assert 2.0 <= trio.current_time() - start <= 2.5


async def test_unsupported_message_and_mass_status(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec(Behaviour(fill=FillModel.NONE))) as (gw, _):
        await gw.send(Message.new(MsgType.NEWS, (Tag.HEADLINE, "hi"), (Tag.NO_LINES_OF_TEXT, 0)))
        bmr = await gw.next()
        mass = Message.new(
            MsgType.ORDER_MASS_STATUS_REQUEST,
            (Tag.MASS_STATUS_REQ_ID, "MS1"),
            (Tag.MASS_STATUS_REQ_TYPE, 7),
        )
        await gw.send(mass.copy())
        empty = await gw.next()
        for n in (1, 2):
            await gw.send(new_order(f"C{n}", price="1.0"))
            await gw.next()
        await gw.send(mass.set(Tag.MASS_STATUS_REQ_ID, "MS2"))
        reports = [await gw.next(), await gw.next()]
        await gw.send(status("NOPE"))
        unknown = await gw.next()
    assert f(bmr, Tag.BUSINESS_REJECT_REASON, Tag.REF_MSG_TYPE) == ("3", "B")
    assert empty.msg_type == MsgType.BUSINESS_MESSAGE_REJECT
    assert [
        f(r, Tag.CL_ORD_ID, Tag.EXEC_TYPE, Tag.TOT_NUM_REPORTS, Tag.LAST_RPT_REQUESTED)
        for r in reports
    ] == [("C1", "I", "2", "N"), ("C2", "I", "2", "Y")]
    assert f(unknown, Tag.EXEC_TYPE, Tag.ORD_STATUS, Tag.ORD_REJ_REASON) == ("I", "8", "5")

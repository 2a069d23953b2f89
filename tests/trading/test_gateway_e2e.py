"""The gateway end to end against the bundled simulators (the mini LP and the full one), over
memory streams on trio's MockClock: orders through their whole life, market data through a
sequence gap, quotes, two LPs with best-price routing, and a disconnect mid-order."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio
import trio.testing

from simulator import Behaviour, FillModel
from tests.trading.gatewayfixtures import (
    SimLP,
    collector,
    eur,
    limit,
    mini_desk,
    poll,
    sim_desk,
    until,
    usable_books,
)
from trifix.core.tags import CxlRejReason, OrdType, Side
from trifix.trading.book import BookStyle
from trifix.trading.order_state import OrderEvent, OrderState
from trifix.trading.quotes import QuoteError, QuoteState
from trifix.trading.routing import LPConfig, Route
from trifix.trading.updates import Alert, AlertKind, OrderChanged, QuoteChanged

S = OrderState


async def test_mini_lp_place_replace_cancel_reject_too_late(
    autojump_clock: trio.testing.MockClock,
) -> None:
    acks: list[float] = []
    async with mini_desk(LPConfig("M", "LPM"), on_order_ack=lambda lp, s: acks.append(s)) as desk:
        gw = desk.gw
        updates = await collector(desk)
        await gw.place(limit("A", 1000, "0.5000"), lp="M")  # far below the market: rests
        await until(gw, "A", S.NEW)
        await gw.replace("A", order_qty=Decimal(2000), price=Decimal("0.6000"))
        await until(gw, "A", S.REPLACED)
        view = gw.order("A")
        assert view is not None
        assert (view.order_qty, view.price, len(view.chain)) == (
            Decimal(2000),
            Decimal("0.6000"),
            2,
        )
        await gw.cancel(view.chain[-1])
        await until(gw, "A", S.CANCELED)
        # Rejected: the mini LP knows no XAUUSD.
        await gw.place(limit("R", symbol="XAUUSD"), lp="M")
        await until(gw, "R", S.REJECTED)
        # Too late: a marketable order and a cancel chasing it; the fill wins.
        await gw.place(limit("F", 1000, "99.0000"), lp="M")
        await gw.cancel("F")
        await updates.wait_for(
            lambda u: isinstance(u, OrderChanged) and u.event is OrderEvent.CANCEL_REJECTED
        )
        filled = gw.order("F")
        assert filled is not None
        assert (filled.state, filled.cum_qty, filled.cxl_rej_reason) == (
            S.FILLED,
            Decimal(1000),
            CxlRejReason.TOO_LATE_TO_CANCEL,
        )
        assert len(acks) == 3
        assert not [a for a in updates.of(Alert) if a.kind is not AlertKind.REJECT]
        assert gw.statistics().lps["M"].open_orders == 0


async def test_partial_fills_cancel_of_the_rest_and_rejects(
    autojump_clock: trio.testing.MockClock,
) -> None:
    slices = Behaviour(fill=FillModel.IMMEDIATE, slices=4, slice_interval=1.0)
    async with sim_desk([SimLP(LPConfig("S", "LPS"), slices)]) as (desk, sims):
        gw = desk.gw
        await gw.place(limit("P", 1000, "1.2", side=Side.SELL), lp="S")
        await until(gw, "P", S.PARTIALLY_FILLED)
        await trio.sleep(1.0)  # a second slice
        await gw.cancel("P")
        await until(gw, "P", S.CANCELED)
        view = gw.order("P")
        assert view is not None
        assert (view.cum_qty, view.leaves_qty, view.avg_px) == (
            Decimal(500),
            Decimal(0),
            Decimal("1.2"),
        )
        assert [f.qty for f in view.fills] == [250, 250]
        sims["S"].session("GW-LPS").set_behaviour(reject={"all": True, "text": "closed"})
        await gw.place(limit("R", 10, "1.2"), lp="S")
        await until(gw, "R", S.REJECTED)
        rejected = gw.order("R")
        assert rejected is not None
        assert rejected.text == "closed"
        assert gw.breaker("S").statistics(desk.clock()).total_failures["reject"] == 1


async def test_book_through_a_sequence_gap(autojump_clock: trio.testing.MockClock) -> None:
    lp = SimLP(LPConfig("S", "LPS", "LPS", book_style=BookStyle.BY_POSITION), Behaviour())
    ticks: list[float] = []
    async with sim_desk([lp], on_tick=lambda name, s: ticks.append(s)) as (desk, sims):
        gw = desk.gw
        await gw.subscribe("EURUSD", depth=3)
        await poll(usable_books(gw, "EURUSD", "S"))
        book = gw.book("EURUSD", "S")
        assert book is not None
        sims["S"].session("GW-LPS").induce_gap(2)
        await trio.sleep(3)  # the gap, the ResendRequest, the resent updates, more updates
        stats = gw.statistics().lps["S"].md_session
        assert stats is not None
        assert stats.event_counts.get("GapDetected") == 1
        assert stats.event_counts.get("GapFilled") == 1
        expected = sims["S"].book("EURUSD")
        depth = book.depth(3)
        assert book.usable
        assert [lvl.price for lvl in depth.bids] == [lvl.price for lvl in expected.bids]
        assert [lvl.price for lvl in depth.offers] == [lvl.price for lvl in expected.offers]
        bbo = gw.bbo("EURUSD")
        assert bbo is not None
        assert bbo.bid is not None
        assert bbo.bid.price == expected.bids[0].price
        assert ticks
        assert all(t >= 0 for t in ticks)
        await gw.unsubscribe("EURUSD")
        assert gw.symbols() == []
        assert gw.bbo("EURUSD") == type(bbo)("EURUSD", None, None)


async def test_quote_then_trade(autojump_clock: trio.testing.MockClock) -> None:
    async with sim_desk([SimLP(LPConfig("S", "LPS"), Behaviour(quote_validity=5.0))]) as (
        desk,
        _,
    ):
        gw = desk.gw
        updates = await collector(desk)
        request = await gw.request_quote("EURUSD", lp="S", order_qty=Decimal(500_000))
        quoted = await updates.wait_for(lambda u: isinstance(u, QuoteChanged))
        assert isinstance(quoted, QuoteChanged)
        assert quoted.view.quote.quote_req_id == request.quote_req_id
        assert [q.quote_id for q in gw.quotes(lp="S")] == [quoted.view.quote_id]
        view = await gw.trade_quote(
            quoted.view.quote_id, lp="S", side=Side.BUY, order_qty=Decimal(500_000)
        )
        assert view.ord_type is OrdType.PREVIOUSLY_QUOTED
        await until(gw, view.cl_ord_id, S.FILLED)
        filled = gw.order(view.cl_ord_id)
        assert filled is not None
        assert filled.avg_px == quoted.view.quote.offer_px
        assert gw.quotes(lp="S") == []
        (traded,) = gw.quotes(lp="S", live_only=False)
        assert traded.state is QuoteState.TRADED
        with pytest.raises(QuoteError, match="traded"):
            await gw.trade_quote(traded.quote_id, lp="S", side=Side.BUY, order_qty=Decimal(1))
        # A second quote expires unused: the gateway says so when it does.
        await gw.request_quote("EURUSD", lp="S")
        await updates.wait_for(
            lambda u: isinstance(u, QuoteChanged) and u.view.state is QuoteState.EXPIRED,
            within=10,
        )
        # An unknown symbol: the LP's QuoteRequestReject (AG) arrives as an alert.
        await gw.request_quote("XAUUSD", lp="S")
        await updates.wait_for(lambda u: isinstance(u, Alert) and u.kind is AlertKind.QUOTE)
        assert updates.updates[-1].to_json()["type"] == "alert"


async def test_two_lps_best_price(autojump_clock: trio.testing.MockClock) -> None:
    cheap = SimLP(LPConfig("A", "LPA", "LPA"), Behaviour(fill=FillModel.NONE),
                  eur("1.08500", "1.08510"), seed=1)  # fmt: skip
    dear = SimLP(LPConfig("B", "LPB", "LPB"), Behaviour(fill=FillModel.NONE),
                 eur("1.08700", "1.08710"), seed=2)  # fmt: skip
    async with sim_desk([cheap, dear], tick_interval=1e6) as (desk, _):
        gw = desk.gw
        await gw.subscribe(["EURUSD"])
        await poll(usable_books(gw, "EURUSD", "A", "B"))
        buy = await gw.place(limit("BUY1", 1000, "1.08510"), lp=Route.BEST_PRICE)
        sell = await gw.place(limit("SELL1", 1000, "1.08700", side=Side.SELL))
        assert (gw.lp_of(buy.cl_ord_id), gw.lp_of(sell.cl_ord_id)) == ("A", "B")
        await until(gw, "BUY1", S.NEW)
        await until(gw, "SELL1", S.NEW)
        bbo = gw.bbo("EURUSD")
        assert bbo is not None
        assert (bbo.bid.lp, bbo.offer.lp) == ("B", "A")  # type: ignore[union-attr]
        assert bbo.crossed
        assert [v.cl_ord_id for v in gw.orders(open_only=True)] == ["BUY1", "SELL1"]
        stats = gw.statistics().to_json()
        assert stats["lps"]["A"]["open_orders"] == 1


async def test_disconnect_mid_order_then_status_after_reconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lp = SimLP(LPConfig("S", "LPS"), Behaviour(disconnect_after_ack=True))
    async with sim_desk([lp]) as (desk, _):
        gw = desk.gw
        await gw.place(limit("C1", 1000, None), lp="S")  # a market order, filled while away
        await until(gw, "C1", S.NEW)
        link = desk.links["LPS"]
        await link.handle.wait_disconnected()
        await link.connect(desk.nursery)
        await until(gw, "C1", S.FILLED)
        view = gw.order("C1")
        assert view is not None
        assert view.cum_qty == 1000
        assert view.fills[0].reconciled  # adopted from the status report
        # A mass status confirms it: nothing open is missing at the LP.
        updates = await collector(desk)
        await gw.request_status("C1")
        req_id = await gw.mass_status("S")
        done = await updates.wait_for(
            lambda u: isinstance(u, Alert) and u.kind is AlertKind.MASS_STATUS
        )
        assert isinstance(done, Alert)
        assert req_id in done.text
        assert done.text.endswith("did not report: none")

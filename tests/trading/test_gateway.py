"""The gateway against scripted fake LPs: routing, the order path, breaker accounting, session
events and the dispatch of bad messages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import trio
import trio.testing

from tests.trading.gatewayfixtures import (
    Desk,
    collector,
    fake_desk,
    limit,
    poll,
    until,
    usable_books,
)
from tests.trading.mdfixtures import (
    entry,
    incremental_message,
    reject_message,
    snapshot_message,
    update,
)
from tests.trading.orderfixtures import cancel_reject, er, fill
from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    ExecType,
    MDEntryType,
    MDUpdateAction,
    MsgType,
    OrdStatus,
    OrdType,
    QuoteType,
    Side,
    Tag,
)
from trifix.runtime import NotLoggedOnError
from trifix.trading.breaker import BreakerSettings, BreakerState, CircuitOpenError
from trifix.trading.checks import Collar, Instrument, PreTradeCheckError
from trifix.trading.gateway import UnknownLPError
from trifix.trading.marketdata import MarketDataError
from trifix.trading.messages import Quote
from trifix.trading.order_state import OrderEvent, OrderState
from trifix.trading.orders import DuplicateClOrdIDError, UnknownOrderError
from trifix.trading.quotes import QuoteState
from trifix.trading.routing import LPConfig, NoRouteError
from trifix.trading.updates import (
    Alert,
    AlertKind,
    BboChanged,
    BookChanged,
    OrderChanged,
    SessionChanged,
)

S = OrderState
TWO = [LPConfig("A", "LPA", "LPA"), LPConfig("B", "LPB", "LPB")]


async def quote_both(desk: Desk, a: tuple[str, str], b: tuple[str, str]) -> tuple[str, str]:
    """Subscribe EURUSD on A and B and answer with these (bid, offer); returns the MDReqIDs."""
    await desk.gw.subscribe(["EURUSD"])
    req_a = await desk.fakes["LPA"].snapshot("EURUSD", *a)
    req_b = await desk.fakes["LPB"].snapshot("EURUSD", *b)
    await usable(desk, "A", "B")
    return req_a, req_b


async def usable(desk: Desk, *lps: str, symbol: str = "EURUSD") -> None:
    await poll(usable_books(desk.gw, symbol, *lps))


async def ack(desk: Desk, session: str, exec_id: str = "E1", **kw: object) -> Message:
    """Answer the next order on `session` with a New ack."""
    order = await desk.fakes[session].next()
    cl = order.get_str(Tag.CL_ORD_ID)
    qty = order.get_str(Tag.ORDER_QTY)
    side = order.get_enum(Tag.SIDE, Side)
    await desk.fakes[session].send(
        er(cl, exec_id, ExecType.NEW, OrdStatus.NEW, qty=qty, symbol="EURUSD", side=side, **kw)  # type: ignore[arg-type]
    )
    return order


async def settled(desk: Desk, cl_ord_id: str, state: OrderState) -> None:
    await until(desk.gw, cl_ord_id, state)


async def test_named_route_place_ack_fill(autojump_clock: trio.testing.MockClock) -> None:
    latencies: list[tuple[str, float]] = []
    async with fake_desk(TWO, on_order_ack=lambda lp, s: latencies.append((lp, s))) as desk:
        updates = await collector(desk)
        assert desk.gw.lp_names == ("A", "B")
        view = await desk.gw.place(limit("C1"), lp="B")
        assert (view.state, desk.gw.lp_of("C1")) == (S.PENDING_NEW, "B")
        await trio.sleep(0.5)
        await ack(desk, "LPB")
        await settled(desk, "C1", S.NEW)
        await desk.fakes["LPB"].send(
            fill("C1", "E2", 1000, "1.1", qty=1000, cum=1000, avg="1.1", symbol="EURUSD")
        )
        await settled(desk, "C1", S.FILLED)
        events = [u.event for u in updates.of(OrderChanged)]
        assert events == [OrderEvent.SEND_NEW, OrderEvent.ACK_NEW, OrderEvent.FILL]
        assert updates.of(OrderChanged)[-1].fill.qty == 1000
        assert [lp for lp, _ in latencies] == ["B"]
        assert latencies[0][1] == pytest.approx(0.5, abs=0.01)
        stats = desk.gw.statistics()
        assert (stats.lps["B"].orders, stats.lps["B"].open_orders) == (1, 0)
        assert stats.lps["B"].breaker.total_successes == 1
        assert desk.gw.orders(lp="B", status=S.FILLED)[0].cl_ord_id == "C1"
        assert desk.gw.orders(lp="A") == []
        with pytest.raises(DuplicateClOrdIDError):
            await desk.gw.place(limit("C1"), lp="A")
        with pytest.raises(UnknownLPError, match="configured: A, B"):
            await desk.gw.place(limit("C2"), lp="Z")
        with pytest.raises(ValueError, match="NewOrderSingle"):
            await desk.gw.place(Message.new(MsgType.NEWS), lp="A")


async def test_best_price_routing(autojump_clock: trio.testing.MockClock) -> None:
    async with fake_desk(TWO) as desk:
        await quote_both(desk, ("1.1000", "1.1004"), ("1.1001", "1.1003"))
        gw = desk.gw
        # B offers lower (buy) and bids higher (sell).
        assert gw.route("EURUSD", Side.BUY) == "B"
        assert gw.route("EURUSD", Side.SELL) == "B"
        assert gw.route("EURUSD", Side.BUY, "A") == "A"
        await gw.place(limit("C1", side=Side.BUY, price="1.1003"))
        assert gw.lp_of("C1") == "B"
        bbo = gw.bbo("EURUSD")
        assert bbo is not None
        assert (bbo.bid.lp, bbo.offer.lp) == ("B", "B")  # type: ignore[union-attr]
        assert gw.bbo("NOPE") is None
        assert gw.symbols() == ["EURUSD"]


async def test_best_price_ties_breaker_and_logon(autojump_clock: trio.testing.MockClock) -> None:
    configs = [
        LPConfig("A", "LPA", "LPA", breaker=BreakerSettings(failure_threshold=1)),
        LPConfig("B", "LPB", "LPB"),
    ]
    async with fake_desk(configs) as desk:
        gw = desk.gw
        with pytest.raises(NoRouteError, match="not subscribed to EURUSD"):
            gw.route("EURUSD", Side.BUY)
        _, b_req = await quote_both(desk, ("1.1000", "1.1003"), ("1.1000", "1.1003"))
        assert gw.route("EURUSD", Side.BUY) == "A"  # tie: configured order
        assert gw.route("EURUSD", Side.SELL) == "A"
        gw.breaker("A").force_open(desk.clock())
        assert gw.route("EURUSD", Side.BUY) == "B"
        with pytest.raises(CircuitOpenError):
            await gw.place(limit("C1"), lp="A")
        gw.breaker("B").force_open(desk.clock())
        with pytest.raises(NoRouteError, match="A: circuit breaker open; B: circuit breaker open"):
            gw.route("EURUSD", Side.BUY)
        gw.breaker("A").reset(desk.clock())
        gw.breaker("B").reset(desk.clock())
        with pytest.raises(NoRouteError, match="side CROSS cannot be routed"):
            gw.route("EURUSD", Side.CROSS)
        # A's order session drops: best price goes to B, a named order to A fails.
        await desk.fakes["LPA"].handle.logout()
        await desk.links["LPA"].handle.wait_disconnected()
        assert gw.route("EURUSD", Side.BUY) == "B"
        with pytest.raises(NotLoggedOnError, match="LPA is not logged on"):
            await gw.place(limit("C2"), lp="A")
        # B's offer side empties (a Delete): no offer left to buy from among LPs able to trade.
        book = gw.book("EURUSD", "B")
        assert book is not None
        gone = update(MDUpdateAction.DELETE, MDEntryType.OFFER, "1.1003")
        await desk.fakes["LPB"].send(incremental_message([("EURUSD", gone)], req_id=b_req))
        await poll(lambda: book.best_offer is None)
        assert gw.route("EURUSD", Side.SELL) == "B"
        with pytest.raises(NoRouteError, match="A: order session LPA not logged on; B: no offer"):
            gw.route("EURUSD", Side.BUY)


async def test_no_price_and_no_order_session(autojump_clock: trio.testing.MockClock) -> None:
    configs = [LPConfig("MD", None, "LPM"), LPConfig("A", "LPA")]
    async with fake_desk(configs) as desk:
        gw = desk.gw
        with pytest.raises(
            NoRouteError, match=r"no price to route a buy of EURUSD.*A: not subscribed"
        ):
            await gw.place(limit("C1"))
        with pytest.raises(NoRouteError, match="market data only"):
            await gw.place(limit("C1"), lp="MD")
        with pytest.raises(NoRouteError, match="A has no market data session"):
            await gw.subscribe(["EURUSD"], lps=["A"])
        await gw.subscribe("EURUSD")
        assert gw.book("EURUSD", "A") is None
    async with fake_desk([LPConfig("MD", None, "LPM")]) as desk:
        with pytest.raises(NoRouteError, match="no LP has an order session"):
            desk.gw.route("EURUSD", Side.BUY)
    async with fake_desk([LPConfig("A", "LPA")]) as desk:
        with pytest.raises(NoRouteError, match="no LP has a market data session"):
            await desk.gw.subscribe("EURUSD")


async def test_checks_collar_from_the_lps_book(autojump_clock: trio.testing.MockClock) -> None:
    eur = Instrument("EURUSD", tick_size=Decimal("0.0001"), min_qty=Decimal(1000))
    configs = [LPConfig("A", "LPA", "LPA", instruments=[eur], collar=Collar(percent=Decimal(1)))]
    async with fake_desk(configs) as desk:
        gw = desk.gw
        with pytest.raises(PreTradeCheckError, match="no reference price"):
            await gw.place(limit("C1"), lp="A")
        await gw.subscribe("EURUSD")
        await desk.fakes["LPA"].snapshot("EURUSD", "1.0999", "1.1001")
        await usable(desk, "A")
        with pytest.raises(PreTradeCheckError, match="outside the collar"):
            await gw.place(limit("C1", price="1.2000"), lp="A")
        with pytest.raises(PreTradeCheckError, match="below the minimum"):
            await gw.place(limit("C1", qty=10), lp="A")
        with pytest.raises(PreTradeCheckError, match="unknown symbol"):
            await gw.place(limit("C1", symbol="XAUUSD"), lp="A")
        view = await gw.place(limit("C1", price="1.1000"), lp="A")
        assert view.state is S.PENDING_NEW
        with pytest.raises(PreTradeCheckError, match="outside the collar"):
            await gw.replace("C1", price=Decimal("1.3000"))


async def test_rejects_and_cancel_rejects_trip_the_breaker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    configs = [LPConfig("A", "LPA", breaker=BreakerSettings(failure_threshold=2))]
    async with fake_desk(configs) as desk:
        updates = await collector(desk)
        gw, lp = desk.gw, desk.fakes["LPA"]
        await gw.place(limit("C1"), lp="A")
        await lp.next()
        why = ((Tag.TEXT, "no credit"),)
        rejected = er("C1", "E1", ExecType.REJECTED, OrdStatus.REJECTED, qty=1000, extra=why)
        await lp.send(rejected)
        await settled(desk, "C1", S.REJECTED)
        await gw.place(limit("C2"), lp="A")
        await ack(desk, "LPA", "E2", order_id="O2")
        await settled(desk, "C2", S.NEW)
        view = await gw.cancel("C2")
        assert view.state is S.PENDING_CANCEL
        request = await lp.next()
        assert request.get_str(Tag.ORIG_CL_ORD_ID) == "C2"
        await lp.send(
            cancel_reject(request.get_str(Tag.CL_ORD_ID), "C2", OrdStatus.NEW, order_id="O2",
                          reason=CxlRejReason.UNKNOWN_ORDER)
        )  # fmt: skip
        await settled(desk, "C2", S.NEW)
        assert gw.breaker("A").state(desk.clock()) is BreakerState.OPEN
        with pytest.raises(CircuitOpenError):
            await gw.place(limit("C3"), lp="A")
        # Cancels are never stopped by the breaker.
        assert (await gw.cancel("C2")).state is S.PENDING_CANCEL
        alerts = [(a.kind, a.text) for a in updates.of(Alert)]
        assert (AlertKind.REJECT, "order 'C1' rejected: no credit") in alerts
        assert any(k is AlertKind.REJECT and "UNKNOWN_ORDER" in t for k, t in alerts)
        assert any(k is AlertKind.BREAKER and "closed -> open" in t for k, t in alerts)
        with pytest.raises(UnknownOrderError):
            await gw.cancel("NOPE")
        with pytest.raises(ValueError, match="needs a new order_qty"):
            await gw.replace("C2")


async def test_ack_timeout_counts_as_a_failure(autojump_clock: trio.testing.MockClock) -> None:
    configs = [
        LPConfig("A", "LPA", ack_timeout=timedelta(seconds=2),
                 breaker=BreakerSettings(failure_threshold=1, cool_down=timedelta(seconds=10)))
    ]  # fmt: skip
    async with fake_desk(configs) as desk:
        updates = await collector(desk)
        await desk.gw.place(limit("C1"), lp="A")
        await updates.wait_for(lambda u: isinstance(u, Alert) and u.kind is AlertKind.ACK_TIMEOUT)
        assert desk.gw.breaker("A").statistics(desk.clock()).total_failures["timeout"] == 1
        assert desk.gw.statistics().lps["A"].awaiting_answer == 0
        # Half-open after the cool-down: one probe goes; its ack closes the breaker.
        await trio.sleep(10)
        await desk.gw.place(limit("C2"), lp="A")
        with pytest.raises(CircuitOpenError):
            await desk.gw.place(limit("C3"), lp="A")
        await desk.fakes["LPA"].next()
        await ack(desk, "LPA", order_id="O2")
        await settled(desk, "C2", S.NEW)
        assert desk.gw.breaker("A").state(desk.clock()) is BreakerState.CLOSED


async def test_bad_messages_become_alerts(autojump_clock: trio.testing.MockClock) -> None:
    # Session-level validation off: the gateway itself must cope with what reaches it.
    async with fake_desk([LPConfig("A", "LPA", "LPA")], gw_options={"validate": False}) as desk:
        updates = await collector(desk)
        lp = desk.fakes["LPA"]
        # A report for an order nobody sent, a fill without LastPx, news, a quote without
        # QuoteID, a business reject and a quote request reject: all alerts, reading goes on.
        await lp.send(er("X", "E1", ExecType.NEW, OrdStatus.NEW, symbol="EURUSD"))
        await lp.send(Message.new(MsgType.NEWS, (Tag.HEADLINE, "hello"), (Tag.NO_LINES_OF_TEXT, 0)))
        await lp.send(Message.new(MsgType.QUOTE, (Tag.SYMBOL, "EURUSD")))
        await lp.send(
            Message.new(MsgType.BUSINESS_MESSAGE_REJECT, (Tag.REF_SEQ_NUM, 3),
                        (Tag.REF_MSG_TYPE, MsgType.NEWS), (Tag.BUSINESS_REJECT_REASON, 3))
        )  # fmt: skip
        await lp.send(
            Message.new(MsgType.QUOTE_REQUEST_REJECT, (Tag.QUOTE_REQ_ID, "Q1"),
                        (Tag.QUOTE_REQUEST_REJECT_REASON, 1), (Tag.TEXT, "unknown symbol"))
        )  # fmt: skip
        await lp.send(fill("X", "E2", 1, "1.1", cum=1, avg="1.1", omit=(Tag.LAST_PX,)))
        await lp.send(Message.new(MsgType.REJECT, (Tag.REF_SEQ_NUM, 2), (Tag.TEXT, "bad")))
        new_bid = update(MDUpdateAction.NEW, MDEntryType.BID, "1", 1)
        await lp.send(incremental_message([("EURUSD", new_bid)], req_id="nope"))
        await updates.wait_for(lambda u: isinstance(u, Alert) and u.kind is AlertKind.MARKET_DATA)
        kinds = [a.kind for a in updates.of(Alert)]
        assert kinds == [
            AlertKind.UNKNOWN_ORDER,
            AlertKind.UNHANDLED,
            AlertKind.MALFORMED,
            AlertKind.BUSINESS_REJECT,
            AlertKind.QUOTE,
            AlertKind.MALFORMED,
            AlertKind.SESSION_REJECT,
            AlertKind.MARKET_DATA,
        ]
        assert all(a.to_json()["type"] == "alert" for a in updates.of(Alert))


async def test_session_events_and_status_after_reconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    configs = [LPConfig("A", "LPA", "LPA", breaker=BreakerSettings(failure_threshold=5))]
    async with fake_desk(configs) as desk:
        updates = await collector(desk)
        gw, lp = desk.gw, desk.fakes["LPA"]
        await gw.place(limit("C1"), lp="A")
        await lp.next()  # never answered: the LP drops the connection
        await gw.subscribe("EURUSD")
        await lp.snapshot("EURUSD", "1.0999", "1.1001")
        await updates.wait_for(lambda u: isinstance(u, BboChanged))
        await lp.handle.logout()
        await updates.wait_for(
            lambda u: isinstance(u, SessionChanged) and u.event == "Disconnected"
        )
        assert gw.breaker("A").statistics(desk.clock()).total_failures["disconnect"] == 1
        book = gw.book("EURUSD", "A")
        assert book is not None
        assert not book.usable
        assert gw.bbo("EURUSD").offer is None  # type: ignore[union-attr]
        await desk.links["LPA"].connect(desk.nursery)
        # After the logon: the subscription is renewed and the pending order's status asked.
        first, second = await lp.next(), await lp.next()
        types = {first.msg_type, second.msg_type}
        assert types == {MsgType.MARKET_DATA_REQUEST, MsgType.ORDER_STATUS_REQUEST}
        status = first if first.msg_type == MsgType.ORDER_STATUS_REQUEST else second
        assert status.get_str(Tag.CL_ORD_ID) == "C1"
        await lp.send(
            er("C1", "0", ExecType.ORDER_STATUS, OrdStatus.NEW, qty=1000, symbol="EURUSD")
        )
        await settled(desk, "C1", S.NEW)
        names = [u.event for u in updates.of(SessionChanged)]
        assert "LoggedOn" in names
        assert updates.of(BookChanged)[-1].usable is False


async def test_tracker_anomalies_become_alerts(autojump_clock: trio.testing.MockClock) -> None:
    configs = [LPConfig("A", "LPA", ack_timeout=timedelta(seconds=1))]
    async with fake_desk(configs) as desk:
        updates = await collector(desk)
        gw, lp = desk.gw, desk.fakes["LPA"]
        await gw.place(limit("C1", qty=100), lp="A")
        await lp.next()
        await updates.wait_for(lambda u: isinstance(u, Alert) and u.kind is AlertKind.ACK_TIMEOUT)
        # The ack comes after the timeout; then a duplicate, an overfill, a late reject.
        ack_c1 = er("C1", "E1", ExecType.NEW, OrdStatus.NEW, qty=100, symbol="EURUSD")
        await lp.send(ack_c1)
        await lp.send(ack_c1.copy())
        await lp.send(fill("C1", "E2", 150, "1.1", qty=100, cum=150, avg="1.3", symbol="EURUSD"))
        await lp.send(er("C1", "E3", ExecType.NEW, OrdStatus.NEW, qty=100, symbol="EURUSD"))
        await updates.wait_for(
            lambda u: isinstance(u, Alert) and u.kind is AlertKind.ILLEGAL_TRANSITION
        )
        kinds = [a.kind for a in updates.of(Alert)]
        assert kinds[:1] == [AlertKind.ACK_TIMEOUT]
        assert AlertKind.DUPLICATE in kinds
        assert AlertKind.OVERFILL in kinds
        assert AlertKind.QUANTITY_MISMATCH in kinds
        # A reject for a request no longer awaited still counts against the LP.
        await gw.place(limit("C2"), lp="A")
        await lp.next()
        await trio.sleep(2)
        rejected = er("C2", "E4", ExecType.REJECTED, OrdStatus.REJECTED, qty=1000)
        await lp.send(rejected)
        await until(gw, "C2", S.REJECTED)
        failures = gw.breaker("A").statistics(desk.clock()).total_failures
        assert (failures["timeout"], failures["reject"]) == (2, 1)


async def test_market_data_edges(autojump_clock: trio.testing.MockClock) -> None:
    eur = Instrument("EURUSD", tick_size=Decimal("0.0001"))
    configs = [LPConfig("A", "LPA", "LPA", instruments=[eur], collar=Collar(percent=Decimal(1)))]
    async with fake_desk(configs) as desk:
        updates = await collector(desk)
        gw, lp = desk.gw, desk.fakes["LPA"]
        await gw.subscribe(["EURUSD", "GBPUSD"])
        with pytest.raises(MarketDataError, match="A is already subscribed to EURUSD"):
            await gw.subscribe("EURUSD")
        eur_req, gbp_req = await lp.next(), await lp.next()
        # Only a trade in the snapshot: the collar's reference is the last trade.
        trade = [entry(MDEntryType.TRADE, "1.2000", 5)]
        await lp.send(snapshot_message("EURUSD", trade, req_id=eur_req.get_str(Tag.MD_REQ_ID)))
        await lp.send(reject_message(gbp_req.get_str(Tag.MD_REQ_ID), "0", "unknown symbol"))
        await updates.wait_for(lambda u: isinstance(u, Alert) and u.kind is AlertKind.MARKET_DATA)
        assert "GBPUSD rejected" in updates.of(Alert)[-1].text
        await usable(desk, "A")
        with pytest.raises(PreTradeCheckError, match=r"reference price 1\.2000"):
            await gw.place(limit("C1", price="1.1000"), lp="A")
        assert (await gw.place(limit("C1", price="1.2000"), lp="A")).state is S.PENDING_NEW
        assert gw.symbols() == ["EURUSD"]


async def test_trade_quote_refused_before_the_quote_is_used(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with fake_desk([LPConfig("A", "LPA")]) as desk:
        gw, lp = desk.gw, desk.fakes["LPA"]
        await gw.request_quote("EURUSD", lp="A")
        await lp.next()
        quote = Quote(quote_id="Q1", symbol="EURUSD", bid_px=Decimal("1.1"),
                      offer_px=Decimal("1.2"), quote_type=QuoteType.TRADEABLE)  # fmt: skip
        await lp.send(quote.to_message())
        await poll(lambda: len(gw.quotes()) == 1)
        await gw.place(limit("D1"), lp="A")
        await lp.next()
        with pytest.raises(DuplicateClOrdIDError):
            await gw.trade_quote("Q1", lp="A", side=Side.SELL, order_qty=Decimal(1), cl_ord_id="D1")
        with pytest.raises(PreTradeCheckError, match="must be positive"):
            await gw.trade_quote("Q1", lp="A", side=Side.SELL, order_qty=Decimal(0))
        gw.breaker("A").force_open(desk.clock())
        with pytest.raises(CircuitOpenError):
            await gw.trade_quote("Q1", lp="A", side=Side.SELL, order_qty=Decimal(1))
        (live,) = gw.quotes()
        assert live.state is QuoteState.FIRM
        gw.breaker("A").reset(desk.clock())
        view = await gw.trade_quote("Q1", lp="A", side=Side.SELL, order_qty=Decimal(1))
        assert (view.price, view.ord_type) == (Decimal("1.1"), OrdType.PREVIOUSLY_QUOTED)
        sent = await lp.next()
        assert sent.get_str(Tag.QUOTE_ID) == "Q1"
        stats = gw.statistics().lps["A"]
        assert stats.to_json()["orders"] == 2


async def test_orders_outside_the_lps_trading_hours_are_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The desk trades 10:00-17:00 UTC on a round-the-clock FIX session; the clock starts 09:00.
    from datetime import time

    from trifix.runtime.schedule import Schedule

    hours = Schedule.daily(time(10), time(17))
    async with fake_desk([LPConfig("A", "LPA", trading_hours=hours)]) as desk:
        with pytest.raises(PreTradeCheckError, match="outside trading hours") as info:
            await desk.gw.place(limit("C1"), lp="A")
        assert [f.check for f in info.value.failures] == ["trading_hours"]
        assert "it opens at 2026-11-25T10:00:00+00:00" in str(info.value)
        await trio.sleep(3600)
        view = await desk.gw.place(limit("C1"), lp="A")
        assert view.state is S.PENDING_NEW


async def test_an_order_session_with_a_schedule_gives_the_trading_hours() -> None:
    from datetime import time

    from trifix.runtime.schedule import Schedule
    from trifix.trading.gateway_lp import _build_checks
    from trifix.trading.orders import OrderTracker

    class Handle:
        def __init__(self, schedule: Schedule) -> None:
            self.spec = type("Spec", (), {"schedule": schedule})()

    hours = Schedule.daily(time(10), time(17))
    config = LPConfig("A", "LPA")
    names = [c.name for c in _build_checks(config, OrderTracker(), Handle(hours)).checks]  # type: ignore[arg-type]
    assert "trading_hours" in names
    non_stop = _build_checks(config, OrderTracker(), Handle(Schedule.non_stop()))  # type: ignore[arg-type]
    assert "trading_hours" not in [c.name for c in non_stop.checks]

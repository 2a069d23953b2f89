"""Gateway pieces on their own and the edges of the gateway: fan-out and overflow, JSON of every
update, best-price selection, configuration errors, recovery from the store, failed sends."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import trio
import trio.testing

from tests.trading.gatewayfixtures import T0, collector, fake_desk, limit, poll, until
from tests.trading.mdfixtures import entry
from tests.trading.orderfixtures import er
from trifix.core.message import Message
from trifix.core.tags import (
    ExecType,
    MDEntryType,
    MsgType,
    OrdStatus,
    OrdType,
    QuoteCancelType,
    QuoteType,
    Side,
    Tag,
)
from trifix.runtime import NotLoggedOnError, ThrottledError, ThrottleSettings
from trifix.store import MemoryStore, SessionUpdate
from trifix.trading import (
    Alert,
    AlertKind,
    Bbo,
    BboChanged,
    BookChanged,
    BookStyle,
    Candidate,
    Fill,
    GatewayUpdate,
    InconsistencyKind,
    LPConfig,
    LpLevel,
    NoRouteError,
    OrderBook,
    OrderChanged,
    OrderEvent,
    OrderState,
    OrderTracker,
    Quote,
    QuoteBook,
    QuoteChanged,
    QuoteState,
    SessionChanged,
    TopOfBook,
    UpdateHub,
    choose_best_price,
    open_gateway,
)
from trifix.trading.bookvalues import Level
from trifix.trading.updates import jsonable

S = OrderState


def book(lp: str, bid: str | None, offer: str | None) -> OrderBook:
    b = OrderBook("EURUSD", lp=lp, style=BookStyle.BY_PRICE)
    entries = []
    if bid is not None:
        entries.append(entry(MDEntryType.BID, bid, 5))
    if offer is not None:
        entries.append(entry(MDEntryType.OFFER, offer, 5))
    b.apply_snapshot(entries)
    return b


# -- fan-out -------------------------------------------------------------------------------------
def alert(n: int) -> Alert:
    return Alert("LP", AlertKind.REJECT, f"n={n}", T0)


async def test_two_consumers_get_everything_in_order() -> None:
    hub = UpdateHub()
    async with hub.open(10) as first, hub.open(10) as second:
        assert hub.consumers == 2
        for n in range(5):
            hub.publish(alert(n))
        hub.close()
        got_first = [u async for u in first]
        got_second = [u async for u in second]
    assert got_first == got_second == [alert(n) for n in range(5)]
    assert (hub.published, hub.consumers) == (5, 0)


async def test_a_full_consumer_is_cut_off_with_an_overflow_alert() -> None:
    hub = UpdateHub()
    async with hub.open(3) as slow, hub.open(100) as fast:
        for n in range(6):
            hub.publish(alert(n))
        assert (hub.consumers, hub.cut_off) == (1, 1)
        got = [u async for u in slow]  # ends by itself: the hub closed it
        assert got[:3] == [alert(0), alert(1), alert(2)]
        (overflow,) = got[3:]
        assert isinstance(overflow, Alert)
        assert (overflow.kind, overflow.lp) == (AlertKind.OVERFLOW, None)
        assert "fell 3 updates behind" in overflow.text
        assert [fast.receive_nowait() for _ in range(6)] == [alert(n) for n in range(6)]
    with pytest.raises(ValueError, match="at least 1 slot"):
        async with hub.open(0):
            pass  # pragma: no cover


# -- JSON --------------------------------------------------------------------------------------
def view_of_an_order() -> OrderChanged:
    tracker = OrderTracker()
    update = tracker.on_sent(limit("C1").to_message(), T0)
    assert update is not None
    return OrderChanged("LP", update.order, OrderEvent.SEND_NEW)


def test_every_update_is_json_ready() -> None:
    quotes = QuoteBook()
    quote = Quote(quote_id="Q1", symbol="EURUSD", bid_px=Decimal("1.1"), offer_px=Decimal("1.2"),
                  quote_type=QuoteType.TRADEABLE)  # fmt: skip
    quote_view = quotes.on_quote(quote, T0)
    fill = Fill("E1", Decimal(10), Decimal("1.5"), T0)
    updates: list[GatewayUpdate] = [
        replace(view_of_an_order(), fill=fill, text="done"),
        BookChanged("LP", "EURUSD", TopOfBook(Level(Decimal("1.1"), Decimal(5)), None)),
        BboChanged("EURUSD", Bbo("EURUSD", LpLevel("A", Decimal("1.1"), Decimal(5)), None)),
        QuoteChanged("LP", quote_view),
        SessionChanged("LP", "LPS", "LoggedOn", "heartbeat_interval=30", True, T0),
        Alert(None, AlertKind.OVERFLOW, "cut off"),
    ]
    data = [u.to_json() for u in updates]
    json.dumps(data)  # nothing a JSON encoder refuses
    order, top, bbo, q, session, overflow = data
    assert order["order"]["side"] == {"value": "1", "name": "BUY"}
    assert order["order"]["state"] == "pending_new"
    assert order["order"]["price"] == "1.1000"
    assert order["order"]["created_at"] == T0.isoformat()
    assert order["fill"] == {"exec_id": "E1", "qty": "10", "price": "1.5",
                             "time": T0.isoformat(), "reconciled": False}  # fmt: skip
    assert (order["event"], order["text"], order["order"]["is_open"]) == ("send_new", "done", True)
    assert top == {"type": "book", "lp": "LP", "symbol": "EURUSD",
                   "bid": {"price": "1.1", "size": "5"}, "offer": None, "usable": True}  # fmt: skip
    assert bbo["bid"] == {"price": "1.1", "size": "5", "lp": "A"}
    assert (bbo["offer"], bbo["spread"], bbo["crossed"]) == (None, None, False)
    assert (q["state"], q["quote"]["offer_px"], q["quote"]["quote_type"]) == ("firm", "1.2", 1)
    assert session == {"type": "session", "lp": "LP", "session_id": "LPS", "event": "LoggedOn",
                       "detail": "heartbeat_interval=30", "logged_on": True,
                       "at": T0.isoformat()}  # fmt: skip
    assert overflow == {"type": "alert", "lp": None, "kind": "overflow", "text": "cut off",
                        "at": None}  # fmt: skip


def test_jsonable_values() -> None:
    assert jsonable({1: (Decimal("1.5"), {"a"}), "k": [None, True, 2.5]}) == {
        "1": ["1.5", ["a"]],
        "k": [None, True, 2.5],
    }
    assert jsonable(OrdType.LIMIT) == {"value": "2", "name": "LIMIT"}
    assert jsonable(QuoteState.FIRM) == "firm"
    assert jsonable(BookStyle.BY_PRICE) == "by-price"
    assert jsonable(timedelta(seconds=1)) == "0:00:01"
    assert jsonable(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00+00:00"


# -- best price ---------------------------------------------------------------------------------
def test_choose_best_price() -> None:
    a, b = book("A", "1.0", "1.3"), book("B", "1.1", "1.2")
    both = [Candidate("A", a), Candidate("B", b)]
    assert choose_best_price("EURUSD", Side.BUY, both) == "B"
    assert choose_best_price("EURUSD", Side.SELL_SHORT, both) == "B"
    assert choose_best_price("EURUSD", Side.BUY, [Candidate("B", book("B", "1", "1.3")),
                                                   Candidate("A", a)]) == "B"  # fmt: skip
    stale = book("B", "1.1", "1.2")
    stale.mark_stale(InconsistencyKind.CROSSED, "crossed")
    fresh = OrderBook("EURUSD", lp="C")
    candidates = [
        Candidate("A", a, refusal="breaker open"),
        Candidate("B", stale),
        Candidate("C", fresh),
        Candidate("D", book("D", "1.0", None)),
        Candidate("E", None),
    ]
    with pytest.raises(NoRouteError) as caught:
        choose_best_price("EURUSD", Side.BUY, candidates)
    assert str(caught.value) == (
        "no price to route a buy of EURUSD to (no offer from any LP able to trade): "
        "A: breaker open; B: book not usable (B:EURUSD: crossed); "
        "C: book not usable (no snapshot yet); D: no offer; E: not subscribed to EURUSD"
    )
    with pytest.raises(NoRouteError, match="no LP configured"):
        choose_best_price("EURUSD", Side.SELL, [])


def test_lp_config_is_checked() -> None:
    with pytest.raises(ValueError, match="needs a name"):
        LPConfig("", "S")
    with pytest.raises(ValueError, match="order_session, an md_session or both"):
        LPConfig("A", None)
    with pytest.raises(ValueError, match="ack_timeout must be positive"):
        LPConfig("A", "S", ack_timeout=timedelta(0))


async def test_gateway_configuration_errors(autojump_clock: trio.testing.MockClock) -> None:
    async with fake_desk([LPConfig("A", "LPA", "LPB")]) as desk:
        engine = desk.engine
        cases = [
            ([], "at least one LP"),
            ([LPConfig("A", "LPA"), LPConfig("A", "LPB")], "two LPs are named 'A'"),
            ([LPConfig("A", "LPA"), LPConfig("B", "LPA")], "already belongs to LP A"),
            ([LPConfig("A", "NOPE")], "LP A: no session 'NOPE'"),
        ]
        for configs, message in cases:
            with pytest.raises(ValueError, match=message):
                async with open_gateway(engine, configs):
                    pass  # pragma: no cover


# -- recovery, failed sends, quotes cancel, unsubscribe -----------------------------------------
async def test_recovery_from_the_store(autojump_clock: trio.testing.MockClock) -> None:
    store, lp_store = MemoryStore(), MemoryStore()
    async with fake_desk([LPConfig("A", "LPA")], store=store, lp_store=lp_store) as desk:
        await desk.gw.place(limit("C1"), lp="A")
        await desk.gw.place(limit("C2", price="1.0500"), lp="A")
        await desk.gw.cancel("C2")
        for _ in range(3):
            await desk.fakes["LPA"].next()
        await desk.links["LPA"].handle.wait_flushed()
    store.close_session("LPA")
    lp_store.close_session("GW-LPA")
    # Two stored records the recovery cannot use: C1's order again, and garbage.
    store.open_session("LPA", T0)
    frames = dict(store.get_range("LPA", 1, 0))
    c1 = next(raw for raw in frames.values() if b"\x0111=C1\x01" in raw)
    store.write([SessionUpdate("LPA", messages=[(900, c1), (901, b"8=FIX.4.4 junk")])])
    store.close_session("LPA")
    # Restarted: the requests sent come back from the store; the LP is asked about each one.
    async with fake_desk(
        [LPConfig("A", "LPA"), LPConfig("MD", None, "LPM")],
        store=store,
        lp_store=lp_store,
        recover_from_store=True,
    ) as desk:
        gw = desk.gw
        c1_view, c2 = gw.order("C1"), gw.order("C2")
        assert c1_view is not None
        assert c2 is not None
        assert (c1_view.state, c2.state) == (S.PENDING_NEW, S.PENDING_CANCEL)
        assert c2.pending is not None
        assert gw.lp_of(c2.pending.cl_ord_id) == "A"
        assert gw.new_cl_ord_id() not in ("C1", "C2", c2.pending.cl_ord_id)
        problems = [(a.kind, a.text.split(":")[0]) for a in gw.recovery_alerts]
        assert problems == [
            (AlertKind.MALFORMED, "recovery"),
            (AlertKind.ILLEGAL_TRANSITION, "recovery"),
        ]
        # Already logged on when the gateway opened: the status requests go out at once.
        asked = [await desk.fakes["LPA"].next() for _ in range(2)]
        assert [m.msg_type for m in asked] == [MsgType.ORDER_STATUS_REQUEST] * 2
        assert {m.get_str(Tag.CL_ORD_ID) for m in asked} == {"C1", "C2"}
        await desk.fakes["LPA"].send(
            er("C1", "0", ExecType.ORDER_STATUS, OrdStatus.NEW, qty=1000, symbol="EURUSD")
        )
        await until(gw, "C1", S.NEW)
    store.close_session("LPA")
    lp_store.close_session("GW-LPA")
    for each in (store, lp_store):
        each.close()


async def test_failed_sends_are_undone(autojump_clock: trio.testing.MockClock) -> None:
    async with fake_desk([LPConfig("A", "LPA", "LPA")]) as desk:
        gw, handle = desk.gw, desk.links["LPA"].handle
        await gw.subscribe("EURUSD")
        await desk.fakes["LPA"].next()
        handle.reconfigure(replace(handle.spec, throttle=ThrottleSettings(1, 1, "error")))
        await gw.place(limit("C1"), lp="A")
        with pytest.raises(ThrottledError):
            await gw.place(limit("C2"), lp="A")
        assert gw.order("C2") is None
        assert gw.breaker("A").statistics(desk.clock()).total_failures["other"] == 1
        handle.reconfigure(replace(handle.spec, throttle=None))
        # The session drops between the check and the send: the order is forgotten too.
        await desk.fakes["LPA"].handle.logout()
        await handle.wait_disconnected()
        with pytest.raises(NotLoggedOnError):
            await gw.request_status("C1")
        with pytest.raises(NotLoggedOnError):
            await gw.request_quote("EURUSD", lp="A")
        with pytest.raises(NotLoggedOnError):
            await gw.mass_status("A")
        # Unsubscribing while down needs no request; the book leaves the BBO at once.
        await gw.unsubscribe("EURUSD")
        assert gw.symbols() == []


async def test_quote_cancel_and_expiry(autojump_clock: trio.testing.MockClock) -> None:
    async with fake_desk([LPConfig("A", "LPA")]) as desk:
        updates = await collector(desk)
        gw, lp = desk.gw, desk.fakes["LPA"]
        request = await gw.request_quote("EURUSD", lp="A", side=Side.BUY, order_qty=Decimal(10))
        assert (await lp.next()).get_str(Tag.QUOTE_REQ_ID) == request.quote_req_id
        for n in (1, 2):
            quote = Quote(quote_id=f"Q{n}", symbol="EURUSD", offer_px=Decimal("1.2"),
                          offer_size=Decimal(100), quote_type=QuoteType.TRADEABLE)  # fmt: skip
            await lp.send(quote.to_message())
        await poll(lambda: len(gw.quotes()) == 2)
        cancel = Message.new(
            MsgType.QUOTE_CANCEL, (Tag.QUOTE_ID, "Q1"),
            (Tag.QUOTE_CANCEL_TYPE, QuoteCancelType.CANCEL_FOR_ONE_OR_MORE_SECURITIES),
        )  # fmt: skip
        cancel.add_group(Tag.NO_QUOTE_ENTRIES, [[(Tag.SYMBOL, "EURUSD")]])
        await lp.send(cancel)
        await poll(lambda: gw.quotes() == [])
        states = [u.view.state for u in updates.of(QuoteChanged)]
        assert states == [
            QuoteState.FIRM,
            QuoteState.FIRM,
            QuoteState.CANCELED,
            QuoteState.CANCELED,
        ]
        await lp.send(Quote(quote_id="Q1", symbol="EURUSD").to_message())  # a QuoteID again
        await updates.wait_for(lambda u: isinstance(u, Alert) and "received twice" in u.text)
        assert gw.statistics().lps["A"].live_quotes == 0
        with pytest.raises(NoRouteError, match="no LP has a market data session"):
            await gw.unsubscribe("EURUSD")

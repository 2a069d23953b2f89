"""MarketDataManager, sans-IO: requests out, W/X/Y in, lifecycle, limits, re-snapshots."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.trading.mdfixtures import (
    BID,
    CHANGE,
    DELETE,
    NEW,
    OFFER,
    TRADE,
    entry,
    incremental_message,
    over_the_wire,
    reject_message,
    snapshot_message,
    update,
)
from trifix.core.events import AppMessageReceived, Disconnected, HeartbeatSent, LoggedOn
from trifix.core.message import Message
from trifix.core.tags import MDEntryType, MDReqRejReason, MsgType, Tag
from trifix.trading.book import BookStyle, InconsistencyKind, Level
from trifix.trading.marketdata import (
    BookInconsistent,
    BookUpdated,
    MarketDataError,
    MarketDataEvent,
    MarketDataIgnored,
    MarketDataManager,
    ResnapshotPolicy,
    Subscription,
    SubscriptionChanged,
    SubscriptionLimitError,
    SubscriptionState,
)

S = SubscriptionState
LADDER = [entry(BID, "99", 10), entry(BID, "98", 10), entry(OFFER, "101", 10)]


def request_fields(msg: Message) -> dict[str, object]:
    """The interesting fields of a MarketDataRequest (V)."""
    assert msg.msg_type == MsgType.MARKET_DATA_REQUEST
    return {
        "id": msg.get_str(Tag.MD_REQ_ID),
        "kind": msg.get_str(Tag.SUBSCRIPTION_REQUEST_TYPE),
        "depth": msg.get_int(Tag.MARKET_DEPTH),
        "types": [g.get_str(Tag.MD_ENTRY_TYPE) for g in msg.group(Tag.NO_MD_ENTRY_TYPES)],
        "symbols": [g.get_str(Tag.SYMBOL) for g in msg.group(Tag.NO_RELATED_SYM)],
        "update_type": msg.get_str(Tag.MD_UPDATE_TYPE, None),
    }


def sent(mgr: MarketDataManager) -> list[dict[str, object]]:
    return [request_fields(m) for m in mgr.data_to_send()]


def kinds(events: list[MarketDataEvent]) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, SubscriptionChanged):
            out.append(f"{e.subscription.symbols[0]}:{e.state.value}")
        elif isinstance(e, BookUpdated | BookInconsistent):
            out.append(f"{type(e).__name__}:{e.book.symbol}")
        else:
            out.append(f"ignored:{e.reason}")
    return out


def active(
    symbols: str | tuple[str, ...] = "EURUSD", **kw: object
) -> tuple[MarketDataManager, Subscription]:
    """A logged-on manager with one subscription that has its snapshots."""
    mgr = MarketDataManager("LP1", **kw)  # type: ignore[arg-type]
    mgr.on_logged_on()
    sub = mgr.subscribe(symbols, depth=5)
    mgr.data_to_send()
    for symbol in sub.symbols:
        mgr.on_message(snapshot_message(symbol, LADDER, sub.md_req_id))
    assert sub.state is S.ACTIVE
    return mgr, sub


# -- requests -------------------------------------------------------------------------------------
def test_subscribe_before_logon_sends_at_logon() -> None:
    mgr = MarketDataManager("LP1", req_id_prefix="Q")
    sub = mgr.subscribe(["EURUSD", "GBPUSD"], entry_types=[BID, OFFER, TRADE, BID])
    assert mgr.data_to_send() == []
    assert sub.state is S.PENDING
    assert sub.md_req_id == ""
    assert sub.style is BookStyle.BY_PRICE
    assert kinds(mgr.on_event(LoggedOn(30, False))) == []  # already pending: no change
    assert sent(mgr) == [
        {
            "id": "Q1",
            "kind": "1",
            "depth": 0,
            "types": ["0", "1", "2"],
            "symbols": ["EURUSD", "GBPUSD"],
            "update_type": "1",
        }
    ]
    assert sub.md_req_id == "Q1"
    assert mgr.on_logged_on() == []  # a second LoggedOn does not subscribe twice
    assert mgr.data_to_send() == []


def test_top_of_book_and_snapshot_only_requests() -> None:
    mgr = MarketDataManager()
    mgr.on_logged_on()
    top = mgr.subscribe("EURUSD", depth=1)
    once = mgr.subscribe("USDJPY", depth=3, updates=False, entry_types=[MDEntryType.OPENING_PRICE])
    assert top.style is BookStyle.TOP_OF_BOOK
    assert [(r["kind"], r["depth"], r["types"], r["update_type"]) for r in sent(mgr)] == [
        ("1", 1, ["0", "1"], "1"),
        ("0", 3, ["4"], None),
    ]
    mgr.on_message(
        snapshot_message("USDJPY", [entry(MDEntryType.OPENING_PRICE, "150", None)], once.md_req_id)
    )
    assert once.state is S.ACTIVE
    book = mgr.book("USDJPY")
    assert book is not None
    assert book.opening_price == Level(Decimal(150), Decimal(0))
    mgr.unsubscribe(once)  # nothing to cancel at the LP for a snapshot
    assert mgr.data_to_send() == []
    assert once.state is S.UNSUBSCRIBED
    assert mgr.book("USDJPY") is None


@pytest.mark.parametrize(
    ("args", "kw", "words"),
    [
        ((), {"symbols": []}, "need distinct, non-empty symbols"),
        ((), {"symbols": ["A", "A"]}, "need distinct"),
        ((), {"symbols": [""]}, "need distinct"),
        (
            (),
            {"symbols": "EURUSD"},
            "already subscribed to EURUSD: unsubscribe first (MDReqID MD1)",
        ),
        ((), {"symbols": "X", "depth": -1}, "depth must be 0 (full book), 1 (top) or N levels"),
        ((), {"symbols": "X", "entry_types": []}, "need at least one MDEntryType"),
    ],
)
def test_subscribe_argument_errors(
    args: tuple[object, ...], kw: dict[str, object], words: str
) -> None:
    mgr, _sub = active()
    with pytest.raises(MarketDataError) as info:
        mgr.subscribe(**kw)  # type: ignore[arg-type]
    assert words in str(info.value)


def test_limits_per_session() -> None:
    with pytest.raises(MarketDataError, match="at least 1"):
        MarketDataManager(max_subscriptions=0)
    with pytest.raises(MarketDataError, match="at least 1"):
        MarketDataManager(max_symbols=0)
    mgr = MarketDataManager("LP1", max_subscriptions=2, max_symbols=3)
    first = mgr.subscribe("A")
    mgr.subscribe(["B", "C"])
    with pytest.raises(SubscriptionLimitError, match="LP1 allows 2 subscriptions and has 2"):
        mgr.subscribe("D")
    mgr.unsubscribe(first)
    with pytest.raises(SubscriptionLimitError, match="allows 3 symbols and has 2; 2 more"):
        mgr.subscribe(["D", "E"])
    assert mgr.subscribe("D").symbols == ("D",)
    assert [s.symbols for s in mgr.subscriptions()] == [("B", "C"), ("D",)]


# -- lifecycle ------------------------------------------------------------------------------------
def test_snapshot_then_updates_follow_the_book() -> None:
    mgr = MarketDataManager("LP1")
    mgr.on_logged_on()
    sub = mgr.subscribe("EURUSD", depth=5)
    (req,) = sent(mgr)
    events = mgr.on_event(
        AppMessageReceived(over_the_wire(snapshot_message("EURUSD", LADDER, req["id"])))
    )  # type: ignore[arg-type]
    assert kinds(events) == ["BookUpdated:EURUSD", "EURUSD:active"]
    x = incremental_message(
        [("EURUSD", update(NEW, BID, "100", 5)), ("EURUSD", update(DELETE, OFFER, "101"))],
        sub.md_req_id,
    )
    assert kinds(mgr.on_message(x)) == ["BookUpdated:EURUSD"]
    book = mgr.book("EURUSD")
    assert book is not None
    assert book.lp == "LP1"
    assert book.top().bid == Level(Decimal(100), Decimal(5))
    assert book.top().offer is None
    # An X without MDReqID is routed by symbol.
    assert kinds(
        mgr.on_message(incremental_message([("EURUSD", update(NEW, OFFER, "102", 1))], None))
    ) == ["BookUpdated:EURUSD"]
    # Other messages and events are not market data.
    assert mgr.on_message(Message.new(MsgType.EXECUTION_REPORT)) == []
    assert mgr.on_event(HeartbeatSent(None)) == []


def test_reject_ends_the_subscription() -> None:
    mgr = MarketDataManager("LP1")
    mgr.on_logged_on()
    sub = mgr.subscribe("XAUUSD")
    events = mgr.on_message(reject_message(sub.md_req_id, "0", "unknown symbol: XAUUSD"))
    assert kinds(events) == ["XAUUSD:rejected"]
    assert sub.reject_reason is MDReqRejReason.UNKNOWN_SYMBOL
    assert sub.reject_text == "unknown symbol: XAUUSD"
    assert sub.error == "request MD1 rejected (UNKNOWN_SYMBOL): unknown symbol: XAUUSD"
    assert not sub.live
    assert mgr.book("XAUUSD") is None
    assert mgr.subscriptions() == []
    # Late data for it is ignored; the symbol can be subscribed again.
    assert kinds(mgr.on_message(snapshot_message("XAUUSD", LADDER, sub.md_req_id))) == [
        "ignored:no subscription has MDReqID 'MD1'"
    ]
    assert mgr.subscribe("XAUUSD").md_req_id == "MD2"


def test_rejects_that_match_nothing_are_ignored() -> None:
    mgr, sub = active()
    assert kinds(mgr.on_message(reject_message("nope"))) == [
        "ignored:no request has MDReqID 'nope'"
    ]
    (bad,) = mgr.on_message(Message.new(MsgType.MARKET_DATA_REQUEST_REJECT))
    assert isinstance(bad, MarketDataIgnored)
    assert "unreadable MarketDataRequestReject" in bad.reason
    mgr.unsubscribe(sub)
    (req,) = sent(mgr)
    assert (req["kind"], req["id"]) == ("2", sub.md_req_id)
    assert kinds(mgr.on_message(reject_message(sub.md_req_id, None, "no such"))) == [
        "ignored:the LP refused to unsubscribe: no such"
    ]
    assert kinds(
        mgr.on_message(incremental_message([("EURUSD", update(NEW, BID, "1", 1))], sub.md_req_id))
    ) == ["ignored:no subscription has MDReqID 'MD1'"]
    mgr.unsubscribe(sub)  # idempotent
    assert mgr.data_to_send() == []


def test_resubscribe_after_reconnect_with_new_ids() -> None:
    mgr, sub = active(("EURUSD", "GBPUSD"))
    old = sub.md_req_id
    events = mgr.on_event(Disconnected("peer closed", error=True))
    assert kinds(events) == ["BookInconsistent:EURUSD", "BookInconsistent:GBPUSD", "EURUSD:stale"]
    inc = events[0]
    assert isinstance(inc, BookInconsistent)
    assert inc.inconsistency.kind is InconsistencyKind.DISCONNECTED
    assert sub.error == "session disconnected"
    assert mgr.data_to_send() == []
    assert kinds(mgr.on_logged_on()) == ["EURUSD:pending"]
    (req,) = sent(mgr)
    assert req["id"] != old
    assert req["kind"] == "1"
    assert req["symbols"] == ["EURUSD", "GBPUSD"]
    # Updates of the old connection's subscription are not applied.
    assert kinds(mgr.on_message(incremental_message([("EURUSD", update(NEW, BID, "1", 1))], old)))[
        0
    ].startswith("ignored")
    mgr.on_message(snapshot_message("EURUSD", LADDER, sub.md_req_id))
    assert sub.state is S.PENDING
    assert kinds(mgr.on_message(snapshot_message("GBPUSD", LADDER, sub.md_req_id))) == [
        "BookUpdated:GBPUSD",
        "EURUSD:active",
    ]
    assert sub.error is None


def test_disconnect_while_pending_stays_pending_and_unsubscribe_sends_nothing() -> None:
    mgr = MarketDataManager()
    mgr.on_logged_on()
    sub = mgr.subscribe("EURUSD")
    mgr.data_to_send()
    assert kinds(mgr.on_disconnected()) == []
    mgr.unsubscribe(sub)
    assert mgr.data_to_send() == []
    assert sub.state is S.UNSUBSCRIBED


# -- inconsistency --------------------------------------------------------------------------------
def test_inconsistent_book_gets_a_snapshot_request_while_the_stream_goes_on() -> None:
    mgr, sub = active(("EURUSD", "GBPUSD"))
    bad = incremental_message(
        [("EURUSD", update(CHANGE, BID, "50", 1)), ("GBPUSD", update(NEW, BID, "99.5", 1))],
        sub.md_req_id,
    )
    events = mgr.on_message(bad)
    assert kinds(events) == ["BookInconsistent:EURUSD", "EURUSD:stale", "BookUpdated:GBPUSD"]
    assert sub.error == "LP1:EURUSD: change of unknown bid level 50"
    (req,) = sent(mgr)
    assert (req["kind"], req["symbols"], req["depth"], req["id"]) == ("0", ["EURUSD"], 5, "MD2")
    # Updates for the stale book are dropped until the snapshot; the other book goes on.
    assert (
        kinds(
            mgr.on_message(
                incremental_message([("EURUSD", update(NEW, BID, "1", 1))], sub.md_req_id)
            )
        )
        == []
    )
    events = mgr.on_message(snapshot_message("EURUSD", LADDER, "MD2"))
    assert kinds(events) == ["BookUpdated:EURUSD", "EURUSD:active"]
    assert sub.resnapshots == {}
    # The snapshot-only request is answered once: a second W for it matches nothing.
    assert kinds(mgr.on_message(snapshot_message("EURUSD", LADDER, "MD2")))[0].startswith("ignored")


def test_resubscribe_policy_renews_the_whole_subscription() -> None:
    mgr, sub = active(resnapshot=ResnapshotPolicy.RESUBSCRIBE)
    mgr.on_message(incremental_message([("EURUSD", update(DELETE, OFFER, "500"))], sub.md_req_id))
    assert [(r["kind"], r["id"]) for r in sent(mgr)] == [("2", "MD1"), ("1", "MD2")]
    assert sub.md_req_id == "MD2"
    assert kinds(mgr.on_message(snapshot_message("EURUSD", LADDER, "MD2"))) == [
        "BookUpdated:EURUSD",
        "EURUSD:active",
    ]


def test_gives_up_after_max_resnapshots_bad_snapshots() -> None:
    mgr, sub = active(max_resnapshots=2)
    crossed = [entry(BID, "101", 1), entry(OFFER, "100", 1)]
    mgr.on_message(incremental_message([("EURUSD", update(DELETE, OFFER, "500"))], sub.md_req_id))
    ids = [r["id"] for r in sent(mgr)]
    for _ in range(2):
        events = mgr.on_message(snapshot_message("EURUSD", crossed, ids[-1]))
        assert kinds(events) == ["BookInconsistent:EURUSD"]
        ids += [r["id"] for r in sent(mgr)]
    assert ids == ["MD2", "MD3"]  # two requests, then no more
    assert sub.state is S.STALE
    assert sub.error is not None
    assert sub.error.endswith("gave up after 2 fresh snapshots")
    # A reconnect starts over.
    mgr.on_disconnected()
    mgr.on_logged_on()
    assert [r["kind"] for r in sent(mgr)] == ["1"]


def test_rejected_snapshot_request_rejects_the_subscription() -> None:
    mgr, sub = active()
    mgr.on_message(incremental_message([("EURUSD", update(DELETE, OFFER, "500"))], sub.md_req_id))
    (req,) = sent(mgr)
    assert kinds(mgr.on_message(reject_message(str(req["id"]), "4"))) == ["EURUSD:rejected"]
    assert sub.error == (
        "snapshot request for EURUSD MD2 rejected (UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE): no text"
    )


def test_inconsistency_while_disconnected_waits_for_the_logon() -> None:
    mgr, sub = active()
    mgr.on_disconnected()
    mgr.on_logged_on()
    mgr.data_to_send()
    mgr._logged_on = False  # a message processed after the transport dropped
    mgr.on_message(
        snapshot_message("EURUSD", [entry(BID, "2", 1), entry(OFFER, "1", 1)], sub.md_req_id)
    )
    assert mgr.data_to_send() == []
    assert sub.state is S.STALE


# -- routing and bad messages ---------------------------------------------------------------------
def test_routing_by_symbol() -> None:
    mgr, multi = active(("EURUSD", "GBPUSD"))
    single = mgr.subscribe("USDJPY")
    mgr.data_to_send()
    mgr.on_message(snapshot_message("USDJPY", LADDER, single.md_req_id))
    # No Symbol in a single-symbol subscription: its symbol. In a multi-symbol one: unroutable.
    assert kinds(
        mgr.on_message(incremental_message([(None, update(NEW, BID, "99.5", 1))], single.md_req_id))
    ) == ["BookUpdated:USDJPY"]
    assert kinds(
        mgr.on_message(incremental_message([(None, update(NEW, BID, "99.5", 1))], multi.md_req_id))
    ) == ["ignored:no subscribed book for symbol None"]
    # A symbol of another subscription, or of none.
    assert kinds(
        mgr.on_message(incremental_message([("USDJPY", update(NEW, BID, "1", 1))], multi.md_req_id))
    ) == ["ignored:no subscribed book for symbol 'USDJPY'"]
    assert kinds(mgr.on_message(snapshot_message("AUDUSD", LADDER, None))) == [
        "ignored:no subscribed book for symbol 'AUDUSD'"
    ]
    assert kinds(mgr.on_message(snapshot_message("EURUSD", LADDER, "zz"))) == [
        "ignored:no subscription has MDReqID 'zz'"
    ]
    # A W without MDReqID goes by its symbol.
    assert kinds(mgr.on_message(snapshot_message("GBPUSD", LADDER, None))) == ["BookUpdated:GBPUSD"]


def test_unreadable_incremental_loses_updates_so_books_are_resnapshotted() -> None:
    mgr, sub = active(("EURUSD", "GBPUSD"))
    bad = Message.new(
        MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
        (Tag.MD_REQ_ID, sub.md_req_id),
        (Tag.NO_MD_ENTRIES, 1),
        (Tag.MD_UPDATE_ACTION, "9"),
        (Tag.MD_ENTRY_TYPE, "0"),
    )
    events = mgr.on_message(bad)
    assert kinds(events)[0].startswith("ignored:unreadable: tag 279")
    assert kinds(events)[1:] == [
        "BookInconsistent:EURUSD",
        "EURUSD:stale",
        "BookInconsistent:GBPUSD",
    ]
    assert [r["symbols"] for r in sent(mgr)] == [["EURUSD"], ["GBPUSD"]]
    # Without an MDReqID every live subscription is affected; stale books are not asked twice.
    no_id = Message.new(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, (Tag.SYMBOL, "EURUSD"))
    assert kinds(mgr.on_message(no_id)) == ["ignored:unreadable: NoMDEntries (268) is missing"]
    assert mgr.data_to_send() == []


def test_unreadable_data_of_an_ended_subscription_touches_nothing() -> None:
    mgr, sub = active()
    mgr.unsubscribe(sub)
    mgr.data_to_send()
    other = mgr.subscribe("GBPUSD", style=BookStyle.BY_ENTRY_ID)
    assert other.books["GBPUSD"].style is BookStyle.BY_ENTRY_ID
    mgr.data_to_send()
    bad = Message.new(
        MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
        (Tag.MD_REQ_ID, sub.md_req_id),
        (Tag.NO_MD_ENTRIES, 2),
    )
    assert [type(e) for e in mgr.on_message(bad)] == [MarketDataIgnored]
    assert mgr.data_to_send() == []

"""ConsolidatedBBO: the best bid and offer across LPs' books."""

from __future__ import annotations

from decimal import Decimal

from tests.trading.mdfixtures import BID, NEW, OFFER, entry, update
from trifix.core.message import Message
from trifix.core.tags import MsgType
from trifix.trading.bbo import Bbo, ConsolidatedBBO, LpLevel
from trifix.trading.book import InconsistencyKind, OrderBook
from trifix.trading.marketdata import BookInconsistent, BookUpdated, MarketDataIgnored


def book(
    lp: str, bid: str | None, offer: str | None, size: int = 10, symbol: str = "EURUSD"
) -> OrderBook:
    b = OrderBook(symbol, lp=lp)
    entries = []
    if bid is not None:
        entries.append(entry(BID, bid, size))
    if offer is not None:
        entries.append(entry(OFFER, offer, size))
    assert b.apply_snapshot(entries) is None
    return b


def lv(lp: str, price: str, size: int = 10) -> LpLevel:
    return LpLevel(lp, Decimal(price), Decimal(size))


def test_best_of_each_side_with_its_lp() -> None:
    bbo = ConsolidatedBBO()
    assert bbo.best("EURUSD") == Bbo("EURUSD", None, None)
    assert bbo.update(book("A", "1.1", "1.3")) == Bbo("EURUSD", lv("A", "1.1"), lv("A", "1.3"))
    changed = bbo.update(book("B", "1.2", "1.4"))
    assert changed == Bbo("EURUSD", lv("B", "1.2"), lv("A", "1.3"))
    assert changed.spread == Decimal("0.1")
    assert not changed.crossed
    assert bbo.symbols() == ["EURUSD"]


def test_unchanged_bbo_returns_none_and_ties_go_to_size_then_first_seen() -> None:
    bbo = ConsolidatedBBO()
    bbo.update(book("A", "1.1", "1.3", size=5))
    assert bbo.update(book("B", "1.0", "1.5")) is None  # worse on both sides
    assert bbo.update(book("C", "1.1", "1.3", size=7)) == Bbo(
        "EURUSD", lv("C", "1.1", 7), lv("C", "1.3", 7)
    )
    assert bbo.update(book("D", "1.1", "1.3", size=7)) is None  # equal: C was first


def test_stale_and_removed_books_drop_out() -> None:
    bbo = ConsolidatedBBO()
    a = book("A", "1.2", "1.3")
    b = book("B", "1.1", "1.4")
    bbo.update(a)
    bbo.update(b)
    found = a.apply_update(update(NEW, BID, "1.5", 1))  # crossed
    assert found is not None
    changed = bbo.on_market_data(BookInconsistent(a, found))
    assert changed == Bbo("EURUSD", lv("B", "1.1"), lv("B", "1.4"))
    a.apply_snapshot([entry(BID, "1.25", 1)])
    assert bbo.on_market_data(BookUpdated(a)) == Bbo("EURUSD", lv("A", "1.25", 1), lv("B", "1.4"))
    assert bbo.remove("B") == [Bbo("EURUSD", lv("A", "1.25", 1), None)]
    assert bbo.remove("B") == []
    a.mark_stale(InconsistencyKind.DISCONNECTED, "gone")
    assert bbo.update(a) == Bbo("EURUSD", None, None)
    assert bbo.best("EURUSD").spread is None


def test_crossed_across_lps_is_reported_not_hidden() -> None:
    bbo = ConsolidatedBBO()
    bbo.update(book("A", "1.2", "1.3"))
    crossed = bbo.update(book("B", "1.35", "1.4"))
    assert crossed is not None
    assert crossed.crossed
    assert crossed.spread == Decimal("-0.05")


def test_symbols_are_separate_and_other_events_are_ignored() -> None:
    bbo = ConsolidatedBBO()
    bbo.update(book("A", "1.1", "1.3"))
    bbo.update(book("A", "150", "151", symbol="USDJPY"))
    assert bbo.best("USDJPY").bid == lv("A", "150")
    assert bbo.best("EURUSD").bid == lv("A", "1.1")
    ignored = MarketDataIgnored("x", Message.new(MsgType.HEARTBEAT))
    assert bbo.on_market_data(ignored) is None
    assert bbo.remove("A") == [Bbo("EURUSD", None, None), Bbo("USDJPY", None, None)]

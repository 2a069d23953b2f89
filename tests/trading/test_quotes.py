"""QuoteBook: requests, quote lifecycle (indicative, firm, expired, canceled, replaced,
traded) and the checks before trading on a quote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trifix.core.tags import OrdType, QuoteCancelType, QuoteType, Side, TimeInForce
from trifix.trading.messages import Quote, QuoteCancel
from trifix.trading.quotes import QuoteBook, QuoteError, QuoteState

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
D = Decimal


def quote(quote_id: str = "S1", **kw: object) -> Quote:
    fields: dict[str, object] = {
        "symbol": "EURUSD",
        "quote_req_id": "QR1",
        "quote_type": QuoteType.TRADEABLE,
        "bid_px": D("1.0849"),
        "offer_px": D("1.0851"),
        "bid_size": D(5000000),
        "offer_size": D(3000000),
        "min_bid_size": D(1000),
        "min_offer_size": D(1000),
    }
    fields.update(kw)
    return Quote(quote_id=quote_id, **fields)  # type: ignore[arg-type]


def book_with_request() -> QuoteBook:
    book = QuoteBook(default_validity=timedelta(seconds=10))
    book.request("EURUSD", T0, side=Side.BUY, order_qty=D(1000000))
    return book


def test_a_request_gets_fresh_ids_and_is_remembered() -> None:
    book = QuoteBook(id_prefix="GW-")
    first = book.request("EURUSD", T0, valid_for=timedelta(seconds=5))
    second = book.request("GBPUSD", T0, quote_type=QuoteType.INDICATIVE)
    assert (first.quote_req_id, second.quote_req_id) == ("GW-1", "GW-2")
    assert first.valid_until_time == T0 + timedelta(seconds=5)
    assert first.quote_type == QuoteType.TRADEABLE
    assert book.requested("GW-2") == second
    assert book.requested("nope") is None
    with pytest.raises(QuoteError, match="used already"):
        book.request("EURUSD", T0, quote_req_id="GW-1")
    with pytest.raises(QuoteError, match="quantity must be positive"):
        book.request("EURUSD", T0, order_qty=D(0))
    with pytest.raises(ValueError, match="default_validity"):
        QuoteBook(default_validity=timedelta(0))


def test_firm_and_indicative_quotes() -> None:
    book = book_with_request()
    assert book.on_quote(quote(), T0).state == QuoteState.FIRM
    assert book.on_quote(quote("S2", quote_req_id=None), T0).state == QuoteState.FIRM
    indicative = book.on_quote(quote("S3", quote_type=QuoteType.INDICATIVE), T0)
    assert indicative.state == QuoteState.INDICATIVE
    assert indicative.is_live
    with pytest.raises(QuoteError, match="is indicative, not firm"):
        book.order_for("S3", side=Side.BUY, order_qty=D(1000), cl_ord_id="C1", now=T0)


def test_quotes_expire_at_their_valid_until_time_or_the_default_validity() -> None:
    book = book_with_request()
    book.on_quote(quote("S1", quote_req_id=None, valid_until_time=T0 + timedelta(seconds=2)), T0)
    book.on_quote(quote("S2", quote_req_id=None), T0)
    assert [v.quote_id for v in book.live(T0 + timedelta(seconds=1))] == ["S1", "S2"]
    assert [v.quote_id for v in book.live(T0 + timedelta(seconds=2))] == ["S2"]
    view = book.get("S1", T0 + timedelta(seconds=3))
    assert view is not None
    assert view.state == QuoteState.EXPIRED
    expired = book.expire(T0 + timedelta(seconds=10))
    assert [v.quote_id for v in expired] == ["S2"]
    assert book.expire(T0 + timedelta(seconds=11)) == []
    with pytest.raises(QuoteError, match="is expired"):
        book.order_for("S2", side=Side.BUY, order_qty=D(1000), cl_ord_id="C1", now=T0)


def test_a_newer_quote_for_the_same_request_replaces_the_older() -> None:
    book = book_with_request()
    book.on_quote(quote("S1"), T0)
    book.on_quote(quote("S2", offer_px=D("1.0852")), T0 + timedelta(seconds=1))
    old = book.get("S1", T0)
    assert old is not None
    assert old.state == QuoteState.REPLACED
    assert [v.quote_id for v in book.live(T0, "EURUSD")] == ["S2"]


def test_a_quote_id_is_never_reused_and_must_match_its_request() -> None:
    book = book_with_request()
    book.on_quote(quote("S1"), T0)
    with pytest.raises(QuoteError, match="received twice"):
        book.on_quote(quote("S1"), T0)
    with pytest.raises(QuoteError, match="answers request 'QR1' for EURUSD"):
        book.on_quote(quote("S9", symbol="GBPUSD"), T0)


def test_quote_cancel_by_id_by_symbol_and_all() -> None:
    book = QuoteBook()
    for n, symbol in enumerate(["EURUSD", "EURUSD", "GBPUSD", "USDJPY"], 1):
        book.on_quote(quote(f"S{n}", symbol=symbol, quote_req_id=None), T0)
    by_id = QuoteCancel(quote_id="S3", quote_cancel_type=QuoteCancelType.CANCEL_FOR_SECURITY_TYPE)
    assert [v.quote_id for v in book.on_cancel(by_id, T0)] == ["S3"]
    by_symbol = QuoteCancel(
        quote_id="*",
        quote_cancel_type=QuoteCancelType.CANCEL_FOR_ONE_OR_MORE_SECURITIES,
        symbol="EURUSD",
    )
    assert [v.quote_id for v in book.on_cancel(by_symbol, T0)] == ["S1", "S2"]
    everything = QuoteCancel(quote_id="*", quote_cancel_type=QuoteCancelType.CANCEL_ALL_QUOTES)
    assert [v.quote_id for v in book.on_cancel(everything, T0)] == ["S4"]
    unknown = QuoteCancel(quote_id="S99", quote_cancel_type=QuoteCancelType.CANCEL_ALL_QUOTES)
    assert book.on_cancel(unknown, T0) == []
    assert list(book.live(T0)) == []
    with pytest.raises(QuoteError, match="is canceled"):
        book.order_for("S1", side=Side.BUY, order_qty=D(1000), cl_ord_id="C", now=T0)


def test_trading_on_a_firm_quote_takes_the_right_side_once() -> None:
    book = book_with_request()
    book.on_quote(quote(), T0)
    order = book.order_for(
        "S1", side=Side.BUY, order_qty=D(1000000), cl_ord_id="C1", now=T0, account="A"
    )
    assert order.ord_type == OrdType.PREVIOUSLY_QUOTED
    assert order.time_in_force == TimeInForce.FILL_OR_KILL
    assert (order.price, order.quote_id, order.symbol) == (D("1.0851"), "S1", "EURUSD")
    assert order.account == "A"
    traded = book.get("S1", T0)
    assert traded is not None
    assert (traded.state, traded.traded_by) == (QuoteState.TRADED, "C1")
    with pytest.raises(QuoteError, match="is traded"):
        book.order_for("S1", side=Side.BUY, order_qty=D(1000), cl_ord_id="C2", now=T0)
    book.on_quote(quote("S2", quote_req_id=None), T0)
    sell = book.order_for("S2", side=Side.SELL, order_qty=D(5000000), cl_ord_id="C3", now=T0)
    assert sell.price == D("1.0849")


@pytest.mark.parametrize(
    ("changes", "side", "qty", "message"),
    [
        ({}, Side.BUY, D(3000001), "above its size 3000000"),
        ({}, Side.SELL, D(999), "below its minimum 1000"),
        ({}, Side.BUY, D(0), "quantity must be positive"),
        ({"offer_px": None}, Side.BUY, D(1000), "has no offer price to buy at"),
        ({"bid_px": None}, Side.SELL, D(1000), "has no bid price to sell at"),
        ({}, Side.SELL_SHORT, D(1000), "side SELL_SHORT cannot trade on a quote"),
    ],
)
def test_orders_an_lp_would_refuse_are_refused_before_sending(
    changes: dict[str, object], side: Side, qty: Decimal, message: str
) -> None:
    book = book_with_request()
    book.on_quote(quote(**changes), T0)
    with pytest.raises(QuoteError, match=message):
        book.order_for("S1", side=side, order_qty=qty, cl_ord_id="C1", now=T0)
    view = book.get("S1", T0)
    assert view is not None
    assert view.state == QuoteState.FIRM  # a refused order leaves the quote tradeable


def test_unknown_quote() -> None:
    book = QuoteBook()
    assert book.get("S1", T0) is None
    with pytest.raises(QuoteError, match="no quote 'S1'"):
        book.order_for("S1", side=Side.BUY, order_qty=D(1), cl_ord_id="C", now=T0)


def test_an_expired_quote_cannot_be_canceled_or_replaced_again() -> None:
    book = book_with_request()
    book.on_quote(quote("S1", valid_until_time=T0 + timedelta(seconds=1)), T0)
    later = T0 + timedelta(seconds=5)
    book.on_quote(quote("S2"), later)
    old = book.get("S1", later)
    assert old is not None
    assert old.state == QuoteState.EXPIRED
    cancel = QuoteCancel(quote_id="S1", quote_cancel_type=QuoteCancelType.CANCEL_ALL_QUOTES)
    assert [v.quote_id for v in book.on_cancel(cancel, later)] == ["S2"]

"""Pre-send checks: each check's pass and failure, with the values named, and their sum."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from tests.trading.orderfixtures import SYMBOL, T0, at, d, er, fill, nos, replace
from trifix.core.tags import ExecType, OrdStatus, OrdType, Side
from trifix.runtime.schedule import Schedule
from trifix.trading.checks import (
    CheckContext,
    CheckFailure,
    Collar,
    CollarCheck,
    Instrument,
    NotionalLimitCheck,
    OrderRequest,
    PreTradeCheckError,
    PreTradeChecks,
)
from trifix.trading.errors import TradingError
from trifix.trading.messages import NewOrderSingle
from trifix.trading.orders import OrderTracker

EURUSD = Instrument(
    SYMBOL, tick_size=d("0.0001"), lot_size=d(1000), min_qty=d(1000), max_qty=d(5_000_000)
)
HALTED = Instrument("USD/TRY", tick_size=d("0.001"), tradable=False)
JPY = Instrument("USD/JPY", tick_size=d("0.01"))
CTX = CheckContext(T0, {SYMBOL: d("1.1000")})


def order(
    qty: str | int = 10_000,
    price: str | None = "1.1000",
    *,
    symbol: str = SYMBOL,
    cl_ord_id: str = "N1",
    ord_type: OrdType | None = None,
    stop_px: str | None = None,
    orig: str | None = None,
) -> OrderRequest:
    kind = ord_type or (OrdType.LIMIT if price is not None else OrdType.MARKET)
    return OrderRequest(
        cl_ord_id=cl_ord_id,
        symbol=symbol,
        side=Side.BUY,
        ord_type=kind,
        order_qty=d(qty),
        price=d(price) if price is not None else None,
        stop_px=d(stop_px) if stop_px is not None else None,
        orig_cl_ord_id=orig,
    )


def checks(**kw: object) -> PreTradeChecks:
    built = PreTradeChecks.standard(instruments=[EURUSD, HALTED, JPY], **kw)  # type: ignore[arg-type]
    built.set_reference_price(SYMBOL, d("1.1000"))
    return built


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, failures
    return failures[0]


def test_a_good_order_passes() -> None:
    tracker = OrderTracker()
    suite = checks(
        orders=tracker,
        collar=Collar(percent=d(1)),
        schedule=Schedule.non_stop(),
        notional_limit=d(1_000_000),
    )
    assert [c.name for c in suite.checks] == [
        "symbol",
        "quantity",
        "tick_size",
        "collar",
        "duplicate_cl_ord_id",
        "trading_hours",
        "notional_limit",
    ]
    assert suite.failures(order(), T0) == []
    assert suite.first_failure(order(), T0) is None
    suite.check(order(), T0)
    assert suite.reference_price(SYMBOL) == d("1.1")
    assert suite.reference_price("nope") is None


@pytest.mark.parametrize(
    ("request_", "text", "values"),
    [
        (order(symbol="XXX"), "unknown symbol 'XXX'", {"symbol": "XXX"}),
        (order(symbol="USD/TRY", price="1"), "'USD/TRY' is not tradable", {"symbol": "USD/TRY"}),
    ],
)
def test_symbol(request_: OrderRequest, text: str, values: dict[str, object]) -> None:
    failure = only(checks().failures(request_, T0))
    assert failure.check == "symbol"
    assert text in failure.reason
    assert dict(failure.values) == values


@pytest.mark.parametrize(
    ("qty", "text", "values"),
    [
        (0, "OrderQty 0 must be positive", {"order_qty": d(0)}),
        (-1000, "must be positive", {"order_qty": d(-1000)}),
        (500, "below the minimum 1000", {"order_qty": d(500), "min_qty": d(1000)}),
        (
            6_000_000,
            "above the maximum 5000000",
            {"order_qty": d(6_000_000), "max_qty": d(5_000_000)},
        ),
        (1500, "not a multiple of the lot size 1000", {"order_qty": d(1500), "lot_size": d(1000)}),
    ],
)
def test_quantity(qty: int, text: str, values: dict[str, object]) -> None:
    failure = only(checks().failures(order(qty), T0))
    assert failure.check == "quantity"
    assert text in failure.reason
    assert dict(failure.values) == values


def test_quantity_without_limits() -> None:
    assert checks().failures(order(7, "150.00", symbol="USD/JPY"), T0) == []


@pytest.mark.parametrize(
    ("price", "stop_px", "text"),
    [
        ("1.10005", None, "Price 1.10005 is not a multiple of the tick size 0.0001"),
        ("1.1000", "1.09995", "StopPx 1.09995 is not a multiple of the tick size 0.0001"),
    ],
)
def test_tick_size(price: str, stop_px: str | None, text: str) -> None:
    failure = only(checks().failures(order(price=price, stop_px=stop_px), T0))
    assert (failure.check, failure.reason) == ("tick_size", text)


def test_collar_percent_absolute_and_the_narrower() -> None:
    pct = CollarCheck(Collar(percent=d(1)))  # 1.1 +/- 0.011
    assert pct(order(price="1.1110"), CTX) is None
    failure = pct(order(price="1.1111"), CTX)
    assert failure is not None
    assert failure.reason == (
        "price 1.1111 is outside the collar [1.0890, 1.1110] around the reference price "
        "1.1000 of EUR/USD"
    )
    assert dict(failure.values)["reference"] == d("1.1")
    absolute = CollarCheck(Collar(absolute=d("0.05")))
    assert absolute(order(price="1.0500"), CTX) is None
    assert absolute(order(price="1.0499"), CTX) is not None
    both = CollarCheck(Collar(percent=d(10), absolute=d("0.01")))
    assert both(order(price="1.1100"), CTX) is None
    assert both(order(price="1.1200"), CTX) is not None  # 10% would allow it; 0.01 does not


def test_collar_per_symbol_market_orders_and_missing_reference() -> None:
    check = CollarCheck(Collar(percent=d(1)), {"USD/JPY": Collar(absolute=d(5))})
    ctx = CheckContext(T0, {SYMBOL: d("1.1"), "USD/JPY": d(150)})
    assert check(order(7, "154.00", symbol="USD/JPY"), ctx) is None
    assert check(order(price=None), ctx) is None  # market: skipped
    assert check(order(price=None, stop_px="1.5", ord_type=OrdType.STOP), ctx) is not None
    no_ref = CheckContext(T0, {})
    failure = check(order(), no_ref)
    assert failure is not None
    assert "no reference price for 'EUR/USD'" in failure.reason
    assert CollarCheck(Collar(percent=d(1)), require_reference=False)(order(), no_ref) is None


def test_collar_validation() -> None:
    with pytest.raises(ValueError, match="percent, absolute or both"):
        Collar()
    with pytest.raises(ValueError, match="percent must not be negative"):
        Collar(percent=d(-1))


def test_instrument_validation() -> None:
    with pytest.raises(ValueError, match="tick_size and lot_size must be positive"):
        Instrument("X", tick_size=d(0))
    with pytest.raises(ValueError, match="min_qty 10 > max_qty 5"):
        Instrument("X", tick_size=d(1), min_qty=d(10), max_qty=d(5))


def test_duplicate_cl_ord_id() -> None:
    tracker = OrderTracker()
    tracker.on_sent(nos("N1", 10_000), T0)
    failure = only(checks(orders=tracker).failures(order(cl_ord_id="N1"), T0))
    assert (failure.check, failure.reason) == (
        "duplicate_cl_ord_id",
        "ClOrdID 'N1' is already used",
    )


def test_trading_hours() -> None:
    hours = Schedule.daily(time(8), time(17), tz="UTC")  # T0 is 09:00 UTC
    suite = checks(schedule=hours)
    assert suite.failures(order(), T0) == []
    failure = only(suite.failures(order(), at(9 * 3600)))
    assert failure.check == "trading_hours"
    assert "outside trading hours at 2026-11-25T18:00:00+00:00" in failure.reason
    assert "it opens at 2026-11-26T08:00:00+00:00" in failure.reason


def tracker_with(*orders: tuple[str, int, str]) -> OrderTracker:
    tracker = OrderTracker()
    for cl_ord_id, qty, price in orders:
        tracker.on_sent(nos(cl_ord_id, qty, price), T0)
    return tracker


def test_notional_limit_counts_open_orders_and_releases_on_fills_and_cancels() -> None:
    tracker = tracker_with(("A", 400_000, "1.0"), ("B", 400_000, "1.0"))
    check = NotionalLimitCheck(d(1_000_000), tracker)
    assert check(order(200_000, "1.0"), CTX) is None  # 800k + 200k: at the limit
    failure = check(order(300_000, "1.0"), CTX)
    assert failure is not None
    assert failure.reason == (
        "open notional 800000.0 + this order's 300000.0 = 1100000.0 exceeds the limit 1000000"
    )
    ack = er("A", "E1", ExecType.NEW, OrdStatus.NEW, qty=400_000)
    tracker.on_received(ack, at(1))
    tracker.on_received(fill("A", "E2", 100_000, "1.0", cum=100_000, avg="1", qty=400_000), at(2))
    assert check(order(300_000, "1.0"), CTX) is None  # the fill released 100k
    tracker.on_received(er("B", "E3", ExecType.CANCELED, OrdStatus.CANCELED, qty=400_000), at(3))
    assert check(order(600_000, "1.0"), CTX) is None  # 300k open + 600k


def test_notional_limit_replace_counts_instead_of_the_replaced_order() -> None:
    tracker = tracker_with(("A", 500_000, "1.0"))
    tracker.on_received(er("A", "E1", ExecType.NEW, OrdStatus.NEW, qty=500_000), at(1))
    tracker.on_received(fill("A", "E2", 100_000, "1.0", cum=100_000, avg="1", qty=500_000), at(2))
    check = NotionalLimitCheck(d(900_000), tracker)
    # Replacing A to 1,000,000 total: 900,000 left open, the old 400,000 no longer counts.
    assert check(order(1_000_000, "1.0", orig="A"), CTX) is None
    assert check(order(1_000_001, "1.0", orig="A"), CTX) is not None
    # While the replace is pending, the larger of old and new terms counts.
    tracker.on_sent(replace("R", "A", 800_000, "1.0"), at(3))
    failure = check(order(300_000, "1.0", cl_ord_id="N2"), CTX)
    assert failure is not None
    assert dict(failure.values)["open_notional"] == d(700_000)


def test_notional_limit_values_market_orders_at_the_reference_price() -> None:
    tracker = tracker_with()
    tracker.on_sent(nos("M", 100_000, None), T0)
    check = NotionalLimitCheck(d(300_000), tracker)
    assert check(order(100_000, None), CTX) is None  # 110k + 110k at 1.1
    assert check(order(200_000, None), CTX) is not None
    unpriced = check(order(100_000, None, symbol="USD/JPY"), CTX)
    assert unpriced is not None
    assert "no price and no reference price for 'USD/JPY'" in unpriced.reason
    blind = CheckContext(T0, {})
    failure = check(order(1000, "1.0"), blind)
    assert failure is not None
    assert "cannot value open order 'M'" in failure.reason


def test_notional_limit_configuration() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        NotionalLimitCheck(d(-1), OrderTracker())
    with pytest.raises(ValueError, match="needs the session's orders"):
        PreTradeChecks.standard(instruments=[], notional_limit=d(1))


def test_first_failure_all_failures_and_the_error() -> None:
    suite = checks(collar=Collar(percent=d(1)))
    bad = order(1500, "1.30005")
    names = [f.check for f in suite.failures(bad, T0)]
    assert names == ["quantity", "tick_size", "collar"]
    first = suite.first_failure(bad, T0)
    assert first is not None
    assert first.check == "quantity"
    with pytest.raises(
        PreTradeCheckError, match="order 'N1' refused by pre-send checks: quantity"
    ) as info:
        suite.check(bad, T0)
    assert info.value.failures == (first,)
    assert info.value.cl_ord_id == "N1"
    assert isinstance(info.value, TradingError)
    assert str(first).startswith("quantity: OrderQty 1500")


def test_order_request_from_messages() -> None:
    wire = OrderRequest.of(nos("A", 2000, "1.1"))
    assert (wire.cl_ord_id, wire.order_qty, wire.price, wire.orig_cl_ord_id) == (
        "A",
        2000,
        d("1.1"),
        None,
    )
    amend = OrderRequest.of(replace("B", "A", 3000, "1.2"))
    assert (amend.orig_cl_ord_id, amend.order_qty) == ("A", 3000)
    typed = NewOrderSingle(
        cl_ord_id="T", symbol=SYMBOL, side=Side.SELL, order_qty=Decimal(1000),
        ord_type=OrdType.LIMIT, price=d("1.1000"), transact_time=T0,
    )  # fmt: skip
    checks().check(typed, T0)
    assert OrderRequest.of(typed).side is Side.SELL
    with pytest.raises(ValueError, match="not 8"):
        OrderRequest.of(er("A", "E", ExecType.NEW, OrdStatus.NEW))

"""The per-client logic below the socket: error mapping, pushes for every update kind, the
shared market data subscriptions, and a full outbox cutting a client off."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.lowlevel
import trio.testing

from tests.web.harness import open_desk
from trifix.core.errors import LocalProtocolError
from trifix.core.tags import OrdType, QuoteType, Side
from trifix.runtime import NotLoggedOnError, ThrottledError
from trifix.trading.breaker import BreakerState, CircuitOpenError
from trifix.trading.checks import CheckFailure, PreTradeCheckError
from trifix.trading.errors import TradingError
from trifix.trading.marketdata import SubscriptionLimitError
from trifix.trading.messages import NewOrderSingle, Quote
from trifix.trading.quotes import QuoteState, QuoteView
from trifix.trading.routing import NoRouteError
from trifix.trading.updates import Alert, AlertKind, QuoteChanged, SessionChanged
from trifix.web.client import Client, SlowClientError
from trifix.web.context import MarketDataShare
from trifix.web.errors import trading_error
from trifix.web.outbox import Outbox
from trifix.web.protocol import ErrorCode

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ORDER = NewOrderSingle(
    cl_ord_id="F1", symbol="EURUSD", side=Side.BUY, order_qty=Decimal(1), ord_type=OrdType.MARKET
)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ThrottledError("over the rate"), ErrorCode.THROTTLED),
        (NotLoggedOnError("down"), ErrorCode.NOT_LOGGED_ON),
        (NoRouteError("no LP"), ErrorCode.NO_ROUTE),
        (SubscriptionLimitError("100 already"), ErrorCode.LIMIT),
        (TradingError("something else"), ErrorCode.REFUSED),
        (LocalProtocolError("misuse"), ErrorCode.REFUSED),
    ],
)
def test_trading_errors_map_to_codes(exc: Exception, code: ErrorCode) -> None:
    error = trading_error(exc)
    assert error.code is code
    assert error.message == str(exc)


def test_check_and_breaker_errors_carry_details() -> None:
    failure = CheckFailure("collar", "too far", (("price", Decimal("2")), ("band", "1.9-2.1")))
    error = trading_error(PreTradeCheckError("C1", [failure]))
    assert error.details == {
        "failures": [
            {"check": "collar", "reason": "too far", "values": {"price": "2", "band": "1.9-2.1"}}
        ]
    }
    error = trading_error(CircuitOpenError("LP1", BreakerState.HALF_OPEN, None))
    assert error.code is ErrorCode.BREAKER_OPEN
    assert error.details == {"lp": "LP1", "state": "half_open", "retry_at": None}


class FakeMarketData:
    """Just the market data part of a gateway, refusing what the test says."""

    def __init__(self) -> None:
        self.subscribed: list[str] = []
        self.refuse_subscribe = False
        self.refuse_unsubscribe = False

    def symbols(self) -> list[str]:
        return list(self.subscribed)

    async def subscribe(self, symbols: Sequence[str], *, depth: int = 1) -> None:
        await trio.lowlevel.checkpoint()
        if self.refuse_subscribe:
            raise SubscriptionLimitError("over the LP's limit")
        self.subscribed += symbols

    async def unsubscribe(self, symbol: str) -> None:
        await trio.lowlevel.checkpoint()
        if self.refuse_unsubscribe:
            raise NotLoggedOnError("the md session is down")
        self.subscribed.remove(symbol)


async def test_market_data_is_shared_and_refusals_leave_no_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = FakeMarketData()
    share = MarketDataShare(gateway, depth=1)  # type: ignore[arg-type]
    await share.acquire("EURUSD")
    await share.acquire("EURUSD")
    assert (gateway.subscribed, share.users("EURUSD")) == (["EURUSD"], 2)
    await share.release("EURUSD")
    assert gateway.subscribed == ["EURUSD"]
    gateway.refuse_unsubscribe = True
    with caplog.at_level(logging.WARNING, "trifix.web"):
        await share.release("EURUSD")
    assert "could not unsubscribe EURUSD" in caplog.text
    assert share.users("EURUSD") == 0

    gateway.refuse_subscribe = True
    with pytest.raises(SubscriptionLimitError):
        await share.acquire("GBPUSD")
    assert share.users("GBPUSD") == 0
    gateway.refuse_subscribe = False
    await share.acquire("GBPUSD")  # tried again: subscribes
    assert "GBPUSD" in gateway.subscribed


async def drain(outbox: Outbox) -> list[dict[str, Any]]:
    out = []
    while len(outbox):
        text = await outbox.get()
        assert text is not None
        out.append(json.loads(text))
    return out


def quote_view() -> QuoteView:
    quote = Quote(
        quote_id="Q1",
        symbol="EURUSD",
        quote_req_id="R1",
        quote_type=QuoteType.TRADEABLE,
        bid_px=Decimal("1.0850"),
        offer_px=Decimal("1.0851"),
        bid_size=Decimal(1000000),
        offer_size=Decimal(1000000),
    )
    return QuoteView(quote, QuoteState.FIRM, T0, T0 + timedelta(seconds=5))


async def test_pushes_for_quotes_sessions_and_alerts_follow_the_subscriptions() -> None:
    async with open_desk() as desk:
        outbox = Outbox(10)
        client = Client(desk.api.ctx, outbox, authorized=False, peer="test")
        updates = [
            QuoteChanged("LP1", quote_view()),
            SessionChanged("LP1", "LP1", "GapDetected", "expected=5", True, T0),
            SessionChanged("LP9", "GONE", "Disconnected", "", False, T0),
            Alert("LP2", AlertKind.BREAKER, "opened", T0),
            Alert(None, AlertKind.OVERFLOW, "never shown", T0),
        ]
        for update in updates:
            client.on_update(update)
        client.push_statistics()
        assert await drain(outbox) == []  # nothing subscribed

        client.orders, client.orders_lp = True, "LP1"
        for update in updates:
            client.on_update(update)
        pushes = await drain(outbox)
        assert [p["type"] for p in pushes] == ["quote"]  # LP2's alert is filtered out
        assert pushes[0]["quote_id"] == "Q1"
        assert pushes[0]["state"] == "firm"
        assert pushes[0]["bid_px"] == "1.0850"
        assert pushes[0]["expires_at"] == "2026-11-25T09:00:05Z"
        assert pushes[0]["lp"] == "LP1"

        client.orders, client.sessions = False, True
        for update in updates:
            client.on_update(update)
        gap, gone, alert = await drain(outbox)
        assert gap["event"] == "GapDetected"
        assert gap["statistics"]["session_id"] == "LP1"
        assert gap["at"] == "2026-11-25T09:00:00Z"
        assert "statistics" not in gone  # no such engine session
        assert alert == {
            "type": "alert",
            "lp": "LP2",
            "kind": "breaker",
            "text": "opened",
            "at": "2026-11-25T09:00:00Z",
        }

        tiny = Client(desk.api.ctx, Outbox(1), authorized=False, peer="slow")
        tiny.sessions = True
        tiny.on_update(updates[1])
        with pytest.raises(SlowClientError):
            tiny.on_update(updates[1])


async def test_the_forwarder_cuts_off_a_client_whose_outbox_is_full() -> None:
    async with open_desk() as desk:
        client = Client(desk.api.ctx, Outbox(1), authorized=True, peer="nobody writes")
        client.orders = True
        client.wants_updates.set()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(desk.api._forward, client)
            await trio.testing.wait_all_tasks_blocked()
            await desk.gw.place(ORDER, lp="LP1")  # SEND_NEW, ACK_NEW, FILL: 3 pushes
            with trio.fail_after(5):
                await client.outbox.wait_closed()
        assert client.outbox.close_code == 4001
        assert desk.api.statistics().cut_off == 1

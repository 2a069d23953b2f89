"""The WebSocket API end to end: a trio-websocket client on 127.0.0.1, a real gateway over two
mini LPs (memory streams between the engines), every request type, every error kind, pushes,
token and origin rules, limits, and slow clients cut off without slowing the gateway."""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.lowlevel
from trio_websocket import ConnectionClosed, ConnectionRejected

from tests.web.harness import ApiClient, Desk, connect, open_desk
from trifix.web import CLOSE_AUTH, CLOSE_SLOW, ApiLimits, WebSocketApi, serve_websocket_api

FAST = ApiLimits(stats_interval=0.05, book_depth=3)


async def wait_for(predicate: Any, within: float = 5) -> None:
    with trio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - the condition lives in the gateway
            await trio.sleep(0.005)


async def closed_with(client: ApiClient) -> int:
    """Read until the server closes; the close code."""
    with pytest.raises(ConnectionClosed) as info, trio.fail_after(5):  # noqa: PT012
        while True:
            await client.ws.get_message()
    assert info.value.reason is not None
    return info.value.reason.code


async def test_sessions_and_books() -> None:
    async with open_desk(limits=FAST) as desk, connect(desk) as c:
        lps = (await c.ok("get_sessions"))["lps"]
        assert [lp["lp"] for lp in lps] == ["LP1", "LP2"]
        session = lps[0]["sessions"][0]
        assert session["session_id"] == "LP1"
        assert session["role"] == "orders+md"
        assert session["status"] == "up"
        assert session["logged_on"] is True
        assert session["next_sender_seq"] >= 2
        assert lps[0]["breaker"]["state"] == "closed"

        assert await c.ok("subscribe_book", symbol="EURUSD", lp="LP1", depth=2) == {
            "symbol": "EURUSD",
            "lp": "LP1",
            "depth": 2,
        }
        assert desk.gw.symbols() == ["EURUSD"]  # the API subscribed it at the gateway
        book = await c.push("book", within=5)
        while not book["bids"]:  # the snapshot push may come before the LP's snapshot
            book = await c.push("book")
        assert book["lp"] == "LP1"
        assert book["symbol"] == "EURUSD"
        assert Decimal(book["bids"][0]["price"]) < Decimal(book["offers"][0]["price"])
        assert book["usable"] is True

        await c.ok("subscribe_book", symbol="EURUSD", depth=3)
        bbo = await c.push("bbo")
        while bbo["bid"] is None or len(bbo["bids"]) < 2:
            bbo = await c.push("bbo")
        assert bbo["bid"]["lp"] in ("LP1", "LP2")
        assert bbo["crossed"] is False
        assert Decimal(bbo["spread"]) > 0
        prices = [Decimal(level["price"]) for level in bbo["bids"]]
        assert prices == sorted(prices, reverse=True)  # levels across LPs, best first

        await c.ok("subscribe_sessions")
        stats = await c.push("session", event="statistics")
        assert stats["statistics"]["session_id"] in ("LP1", "LP2")
        await c.ok("unsubscribe_sessions")

        assert await c.ok("unsubscribe_book", symbol="EURUSD", lp="LP1") == {
            "symbol": "EURUSD",
            "lp": "LP1",
        }
        assert desk.gw.symbols() == ["EURUSD"]  # still used by the consolidated subscription
        await c.ok("unsubscribe_book", symbol="EURUSD")
        assert desk.gw.symbols() == []  # the last user left: unsubscribed at the gateway
        error = await c.error("unsubscribe_book", symbol="EURUSD")
        assert (error["code"], error["field"]) == ("invalid_field", "symbol")


async def test_books_the_gateway_owner_subscribed_are_left_alone() -> None:
    async with open_desk() as desk:
        await desk.gw.subscribe(["GBPUSD"])
        async with connect(desk) as c:
            await c.ok("subscribe_book", symbol="GBPUSD", lp="LP2")
            await c.ok("unsubscribe_book", symbol="GBPUSD", lp="LP2")
        assert desk.gw.symbols() == ["GBPUSD"]
        # A client that leaves gives its subscriptions back.
        async with connect(desk) as c:
            await c.ok("subscribe_book", symbol="USDJPY")
            assert "USDJPY" in desk.gw.symbols()
        await wait_for(lambda: desk.gw.symbols() == ["GBPUSD"])


async def test_orders_place_replace_cancel_with_pushes() -> None:
    async with open_desk() as desk, connect(desk) as c:
        await c.ok("subscribe_book", symbol="EURUSD", lp="LP1")
        assert await c.ok("subscribe_orders") == {"orders": []}

        # A marketable buy fills at once; its pushes follow the reply.
        placed = await c.ok(
            "place_order", symbol="EURUSD", side="buy", order_qty=100000, price="1.5", lp="LP1"
        )
        order = placed["order"]
        assert order["state"] == "pending_new"
        assert order["lp"] == "LP1"
        assert order["side"] == "buy"
        assert order["order_qty"] == "100000"
        cl_ord_id = order["cl_ord_id"]
        assert (await c.push("order", event="send_new"))["order"]["cl_ord_id"] == cl_ord_id
        assert (await c.push("order", event="ack_new"))["order"]["state"] == "new"
        filled = await c.push("order", event="fill")
        assert filled["order"]["state"] == "filled"
        assert filled["order"]["cum_qty"] == "100000"
        assert filled["fill"]["qty"] == "100000"
        assert filled["lp"] == "LP1"

        # A resting sell, replaced then canceled, with a ClOrdID of our own.
        await c.ok(
            "place_order",
            cl_ord_id="MINE-1",
            symbol="EURUSD",
            side="sell",
            order_qty="50000",
            ord_type="limit",
            price="1.9",
            time_in_force="day",
            lp="LP1",
        )
        await c.push("order", event="ack_new")
        replaced = await c.ok("replace_order", cl_ord_id="MINE-1", price="1.95")
        assert replaced["order"]["pending"] == "send_replace"
        after = await c.push("order", event="replaced")
        new_id = after["order"]["cl_ord_id"]
        assert after["order"]["price"] == "1.95"
        assert after["order"]["orig_cl_ord_id"] == "MINE-1"
        await c.ok("cancel_order", cl_ord_id=new_id)
        assert (await c.push("order", event="canceled"))["order"]["state"] == "canceled"

        orders = (await c.ok("get_orders"))["orders"]
        assert [o["state"] for o in orders] == ["canceled", "filled"]  # newest first
        assert (await c.ok("get_orders", side="buy", state="filled", limit=1))["orders"][0][
            "cl_ord_id"
        ] == cl_ord_id
        assert (await c.ok("get_orders", open_only=True, lp="LP2", symbol="EURUSD")) == {
            "orders": []
        }
        await c.ok("unsubscribe_orders")


async def test_best_price_routing_and_order_pushes_filtered_by_lp() -> None:
    async with open_desk() as desk, connect(desk) as c, connect(desk) as watcher:
        await watcher.ok("subscribe_orders", lp="LP2")
        await c.ok("subscribe_book", symbol="GBPUSD")
        await c.push("bbo")
        await wait_for(lambda: all(desk.gw.book("GBPUSD", lp).usable for lp in ("LP1", "LP2")))
        placed = await c.ok("place_order", symbol="GBPUSD", side="buy", order_qty=1000)
        assert placed["order"]["ord_type"] == "market"  # no price: a market order
        routed = placed["order"]["lp"]
        assert routed in ("LP1", "LP2")
        if routed == "LP2":
            assert (await watcher.push("order"))["lp"] == "LP2"
        await c.ok("place_order", symbol="GBPUSD", side="buy", order_qty=1000, lp="LP2")
        assert (await watcher.push("order", event="fill"))["lp"] == "LP2"
        assert all(p["lp"] == "LP2" for p in watcher.pushes if p["type"] == "order")


async def test_quotes_and_alerts() -> None:
    async with open_desk() as desk, connect(desk) as c:
        await c.ok("subscribe_sessions")
        await c.ok("subscribe_orders")
        reply = await c.ok(
            "request_quote", symbol="EURUSD", lp="LP1", side="buy", order_qty="1000000"
        )
        assert reply["symbol"] == "EURUSD"
        assert reply["lp"] == "LP1"
        assert reply["quote_req_id"]
        # The simulated LP quotes around its market, tradeable, for the quantity asked.
        quote = await c.push("quote", quote_req_id=reply["quote_req_id"])
        assert (quote["lp"], quote["symbol"], quote["state"]) == ("LP1", "EURUSD", "firm")
        assert quote["offer_size"] == "1000000"
        assert Decimal(quote["bid_px"]) < Decimal(quote["offer_px"])
        traded = await c.ok(
            "trade_quote", quote_id=quote["quote_id"], lp="LP1", side="buy", order_qty=1000
        )
        assert traded["order"]["lp"] == "LP1"
        fill = await c.push("order", event="fill")
        assert (fill["fill"]["qty"], fill["fill"]["price"]) == ("1000", quote["offer_px"])
        assert (fill["order"]["ord_type"], fill["order"]["state"]) == (
            "previously_quoted",
            "filled",
        )
        # A symbol the LP does not list: a QuoteRequestReject, an alert.
        await c.ok("request_quote", symbol="XAUUSD", lp="LP1")
        alert = await c.push("alert", kind="quote")
        assert alert["lp"] == "LP1"
        assert "rejected" in alert["text"]
        assert "XAUUSD" in alert["text"]
        assert alert["at"].endswith("Z")
        error = await c.error(
            "trade_quote", quote_id="Q-NONE", lp="LP1", side="buy", order_qty=1000
        )
        assert error["code"] == "quote_refused"
        assert "Q-NONE" in error["message"]


async def test_every_error_kind_over_the_wire() -> None:
    async with open_desk() as desk, connect(desk) as c:
        await c.send_raw("{oops")
        reply = await c.reply()
        assert reply["id"] is None
        assert reply["ok"] is False
        assert reply["error"]["code"] == "bad_json"
        await c.send_raw(b"\x00binary")
        assert (await c.reply())["error"]["code"] == "bad_json"

        assert (await c.error("fly"))["code"] == "unknown_type"
        missing = await c.error("place_order", symbol="EURUSD", side="buy")
        assert (missing["code"], missing["field"]) == ("missing_field", "order_qty")
        invalid = await c.error("place_order", symbol="EURUSD", side="up", order_qty=1)
        assert (invalid["code"], invalid["field"]) == ("invalid_field", "side")
        unknown = await c.error("get_sessions", verbose=True)
        assert (unknown["code"], unknown["field"]) == ("unknown_field", "verbose")
        bad_lp = await c.error("place_order", symbol="EURUSD", side="buy", order_qty=1, lp="LP9")
        assert (bad_lp["code"], bad_lp["field"]) == ("invalid_field", "lp")
        assert "LP1, LP2" in bad_lp["message"]
        assert (await c.error("get_orders", lp="LP9"))["field"] == "lp"
        assert (await c.error("subscribe_orders", lp="LP9"))["field"] == "lp"
        assert (await c.error("request_quote", symbol="EURUSD", lp="LP9"))["field"] == "lp"
        assert (await c.error("replace_order", cl_ord_id="X"))["code"] == "missing_field"

        check = await c.error(
            "place_order", symbol="EURUSD", side="buy", order_qty=1000, price="1.000001", lp="LP1"
        )
        assert check["code"] == "check_failed"
        (failure,) = check["details"]["failures"]
        assert failure["check"] == "tick_size"
        assert failure["values"] == {"price": "1.000001", "tick_size": "0.00001"}

        no_route = await c.error("place_order", symbol="USDJPY", side="buy", order_qty=1000)
        assert no_route["code"] == "no_route"  # best price with no market data for USDJPY

        await c.ok(
            "place_order", cl_ord_id="D1", symbol="EURUSD", side="buy", order_qty=1, lp="LP1"
        )
        duplicate = await c.error(
            "place_order", cl_ord_id="D1", symbol="EURUSD", side="buy", order_qty=1, lp="LP1"
        )
        assert duplicate["code"] == "duplicate_cl_ord_id"
        assert (await c.error("cancel_order", cl_ord_id="NOPE"))["code"] == "unknown_order"

        desk.gw.breaker("LP1").force_open(desk.engine.clock(), "test")
        breaker = await c.error("place_order", symbol="EURUSD", side="buy", order_qty=1, lp="LP1")
        assert breaker["code"] == "breaker_open"
        assert breaker["details"]["lp"] == "LP1"
        assert breaker["details"]["state"] == "open"
        assert breaker["details"]["retry_at"].endswith("Z")

        await desk.engine.session("LP2").logout("test over")
        await wait_for(lambda: not desk.engine.session("LP2").is_logged_on)
        down = await c.error("place_order", symbol="EURUSD", side="buy", order_qty=1, lp="LP2")
        assert down["code"] == "not_logged_on"
        assert "LP2" in down["message"]


async def test_a_token_guards_state_changes() -> None:
    order = {"symbol": "EURUSD", "side": "buy", "order_qty": 1, "lp": "LP1"}
    async with open_desk(token="s3cret", limits=ApiLimits(max_auth_failures=2)) as desk:
        async with connect(desk) as c:
            await c.ok("get_sessions")  # reading needs no token
            denied = await c.error("place_order", **order)
            assert denied["code"] == "unauthorized"
            assert "token" in denied["message"]
            wrong = await c.error("auth", token="guess")
            assert (wrong["code"], wrong["field"]) == ("unauthorized", "token")
            assert await c.ok("auth", token="s3cret") == {"authorized": True}
            await c.ok("place_order", **order)
        async with connect(desk, [(b"Authorization", b"Bearer s3cret")]) as c:
            await c.ok("place_order", **order)
        with pytest.raises(ConnectionRejected) as rejected:
            async with connect(desk, [(b"Authorization", b"Bearer nope")]):
                pass
        assert rejected.value.status_code == 401
        async with connect(desk) as c:  # too many wrong tokens: the connection is closed
            await c.error("auth", token="a")
            await c.send_raw(json.dumps({"id": 2, "type": "auth", "token": "b"}))
            assert await closed_with(c) == CLOSE_AUTH
        assert desk.api.statistics().refused == 1


async def test_without_a_token_only_loopback_non_browser_clients_change_state() -> None:
    order = {"symbol": "EURUSD", "side": "buy", "order_qty": 1, "lp": "LP1"}
    async with open_desk() as desk:
        async with connect(desk) as c:  # loopback, no Origin: trusted
            assert await c.ok("auth", token="anything") == {"authorized": True}
            await c.ok("place_order", **order)
        async with connect(desk, [(b"Authorization", b"Bearer unused")]) as c:
            await c.ok("place_order", **order)  # no token configured: the header is ignored
        # A page from any origin may watch, but not trade.
        async with connect(desk, [(b"Origin", b"http://elsewhere.example")]) as page:
            await page.ok("get_orders")
            assert (await page.error("place_order", **order))["code"] == "unauthorized"
            assert (await page.error("auth", token="x"))["code"] == "unauthorized"
        # With allowed origins, other pages are refused at the handshake...
        desk.api.allow_origins(["http://127.0.0.1:8080/"])
        with pytest.raises(ConnectionRejected) as rejected:
            async with connect(desk, [(b"Origin", b"http://elsewhere.example")]):
                pass
        assert rejected.value.status_code == 403
        # ... and the allowed ones are trusted like any loopback client.
        async with connect(desk, [(b"Origin", b"http://127.0.0.1:8080")]) as page:
            await page.ok("place_order", **order)


async def test_limits_on_clients_subscriptions_depth_and_message_size() -> None:
    limits = ApiLimits(max_clients=1, max_subscriptions=2, book_depth=3, max_message_size=512)
    async with open_desk(limits=limits) as desk, connect(desk) as c:
        with pytest.raises(ConnectionRejected) as rejected:
            async with connect(desk):
                pass
        assert rejected.value.status_code == 503
        deep = await c.error("subscribe_book", symbol="EURUSD", depth=4)
        assert (deep["code"], deep["field"]) == ("invalid_field", "depth")
        await c.ok("subscribe_book", symbol="EURUSD")
        await c.ok("subscribe_book", symbol="EURUSD", depth=2)  # the same one: no extra room
        await c.ok("subscribe_orders")
        assert (await c.error("subscribe_sessions"))["code"] == "limit"
        assert (await c.error("subscribe_book", symbol="GBPUSD"))["code"] == "limit"
        await c.ok("subscribe_orders", lp="LP1")  # changing a subscription is fine
        await c.send_raw(json.dumps({"id": 1, "type": "get_sessions", "pad": "x" * 600}))
        assert await closed_with(c) == 1009


async def test_a_client_that_does_not_read_is_cut_off_and_the_gateway_keeps_going() -> None:
    async with open_desk(limits=ApiLimits(max_queue=8)) as desk, connect(desk) as other:
        await other.ok("subscribe_orders")
        # message_queue_size=0: the client's library stops reading the socket at once.
        async with connect(desk, queue=0) as slow:
            ws = slow.ws
            sent = 0
            with trio.fail_after(10):
                while desk.api.statistics().cut_off == 0:
                    sent += 1
                    await ws.send_message(json.dumps({"id": sent, "type": "get_sessions"}))
                    if sent % 20 == 0:
                        await trio.lowlevel.checkpoint()
            # The gateway and its other clients never waited.
            await other.ok("place_order", symbol="EURUSD", side="buy", order_qty=1, lp="LP1")
            await other.push("order", event="fill")
            # The slow client gets what was written, then the close code.
            received = 0
            with pytest.raises(ConnectionClosed) as info, trio.fail_after(5):  # noqa: PT012
                while True:
                    await ws.get_message()
                    received += 1
            assert info.value.reason is not None
            assert info.value.reason.code == CLOSE_SLOW
            assert received < sent
        await wait_for(lambda: desk.api.statistics().clients == 1)


async def test_a_client_whose_gateway_updates_overflow_is_cut_off() -> None:
    async with open_desk(limits=ApiLimits(updates_buffer=1)) as desk, connect(desk) as c:
        # Every book update comes with a BBO update in the same instant: a 1-slot buffer
        # overflows and the gateway cuts the consumer off.
        await c.ok("subscribe_book", symbol="EURUSD")
        assert await closed_with(c) == CLOSE_SLOW
        assert desk.gw.statistics().consumers_cut_off >= 1
        assert desk.api.statistics().cut_off == 1


class BrokenGateway:
    """The real gateway, except that asking for its statistics is a bug."""

    def __init__(self, gw: Any) -> None:
        self._gw = gw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gw, name)

    def statistics(self) -> Any:
        raise RuntimeError("bug")


async def test_a_bug_closes_that_connection_only_with_1011() -> None:
    async with open_desk() as desk:
        api = WebSocketApi(BrokenGateway(desk.gw), desk.engine)  # type: ignore[arg-type]
        port = await desk.nursery.start(functools.partial(api.serve, port=0))
        broken = Desk(desk.gw, desk.engine, api, port, desk.nursery)
        async with connect(broken) as c, connect(broken) as fine:
            await c.send_raw(json.dumps({"id": 1, "type": "get_sessions"}))
            assert await closed_with(c) == 1011
            assert (await fine.ok("get_orders")) == {"orders": []}
        assert api.statistics().failed == 1


async def test_the_gateway_closing_ends_its_clients_with_going_away() -> None:
    async with open_desk() as desk, connect(desk) as c:
        await c.ok("subscribe_orders")
        desk.gw._hub.close()  # what the gateway does when its block ends
        assert await closed_with(c) == 1001


def test_limits_are_checked() -> None:
    for bad in (
        {"max_clients": 0},
        {"max_queue": 0},
        {"book_depth": 0},
        {"stats_interval": 0},
        {"close_timeout": -1},
    ):
        with pytest.raises(ValueError, match="ApiLimits"):
            ApiLimits(**bad)  # type: ignore[arg-type]
    assert ApiLimits().close_timeout == timedelta(seconds=5).total_seconds()


async def test_serve_websocket_api_reports_its_port() -> None:
    async with open_desk() as desk:
        port = await desk.nursery.start(
            functools.partial(serve_websocket_api, desk.gw, desk.engine, port=0)
        )
        assert port != desk.port
        async with connect(Desk(desk.gw, desk.engine, desk.api, port, desk.nursery)) as c:
            assert len((await c.ok("get_sessions"))["lps"]) == 2

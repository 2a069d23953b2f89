"""The dashboard's JSON endpoints against a real gateway, and `serve_web` over real HTTP."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionRejected

from tests.observability.conftest import http_get
from tests.web.harness import Desk, connect, open_desk
from trifix.observability.http import HttpApp, Request
from trifix.trading.updates import Alert, AlertKind
from trifix.web import json_schema
from trifix.web.dashboard import RecentAlerts, add_dashboard, dashboard_html
from trifix.web.serve import WebPorts, dashboard_origins, serve_web


async def get(app: HttpApp, path: str) -> tuple[int, Any]:
    route, _, query = path.partition("?")
    request = Request("GET", route, query, {}, b"", "127.0.0.1")
    response = await app.handle(request)
    body: Any = response.body
    if response.content_type == "application/json":
        body = json.loads(response.body)
    return response.status, body


async def wait_for(predicate: Any, within: float = 5) -> None:
    with trio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - the condition lives in the gateway
            await trio.sleep(0.005)


async def refuse(desk: Desk, origin: bytes) -> None:
    async with connect(desk, [(b"Origin", origin)]):
        raise AssertionError("the handshake was accepted")


def dashboard(desk: Desk, alerts: RecentAlerts) -> HttpApp:
    app = HttpApp()
    add_dashboard(app, desk.gw, desk.engine, ws_port=lambda: desk.port, alerts=alerts)
    return app


async def test_the_json_endpoints() -> None:
    async with open_desk() as desk:
        alerts = RecentAlerts(size=2)
        desk.nursery.start_soon(alerts.follow, desk.gw)
        app = dashboard(desk, alerts)
        assert await get(app, "/api/config") == (
            200,
            {"ws_port": desk.port, "poll_ms": 2000, "lps": ["LP1", "LP2"]},
        )

        status, sessions = await get(app, "/api/sessions")
        assert status == 200
        assert sessions["status"] == "healthy"
        assert [s["sessions"][0]["next_target_seq"] for s in sessions["lps"]] == [2, 2]

        assert await get(app, "/api/books") == (200, {"books": []})
        await desk.gw.subscribe(["EURUSD"])

        def both_quoted() -> bool:  # each LP's snapshot has reached the consolidated book
            bbo = desk.gw.bbo("EURUSD")
            return bbo is not None and all(
                (book := desk.gw.book("EURUSD", lp)) is not None and book.usable
                for lp in ("LP1", "LP2")
            )

        await wait_for(both_quoted)
        (book,) = (await get(app, "/api/books?depth=2"))[1]["books"]
        assert book["symbol"] == "EURUSD"
        assert [b["lp"] for b in book["books"]] == ["LP1", "LP2"]
        assert book["consolidated"]["bid"]["lp"] in ("LP1", "LP2")
        assert len(book["consolidated"]["bids"]) == 2  # one level from each LP

        async with connect(desk) as c:
            await c.ok("place_order", symbol="EURUSD", side="buy", order_qty=10, lp="LP1")
            # A stop order: the mini LP does not take them, it rejects it (an alert).
            await c.ok(
                "place_order",
                cl_ord_id="BAD",
                symbol="EURUSD",
                side="buy",
                order_qty=1,
                ord_type="stop",
                stop_px="1.2",
                lp="LP2",
            )
        await wait_for(lambda: desk.gw.order("BAD").state.value == "rejected")  # type: ignore[union-attr]
        _, orders = await get(app, "/api/orders")
        assert next(o["cl_ord_id"] for o in orders["orders"]) == "BAD"
        assert (await get(app, "/api/orders?limit=1&lp=LP2"))[1]["orders"][0]["lp"] == "LP2"
        assert (await get(app, "/api/orders?open_only=true"))[1] == {"orders": []}
        for bad, message in [
            ("limit=0", "limit: must be between 1 and 1000"),
            ("limit=x", "limit: expected an integer"),
            ("open_only=maybe", "open_only: expected true or false"),
            ("lp=LP9", "lp: unknown LP"),
        ]:
            status, body = await get(app, f"/api/orders?{bad}")
            assert status == 400
            assert message in body["error"]
        assert (await get(app, "/api/books?depth=99"))[0] == 400

        await wait_for(lambda: alerts.total >= 1)
        _, rejects = await get(app, "/api/rejects")
        assert rejects["events"][0]["lp"] == "LP2"
        assert rejects["events"][0]["kind"] == "reject"
        assert "BAD" in rejects["events"][0]["text"]

        assert await get(app, "/api/schema") == (200, json_schema())


async def test_the_page_is_self_contained() -> None:
    async with open_desk() as desk:
        app = dashboard(desk, RecentAlerts())
        response = await app.handle(Request("GET", "/", "", {}, b"", "127.0.0.1"))
    assert response.status == 200
    assert response.content_type.startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.body.decode()
    assert page == dashboard_html().decode()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no CDN, no links
    for table in ("sessions", "books", "orders", "alerts"):
        assert f'id="{table}"' in page
    assert "/api/config" in page
    assert "subscribe_book" in page


def test_recent_alerts_keep_the_newest_and_skip_overflows() -> None:
    alerts = RecentAlerts(size=2)
    for n in range(3):
        alerts.add(Alert("LP1", AlertKind.REJECT, f"r{n}"))
    alerts.add(Alert(None, AlertKind.OVERFLOW, "ours"))
    assert [a["text"] for a in alerts.snapshot()] == ["r2", "r1"]
    assert alerts.total == 3


async def test_recent_alerts_reopen_a_consumer_the_gateway_cut_off() -> None:
    async with open_desk() as desk:
        alerts = RecentAlerts()
        desk.nursery.start_soon(functools.partial(alerts.follow, desk.gw, buffer=1))
        await wait_for(lambda: desk.gw.statistics().consumers == 1)
        await desk.gw.subscribe(["EURUSD", "GBPUSD"])  # bursts of updates: cut off
        await wait_for(lambda: desk.gw.statistics().consumers_cut_off >= 1)
        await wait_for(lambda: desk.gw.statistics().consumers == 1)  # and back


def test_dashboard_origins() -> None:
    assert dashboard_origins("127.0.0.1", 9090) == [
        "http://127.0.0.1:9090",
        "http://[::1]:9090",
        "http://localhost:9090",
    ]
    assert "http://10.0.0.5:80" in dashboard_origins("10.0.0.5", 80)
    assert "http://[fe80::1]:80" in dashboard_origins("fe80::1", 80)
    assert len(dashboard_origins("0.0.0.0", 80)) == 3


async def test_serve_web_serves_health_dashboard_and_the_api() -> None:
    async with open_desk() as desk:
        shutdown = trio.Event()
        done = trio.Event()

        async def run(task_status: trio.TaskStatus[WebPorts]) -> None:
            await serve_web(
                desk.gw,
                desk.engine,
                http_port=0,
                ws_port=0,
                token="tok",
                shutdown=shutdown,
                task_status=task_status,
            )
            done.set()

        ports: WebPorts = await desk.nursery.start(run)
        status, _, body = await http_get(ports.http, "/api/config")
        assert status == 200
        assert json.loads(body)["ws_port"] == ports.ws
        assert (await http_get(ports.http, "/health"))[0] == 200
        assert (await http_get(ports.http, "/metrics"))[0] == 404  # no registry given
        status, _headers, page = await http_get(ports.http, "/")
        assert status == 200
        assert b"trifix gateway" in page

        web = Desk(desk.gw, desk.engine, desk.api, ports.ws, desk.nursery)
        origin = f"http://127.0.0.1:{ports.http}".encode()
        async with connect(web, [(b"Origin", origin)]) as page_client:
            await page_client.ok("get_sessions")
            # The token holds on this server: a page (or anyone) must present it to trade.
            assert (await page_client.error("cancel_order", cl_ord_id="X"))["code"] == (
                "unauthorized"
            )
        with pytest.raises(ConnectionRejected) as refused:
            await refuse(web, b"http://evil.example")
        assert refused.value.status_code == 403

        shutdown.set()
        with trio.fail_after(5):
            await done.wait()

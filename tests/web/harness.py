"""A running desk for the web tests: a real gateway over two mini LPs, on the real clock.

The gateway's engine and the LPs' engine talk over in-memory streams (no FIX sockets); the
WebSocket API and the HTTP server listen on 127.0.0.1 (port 0), as a downstream application
or a browser would reach them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import trio
import trio.testing
from trio_websocket import ConnectionRejected, WebSocketConnection, wrap_client_stream

from simulator import run_mini_lp
from simulator.instruments import DEFAULT_INSTRUMENTS
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import Engine, EngineSpec, SessionSpec, open_engine
from trifix.trading.book import BookStyle
from trifix.trading.checks import Instrument
from trifix.trading.gateway import Gateway, open_gateway
from trifix.trading.routing import LPConfig
from trifix.web import ApiLimits, WebSocketApi

LPS = ("LP1", "LP2")
INSTRUMENTS = tuple(Instrument(i.symbol, i.tick) for i in DEFAULT_INSTRUMENTS)


@dataclass
class Desk:
    """What a test gets: the gateway, its engine, the API server and its port."""

    gw: Gateway
    engine: Engine
    api: WebSocketApi
    port: int
    nursery: trio.Nursery

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


@asynccontextmanager
async def open_desk(
    *,
    token: str | None = None,
    limits: ApiLimits | None = None,
    origins: Sequence[str] | None = None,
    tick_interval: float = 0.02,
    lps: Sequence[str] = LPS,
) -> AsyncIterator[Desk]:
    gw_spec = EngineSpec([SessionSpec(lp, SessionSettings("GW", lp, Role.INITIATOR)) for lp in lps])
    lp_spec = EngineSpec(
        [SessionSpec(f"GW-{lp}", SessionSettings(lp, "GW", Role.ACCEPTOR)) for lp in lps]
    )
    configs = [
        LPConfig(
            lp,
            lp,
            lp,
            instruments=INSTRUMENTS,
            ack_timeout=None,
            book_style=BookStyle.TOP_OF_BOOK,  # the mini LP changes its one level in place
        )
        for lp in lps
    ]
    async with (
        open_engine(gw_spec) as gw_engine,
        open_engine(lp_spec) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        for n, lp in enumerate(lps):
            a, b = trio.testing.memory_stream_pair()
            nursery.start_soon(gw_engine.run_connection, lp, a)
            nursery.start_soon(lp_engine.run_connection, f"GW-{lp}", b)
            nursery.start_soon(
                functools.partial(
                    run_mini_lp, lp_engine, f"GW-{lp}", seed=n, tick_interval=tick_interval
                )
            )
        async with open_gateway(gw_engine, configs, cl_ord_id_prefix="T") as gw:
            with trio.fail_after(5):
                for lp in lps:
                    await gw_engine.session(lp).wait_logged_on()
            api = WebSocketApi(gw, gw_engine, token=token, limits=limits, origins=origins)
            port = await nursery.start(functools.partial(api.serve, host="127.0.0.1", port=0))
            yield Desk(gw, gw_engine, api, port, nursery)
        nursery.cancel_scope.cancel()


class ApiClient:
    """A WebSocket client that sends requests and sorts replies from pushes."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.pushes: list[dict[str, Any]] = []
        self._n = 0

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send_message(text)

    async def receive(self, within: float = 5) -> dict[str, Any]:
        with trio.fail_after(within):
            data = json.loads(await self.ws.get_message())
        assert isinstance(data, dict)
        return data

    async def reply(self, within: float = 5) -> dict[str, Any]:
        """The next reply (pushes received meanwhile are kept in `pushes`)."""
        while True:
            message = await self.receive(within)
            if "ok" in message:
                return message
            self.pushes.append(message)

    async def request(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a request, return its whole reply."""
        self._n += 1
        request_id = f"r{self._n}"
        await self.send_raw(json.dumps({"id": request_id, "type": type_, **fields}, default=str))
        reply = await self.reply()
        assert reply["id"] == request_id, reply
        return reply

    async def ok(self, type_: str, **fields: Any) -> Any:
        """Send a request that must succeed; return its result."""
        reply = await self.request(type_, **fields)
        assert reply["ok"] is True, reply
        return reply["result"]

    async def error(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a request that must fail; return its error object."""
        reply = await self.request(type_, **fields)
        assert reply["ok"] is False, reply
        return reply["error"]  # type: ignore[no-any-return]

    async def push(self, type_: str, within: float = 5, **match: Any) -> dict[str, Any]:
        """The first push (already received or coming) of `type_` whose fields match."""

        def matches(p: dict[str, Any]) -> bool:
            return p.get("type") == type_ and all(p.get(k) == v for k, v in match.items())

        for i, p in enumerate(self.pushes):
            if matches(p):
                del self.pushes[: i + 1]
                return p
        self.pushes.clear()
        with trio.fail_after(within):
            while True:
                message = await self.receive(within)
                if "ok" not in message and matches(message):
                    return message


@asynccontextmanager
async def connect(
    desk: Desk, headers: list[tuple[bytes, bytes]] | None = None, *, queue: int = 1
) -> AsyncIterator[ApiClient]:
    """A client connected to the desk's API. The TCP stream is ours to close: trio-websocket's
    client leaves it open when the server closes first."""
    stream = await trio.open_tcp_stream("127.0.0.1", desk.port)
    try:
        async with trio.open_nursery() as nursery:
            ws = await wrap_client_stream(
                nursery, stream, "127.0.0.1", "/", extra_headers=headers, message_queue_size=queue
            )
            try:
                yield ApiClient(ws)
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(2):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # A refused handshake surfaces from the client's reader task: raise it plainly.
        rejected, rest = group.split(ConnectionRejected)
        if rejected is None or rest is not None:
            raise
        while isinstance(rejected, BaseExceptionGroup):
            rejected = rejected.exceptions[0]
        raise rejected from None
    finally:
        with trio.CancelScope(shield=True):
            await stream.aclose()


def dec(text: str) -> Decimal:
    return Decimal(text)

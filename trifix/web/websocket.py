"""The WebSocket API server: trio-websocket, one set of tasks per client, bounded everywhere.

Theory of operation. `serve_websocket_api` listens (127.0.0.1 by default) and hands every
handshake to `WebSocketApi`. The handshake is refused with an HTTP status when the server is
full (503), when the page's ``Origin`` is not allowed (403) or when an ``Authorization``
header carries a wrong token (401). An accepted connection runs three tasks around one
`Client` and one `Outbox`:

* the reader answers requests one at a time, in order (`Client.on_message`);
* the forwarder opens the client's own consumer of the gateway's updates
  (`Gateway.open_updates`) at its first subscription and turns updates into pushes;
* the writer (the connection's main task) is the only one that writes to the socket.

A client that does not read is cut off, never waited for: when its outbox is full, or when
the gateway cuts off its update consumer, the connection closes with code 4001 (the frames
already being written get `ApiLimits.close_timeout` seconds, then the socket is dropped).

Who may change state (orders, quotes): with a token configured, a client that sent it as an
``Authorization: Bearer`` header or in an ``auth`` request; without one, loopback clients,
except browser pages (an ``Origin`` header) from origins not in `origins`, so that a web page
from elsewhere cannot trade through a browser on the gateway's machine.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    WebSocketServer,
    serve_websocket,
)

from trifix.runtime import Engine
from trifix.trading.updates import Alert, AlertKind
from trifix.web.client import Client, SlowClientError
from trifix.web.context import CLOSE_SLOW, ApiContext, ApiLimits, MarketDataShare
from trifix.web.outbox import Outbox
from trifix.web.surface import GatewaySurface

__all__ = ["CLOSE_SLOW", "WebSocketApi", "WebSocketApiStatistics", "serve_websocket_api"]

_log = logging.getLogger("trifix.web")

CLOSE_INTERNAL = 1011
CLOSE_GOING_AWAY = 1001


@dataclass(frozen=True, slots=True)
class WebSocketApiStatistics:
    """The server at a glance.

    Attributes:
        clients: connections open now.
        accepted: handshakes accepted since the start.
        refused: handshakes refused (full, origin, token).
        cut_off: clients cut off for not reading fast enough.
        failed: connections closed on an internal error (1011).
    """

    clients: int
    accepted: int
    refused: int
    cut_off: int
    failed: int


def _header(request: WebSocketRequest, name: bytes) -> str | None:
    for key, value in request.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class WebSocketApi:
    """The WebSocket API of one gateway (see the module docs).

    Args:
        gateway: the trading gateway.
        engine: its engine (session statistics).
        token: the token state-changing requests need; None: trusted loopback clients only.
        limits: the API's bounds.
        origins: browser origins allowed to connect (e.g. the dashboard's
            ``http://127.0.0.1:9090``); None: any origin may connect, and browser pages never
            change state without the token.
    """

    def __init__(
        self,
        gateway: GatewaySurface,
        engine: Engine,
        *,
        token: str | None = None,
        limits: ApiLimits | None = None,
        origins: Sequence[str] | None = None,
    ) -> None:
        self.limits = limits if limits is not None else ApiLimits()
        self.ctx = ApiContext(
            gateway=gateway,
            engine=engine,
            limits=self.limits,
            market_data=MarketDataShare(gateway, self.limits.book_depth),
            token=token,
        )
        self.origins = None if origins is None else frozenset(o.rstrip("/") for o in origins)
        self._clients: set[Client] = set()
        self._accepted = self._refused = self._cut_off = self._failed = 0

    def allow_origins(self, origins: Sequence[str]) -> None:
        """Allow browser pages from `origins` too (e.g. the dashboard's, once its port is known)."""
        self.origins = frozenset({*(self.origins or ()), *(o.rstrip("/") for o in origins)})

    def statistics(self) -> WebSocketApiStatistics:
        """A snapshot of the server's counters."""
        return WebSocketApiStatistics(
            len(self._clients), self._accepted, self._refused, self._cut_off, self._failed
        )

    async def serve(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen on `host`:`port` until cancelled; reports the port through `task_status`."""
        async with trio.open_nursery() as nursery:
            server: WebSocketServer = await nursery.start(
                functools.partial(
                    serve_websocket,
                    self.handle,
                    host,
                    port,
                    None,
                    max_message_size=self.limits.max_message_size,
                    connect_timeout=10,
                    disconnect_timeout=self.limits.close_timeout,
                )
            )
            _log.info("WebSocket API on %s:%d", host, server.port)
            task_status.started(server.port)

    # -- the handshake ---------------------------------------------------------------------------

    async def _refuse(self, request: WebSocketRequest, status: int, why: str) -> None:
        self._refused += 1
        _log.warning("WebSocket handshake from %s refused: %s", request.remote, why)
        await request.reject(status, body=why.encode())

    async def handle(self, request: WebSocketRequest) -> None:
        """Serve one connection, from its handshake to its close."""
        if len(self._clients) >= self.limits.max_clients:
            await self._refuse(request, 503, f"at most {self.limits.max_clients} clients")
            return
        origin = _header(request, b"origin")
        if origin is not None and self.origins is not None and origin not in self.origins:
            await self._refuse(request, 403, f"origin {origin} is not allowed")
            return
        authorized = self._trusted(request, origin)
        given = _header(request, b"authorization")
        if given is not None and self.ctx.token is not None:
            if not self._token_ok(given):
                await self._refuse(request, 401, "a valid bearer token is required")
                return
            authorized = True
        try:
            ws = await request.accept()
        except ConnectionClosed:
            return
        self._accepted += 1
        await self._serve_client(ws, authorized, str(request.remote))

    def _trusted(self, request: WebSocketRequest, origin: str | None) -> bool:
        if self.ctx.token is not None:
            return False
        remote = request.remote
        loopback = not isinstance(remote, str) and remote.address.is_loopback
        from_page = origin is not None and (self.origins is None or origin not in self.origins)
        return loopback and not from_page

    def _token_ok(self, header: str) -> bool:
        scheme, _, given = header.partition(" ")
        token = self.ctx.token
        return (
            token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), token.encode())
        )

    # -- a connection ----------------------------------------------------------------------------

    async def _serve_client(self, ws: WebSocketConnection, authorized: bool, peer: str) -> None:
        outbox = Outbox(self.limits.max_queue)
        client = Client(self.ctx, outbox, authorized=authorized, peer=peer)
        self._clients.add(client)
        try:
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._read, ws, client)
                    nursery.start_soon(self._forward, client)
                    nursery.start_soon(self._tick, client)
                    nursery.start_soon(self._deadline_on_close, outbox, scope)
                    await self._write(ws, outbox)
                    nursery.cancel_scope.cancel()
        finally:
            self._clients.discard(client)
            with trio.CancelScope(shield=True), trio.move_on_after(self.limits.close_timeout):
                await client.release()

    async def _deadline_on_close(self, outbox: Outbox, scope: trio.CancelScope) -> None:
        await outbox.wait_closed()
        scope.deadline = min(scope.deadline, trio.current_time() + self.limits.close_timeout)

    async def _write(self, ws: WebSocketConnection, outbox: Outbox) -> None:
        while (text := await outbox.get()) is not None:
            try:
                await ws.send_message(text)
            except ConnectionClosed:
                return
        code = outbox.close_code if outbox.close_code is not None else 1000
        await ws.aclose(code, outbox.close_reason)

    def _cut(self, client: Client, why: str) -> None:
        if not client.outbox.closed:
            self._cut_off += 1
            _log.warning("WebSocket client %s cut off: %s", client.peer, why)
        client.outbox.close(CLOSE_SLOW, f"too slow: {why}")

    async def _read(self, ws: WebSocketConnection, client: Client) -> None:
        while True:
            try:
                text = await ws.get_message()
            except ConnectionClosed as exc:
                code = exc.reason.code if exc.reason is not None else 1000
                client.outbox.close(code, "closed by the client")
                return
            try:
                await client.on_message(text)
            except SlowClientError as exc:
                self._cut(client, str(exc))
                return
            except Exception:
                # A bug answering one request: close this connection only, say so, keep serving.
                self._failed += 1
                _log.exception("WebSocket request from %s failed", client.peer)
                client.outbox.close(CLOSE_INTERNAL, "internal error")
                return

    async def _forward(self, client: Client) -> None:
        await client.wants_updates.wait()
        gateway = self.ctx.gateway
        async with gateway.open_updates(self.limits.updates_buffer) as updates:
            async for update in updates:
                if isinstance(update, Alert) and update.kind is AlertKind.OVERFLOW:
                    self._cut(client, f"{self.limits.updates_buffer} gateway updates behind")
                    return
                try:
                    client.on_update(update)
                except SlowClientError as exc:
                    self._cut(client, str(exc))
                    return
        client.outbox.close(CLOSE_GOING_AWAY, "the gateway is closing")

    async def _tick(self, client: Client) -> None:
        while True:
            await trio.sleep(self.limits.stats_interval)
            client.push_statistics()


async def serve_websocket_api(
    gateway: GatewaySurface,
    engine: Engine,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    limits: ApiLimits | None = None,
    origins: Sequence[str] | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the WebSocket API of `gateway` until cancelled; reports the port it listens on.

    ``port = await nursery.start(functools.partial(serve_websocket_api, gw, engine, port=0))``

    Args:
        gateway: the trading gateway (`trifix.trading.open_gateway`).
        engine: its engine.
        host: the address to bind (loopback by default).
        port: the port (0: any free one).
        token: the token state-changing requests need (see `WebSocketApi`).
        limits: the API's bounds (`ApiLimits` defaults).
        origins: browser origins allowed to connect (None: any, read-only without token).

    Raises:
        OSError: the address cannot be bound.
    """
    api = WebSocketApi(gateway, engine, token=token, limits=limits, origins=origins)
    await api.serve(host=host, port=port, task_status=task_status)

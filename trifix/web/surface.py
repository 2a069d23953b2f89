"""The part of the trading gateway the web layer uses, as a `typing.Protocol`.

`trifix.trading.Gateway` satisfies it; so does a small fake in tests. Keeping the seam explicit
says exactly what the WebSocket API and the dashboard may call.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, Protocol

import trio

from trifix.core.tags import Side
from trifix.trading.bbo import Bbo
from trifix.trading.book import OrderBook
from trifix.trading.breaker import CircuitBreaker
from trifix.trading.gateway import GatewayStatistics
from trifix.trading.messages import NewOrderSingle, QuoteRequest
from trifix.trading.order_state import OrderState
from trifix.trading.order_views import OrderView
from trifix.trading.quotes import QuoteView
from trifix.trading.routing import Route
from trifix.trading.updates import GatewayUpdate

__all__ = ["GatewaySurface"]


class GatewaySurface(Protocol):
    """What the web layer calls on the gateway (names as in `trifix.trading.Gateway`)."""

    @property
    def lp_names(self) -> tuple[str, ...]: ...

    async def place(self, order: NewOrderSingle, *, lp: str | Route = ...) -> OrderView: ...

    async def cancel(self, cl_ord_id: str) -> OrderView: ...

    async def replace(
        self, cl_ord_id: str, *, order_qty: Decimal | None = ..., price: Decimal | None = ...
    ) -> OrderView: ...

    def order(self, cl_ord_id: str) -> OrderView | None: ...

    def orders(
        self,
        *,
        lp: str | None = ...,
        symbol: str | None = ...,
        side: Side | None = ...,
        status: OrderState | None = ...,
        open_only: bool = ...,
    ) -> list[OrderView]: ...

    def new_cl_ord_id(self) -> str: ...

    async def subscribe(
        self, symbols: Sequence[str], *, depth: int = ..., lps: Sequence[str] | None = ...
    ) -> Any: ...

    async def unsubscribe(self, symbol: str, *, lps: Sequence[str] | None = ...) -> Any: ...

    def book(self, symbol: str, lp: str) -> OrderBook | None: ...

    def bbo(self, symbol: str) -> Bbo | None: ...

    def symbols(self) -> list[str]: ...

    async def request_quote(
        self,
        symbol: str,
        *,
        lp: str,
        side: Side | None = ...,
        order_qty: Decimal | None = ...,
    ) -> QuoteRequest: ...

    def quotes(
        self, *, lp: str | None = ..., symbol: str | None = ..., live_only: bool = ...
    ) -> list[QuoteView]: ...

    async def trade_quote(
        self,
        quote_id: str,
        *,
        lp: str,
        side: Side,
        order_qty: Decimal,
        cl_ord_id: str | None = ...,
    ) -> OrderView: ...

    def breaker(self, lp: str) -> CircuitBreaker: ...

    def statistics(self) -> GatewayStatistics: ...

    def lp_of(self, cl_ord_id: str) -> str | None: ...

    def open_updates(
        self, buffer: int = ...
    ) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[GatewayUpdate]]: ...

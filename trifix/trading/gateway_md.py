"""The gateway's market data and quote requests: subscriptions per LP, books, the BBO, quotes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from trifix.core.tags import Side
from trifix.trading.bbo import Bbo
from trifix.trading.book import InconsistencyKind, OrderBook
from trifix.trading.gateway_core import GatewayCore
from trifix.trading.gateway_lp import LPState
from trifix.trading.marketdata import MarketDataError
from trifix.trading.messages import QuoteRequest
from trifix.trading.quotes import QuoteView
from trifix.trading.routing import NoRouteError
from trifix.trading.updates import BboChanged, BookChanged

__all__ = ["GatewayMarketData"]


class GatewayMarketData(GatewayCore):
    """Market data and quote requests (see `Gateway`)."""

    # -- market data --------------------------------------------------------------------------
    def _md_lps(self, lps: Sequence[str] | None) -> list[LPState]:
        if lps is None:
            states = [s for s in self._lps.values() if s.md is not None]
            if not states:
                raise NoRouteError("no LP has a market data session")
            return states
        states = [self._lp(name) for name in lps]
        for state in states:
            if state.md is None:
                raise NoRouteError(f"LP {state.name} has no market data session")
        return states

    async def subscribe(
        self, symbols: str | Sequence[str], *, depth: int = 1, lps: Sequence[str] | None = None
    ) -> None:
        """Subscribe to `symbols` on each LP named (default: every LP with market data).

        One subscription per symbol and LP; requests go out now, or at the next logon.

        Raises:
            UnknownLPError, NoRouteError: an LP unknown or without a market data session.
            MarketDataError: a symbol already subscribed on one of the LPs, or a bad depth.
            SubscriptionLimitError: over an LP's `max_subscriptions`.
        """
        wanted = [symbols] if isinstance(symbols, str) else list(symbols)
        states = self._md_lps(lps)
        for state in states:
            for symbol in wanted:
                if state.book(symbol) is not None:
                    raise MarketDataError(f"LP {state.name} is already subscribed to {symbol}")
        for state in states:
            assert state.md is not None
            for symbol in wanted:
                state.md.subscribe(symbol, depth=depth, style=state.config.book_style)
            state.outbox += state.md.data_to_send()
            await self._flush(state)

    async def unsubscribe(self, symbol: str, *, lps: Sequence[str] | None = None) -> None:
        """Stop the market data of `symbol` on each LP named (default: every LP)."""
        for state in self._md_lps(lps):
            assert state.md is not None
            for sub in state.md.subscriptions():
                if symbol in sub.symbols:
                    state.md.unsubscribe(sub)
                    for book in sub.books.values():
                        self._drop_book(state, book)
            state.outbox += state.md.data_to_send()
            await self._flush(state)

    def _drop_book(self, state: LPState, book: OrderBook) -> None:
        if book.stale is None:
            book.mark_stale(InconsistencyKind.REQUESTED, "unsubscribed")
        self._publish(BookChanged(state.name, book.symbol, book.top(), False))
        bbo = self._bbo.update(book)
        if bbo is not None:
            self._publish(BboChanged(bbo.symbol, bbo))

    def book(self, symbol: str, lp: str) -> OrderBook | None:
        """`lp`'s book of `symbol`, if subscribed."""
        return self._lp(lp).book(symbol)

    def bbo(self, symbol: str) -> Bbo | None:
        """The consolidated best bid and offer of `symbol`, or None if no LP quoted it yet."""
        return self._bbo.best(symbol) if symbol in self._bbo.symbols() else None

    def symbols(self) -> list[str]:
        """The symbols subscribed on any LP, sorted."""
        return sorted(
            {
                symbol
                for state in self._lps.values()
                if state.md is not None
                for sub in state.md.subscriptions()
                for symbol in sub.symbols
            }
        )

    # -- quotes -------------------------------------------------------------------------------
    async def request_quote(
        self,
        symbol: str,
        *,
        lp: str,
        side: Side | None = None,
        order_qty: Decimal | None = None,
    ) -> QuoteRequest:
        """Send a QuoteRequest to `lp`; its quotes arrive as `QuoteChanged` updates.

        Raises:
            UnknownLPError, NoRouteError, NotLoggedOnError: see `place`.
            QuoteError: the quantity is not positive.
        """
        state = self._lp(lp)
        handle = self._order_handle(state)
        request = state.quotes.request(symbol, self._clock(), side=side, order_qty=order_qty)
        await handle.send(request.to_message())
        return request

    def quotes(
        self, *, lp: str | None = None, symbol: str | None = None, live_only: bool = True
    ) -> list[QuoteView]:
        """The quotes received (live ones only by default), oldest first per LP."""
        now = self._clock()
        states = [self._lp(lp)] if lp is not None else list(self._lps.values())
        found = []
        for state in states:
            for quote_id in state.quote_ids:
                view = state.quotes.get(quote_id, now)
                assert view is not None
                if (symbol is None or view.symbol == symbol) and (view.is_live or not live_only):
                    found.append(view)
        return found

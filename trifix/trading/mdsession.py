"""`MarketDataSession`: a thin trio driver running a `MarketDataManager` on a `SessionHandle`.

It reads every event of the session (so give market data its own session, as LPs usually
offer, or nothing else may read that session's events), feeds the manager, and sends what the
manager asks for. Market data events go to an optional callback, e.g. a `ConsolidatedBBO`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import trio

from trifix.core.tags import MDEntryType
from trifix.runtime import NotLoggedOnError, SessionHandle
from trifix.trading.book import BookStyle, OrderBook
from trifix.trading.marketdata import (
    DEFAULT_ENTRY_TYPES,
    MarketDataEvent,
    MarketDataManager,
    Subscription,
)

__all__ = ["MarketDataSession"]


class MarketDataSession:
    """Runs `manager` on `handle`: call `run` in a nursery, then `subscribe`.

    Args:
        handle: the market data session.
        manager: the subscriptions; by default a new one named after the session.
        on_event: called with every market data event, in order, from the `run` task.
    """

    def __init__(
        self,
        handle: SessionHandle,
        manager: MarketDataManager | None = None,
        *,
        on_event: Callable[[MarketDataEvent], object] | None = None,
    ) -> None:
        self.handle = handle
        self.manager = manager if manager is not None else MarketDataManager(handle.id)
        self._on_event = on_event
        self._changed = trio.Event()
        self._flushing = False

    async def subscribe(
        self,
        symbols: str | Iterable[str],
        *,
        depth: int = 0,
        entry_types: Iterable[MDEntryType] = DEFAULT_ENTRY_TYPES,
        updates: bool = True,
        style: BookStyle | None = None,
        aggregated_book: bool | None = None,
    ) -> Subscription:
        """Subscribe (see `MarketDataManager.subscribe`) and send the request."""
        sub = self.manager.subscribe(
            symbols,
            depth=depth,
            entry_types=entry_types,
            updates=updates,
            style=style,
            aggregated_book=aggregated_book,
        )
        await self._flush()
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        """Unsubscribe (see `MarketDataManager.unsubscribe`) and send the request."""
        self.manager.unsubscribe(sub)
        await self._flush()

    async def wait_usable(self, symbol: str) -> OrderBook:
        """Return the book of `symbol` once it has a consistent snapshot."""
        while True:
            book = self.manager.book(symbol)
            if book is not None and book.usable:
                return book
            await self.wait_changed()

    async def wait_changed(self) -> None:
        """Return after the next market data event."""
        await self._changed.wait()

    async def run(self) -> None:
        """Serve the session's events until they end (the engine stops) or cancelled."""
        if self.handle.is_logged_on:
            self._publish(self.manager.on_logged_on())
        await self._flush()
        async for event in self.handle.events():
            self._publish(self.manager.on_event(event))
            await self._flush()

    def _publish(self, events: list[MarketDataEvent]) -> None:
        if not events:
            return
        if self._on_event is not None:
            for event in events:
                self._on_event(event)
        self._changed.set()
        self._changed = trio.Event()

    async def _flush(self) -> None:
        # One sender at a time keeps requests in the order the manager made them.
        if self._flushing:
            return
        self._flushing = True
        try:
            while batch := self.manager.data_to_send():
                for msg in batch:
                    # The connection dropped: the next logon requests everything again.
                    with contextlib.suppress(NotLoggedOnError):
                        await self.handle.send(msg)
        finally:
            self._flushing = False

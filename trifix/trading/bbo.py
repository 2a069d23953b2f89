"""Consolidated best bid and offer across LPs.

`ConsolidatedBBO` follows the books of every LP (one `OrderBook` per LP and symbol) and keeps,
per symbol, the best bid and best offer among the books that are usable (a snapshot and no
inconsistency), with the LP each comes from. Feed it the market data events of every LP's
`MarketDataManager` (`on_market_data`) or books directly (`update`). A stale book drops out
until its fresh snapshot. Ties go to the larger size, then to the LP seen first.

The consolidated bid may be at or above the consolidated offer when LPs disagree (a locked or
crossed market across venues); `Bbo.crossed` says so rather than hiding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trifix.trading.book import OrderBook
from trifix.trading.marketdata import BookInconsistent, BookUpdated, MarketDataEvent

__all__ = ["Bbo", "ConsolidatedBBO", "LpLevel"]


@dataclass(frozen=True, slots=True)
class LpLevel:
    """A price and size, and the LP quoting it."""

    lp: str
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class Bbo:
    """The best bid and offer of one symbol across LPs (None for a side nobody quotes)."""

    symbol: str
    bid: LpLevel | None
    offer: LpLevel | None

    @property
    def crossed(self) -> bool:
        """True when the best bid is at or above the best offer (different LPs disagree)."""
        return (
            self.bid is not None and self.offer is not None and self.bid.price >= self.offer.price
        )

    @property
    def spread(self) -> Decimal | None:
        """Offer minus bid, or None when a side is missing."""
        if self.bid is None or self.offer is None:
            return None
        return self.offer.price - self.bid.price


class ConsolidatedBBO:
    """The best bid and offer per symbol across the LPs' books."""

    def __init__(self) -> None:
        self._books: dict[str, dict[str, OrderBook]] = {}
        self._best: dict[str, Bbo] = {}

    def on_market_data(self, event: MarketDataEvent) -> Bbo | None:
        """Take a `MarketDataManager` event; returns the symbol's BBO when it changed."""
        if isinstance(event, BookUpdated | BookInconsistent):
            return self.update(event.book)
        return None

    def update(self, book: OrderBook) -> Bbo | None:
        """Take `book`'s current state; returns the symbol's BBO when it changed."""
        books = self._books.setdefault(book.symbol, {})
        books[book.lp] = book
        return self._recompute(book.symbol)

    def remove(self, lp: str) -> list[Bbo]:
        """Forget every book of `lp` (it went away); returns the BBOs that changed."""
        changed = []
        for symbol, books in self._books.items():
            if books.pop(lp, None) is not None:
                bbo = self._recompute(symbol)
                if bbo is not None:
                    changed.append(bbo)
        return changed

    def best(self, symbol: str) -> Bbo:
        """The current BBO of `symbol` (empty sides when no usable book quotes it)."""
        return self._best.get(symbol) or Bbo(symbol, None, None)

    def symbols(self) -> list[str]:
        """The symbols seen so far."""
        return list(self._books)

    def _recompute(self, symbol: str) -> Bbo | None:
        bid: LpLevel | None = None
        offer: LpLevel | None = None
        for lp, book in self._books[symbol].items():
            if not book.usable:
                continue
            b = book.best_bid
            if b is not None and (
                bid is None or b.price > bid.price or (b.price == bid.price and b.size > bid.size)
            ):
                bid = LpLevel(lp, b.price, b.size)
            o = book.best_offer
            if o is not None and (
                offer is None
                or o.price < offer.price
                or (o.price == offer.price and o.size > offer.size)
            ):
                offer = LpLevel(lp, o.price, o.size)
        bbo = Bbo(symbol, bid, offer)
        if self._best.get(symbol) == bbo:
            return None
        self._best[symbol] = bbo
        return bbo

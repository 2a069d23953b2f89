"""Order books built from MarketDataSnapshotFullRefresh (W) and IncrementalRefresh (X).

Theory of operation (FIX 4.4 vol. 3, "Market Data"): a W carries the full image of one symbol;
each entry of an X is a New (279=0), Change (279=1) or Delete (279=2) of one bid (269=0) or offer
(269=1), or a last value such as a trade (2), the opening (4) or closing (5) price. LPs identify
the thing an update refers to in one of four ways, chosen per book with `BookStyle`:

* ``BY_PRICE``: one level per price; Change and Delete name the level by MDEntryPx (270).
* ``BY_ENTRY_ID``: one entry per MDEntryID (278) (an order or a quote), aggregated into price
  levels; Change names the entry by 278, or by MDEntryRefID (280) when the id changes.
* ``BY_POSITION``: levels named by MDEntryPositionNo (290), 1 being the best; New inserts and
  Delete removes at a position, shifting the levels below.
* ``TOP_OF_BOOK``: one level per side; New and Change replace it, Delete clears it (what a
  264=1 subscription usually gets).

A New or Change to size 0 removes the level (or entry), as a Delete would. Several entries at
one price in a snapshot are summed into one level.

An update that cannot apply (a Change or Delete of an unknown level or entry, a bad position, a
negative size, a missing price) and a book left crossed after a whole message (best bid >= best
offer) make the book *stale*: it records an `Inconsistency` and returns it, ignores further
incrementals, and waits for the next snapshot, which the subscription manager requests. Nothing
here raises on bad market data: a peer's fault is a value.

Each side keeps a dict from price to size and the prices in a list kept sorted with `bisect`
(ascending for both sides: the best bid is the last, the best offer the first), so an update
costs a dict operation and, when a level appears or goes, a bisect over a few prices. Books
named by position are applied a whole message at a time (`trifix.trading._book_positions`).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final

from trifix.core.tags import MDEntryType, MDUpdateAction
from trifix.trading._book_positions import PositionalUpdates
from trifix.trading.bookvalues import (
    BookEntry,
    BookStyle,
    BookUpdate,
    Depth,
    Inconsistency,
    InconsistencyKind,
    Level,
    TopOfBook,
)

__all__ = [
    "BookEntry",
    "BookStyle",
    "BookUpdate",
    "Depth",
    "Inconsistency",
    "InconsistencyKind",
    "Level",
    "OrderBook",
    "TopOfBook",
]

_NEW: Final = MDUpdateAction.NEW
_CHANGE: Final = MDUpdateAction.CHANGE
_DELETE: Final = MDUpdateAction.DELETE
_BID: Final = MDEntryType.BID
_OFFER: Final = MDEntryType.OFFER
_ZERO: Final = Decimal(0)


class _Side:
    """One side: sizes by price, and the prices sorted ascending."""

    __slots__ = ("bid", "counts", "name", "prices", "sizes")

    def __init__(self, bid: bool) -> None:
        self.bid = bid
        self.name = "bid" if bid else "offer"
        self.prices: list[Decimal] = []
        self.sizes: dict[Decimal, Decimal] = {}
        self.counts: dict[Decimal, int] = {}  # entries per level (BY_ENTRY_ID only)

    def clear(self) -> None:
        self.prices.clear()
        self.sizes.clear()
        self.counts.clear()

    def remove(self, price: Decimal) -> None:
        del self.sizes[price]
        prices = self.prices
        del prices[bisect_left(prices, price)]

    def levels(self, n: int | None) -> tuple[Level, ...]:
        prices = self.prices
        if self.bid:
            chosen = (
                prices[::-1] if n is None else prices[: -n - 1 if n < len(prices) else None : -1]
            )
        else:
            chosen = prices if n is None else prices[:n]
        sizes = self.sizes
        return tuple(Level(p, sizes[p]) for p in chosen)


# (action, entry type, price, size, entry id, position, ref id) -> (kind, reason) on failure
_Apply = Callable[..., "tuple[InconsistencyKind, str] | None"]


class OrderBook(PositionalUpdates):
    """The book of one symbol at one LP, kept from snapshots (W) and incrementals (X).

    Args:
        symbol: Symbol (55).
        lp: the LP (or session) the book comes from, for reports and consolidation.
        style: how the LP names levels in its incrementals (see `BookStyle`).

    A new book has no snapshot yet: `has_snapshot` is False and incrementals are ignored until
    one arrives. Read it with `top`, `depth`, `best_bid`, `best_offer`, `last_trade`,
    `opening_price`, `closing_price` and `value`.
    """

    __slots__ = (
        "_apply",
        "_bids",
        "_entries",
        "_offers",
        "_sides",
        "_stale",
        "_values",
        "has_snapshot",
        "lp",
        "snapshots",
        "style",
        "symbol",
        "updates_applied",
    )

    def __init__(self, symbol: str, *, lp: str = "", style: BookStyle = BookStyle.BY_PRICE) -> None:
        self.symbol = symbol
        self.lp = lp
        self.style = style
        self._bids = _Side(True)
        self._offers = _Side(False)
        self._sides: dict[str, _Side] = {_BID: self._bids, _OFFER: self._offers}
        self._entries: dict[str, tuple[_Side, Decimal, Decimal]] = {}
        self._values: dict[MDEntryType, Level] = {}
        self._stale: Inconsistency | None = None
        self.has_snapshot = False
        self.snapshots = 0
        self.updates_applied = 0
        appliers: dict[BookStyle, _Apply] = {
            BookStyle.BY_PRICE: self._apply_by_price,
            BookStyle.BY_ENTRY_ID: self._apply_by_entry_id,
            BookStyle.BY_POSITION: self._apply_by_price,  # positions: see _apply_positions
            BookStyle.TOP_OF_BOOK: self._apply_top,
        }
        self._apply = appliers[style]

    # -- reading ------------------------------------------------------------------------------
    @property
    def stale(self) -> Inconsistency | None:
        """Why the book is stale, or None while it is consistent."""
        return self._stale

    @property
    def usable(self) -> bool:
        """True when the book has a snapshot and is not stale."""
        return self.has_snapshot and self._stale is None

    def top(self) -> TopOfBook:
        """The best bid and best offer, with their sizes."""
        return TopOfBook(self.best_bid, self.best_offer)

    @property
    def best_bid(self) -> Level | None:
        """The highest bid, or None."""
        prices = self._bids.prices
        return Level(prices[-1], self._bids.sizes[prices[-1]]) if prices else None

    @property
    def best_offer(self) -> Level | None:
        """The lowest offer, or None."""
        prices = self._offers.prices
        return Level(prices[0], self._offers.sizes[prices[0]]) if prices else None

    def depth(self, n: int | None = None) -> Depth:
        """The best `n` levels of each side (all levels when `n` is None), best first."""
        if n is not None and n < 0:
            raise ValueError(f"depth must be >= 0, not {n}")
        return Depth(self._bids.levels(n), self._offers.levels(n))

    def value(self, entry_type: MDEntryType) -> Level | None:
        """The last value of a non-book entry type (trade, opening, closing, settlement...)."""
        return self._values.get(entry_type)

    @property
    def last_trade(self) -> Level | None:
        """The last trade (269=2): its price and size."""
        return self._values.get(MDEntryType.TRADE)

    @property
    def opening_price(self) -> Level | None:
        """The opening price (269=4)."""
        return self._values.get(MDEntryType.OPENING_PRICE)

    @property
    def closing_price(self) -> Level | None:
        """The closing price (269=5)."""
        return self._values.get(MDEntryType.CLOSING_PRICE)

    def __repr__(self) -> str:
        state = "stale" if self._stale else ("live" if self.has_snapshot else "empty")
        return f"<OrderBook {self.lp}:{self.symbol} {state} {self.top()}>"

    # -- snapshots ----------------------------------------------------------------------------
    def apply_snapshot(self, entries: Iterable[BookEntry]) -> Inconsistency | None:
        """Replace the book with a full image (W); clears any stale state.

        Returns the inconsistency when the image itself is bad (negative size, a bid or offer
        without price, crossed); the book is then stale again.
        """
        bids, offers = self._bids, self._offers
        bids.clear()
        offers.clear()
        self._entries.clear()
        self._stale = None
        self.has_snapshot = True
        self.snapshots += 1
        sides = self._sides
        synthetic = 0
        for entry_type, price, size, entry_id, _position in entries:
            if size is not None and size < _ZERO:
                return self._fail(InconsistencyKind.NEGATIVE_SIZE, f"snapshot size {size}")
            side = sides.get(entry_type)
            if side is None:
                if price is not None:
                    self._values[entry_type] = Level(price, _ZERO if size is None else size)
                continue
            if price is None or size is None:
                what = "MDEntryPx (270)" if price is None else "MDEntrySize (271)"
                return self._fail(
                    InconsistencyKind.MISSING_FIELD, f"snapshot {side.name} without {what}"
                )
            if not size:
                continue
            if self.style is BookStyle.BY_ENTRY_ID:
                if entry_id is None:  # cannot be referenced later; keep it under its own key
                    synthetic += 1
                    entry_id = f"\x00{synthetic}"
                self._entries[entry_id] = (side, price, size)
                side.counts[price] = side.counts.get(price, 0) + 1
            elif self.style is BookStyle.TOP_OF_BOOK and side.prices:
                best = side.prices[0]
                if (price > best) if side.bid else (price < best):
                    side.clear()
                elif price != best:
                    continue
            self._add(side, price, size)
        return self._check_crossed()

    # -- incrementals ------------------------------------------------------------------------
    def apply_updates(self, updates: Iterable[BookUpdate]) -> Inconsistency | None:
        """Apply the entries of one X for this symbol, then check the book is not crossed.

        Returns the inconsistency that made the book stale, or None. While the book is stale or
        has no snapshot yet, updates are ignored (and None is returned).
        """
        if self._stale is not None or not self.has_snapshot:
            return None
        if self.style is BookStyle.BY_POSITION:
            return self._apply_positions(updates)
        apply = self._apply
        n = 0
        for update in updates:
            failed = apply(*update)
            if failed is not None:
                return self._fail(failed[0], failed[1], update)
            n += 1
        self.updates_applied += n
        bids = self._bids.prices
        offers = self._offers.prices
        if bids and offers and bids[-1] >= offers[0]:
            return self._check_crossed()
        return None

    def apply_update(self, update: BookUpdate) -> Inconsistency | None:
        """Apply one update as a message of its own (see `apply_updates`)."""
        return self.apply_updates((update,))

    def mark_stale(self, kind: InconsistencyKind, reason: str) -> Inconsistency:
        """Declare the book stale (e.g. the session dropped); the next snapshot clears it."""
        return self._fail(kind, reason)

    # -- internals ------------------------------------------------------------------------------
    def _fail(
        self, kind: InconsistencyKind, reason: str, update: BookUpdate | None = None
    ) -> Inconsistency:
        found = Inconsistency(
            kind, f"{self.lp + ':' if self.lp else ''}{self.symbol}: {reason}", update
        )
        self._stale = found
        return found

    def _check_crossed(self) -> Inconsistency | None:
        bids = self._bids.prices
        offers = self._offers.prices
        if bids and offers and bids[-1] >= offers[0]:
            return self._fail(
                InconsistencyKind.CROSSED, f"crossed: bid {bids[-1]} >= offer {offers[0]}"
            )
        return None

    @staticmethod
    def _add(side: _Side, price: Decimal, size: Decimal) -> None:
        sizes = side.sizes
        old = sizes.get(price)
        if old is None:
            insort(side.prices, price)
            sizes[price] = size
        else:
            sizes[price] = old + size

    def _apply_value(
        self,
        action: MDUpdateAction,
        entry_type: MDEntryType,
        price: Decimal | None,
        size: Decimal | None,
    ) -> tuple[InconsistencyKind, str] | None:
        if action == _DELETE:
            self._values.pop(entry_type, None)
        elif price is None:
            return (
                InconsistencyKind.MISSING_FIELD,
                f"{entry_type.name.lower()} without MDEntryPx (270)",
            )
        else:
            self._values[entry_type] = Level(price, _ZERO if size is None else size)
        return None

    def _apply_by_price(
        self,
        action: MDUpdateAction,
        entry_type: MDEntryType,
        price: Decimal | None,
        size: Decimal | None,
        entry_id: str | None,
        position: int | None,
        ref_id: str | None,
    ) -> tuple[InconsistencyKind, str] | None:
        side = self._sides.get(entry_type)
        if size is not None and size < _ZERO:
            return InconsistencyKind.NEGATIVE_SIZE, f"size {size}"
        if side is None:
            return self._apply_value(action, entry_type, price, size)
        if price is None:
            return InconsistencyKind.MISSING_FIELD, f"{side.name} update without MDEntryPx (270)"
        sizes = side.sizes
        if action == _DELETE or (not size and size is not None):
            if price in sizes:
                side.remove(price)
            elif action != _NEW:
                return (
                    InconsistencyKind.UNKNOWN_LEVEL,
                    f"{action.name.lower()} of unknown {side.name} level {price}",
                )
            return None
        if size is None:
            return (
                InconsistencyKind.MISSING_FIELD,
                f"{side.name} {action.name.lower()} without MDEntrySize (271)",
            )
        if price in sizes:
            sizes[price] = size
        elif action == _NEW:
            insort(side.prices, price)
            sizes[price] = size
        else:
            return InconsistencyKind.UNKNOWN_LEVEL, f"change of unknown {side.name} level {price}"
        return None

    def _apply_top(
        self,
        action: MDUpdateAction,
        entry_type: MDEntryType,
        price: Decimal | None,
        size: Decimal | None,
        entry_id: str | None,
        position: int | None,
        ref_id: str | None,
    ) -> tuple[InconsistencyKind, str] | None:
        side = self._sides.get(entry_type)
        if size is not None and size < _ZERO:
            return InconsistencyKind.NEGATIVE_SIZE, f"size {size}"
        if side is None:
            return self._apply_value(action, entry_type, price, size)
        if action == _DELETE or (not size and size is not None):
            if not side.prices and action != _NEW:
                return (
                    InconsistencyKind.UNKNOWN_LEVEL,
                    f"{action.name.lower()} of an empty {side.name} side",
                )
            side.clear()
            return None
        if price is None or size is None:
            what = "MDEntryPx (270)" if price is None else "MDEntrySize (271)"
            return (
                InconsistencyKind.MISSING_FIELD,
                f"{side.name} {action.name.lower()} without {what}",
            )
        side.clear()
        side.prices.append(price)
        side.sizes[price] = size
        return None

    def _apply_by_entry_id(
        self,
        action: MDUpdateAction,
        entry_type: MDEntryType,
        price: Decimal | None,
        size: Decimal | None,
        entry_id: str | None,
        position: int | None,
        ref_id: str | None,
    ) -> tuple[InconsistencyKind, str] | None:
        side = self._sides.get(entry_type)
        if size is not None and size < _ZERO:
            return InconsistencyKind.NEGATIVE_SIZE, f"size {size}"
        if side is None:
            return self._apply_value(action, entry_type, price, size)
        key = ref_id if ref_id is not None and action != _NEW else entry_id
        if key is None:
            return InconsistencyKind.MISSING_FIELD, f"{side.name} update without MDEntryID (278)"
        entries = self._entries
        if action == _NEW:
            if key in entries:
                return InconsistencyKind.DUPLICATE_ENTRY, f"new entry {key!r} already exists"
            if price is None or size is None:
                what = "MDEntryPx (270)" if price is None else "MDEntrySize (271)"
                return InconsistencyKind.MISSING_FIELD, f"new {side.name} {key!r} without {what}"
        else:
            old = entries.pop(key, None)
            if old is None:
                return (
                    InconsistencyKind.UNKNOWN_ENTRY,
                    f"{action.name.lower()} of unknown entry {key!r}",
                )
            old_side, old_price, old_size = old
            self._take(old_side, old_price, old_size)
            if action == _DELETE:
                return None
            price = old_price if price is None else price
            size = old_size if size is None else size
            key = key if entry_id is None else entry_id
        if size:
            entries[key] = (side, price, size)
            side.counts[price] = side.counts.get(price, 0) + 1
            self._add(side, price, size)
        return None

    @staticmethod
    def _take(side: _Side, price: Decimal, size: Decimal) -> None:
        count = side.counts[price] - 1
        if count:
            side.counts[price] = count
            side.sizes[price] -= size
        else:
            del side.counts[price]
            side.remove(price)

"""Books whose levels are named by position (`BookStyle.BY_POSITION`).

Theory of operation (FIX 4.4 vol. 3, MDEntryPositionNo (290)): position 1 is the best level;
New inserts at a position and Delete removes one, shifting the levels below; Change rewrites
the level at a position. An LP that moves its whole book sends a change per position, so
halfway through a message the levels may be out of order. The message is therefore applied to
each side's levels as a list in position order and checked (strictly ordered, no price twice)
only once the whole message is in; entries without a position are applied by price.

`PositionalUpdates` is a mixin of `trifix.trading.book.OrderBook`, which holds the state it
works on.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from trifix.core.tags import MDEntryType, MDUpdateAction
from trifix.trading.bookvalues import BookUpdate, Inconsistency, InconsistencyKind

if TYPE_CHECKING:
    from trifix.trading.book import _Side

__all__ = ["PositionalUpdates"]

_NEW: Final = MDUpdateAction.NEW
_DELETE: Final = MDUpdateAction.DELETE
_ZERO: Final = Decimal(0)


class PositionalUpdates:
    """Mixin of `OrderBook`: applying a message to a book whose levels are named by position."""

    __slots__ = ()

    if TYPE_CHECKING:
        # Book state and helpers used here, defined by `OrderBook`.
        _bids: _Side
        _offers: _Side
        _sides: dict[str, _Side]

        # A slot of OrderBook's: declared as a property so that mypy lets this slotted mixin
        # assign it.
        @property
        def updates_applied(self) -> int: ...
        @updates_applied.setter
        def updates_applied(self, value: int) -> None: ...

        def _fail(
            self, kind: InconsistencyKind, reason: str, update: BookUpdate | None = None
        ) -> Inconsistency: ...
        def _check_crossed(self) -> Inconsistency | None: ...
        def _apply_by_price(
            self,
            action: MDUpdateAction,
            entry_type: MDEntryType,
            price: Decimal | None,
            size: Decimal | None,
            entry_id: str | None,
            position: int | None,
            ref_id: str | None,
        ) -> tuple[InconsistencyKind, str] | None: ...

    def _apply_positions(self, updates: Iterable[BookUpdate]) -> Inconsistency | None:
        """Apply one message to a book whose levels are named by position.

        An LP that moves its whole book sends a change per position; halfway through such a
        message the levels may be out of order (level 1 already moved below the old level 2).
        So the levels are edited as lists in position order, and checked (strictly ordered, no
        price twice) once the whole message is applied.
        """
        work: dict[_Side, list[list[Decimal]]] = {}
        n = 0
        for update in updates:
            side = self._sides.get(update.entry_type)
            if side is None or update.position is None:
                if side is not None and side in work:  # a by-price entry: settle the lists
                    failed = self._settle(work.pop(side), side, update)
                    if failed is not None:
                        return failed
                failed_entry = self._apply_by_price(*update)
                if failed_entry is not None:
                    return self._fail(failed_entry[0], failed_entry[1], update)
                n += 1
                continue
            levels = work.get(side)
            if levels is None:
                ordered = side.prices[::-1] if side.bid else side.prices
                levels = work[side] = [[price, side.sizes[price]] for price in ordered]
            failed_position = _edit_position(levels, side.name, update)
            if failed_position is not None:
                return self._fail(failed_position[0], failed_position[1], update)
            n += 1
        for side, levels in work.items():
            failed = self._settle(levels, side, None)
            if failed is not None:
                return failed
        self.updates_applied += n
        bids = self._bids.prices
        offers = self._offers.prices
        if bids and offers and bids[-1] >= offers[0]:
            return self._check_crossed()
        return None

    def _settle(
        self, levels: list[list[Decimal]], side: _Side, update: BookUpdate | None
    ) -> Inconsistency | None:
        """Check `levels` (best first) are strictly ordered, then make them the side's."""
        seen: set[Decimal] = set()
        for price, _ in levels:
            if price in seen:
                return self._fail(
                    InconsistencyKind.BAD_POSITION,
                    f"{side.name} {price} already at another position",
                    update,
                )
            seen.add(price)
        for position in range(1, len(levels)):
            better, price = levels[position - 1][0], levels[position][0]
            if (price > better) if side.bid else (price < better):
                return self._fail(
                    InconsistencyKind.BAD_POSITION,
                    f"{side.name} levels out of order: {better} at position {position} "
                    f"before {price} at position {position + 1}",
                    update,
                )
        side.clear()
        side.prices.extend(level[0] for level in (levels[::-1] if side.bid else levels))
        side.sizes.update((price, size) for price, size in levels)
        return None


def _edit_position(
    levels: list[list[Decimal]], name: str, update: BookUpdate
) -> tuple[InconsistencyKind, str] | None:
    """Apply one positional update to `levels` (best first, [price, size] each)."""
    action, _, price, size, _, position, _ = update
    assert position is not None
    if size is not None and size < _ZERO:
        return InconsistencyKind.NEGATIVE_SIZE, f"size {size}"
    count = len(levels)
    limit = count + 1 if action == _NEW else count
    if not 1 <= position <= limit:
        return InconsistencyKind.BAD_POSITION, f"{name} position {position} of {count} levels"
    index = position - 1
    if action == _NEW:
        if price is None or size is None:
            what = "MDEntryPx (270)" if price is None else "MDEntrySize (271)"
            return InconsistencyKind.MISSING_FIELD, f"new {name} without {what}"
        if size:
            levels.insert(index, [price, size])
        return None
    if action == _DELETE:
        del levels[index]
        return None
    level = levels[index]
    if price is not None:
        level[0] = price
    if size is not None:
        level[1] = size
    if not level[1]:  # a change to size 0 removes the level
        del levels[index]
    return None

"""The values order books take and give: updates, entries, levels, styles, inconsistencies.

Kept apart from `trifix.trading.book` (which re-exports them) so that the book module holds
only the book's logic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from trifix.core.tags import MDEntryType, MDUpdateAction

__all__ = [
    "BookEntry",
    "BookStyle",
    "BookUpdate",
    "Depth",
    "Inconsistency",
    "InconsistencyKind",
    "Level",
    "TopOfBook",
]


class BookStyle(enum.Enum):
    """How an LP's incremental updates name the level or entry they change."""

    BY_PRICE = "by-price"
    """One level per price; Change/Delete name it by MDEntryPx (270)."""
    BY_ENTRY_ID = "by-entry-id"
    """Entries keyed by MDEntryID (278), aggregated into price levels."""
    BY_POSITION = "by-position"
    """Levels named by MDEntryPositionNo (290), 1 = best."""
    TOP_OF_BOOK = "top-of-book"
    """One level per side, replaced by every New/Change."""


class InconsistencyKind(enum.Enum):
    """Why a book went stale."""

    UNKNOWN_LEVEL = "unknown-level"
    """A Change or Delete of a price level the book does not hold."""
    UNKNOWN_ENTRY = "unknown-entry"
    """A Change or Delete of an MDEntryID the book does not hold."""
    DUPLICATE_ENTRY = "duplicate-entry"
    """A New with an MDEntryID the book already holds."""
    BAD_POSITION = "bad-position"
    """An MDEntryPositionNo outside the book, or a price out of order at its position."""
    NEGATIVE_SIZE = "negative-size"
    """An MDEntrySize below zero."""
    MISSING_FIELD = "missing-field"
    """A field the update needs (price, size, entry id) is absent."""
    CROSSED = "crossed"
    """After a whole message, the best bid is at or above the best offer."""
    DISCONNECTED = "disconnected"
    """The session carrying the updates ended; updates may have been missed."""
    REQUESTED = "requested"
    """Marked stale by its owner (e.g. a sequence gap)."""


class BookUpdate(NamedTuple):
    """One entry of a MarketDataIncrementalRefresh (X), as the book applies it."""

    action: MDUpdateAction
    entry_type: MDEntryType
    price: Decimal | None = None
    size: Decimal | None = None
    entry_id: str | None = None
    position: int | None = None
    ref_id: str | None = None
    """MDEntryRefID (280): the entry a Change refers to when its MDEntryID changes."""


class BookEntry(NamedTuple):
    """One entry of a MarketDataSnapshotFullRefresh (W)."""

    entry_type: MDEntryType
    price: Decimal | None = None
    size: Decimal | None = None
    entry_id: str | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """A price and the size available (or traded) there."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """The best bid and offer of one book (None for an empty side)."""

    bid: Level | None
    offer: Level | None


@dataclass(frozen=True, slots=True)
class Depth:
    """Levels of both sides, best first."""

    bids: tuple[Level, ...]
    offers: tuple[Level, ...]


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """Why a book stopped trusting its updates, and the update that showed it (if one did)."""

    kind: InconsistencyKind
    reason: str
    update: BookUpdate | None = None

"""The values of market data subscriptions: states, policies, subscriptions, events, errors.

Kept apart from `trifix.trading.marketdata` (which re-exports them) so that the marketdata
module holds only `MarketDataManager`'s logic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

from trifix.core.message import Message
from trifix.core.tags import MDEntryType, MDReqRejReason
from trifix.trading.book import BookStyle, Inconsistency, OrderBook
from trifix.trading.errors import TradingError

__all__ = [
    "BookInconsistent",
    "BookUpdated",
    "MarketDataError",
    "MarketDataEvent",
    "MarketDataIgnored",
    "ResnapshotPolicy",
    "Subscription",
    "SubscriptionChanged",
    "SubscriptionLimitError",
    "SubscriptionState",
]


class MarketDataError(TradingError):
    """A market data request the manager refuses (bad arguments, wrong state)."""


class SubscriptionLimitError(MarketDataError):
    """Subscribing would exceed the session's limit of subscriptions or symbols."""


class SubscriptionState(enum.Enum):
    """Where a subscription is in its lifecycle."""

    PENDING = "pending"
    """Requested (or waiting for the logon to request); no snapshot for every symbol yet."""
    ACTIVE = "active"
    """Every symbol has a consistent book."""
    STALE = "stale"
    """A book is inconsistent or the session dropped; a fresh snapshot is on its way (or the
    next logon requests one)."""
    REJECTED = "rejected"
    """The LP refused the request (MarketDataRequestReject, 35=Y). Terminal."""
    UNSUBSCRIBED = "unsubscribed"
    """Cancelled by the application. Terminal."""


_LIVE: Final = frozenset(
    {SubscriptionState.PENDING, SubscriptionState.ACTIVE, SubscriptionState.STALE}
)


class ResnapshotPolicy(enum.Enum):
    """How a fresh snapshot is asked for when a book goes inconsistent."""

    SNAPSHOT_REQUEST = "snapshot-request"
    """A snapshot-only request (263=0) for the symbol, with a new MDReqID; the stream goes on."""
    RESUBSCRIBE = "resubscribe"
    """Cancel the subscription (263=2) and subscribe again (263=1) with a new MDReqID."""


@dataclass(eq=False, slots=True)
class Subscription:
    """One market data subscription and its books (one per symbol).

    Attributes:
        symbols: the instruments subscribed.
        depth: MarketDepth (264): 0 full book, 1 top of book, N levels.
        entry_types: MDEntryTypes (269) asked for.
        updates: True for snapshot + updates (263=1), False for a snapshot only (263=0).
        style: how the LP's incrementals name levels (see `BookStyle`).
        md_req_id: the MDReqID of the current request.
        state: see `SubscriptionState`.
        books: the books, by symbol.
        reject_reason, reject_text: MDReqRejReason (281) and Text (58) of a rejection.
        error: why the subscription is (or last was) stale.
    """

    symbols: tuple[str, ...]
    depth: int
    entry_types: tuple[MDEntryType, ...]
    updates: bool
    style: BookStyle
    aggregated_book: bool | None
    md_req_id: str = ""
    state: SubscriptionState = SubscriptionState.PENDING
    books: dict[str, OrderBook] = field(default_factory=dict)
    reject_reason: MDReqRejReason | None = None
    reject_text: str | None = None
    error: str | None = None
    resnapshots: dict[str, int] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """True until the subscription is rejected or unsubscribed."""
        return self.state in _LIVE


@dataclass(frozen=True, slots=True)
class BookUpdated:
    """A book changed and is consistent (after a snapshot or incrementals)."""

    book: OrderBook


@dataclass(frozen=True, slots=True)
class BookInconsistent:
    """A book went stale; a fresh snapshot has been requested (unless the manager gave up)."""

    book: OrderBook
    inconsistency: Inconsistency


@dataclass(frozen=True, slots=True)
class SubscriptionChanged:
    """A subscription entered a new state."""

    subscription: Subscription
    state: SubscriptionState


@dataclass(frozen=True, slots=True)
class MarketDataIgnored:
    """A market data message that could not be routed or read, and why."""

    reason: str
    message: Message


MarketDataEvent = BookUpdated | BookInconsistent | SubscriptionChanged | MarketDataIgnored

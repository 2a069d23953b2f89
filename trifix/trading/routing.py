"""Which LP an order goes to: the LP configuration, `Route`, and best-price selection.

An order names its LP, or asks for `Route.BEST_PRICE`: the LP whose own book shows the best
price for the order's side (a buy takes the lowest offer, a sell the highest bid) among the
LPs able to take it now (order session logged on, circuit breaker letting orders through).
Ties go to the LP configured first, so routing is deterministic. When no LP can take the order
`NoRouteError` says why, LP by LP.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Final

from trifix.core.tags import Side
from trifix.runtime.schedule import Schedule
from trifix.trading.book import BookStyle, OrderBook
from trifix.trading.breaker import BreakerSettings
from trifix.trading.checks import Collar, Instrument
from trifix.trading.errors import TradingError

__all__ = [
    "BUY_SIDES",
    "SELL_SIDES",
    "Candidate",
    "LPConfig",
    "NoRouteError",
    "Route",
    "choose_best_price",
]

BUY_SIDES: Final = frozenset({Side.BUY, Side.BUY_MINUS})
"""Sides that lift offers."""
SELL_SIDES: Final = frozenset({Side.SELL, Side.SELL_PLUS, Side.SELL_SHORT, Side.SELL_SHORT_EXEMPT})
"""Sides that hit bids."""


class Route(enum.Enum):
    """A routing rule instead of a named LP."""

    BEST_PRICE = "best"
    """The LP with the best price for the order's side on its own book."""


class NoRouteError(TradingError):
    """No LP can take the order: unknown LP, none logged on, breakers open, or no price."""


@dataclass(frozen=True, slots=True)
class LPConfig:
    """One liquidity provider as the gateway sees it.

    Attributes:
        name: how the application names the LP ("LP1").
        order_session: the engine session for orders and quotes (None: market data only).
        md_session: the engine session for market data (None: no market data; may be the same
            id as `order_session`, the session is then read once).
        instruments: reference data for the pre-send checks (symbol, quantity, tick size);
            empty: those checks are left out (any symbol, any positive quantity).
        collar: price band around the LP's reference price (its book's mid, else its last
            trade); orders for a symbol with no reference price yet are refused when set.
        notional_limit: limit on the open notional of the LP's working orders.
        breaker: circuit breaker settings (None: the defaults).
        max_subscriptions: live market data subscriptions allowed on the md session.
        book_style: how the LP's incremental updates name levels (None: top of book for
            depth 1, by price otherwise).
        ack_timeout: an order, cancel or replace unanswered this long counts as a breaker
            failure (None: never).
        trading_hours: when orders may be sent (None: the order session's schedule, unless
            it is non-stop); outside them orders fail the "trading_hours" check.
    """

    name: str
    order_session: str | None
    md_session: str | None = None
    instruments: Sequence[Instrument] = ()
    collar: Collar | None = None
    notional_limit: Decimal | None = None
    breaker: BreakerSettings | None = None
    max_subscriptions: int = 100
    book_style: BookStyle | None = None
    ack_timeout: timedelta | None = timedelta(seconds=10)
    trading_hours: Schedule | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an LP needs a name")
        if self.order_session is None and self.md_session is None:
            raise ValueError(f"LP {self.name}: needs an order_session, an md_session or both")
        if self.ack_timeout is not None and self.ack_timeout <= timedelta(0):
            raise ValueError(
                f"LP {self.name}: ack_timeout must be positive, not {self.ack_timeout}"
            )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An LP considered for best-price routing.

    Attributes:
        lp: its name.
        book: its book of the order's symbol (None: not subscribed).
        refusal: why it cannot take an order now (not logged on, breaker open), or None.
    """

    lp: str
    book: OrderBook | None
    refusal: str | None = None


def choose_best_price(symbol: str, side: Side, candidates: Sequence[Candidate]) -> str:
    """The LP (from `candidates`, in configured order) with the best price for `side`.

    A buy goes to the lowest offer, a sell to the highest bid, among candidates without a
    refusal whose book is usable; the first candidate wins a tie.

    Raises:
        NoRouteError: the side cannot be priced, or no candidate has a usable price; the
            message says why for each LP.
    """
    if side in BUY_SIDES:
        buying = True
    elif side in SELL_SIDES:
        buying = False
    else:
        raise NoRouteError(f"side {side.name} cannot be routed by price: name an LP")
    what = "offer" if buying else "bid"
    best: tuple[Decimal, str] | None = None
    reasons: list[str] = []
    for c in candidates:
        if c.refusal is not None:
            reasons.append(f"{c.lp}: {c.refusal}")
            continue
        if c.book is None:
            reasons.append(f"{c.lp}: not subscribed to {symbol}")
            continue
        if not c.book.usable:
            why = c.book.stale.reason if c.book.stale is not None else "no snapshot yet"
            reasons.append(f"{c.lp}: book not usable ({why})")
            continue
        level = c.book.best_offer if buying else c.book.best_bid
        if level is None:
            reasons.append(f"{c.lp}: no {what}")
            continue
        if best is None or (level.price < best[0] if buying else level.price > best[0]):
            best = (level.price, c.lp)
    if best is None:
        listed = "; ".join(reasons) if reasons else "no LP configured"
        raise NoRouteError(
            f"no price to route a {side.name.lower()} of {symbol} to (no {what} from any LP "
            f"able to trade): {listed}"
        )
    return best[1]

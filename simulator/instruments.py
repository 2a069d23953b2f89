"""What a simulated LP quotes and trades."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["DEFAULT_INSTRUMENTS", "Instrument"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Instrument:
    """An instrument the LP quotes and trades.

    Attributes:
        symbol: Symbol (55), e.g. "EURUSD".
        bid, offer: the opening prices of the best level; their difference is kept as the
            spread.
        tick: the price increment; prices move by whole ticks.
        size: MDEntrySize (271) quoted at each level, on both sides.
        max_step: the most ticks the price moves in one step of the walk.
        min_qty, max_qty: the order quantities accepted (OrdRejReason 13 outside them);
            max_qty None sets no upper bound.
        levels: price levels per side of the simulated book (depth); level n is n-1 ticks
            behind the best.
        trade_probability: the chance, at each step of the walk, that a trade (269=2) prints.
    """

    symbol: str
    bid: Decimal
    offer: Decimal
    tick: Decimal
    size: Decimal = Decimal(1_000_000)
    max_step: int = 3
    min_qty: Decimal = ZERO
    max_qty: Decimal | None = None
    levels: int = 1
    trade_probability: float = 0.0

    def __post_init__(self) -> None:
        if not ZERO < self.bid < self.offer:
            raise ValueError(f"{self.symbol}: need 0 < bid < offer")
        if self.tick <= ZERO or self.max_step < 0:
            raise ValueError(f"{self.symbol}: need tick > 0 and max_step >= 0")
        if self.size <= ZERO:
            raise ValueError(f"{self.symbol}: need size > 0")
        if self.min_qty < ZERO or (self.max_qty is not None and self.max_qty < self.min_qty):
            raise ValueError(f"{self.symbol}: need 0 <= min_qty <= max_qty")
        if self.levels < 1:
            raise ValueError(f"{self.symbol}: need levels >= 1")
        if not 0.0 <= self.trade_probability <= 1.0:
            raise ValueError(f"{self.symbol}: need 0 <= trade_probability <= 1")


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("EURUSD", Decimal("1.08500"), Decimal("1.08510"), Decimal("0.00001")),
    Instrument("GBPUSD", Decimal("1.26500"), Decimal("1.26515"), Decimal("0.00001")),
    Instrument("USDJPY", Decimal("151.250"), Decimal("151.265"), Decimal("0.001")),
    Instrument("AUDUSD", Decimal("0.65500"), Decimal("0.65512"), Decimal("0.00001")),
)
"""Four FX pairs with typical prices and spreads."""

"""How a simulated LP session behaves: values, replaced as a whole when changed at run time.

A `Behaviour` is frozen: `SimSession.set_behaviour(**changes)` builds a new one with
`dataclasses.replace`, so a change applies from the next message on and never half-way
through one. Every random choice (a reject ratio, latency jitter) draws from the session's
own generator, seeded from the simulator's seed and the session id, so a run is reproducible.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from decimal import Decimal

from trifix.core.tags import OrdRejReason, Side

__all__ = ["Behaviour", "FillModel", "RejectRule"]


class FillModel(enum.Enum):
    """When an accepted order trades."""

    IMMEDIATE = "immediate"
    """Every order fills at once: a market order at the touch, a limit order at its price."""
    RESTING = "resting"
    """A market order, or a limit order at or through the touch, fills at once; any other limit
    order rests and fills when the random-walk market reaches its price."""
    NONE = "none"
    """Orders are acknowledged and never fill (to test cancels, replaces and status)."""


@dataclass(frozen=True, slots=True)
class RejectRule:
    """Which new orders are rejected (ExecutionReport 150=8), before any other check passes.

    An order is rejected when any condition holds.

    Attributes:
        all: reject every order.
        symbols: reject orders for these symbols.
        sides: reject orders on these sides.
        qty_above: reject orders for more than this quantity.
        ratio: reject this fraction of the remaining orders, drawn from the seeded generator.
        reason: the OrdRejReason (103) of the reject.
        text: the Text (58) of the reject.
    """

    all: bool = False
    symbols: frozenset[str] = frozenset()
    sides: frozenset[Side] = frozenset()
    qty_above: Decimal | None = None
    ratio: float = 0.0
    reason: OrdRejReason = OrdRejReason.OTHER
    text: str = "rejected by the simulator"

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"reject ratio must be from 0 to 1, got {self.ratio}")

    def matches(self, symbol: str, side: Side | None, qty: Decimal, rng: random.Random) -> bool:
        """Whether an order with these terms is rejected (draws from `rng` only for a ratio)."""
        if self.all or symbol in self.symbols or (side is not None and side in self.sides):
            return True
        if self.qty_above is not None and qty > self.qty_above:
            return True
        return self.ratio > 0 and rng.random() < self.ratio


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One LP session's behaviour. Every field can be changed at run time.

    Attributes:
        reject: which new orders to reject; None rejects none (beyond invalid ones).
        fill: the `FillModel`.
        slices: each fill is split into this many executions (partial fills, 150=F with
            39=1 until the last); 1 fills in one execution.
        slice_interval: seconds between two slices (0: all at once, in one burst).
        latency: seconds the LP waits before handling each application message.
        latency_jitter: up to this many seconds more, drawn from the seeded generator.
        disconnect_after_ack: the next order is acknowledged (150=0), then the connection is
            dropped before its fill; the order's fate is decided while the peer is away and
            is told by OrderStatusRequest (H) or OrderMassStatusRequest (AF) after reconnecting.
            Consumed by that order.
        quote_validity: seconds a Quote (35=S) stays valid (ValidUntilTime, 62).
        quote_tradeable: answer QuoteRequests with tradeable quotes (537=1) rather than
            indicative ones (537=0); only a tradeable quote can be traded with an order
            carrying its QuoteID (117).
        quote_spread_ticks: extra ticks added on each side of the market in a Quote.
    """

    reject: RejectRule | None = None
    fill: FillModel = FillModel.RESTING
    slices: int = 1
    slice_interval: float = 0.0
    latency: float = 0.0
    latency_jitter: float = 0.0
    disconnect_after_ack: bool = False
    quote_validity: float = 5.0
    quote_tradeable: bool = True
    quote_spread_ticks: int = 0

    def __post_init__(self) -> None:
        if self.slices < 1:
            raise ValueError(f"slices must be at least 1, got {self.slices}")
        for name in ("slice_interval", "latency", "latency_jitter", "quote_validity"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more seconds, got {getattr(self, name)}")
        if self.quote_spread_ticks < 0:
            raise ValueError(f"quote_spread_ticks must be >= 0, got {self.quote_spread_ticks}")

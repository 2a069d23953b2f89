"""The simulated market: a seeded random walk per instrument, with depth and trades.

Every `tick_interval` seconds each instrument's best bid moves by a whole number of ticks (up
to `Instrument.max_step` either way) and, with `Instrument.trade_probability`, a trade prints.
The book has `Instrument.levels` levels a side, one tick apart, each of `Instrument.size`; the
spread of the opening prices is kept. Each instrument draws from its own generator seeded from
the simulator's seed and its symbol, so the same seed gives the same market.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import trio

from simulator.instruments import Instrument
from trifix.core.tags import Side
from trifix.runtime.specs import Clock

__all__ = ["Book", "Level", "Market", "Tick", "Trade"]


@dataclass(frozen=True, slots=True)
class Level:
    """One price level of a book."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class Book:
    """An instrument's book: best first on each side."""

    symbol: str
    bids: tuple[Level, ...]
    offers: tuple[Level, ...]

    @property
    def bid(self) -> Decimal:
        """The best bid."""
        return self.bids[0].price

    @property
    def offer(self) -> Decimal:
        """The best offer."""
        return self.offers[0].price


@dataclass(frozen=True, slots=True)
class Trade:
    """A trade that printed on a step of the walk."""

    symbol: str
    price: Decimal
    size: Decimal
    aggressor: Side


@dataclass(frozen=True, slots=True)
class Tick:
    """One step of the market: which symbols moved, what traded, and when."""

    number: int
    time: datetime
    symbols: tuple[str, ...]
    trades: tuple[Trade, ...]


class _Walk:
    """One instrument's simulated book."""

    def __init__(self, instrument: Instrument, seed: int) -> None:
        self.instrument = instrument
        # A string seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
        self._rng = random.Random(f"{seed}:{instrument.symbol}")
        self._spread = instrument.offer - instrument.bid
        self._floor = instrument.tick * instrument.levels  # the worst bid stays above zero
        self.bid = max(instrument.bid, self._floor)

    @property
    def offer(self) -> Decimal:
        return self.bid + self._spread

    def step(self) -> Trade | None:
        inst = self.instrument
        moved = self.bid + self._rng.randint(-inst.max_step, inst.max_step) * inst.tick
        self.bid = max(moved, self._floor)
        if inst.trade_probability <= 0 or self._rng.random() >= inst.trade_probability:
            return None
        buy = self._rng.random() < 0.5
        size = inst.size * self._rng.randint(1, 10) / 10
        return Trade(
            inst.symbol, self.offer if buy else self.bid, size, Side.BUY if buy else Side.SELL
        )

    def book(self) -> Book:
        inst = self.instrument
        bids = tuple(Level(self.bid - i * inst.tick, inst.size) for i in range(inst.levels))
        offers = tuple(Level(self.offer + i * inst.tick, inst.size) for i in range(inst.levels))
        return Book(inst.symbol, bids, offers)


TickListener = Callable[[Tick], Awaitable[None]]


class Market:
    """Every instrument's book, stepped by `run` (or `step`, for floods)."""

    def __init__(self, instruments: Sequence[Instrument], seed: int, clock: Clock) -> None:
        self._walks = {i.symbol: _Walk(i, seed) for i in instruments}
        self._clock = clock
        self._listeners: list[TickListener] = []
        self.ticks = 0
        """Steps taken so far."""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The instruments' symbols, in configuration order."""
        return tuple(self._walks)

    def instrument(self, symbol: str) -> Instrument | None:
        """The instrument of `symbol`, or None when the market does not list it."""
        walk = self._walks.get(symbol)
        return walk.instrument if walk else None

    def book(self, symbol: str) -> Book:
        """The book of `symbol` now. Raises KeyError for an unknown symbol."""
        return self._walks[symbol].book()

    def add_listener(self, listener: TickListener) -> None:
        """Call `listener(tick)` after every step of `run`, in the order added."""
        self._listeners.append(listener)

    def step(self, symbols: Iterable[str] | None = None) -> Tick:
        """Move the books of `symbols` (all by default) one step; returns what happened."""
        moved = tuple(self._walks) if symbols is None else tuple(symbols)
        trades = tuple(t for s in moved if (t := self._walks[s].step()) is not None)
        self.ticks += 1
        return Tick(self.ticks, self._clock(), moved, trades)

    async def run(self, interval: float) -> None:
        """Step every `interval` seconds, telling the listeners, until cancelled."""
        start = trio.current_time()
        steps = 0
        while True:
            steps += 1
            await trio.sleep_until(start + steps * interval)
            tick = self.step()
            for listener in self._listeners:
                await listener(tick)

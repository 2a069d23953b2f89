"""What every client of one WebSocket API server shares: its limits, its context, and the
market data subscriptions it makes for its clients (counted across them)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Final

from trifix.runtime import Engine, NotLoggedOnError
from trifix.trading.errors import TradingError
from trifix.web.surface import GatewaySurface

__all__ = ["CLOSE_AUTH", "CLOSE_SLOW", "ApiContext", "ApiLimits", "MarketDataShare"]

_log = logging.getLogger("trifix.web")

CLOSE_SLOW: Final = 4001
"""WebSocket close code: the client did not read fast enough and was cut off."""
CLOSE_AUTH: Final = 4003
"""WebSocket close code: too many failed ``auth`` requests."""


@dataclass(frozen=True, slots=True)
class ApiLimits:
    """The bounds of the WebSocket API.

    Attributes:
        max_clients: connections served at once; more are refused at the handshake (503).
        max_subscriptions: book, session and order subscriptions per client.
        max_message_size: bytes in one request; a bigger one closes the connection (1009).
        max_queue: replies and event pushes queued for one client; one more cuts it off
            (close code 4001). Book and BBO pushes are conflated and do not count.
        updates_buffer: the gateway's per-client update buffer (`Gateway.open_updates`); a
            client whose buffer fills is cut off the same way.
        book_depth: levels asked from the LPs when the API subscribes a symbol itself, and
            the most a client may ask for. 1 (top of book) suits every LP; raise it only for
            LPs that send depth (and whose `LPConfig.book_style` says how).
        stats_interval: seconds between session statistics pushes.
        close_timeout: seconds a closing connection gets to write its last frames.
        max_auth_failures: failed ``auth`` requests before the connection is closed (4003).
    """

    max_clients: int = 32
    max_subscriptions: int = 64
    max_message_size: int = 64 * 1024
    max_queue: int = 1000
    updates_buffer: int = 1000
    book_depth: int = 1
    stats_interval: float = 1.0
    close_timeout: float = 5.0
    max_auth_failures: int = 3

    def __post_init__(self) -> None:
        for name in ("max_clients", "max_subscriptions", "max_message_size", "max_queue"):
            if getattr(self, name) < 1:
                raise ValueError(f"ApiLimits.{name} must be at least 1")
        if self.updates_buffer < 1 or self.book_depth < 1 or self.max_auth_failures < 1:
            raise ValueError("ApiLimits: updates_buffer, book_depth, max_auth_failures >= 1")
        if self.stats_interval <= 0 or self.close_timeout <= 0:
            raise ValueError("ApiLimits: stats_interval and close_timeout must be positive")


class MarketDataShare:
    """Market data subscriptions the API makes for its clients, counted across clients.

    The first client to want a symbol subscribes it at the gateway (every LP with market
    data, `book_depth` levels) unless the gateway already has it (configured by its owner:
    then the API never unsubscribes it); the last one to leave unsubscribes it.
    """

    def __init__(self, gateway: GatewaySurface, depth: int) -> None:
        self.gateway = gateway
        self.depth = depth
        self._users: Counter[str] = Counter()
        self._owned: set[str] = set()

    def users(self, symbol: str) -> int:
        """How many client subscriptions use `symbol`."""
        return self._users[symbol]

    async def acquire(self, symbol: str) -> None:
        """One more user of `symbol`; subscribes it first if nobody has.

        Raises:
            TradingError: the gateway refused the subscription (the count is unchanged).
        """
        self._users[symbol] += 1
        if self._users[symbol] > 1 or symbol in self.gateway.symbols():
            return
        self._owned.add(symbol)
        try:
            await self.gateway.subscribe([symbol], depth=self.depth)
        except BaseException:
            self._owned.discard(symbol)
            self._release_count(symbol)
            raise

    async def release(self, symbol: str) -> None:
        """One user fewer; the last one unsubscribes what the API subscribed."""
        if self._release_count(symbol) or symbol not in self._owned:
            return
        self._owned.discard(symbol)
        try:
            await self.gateway.unsubscribe(symbol)
        except (TradingError, NotLoggedOnError) as exc:
            _log.warning("could not unsubscribe %s: %s", symbol, exc)

    def _release_count(self, symbol: str) -> int:
        self._users[symbol] -= 1
        left = self._users[symbol]
        if left <= 0:
            del self._users[symbol]
        return left


@dataclass(slots=True)
class ApiContext:
    """What every client of one server shares."""

    gateway: GatewaySurface
    engine: Engine
    limits: ApiLimits
    market_data: MarketDataShare
    token: str | None

"""A token-bucket rate limit for outbound application messages."""

from __future__ import annotations

import trio

from trifix.core.errors import LocalProtocolError
from trifix.runtime.specs import ThrottleSettings


class ThrottledError(LocalProtocolError):
    """A send went over the session's rate limit and the setting says not to wait."""


class Throttle:
    """Allows `rate` messages per second on average, `burst` at once; time from trio's clock."""

    def __init__(self, settings: ThrottleSettings) -> None:
        if settings.rate <= 0:
            raise ValueError("throttle rate must be positive")
        self.settings = settings
        self._capacity = float(settings.burst or max(1, int(settings.rate)))
        self._tokens = self._capacity
        self._stamp: float | None = None

    def _refill(self) -> float:
        now = trio.current_time()
        if self._stamp is not None:
            elapsed = now - self._stamp
            self._tokens = min(self._capacity, self._tokens + elapsed * self.settings.rate)
        self._stamp = now
        return now

    async def acquire(self, session_id: str) -> None:
        """Take one token: wait for it, or raise ThrottledError, as configured."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return
        if self.settings.on_limit == "error":
            raise ThrottledError(
                f"session {session_id}: over its limit of {self.settings.rate:g} messages/s"
            )
        wait = (1 - self._tokens) / self.settings.rate
        await trio.sleep(wait)
        self._refill()
        self._tokens -= 1

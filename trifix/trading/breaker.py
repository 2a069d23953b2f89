"""A circuit breaker per session or LP: stop sending orders while the LP keeps failing.

Theory of operation. Three states:

    CLOSED --N failures within the window--> OPEN --cool-down elapsed--> HALF_OPEN
    HALF_OPEN --M probes succeeded--> CLOSED        HALF_OPEN --any failure--> OPEN

- CLOSED: orders flow. Each failure the caller records (a reject, a timeout, a disconnect) is
  kept for `BreakerSettings.window`; the N-th failure within the window opens the breaker.
- OPEN: `allow` refuses every order with `CircuitOpenError`, naming when it will probe again.
  Failures recorded meanwhile (late answers to orders sent before) change nothing.
- HALF_OPEN: once the cool-down has passed, `allow` lets through up to M probe orders; when M
  successes are recorded the breaker closes, and any failure opens it again (a new cool-down).

The breaker is sans-IO like the rest of the trading layer: every call takes `now`, nothing
reads a clock, so tests (and the hypothesis model in the tests) drive it instantly. State
changes are queued as `BreakerStateChanged` events for the caller to drain (`events`);
`statistics` gives a frozen snapshot for users and metrics. `force_open` and `reset` let an
operator intervene.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from trifix.trading.errors import TradingError

__all__ = [
    "BreakerSettings",
    "BreakerState",
    "BreakerStateChanged",
    "BreakerStatistics",
    "CircuitBreaker",
    "CircuitOpenError",
    "FailureKind",
]


class BreakerState(enum.Enum):
    """Whether orders may pass."""

    CLOSED = "closed"
    """Orders flow; failures are counted."""
    OPEN = "open"
    """Orders are refused until the cool-down ends."""
    HALF_OPEN = "half_open"
    """A few probe orders may pass; their outcome decides."""


class FailureKind(enum.Enum):
    """What went wrong, as the caller saw it."""

    REJECT = "reject"
    """The LP rejected an order (ExecType 8, a BusinessMessageReject...)."""
    TIMEOUT = "timeout"
    """No answer in time."""
    DISCONNECT = "disconnect"
    """The session dropped."""
    OTHER = "other"
    """Anything else the caller counts as a failure."""


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """How a breaker trips and recovers.

    Attributes:
        failure_threshold: failures within `window` that open the breaker (N >= 1).
        window: how long a failure counts.
        cool_down: how long the breaker stays open before probing.
        probes: orders allowed while half-open; all must succeed to close (M >= 1).
    """

    failure_threshold: int = 5
    window: timedelta = timedelta(seconds=60)
    cool_down: timedelta = timedelta(seconds=30)
    probes: int = 1

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, not {self.failure_threshold}")
        if self.probes < 1:
            raise ValueError(f"probes must be >= 1, not {self.probes}")
        if self.window <= timedelta(0):
            raise ValueError(f"window must be positive, not {self.window}")
        if self.cool_down < timedelta(0):
            raise ValueError(f"cool_down must not be negative, not {self.cool_down}")


@dataclass(frozen=True, slots=True)
class BreakerStateChanged:
    """The breaker moved from `previous` to `state` at `at`, for `reason`."""

    name: str
    previous: BreakerState
    state: BreakerState
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerStatistics:
    """A snapshot of a breaker.

    Attributes:
        name: the session or LP it guards.
        state: its state at the time asked.
        failures_in_window: failures counted towards opening (CLOSED only; else 0).
        total_failures: failures recorded, by kind name.
        total_successes: successes recorded.
        refused: orders refused by `allow`.
        times_opened: how often it opened.
        opened_at: when it last opened (None if never).
        probes_in_flight: probes allowed and not yet answered (HALF_OPEN).
        probe_successes: probes that succeeded in this half-open spell.
        retry_at: when an OPEN breaker starts probing (None otherwise).
    """

    name: str
    state: BreakerState
    failures_in_window: int
    total_failures: dict[str, int]
    total_successes: int
    refused: int
    times_opened: int
    opened_at: datetime | None
    probes_in_flight: int
    probe_successes: int
    retry_at: datetime | None


class CircuitOpenError(TradingError):
    """An order refused because the breaker is open (or out of probes while half-open).

    Attributes:
        name: the breaker's name.
        state: its state.
        retry_at: when probing starts, if the breaker is open.
    """

    def __init__(self, name: str, state: BreakerState, retry_at: datetime | None) -> None:
        if state is BreakerState.OPEN:
            detail = f"open until {retry_at.isoformat() if retry_at else '?'}"
        else:
            detail = "half-open and its probe orders are all in flight"
        super().__init__(f"circuit breaker {name!r} refuses the order: {detail}")
        self.name = name
        self.state = state
        self.retry_at = retry_at


class CircuitBreaker:
    """One breaker, for one session or LP.

    Args:
        name: what it guards (an LP or session name), used in errors and events.
        settings: thresholds and durations.
    """

    def __init__(self, name: str, settings: BreakerSettings | None = None) -> None:
        self.name = name
        self.settings = settings or BreakerSettings()
        self._state = BreakerState.CLOSED
        self._failures: deque[datetime] = deque()
        self._opened_at: datetime | None = None
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._totals = {kind.value: 0 for kind in FailureKind}
        self._successes = 0
        self._refused = 0
        self._times_opened = 0
        self._events: list[BreakerStateChanged] = []

    # -- queries ---------------------------------------------------------------------------
    def state(self, now: datetime) -> BreakerState:
        """The state at `now` (an OPEN breaker whose cool-down ended becomes HALF_OPEN)."""
        self._advance(now)
        return self._state

    def statistics(self, now: datetime) -> BreakerStatistics:
        """A frozen snapshot at `now`."""
        self._advance(now)
        retry_at = None
        if self._state is BreakerState.OPEN and self._opened_at is not None:
            retry_at = self._opened_at + self.settings.cool_down
        return BreakerStatistics(
            name=self.name,
            state=self._state,
            failures_in_window=len(self._failures),
            total_failures=dict(self._totals),
            total_successes=self._successes,
            refused=self._refused,
            times_opened=self._times_opened,
            opened_at=self._opened_at,
            probes_in_flight=self._probes_in_flight,
            probe_successes=self._probe_successes,
            retry_at=retry_at,
        )

    def events(self) -> list[BreakerStateChanged]:
        """The state changes since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    # -- orders ---------------------------------------------------------------------------
    def allow(self, now: datetime) -> None:
        """Let one order through, or raise.

        Raises:
            CircuitOpenError: the breaker is open, or half-open with every probe in flight.
        """
        self._advance(now)
        if self._state is BreakerState.CLOSED:
            return
        if self._state is BreakerState.HALF_OPEN and (
            self._probes_in_flight + self._probe_successes < self.settings.probes
        ):
            self._probes_in_flight += 1
            return
        self._refused += 1
        retry_at = None
        if self._state is BreakerState.OPEN and self._opened_at is not None:
            retry_at = self._opened_at + self.settings.cool_down
        raise CircuitOpenError(self.name, self._state, retry_at)

    def would_allow(self, now: datetime) -> bool:
        """Whether `allow` would let an order through now (takes no probe)."""
        self._advance(now)
        if self._state is BreakerState.HALF_OPEN:
            return self._probes_in_flight + self._probe_successes < self.settings.probes
        return self._state is BreakerState.CLOSED

    def record_success(self, now: datetime) -> None:
        """An order was accepted (or a request answered in time)."""
        self._advance(now)
        self._successes += 1
        if self._state is BreakerState.HALF_OPEN and self._probes_in_flight:
            self._probes_in_flight -= 1
            self._probe_successes += 1
            if self._probe_successes >= self.settings.probes:
                self._move(BreakerState.CLOSED, now, f"{self._probe_successes} probe(s) succeeded")

    def record_failure(self, now: datetime, kind: FailureKind = FailureKind.OTHER) -> None:
        """An order failed: `kind` says how."""
        self._advance(now)
        self._totals[kind.value] += 1
        if self._state is BreakerState.HALF_OPEN:
            self._open(now, f"a {kind.value} while half-open")
        elif self._state is BreakerState.CLOSED:
            self._failures.append(now)
            self._expire(now)
            if len(self._failures) >= self.settings.failure_threshold:
                reason = (
                    f"{len(self._failures)} failures within {self.settings.window}"
                    f" (last: {kind.value})"
                )
                self._open(now, reason)

    # -- operator controls --------------------------------------------------------------------
    def force_open(self, now: datetime, reason: str = "forced open") -> None:
        """Open the breaker now (a new cool-down starts)."""
        self._advance(now)
        self._open(now, reason)

    def reset(self, now: datetime, reason: str = "reset") -> None:
        """Close the breaker now and forget the counted failures."""
        self._advance(now)
        if self._state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED, now, reason)
        self._failures.clear()

    # -- internals ------------------------------------------------------------------------------
    def _expire(self, now: datetime) -> None:
        horizon = now - self.settings.window
        while self._failures and self._failures[0] <= horizon:
            self._failures.popleft()

    def _advance(self, now: datetime) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._opened_at is not None
            and now >= self._opened_at + self.settings.cool_down
        ):
            self._move(BreakerState.HALF_OPEN, now, "cool-down elapsed")
        elif self._state is BreakerState.CLOSED:
            self._expire(now)

    def _open(self, now: datetime, reason: str) -> None:
        self._opened_at = now
        self._times_opened += 1
        self._move(BreakerState.OPEN, now, reason)

    def _move(self, state: BreakerState, now: datetime, reason: str) -> None:
        previous = self._state
        self._state = state
        self._failures.clear()
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._events.append(BreakerStateChanged(self.name, previous, state, now, reason))

"""The circuit breaker: unit tests of each move, and a hypothesis model of the whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.trading.orderfixtures import T0, at
from trifix.trading.breaker import (
    BreakerSettings,
    BreakerState,
    BreakerStateChanged,
    CircuitBreaker,
    CircuitOpenError,
    FailureKind,
)
from trifix.trading.errors import TradingError

SETTINGS = BreakerSettings(
    failure_threshold=3,
    window=timedelta(seconds=10),
    cool_down=timedelta(seconds=30),
    probes=2,
)


def tripped() -> CircuitBreaker:
    breaker = CircuitBreaker("LP1", SETTINGS)
    for t in (0, 1, 2):
        breaker.record_failure(at(t), FailureKind.REJECT)
    return breaker


def test_closed_until_n_failures_within_the_window() -> None:
    breaker = CircuitBreaker("LP1", SETTINGS)
    breaker.record_failure(at(0), FailureKind.TIMEOUT)
    breaker.record_failure(at(5), FailureKind.REJECT)
    breaker.record_failure(at(10), FailureKind.REJECT)  # the first one (t=0) has expired
    assert breaker.state(at(10)) is BreakerState.CLOSED
    assert breaker.statistics(at(10)).failures_in_window == 2
    breaker.allow(at(10))
    breaker.record_failure(at(11), FailureKind.DISCONNECT)
    assert breaker.state(at(11)) is BreakerState.OPEN
    (event,) = breaker.events()
    assert (event.previous, event.state, event.at) == (
        BreakerState.CLOSED,
        BreakerState.OPEN,
        at(11),
    )
    assert "3 failures" in event.reason
    assert "disconnect" in event.reason
    assert breaker.events() == []


def test_open_refuses_with_a_clear_error() -> None:
    breaker = tripped()
    with pytest.raises(CircuitOpenError, match=r"'LP1'.*open until 2026-11-25T09:00:32") as info:
        breaker.allow(at(3))
    assert info.value.state is BreakerState.OPEN
    assert info.value.retry_at == at(32)
    assert isinstance(info.value, TradingError)
    assert not breaker.would_allow(at(3))
    breaker.record_failure(at(4))  # a late answer to an order sent before: no change
    stats = breaker.statistics(at(5))
    assert (stats.state, stats.refused, stats.times_opened, stats.retry_at) == (
        BreakerState.OPEN,
        1,
        1,
        at(32),
    )
    assert stats.total_failures == {"reject": 3, "timeout": 0, "disconnect": 0, "other": 1}


def test_half_open_probes_then_closes() -> None:
    breaker = tripped()
    breaker.events()
    assert breaker.state(at(32)) is BreakerState.HALF_OPEN
    assert breaker.would_allow(at(32))
    breaker.allow(at(32))
    breaker.allow(at(32))
    with pytest.raises(CircuitOpenError, match="probe orders are all in flight") as info:
        breaker.allow(at(33))
    assert info.value.retry_at is None
    assert not breaker.would_allow(at(33))
    assert breaker.statistics(at(33)).probes_in_flight == 2
    breaker.record_success(at(34))
    assert breaker.state(at(34)) is BreakerState.HALF_OPEN
    assert breaker.statistics(at(34)).probe_successes == 1
    breaker.record_success(at(35))
    assert breaker.state(at(35)) is BreakerState.CLOSED
    assert [(e.previous, e.state) for e in breaker.events()] == [
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    breaker.allow(at(36))
    assert breaker.statistics(at(36)).total_successes == 2


def test_half_open_failure_opens_again_with_a_new_cool_down() -> None:
    breaker = tripped()
    breaker.allow(at(40))
    breaker.record_failure(at(41), FailureKind.TIMEOUT)
    assert breaker.state(at(41)) is BreakerState.OPEN
    assert breaker.statistics(at(41)).retry_at == at(71)
    assert breaker.statistics(at(41)).times_opened == 2
    assert breaker.state(at(71)) is BreakerState.HALF_OPEN


def test_success_outside_half_open_only_counts() -> None:
    breaker = CircuitBreaker("LP1", SETTINGS)
    breaker.record_success(at(0))
    breaker.record_failure(at(1))
    breaker.record_failure(at(2))
    breaker.record_success(at(3))  # does not wipe the failures in the window
    breaker.record_failure(at(4))
    assert breaker.state(at(4)) is BreakerState.OPEN
    # A success while half-open but with no probe out (e.g. an old order) closes nothing.
    breaker.record_success(at(40))
    assert breaker.state(at(40)) is BreakerState.HALF_OPEN


def test_operator_controls() -> None:
    breaker = CircuitBreaker("LP1", SETTINGS)
    breaker.reset(at(0))  # already closed: no event
    assert breaker.events() == []
    breaker.force_open(at(1), "maintenance")
    assert breaker.state(at(2)) is BreakerState.OPEN
    breaker.reset(at(3), "LP back")
    assert breaker.state(at(3)) is BreakerState.CLOSED
    assert [e.reason for e in breaker.events()] == ["maintenance", "LP back"]
    assert breaker.statistics(at(3)).opened_at == at(1)


def test_default_settings_and_their_validation() -> None:
    assert CircuitBreaker("x").settings == BreakerSettings()
    with pytest.raises(ValueError, match="failure_threshold"):
        BreakerSettings(failure_threshold=0)
    with pytest.raises(ValueError, match="probes"):
        BreakerSettings(probes=0)
    with pytest.raises(ValueError, match="window"):
        BreakerSettings(window=timedelta(0))
    with pytest.raises(ValueError, match="cool_down"):
        BreakerSettings(cool_down=timedelta(seconds=-1))


class BreakerModel(RuleBasedStateMachine):
    """The breaker against a model written as plainly as possible (integer seconds)."""

    N, WINDOW, COOL, M = 3, 10, 30, 2

    def __init__(self) -> None:
        super().__init__()
        self.breaker = CircuitBreaker(
            "LP",
            BreakerSettings(
                failure_threshold=self.N,
                window=timedelta(seconds=self.WINDOW),
                cool_down=timedelta(seconds=self.COOL),
                probes=self.M,
            ),
        )
        self.now = 0
        self.state = "closed"
        self.failures: list[int] = []
        self.opened_at = 0
        self.in_flight = 0
        self.succeeded = 0
        self.changes: list[tuple[str, str]] = []

    def _tick(self) -> None:
        if self.state == "open" and self.now >= self.opened_at + self.COOL:
            self._go("half_open")
        self.failures = [t for t in self.failures if t > self.now - self.WINDOW]

    def _go(self, state: str) -> None:
        self.changes.append((self.state, state))
        self.state = state
        self.failures = []
        self.in_flight = self.succeeded = 0

    @rule(seconds=st.integers(min_value=0, max_value=40))
    def wait(self, seconds: int) -> None:
        self.now += seconds

    @rule()
    def order(self) -> None:
        self._tick()
        expected = self.state == "closed" or (
            self.state == "half_open" and self.in_flight + self.succeeded < self.M
        )
        try:
            self.breaker.allow(at(self.now))
        except CircuitOpenError:
            assert not expected
        else:
            assert expected
            if self.state == "half_open":
                self.in_flight += 1

    @rule(kind=st.sampled_from(FailureKind))
    def failure(self, kind: FailureKind) -> None:
        self._tick()
        self.breaker.record_failure(at(self.now), kind)
        if self.state == "half_open":
            self.opened_at = self.now
            self._go("open")
        elif self.state == "closed":
            self.failures.append(self.now)
            if len(self.failures) >= self.N:
                self.opened_at = self.now
                self._go("open")

    @rule()
    def success(self) -> None:
        self._tick()
        self.breaker.record_success(at(self.now))
        if self.state == "half_open" and self.in_flight:
            self.in_flight -= 1
            self.succeeded += 1
            if self.succeeded >= self.M:
                self._go("closed")

    @invariant()
    def agrees(self) -> None:
        self._tick()
        stats = self.breaker.statistics(at(self.now))
        assert stats.state.value == self.state
        assert stats.probes_in_flight == self.in_flight
        assert stats.failures_in_window == len(self.failures)
        events: list[BreakerStateChanged] = self.breaker.events()
        assert [(e.previous.value, e.state.value) for e in events] == self.changes
        self.changes = []


TestBreakerModel = BreakerModel.TestCase
TestBreakerModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_time_never_read() -> None:
    # Same inputs, same answers, whatever the wall clock says.
    a, b = tripped(), tripped()
    assert a.statistics(T0 + timedelta(seconds=5)) == b.statistics(T0 + timedelta(seconds=5))

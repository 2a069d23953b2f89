"""Metrics through the OpenTelemetry API.

Message counts, gaps, heartbeat misses, reconnects and up-time are *observable* instruments:
their callbacks read `SessionHandle.statistics()` when a reader collects (a Prometheus scrape),
so counting costs the hot path one dict increment in the runtime and nothing here. Rejects are
counted from session events by `MetricsObserver` (rare, so a plain counter). Latencies are
histograms the trading layer feeds: `Metrics.record_order_ack` and `Metrics.record_tick`.

Series (Prometheus names, once exported; counters get ``_total``):

==========================================  =====================================  ============
``fix_messages_received``                   session, msg_type                      counter
``fix_messages_sent``                       session, msg_type                      counter
``fix_rejects``                             session, kind, reason                  counter
``fix_sequence_gaps``                       session                                counter
``fix_heartbeat_misses``                    session (our TestRequests)             counter
``fix_peer_timeouts``                       session                                counter
``fix_connects`` / ``fix_reconnect_attempts``  session                             counter/gauge
``fix_session_logged_on``                   session (1 or 0)                       gauge
``fix_session_uptime_seconds``              session (since the current Logon)      gauge
``fix_session_next_sender_seq`` / ``_target_seq``  session                         gauge
``fix_order_ack_latency_seconds``           session                                histogram
``fix_market_data_latency_seconds``         session                                histogram
==========================================  =====================================  ============

Library code uses only `opentelemetry.metrics`; `trifix.observability.setup` configures the SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from trifix.core.events import Event
from trifix.observability.rejects import reject_of
from trifix.runtime import Engine, SessionHandle, SessionStatistics
from trifix.runtime.handle import SessionObserver

__all__ = ["ACK_BUCKETS", "TICK_BUCKETS", "Metrics", "MetricsObserver"]

ACK_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Order-to-ack latency buckets, seconds (0.5 ms to 10 s)."""
TICK_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 1.0,
)  # fmt: skip
"""Market-data tick-to-process latency buckets, seconds (10 µs to 1 s)."""

_Reading = Iterable[tuple[float, dict[str, str]]]
_Reader = Callable[[SessionStatistics, datetime], _Reading]


class Metrics:
    """The trifix instruments on one OpenTelemetry `Meter`.

    Args:
        meter: where to create the instruments; by default the global meter provider's
            ``trifix`` meter (a no-op until the SDK is configured).
    """

    def __init__(self, meter: Meter | None = None) -> None:
        self.meter = meter if meter is not None else metrics.get_meter("trifix")
        self._engines: list[Engine] = []
        m = self.meter
        self.rejects = m.create_counter(
            "fix_rejects",
            unit="1",
            description="Rejects by kind (session, business, order...) and reason code",
        )
        self.order_ack_latency = m.create_histogram(
            "fix_order_ack_latency_seconds",
            unit="s",
            description="From sending an order to its first ExecutionReport",
            explicit_bucket_boundaries_advisory=ACK_BUCKETS,
        )
        self.tick_latency = m.create_histogram(
            "fix_market_data_latency_seconds",
            unit="s",
            description="From receiving a market data message to having applied it",
            explicit_bucket_boundaries_advisory=TICK_BUCKETS,
        )
        counters: list[tuple[str, str, _Reader]] = [
            ("fix_messages_received", "Messages received, by MsgType", _by_type_in),
            ("fix_messages_sent", "Messages sent, by MsgType", _by_type_out),
            ("fix_sequence_gaps", "Inbound sequence gaps", _event("GapDetected")),
            (
                "fix_heartbeat_misses",
                "Peer silences that made us send a TestRequest",
                _event("TestRequestSent"),
            ),
            (
                "fix_peer_timeouts",
                "Peers that did not answer a TestRequest",
                _event("PeerTimedOut"),
            ),
            ("fix_connects", "Transports that came up", _value(lambda s: s.connects)),
        ]
        for name, description, read in counters:
            m.create_observable_counter(
                name, [self._reading(read)], unit="1", description=description
            )
        gauges: list[tuple[str, str, str, _Reader]] = [
            (
                "fix_reconnect_attempts",
                "1",
                "Failed connection attempts since the last success",
                _value(lambda s: s.reconnect_attempts),
            ),
            (
                "fix_session_logged_on",
                "1",
                "1 while the session is logged on",
                _value(lambda s: int(s.logged_on)),
            ),
            (
                "fix_session_uptime_seconds",
                "s",
                "Seconds since the current Logon (0 when not logged on)",
                _uptime,
            ),
            (
                "fix_session_next_sender_seq",
                "1",
                "The sequence number of our next message",
                _value(lambda s: s.next_sender_seq),
            ),
            (
                "fix_session_next_target_seq",
                "1",
                "The sequence number expected next from the peer",
                _value(lambda s: s.next_target_seq),
            ),
        ]
        for name, unit, description, read in gauges:
            m.create_observable_gauge(
                name, [self._reading(read)], unit=unit, description=description
            )

    # -- what the trading layer calls --------------------------------------------------------
    def record_order_ack(self, session: str, seconds: float) -> None:
        """An order was acknowledged `seconds` after it was sent (first ExecutionReport)."""
        self.order_ack_latency.record(seconds, {"session": session})

    def record_tick(self, session: str, seconds: float) -> None:
        """A market data message was applied `seconds` after it was received."""
        self.tick_latency.record(seconds, {"session": session})

    def record_reject(self, session: str, kind: str, reason: str) -> None:
        """Count a reject. Session events are counted by `MetricsObserver`; the trading layer
        calls this for rejects no message shows (a pre-send check refusing an order: kind
        ``"local"``)."""
        self.rejects.add(1, {"session": session, "kind": kind, "reason": reason})

    # -- engines -----------------------------------------------------------------------------
    def watch(self, engine: Engine) -> None:
        """Report `engine`'s sessions in the observable instruments."""
        if engine not in self._engines:
            self._engines.append(engine)

    def unwatch(self, engine: Engine) -> None:
        """Stop reporting `engine` (no error if it was not watched)."""
        if engine in self._engines:
            self._engines.remove(engine)

    def _reading(self, read: _Reader) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def callback(_options: CallbackOptions) -> Iterable[Observation]:
            out = []
            for engine in self._engines:
                now = engine.clock()
                for handle in list(engine.sessions.values()):
                    stats = handle.statistics()
                    for value, attributes in read(stats, now):
                        out.append(Observation(value, {"session": stats.id, **attributes}))
            return out

        return callback


def _value(get: Callable[[SessionStatistics], float]) -> _Reader:
    def read(stats: SessionStatistics, _now: datetime) -> _Reading:
        return [(get(stats), {})]

    return read


def _uptime(stats: SessionStatistics, now: datetime) -> _Reading:
    since = stats.logged_on_since
    if since is None or not stats.logged_on:
        return [(0.0, {})]
    return [(max(0.0, (now - since).total_seconds()), {})]


def _by_type_in(stats: SessionStatistics, _now: datetime) -> _Reading:
    return [(n, {"msg_type": mt}) for mt, n in stats.messages_in_by_type.items()]


def _by_type_out(stats: SessionStatistics, _now: datetime) -> _Reading:
    return [(n, {"msg_type": mt}) for mt, n in stats.messages_out_by_type.items()]


def _event(name: str) -> _Reader:
    def read(stats: SessionStatistics, _now: datetime) -> _Reading:
        return [(stats.event_counts.get(name, 0), {})]

    return read


class MetricsObserver(SessionObserver):
    """Counts rejects (by kind and reason) from one engine's session events."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_event(self, handle: SessionHandle, event: Event) -> None:
        """Count `event` if it reports a reject."""
        reject = reject_of(event)
        if reject is not None:
            self.metrics.record_reject(handle.id, reject.kind, reject.reason)

"""`observe`: attach logs, metrics and traces to a running engine.

Observers sit beside the application, not in its way: `SessionHandle.events()` is a single
channel whose events belong to the application, so observability never reads it. It attaches
`SessionObserver`s instead (`SessionHandle.add_observer`), which the runtime calls
synchronously with each event before delivering it, with every batch of frames it writes, with
each new transport and with each failure. They only count, log and start or end spans.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import trio

from trifix.observability.metrics import Metrics, MetricsObserver
from trifix.observability.redact import DEFAULT_POLICY
from trifix.observability.sessionlog import LogObserver
from trifix.observability.setup import Telemetry
from trifix.observability.tracing import OrderTracker, SessionSpans
from trifix.runtime import Engine
from trifix.runtime.handle import SessionObserver

__all__ = ["Observation", "observe"]


class Observation:
    """The observers attached to one engine; `attach_new` picks up sessions added later.

    Args:
        engine: the engine to observe.
        metrics: where rejects and latencies go (the engine is watched for the rest).
        tracer_source: the `Telemetry`, or None for the global tracer.
        trace_orders: find orders in what sessions write and trace them (`OrderTracker`).
        clock: monotonic seconds for order latencies.
    """

    def __init__(
        self,
        engine: Engine,
        telemetry: Telemetry | None = None,
        *,
        metrics: Metrics | None = None,
        trace_orders: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        tracer = telemetry.tracer if telemetry is not None else None
        policy = telemetry.settings.redaction if telemetry is not None else DEFAULT_POLICY
        if metrics is None:
            metrics = telemetry.metrics if telemetry is not None else Metrics()
        self.metrics = metrics
        self.spans = SessionSpans(tracer)
        self.orders = OrderTracker(tracer, metrics, clock=clock, auto=trace_orders)
        self.observers: tuple[SessionObserver, ...] = (
            LogObserver(policy),
            MetricsObserver(metrics),
            self.spans,
            self.orders,
        )
        self._attached: set[str] = set()

    def attach_new(self) -> None:
        """Attach the observers to every session not yet observed."""
        for session_id, handle in list(self.engine.sessions.items()):
            if session_id not in self._attached:
                for observer in self.observers:
                    handle.add_observer(observer)
                self._attached.add(session_id)

    def start(self) -> None:
        """Watch the engine's statistics and observe its sessions."""
        self.metrics.watch(self.engine)
        self.attach_new()

    def stop(self) -> None:
        """Detach everything and end the spans still open."""
        for session_id in self._attached:
            handle = self.engine.sessions.get(session_id)
            if handle is not None:
                for observer in self.observers:
                    handle.remove_observer(observer)
        self._attached.clear()
        self.metrics.unwatch(self.engine)
        self.spans.close()
        self.orders.close()


async def observe(
    engine: Engine,
    telemetry: Telemetry | None = None,
    *,
    metrics: Metrics | None = None,
    trace_orders: bool = True,
    rescan: float = 1.0,
    task_status: trio.TaskStatus[Observation] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Observe `engine` until cancelled: logs, metrics and spans for every session.

    Start it right after the engine opens, before the first connection, so nothing is missed:
    ``observation = await nursery.start(observe, engine, telemetry)``. Sessions added to the
    running engine are picked up within `rescan` seconds. Without `telemetry`, the global
    OpenTelemetry providers are used (no-ops unless something configured them).
    """
    observation = Observation(engine, telemetry, metrics=metrics, trace_orders=trace_orders)
    observation.start()
    try:
        task_status.started(observation)
        while True:
            await trio.sleep(rescan)
            observation.attach_new()
    finally:
        observation.stop()

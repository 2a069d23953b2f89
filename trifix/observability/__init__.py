"""Observability: structured logs with redaction, OpenTelemetry metrics and traces, health,
and the operations HTTP server (``GET /health``, ``GET /metrics``).

The CLI configures everything once with `setup`, then runs `observe` and `serve_http` in the
engine's nursery. Library code (the trading layer) uses `Metrics` and `OrderTracker` through
the `Telemetry` it is given; only `setup` touches the OpenTelemetry SDK.
"""

from trifix.observability.health import health, http_status, session_health
from trifix.observability.http import HttpApp, Request, Response, build_app, serve_http
from trifix.observability.logs import ConsoleFormatter, JsonFormatter, configure_logging
from trifix.observability.metrics import Metrics, MetricsObserver
from trifix.observability.observe import Observation, observe
from trifix.observability.redact import (
    DEFAULT_POLICY,
    RedactionPolicy,
    redact,
    redact_text,
    sanitize,
)
from trifix.observability.rejects import Reject, reject_of
from trifix.observability.sessionlog import LogObserver
from trifix.observability.setup import OtlpMissingError, Telemetry, TelemetrySettings, setup
from trifix.observability.tracing import OrderTracker, SessionSpans

__all__ = [
    "DEFAULT_POLICY",
    "ConsoleFormatter",
    "HttpApp",
    "JsonFormatter",
    "LogObserver",
    "Metrics",
    "MetricsObserver",
    "Observation",
    "OrderTracker",
    "OtlpMissingError",
    "RedactionPolicy",
    "Reject",
    "Request",
    "Response",
    "SessionSpans",
    "Telemetry",
    "TelemetrySettings",
    "build_app",
    "configure_logging",
    "health",
    "http_status",
    "observe",
    "redact",
    "redact_text",
    "reject_of",
    "sanitize",
    "serve_http",
    "session_health",
    "setup",
]

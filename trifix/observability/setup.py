"""Configuring the OpenTelemetry SDK and the logs: what the CLI calls once at start.

    telemetry = setup(TelemetrySettings(log_level="INFO", traces="console"))
    try:
        async with open_engine(spec) as engine, trio.open_nursery() as nursery:
            await nursery.start(observe, engine, telemetry)
            await nursery.start(partial(serve_http, engine, registry=telemetry.registry))
            ...
    finally:
        telemetry.shutdown()

Library code never imports the SDK: it gets its meter and tracer from the `Telemetry` this
returns (or from the OpenTelemetry globals, which `setup` installs unless told not to).
"""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry

from trifix.observability.logs import LogFormat, configure_logging, restore_logging
from trifix.observability.metrics import Metrics
from trifix.observability.redact import DEFAULT_POLICY, RedactionPolicy

__all__ = ["OtlpMissingError", "Telemetry", "TelemetrySettings", "TraceExporter", "setup"]

TraceExporter = Literal["off", "console", "otlp"]
_OTLP_PACKAGE = "opentelemetry.exporter.otlp.proto.http"


class OtlpMissingError(RuntimeError):
    """OTLP export was asked for but its optional package is not installed."""


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """How to set up logs, metrics and traces.

    The gateway config maps onto it: ``log_level`` -> `log_level`, ``metrics.enabled`` ->
    `metrics`, ``metrics.port`` -> the port given to `serve_http`.
    """

    service_name: str = "trifix"
    log_level: str = "INFO"
    log_format: LogFormat = "console"
    metrics: bool = True
    """Expose metrics for Prometheus (`Telemetry.registry`)."""
    traces: TraceExporter = "off"
    """Where spans go: nowhere, the console (stderr), or OTLP (needs ``trifix[otlp]``)."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP base URL (``http://collector:4318``); None: the exporter's default or the
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` variable. With traces="otlp", metrics go there too."""
    otlp_metrics_interval: float = 15.0
    install_global: bool = True
    """Also install the providers as the OpenTelemetry globals (for other instrumentation)."""
    redaction: RedactionPolicy = DEFAULT_POLICY


@dataclass(slots=True)
class Telemetry:
    """What `setup` configured; pass it to `observe`, and `registry` to `serve_http`."""

    settings: TelemetrySettings
    meter_provider: MeterProvider
    tracer_provider: TracerProvider
    registry: CollectorRegistry | None
    """The Prometheus registry `/metrics` renders (None with metrics off)."""
    metrics: Metrics
    tracer: Tracer
    log_handler: logging.Handler

    def shutdown(self) -> None:
        """Flush and stop the exporters and remove the log handler."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        restore_logging(self.log_handler)


def _otlp(module: str, name: str, endpoint: str | None, path: str) -> Any:
    try:
        exporter_module = importlib.import_module(f"{_OTLP_PACKAGE}.{module}")
    except ImportError as exc:
        raise OtlpMissingError(
            "traces: otlp needs the OTLP exporter: pip install 'trifix[otlp]'"
        ) from exc
    cls = getattr(exporter_module, name)
    if endpoint is None:
        return cls()
    return cls(endpoint=endpoint.rstrip("/") + path)


def setup(settings: TelemetrySettings, *, log_stream: TextIO | None = None) -> Telemetry:
    """Configure logging and the OpenTelemetry SDK as `settings` say.

    Args:
        settings: what to set up.
        log_stream: where log lines and console spans go (stderr by default).

    Raises:
        OtlpMissingError: traces="otlp" without the optional exporter package.
        ValueError: an unknown log level, log format or trace exporter.
    """
    if settings.traces not in ("off", "console", "otlp"):
        raise ValueError(f"traces {settings.traces!r}: use 'off', 'console' or 'otlp'")
    handler = configure_logging(
        settings.log_level, settings.log_format, stream=log_stream, policy=settings.redaction
    )
    resource = Resource.create({SERVICE_NAME: settings.service_name})
    processors: list[SpanProcessor] = []
    readers: list[MetricReader] = []
    if settings.traces == "console":
        out = log_stream if log_stream is not None else sys.stderr
        console: SpanExporter = ConsoleSpanExporter(out=out)
        processors.append(SimpleSpanProcessor(console))
    elif settings.traces == "otlp":
        span_exporter = _otlp(
            "trace_exporter", "OTLPSpanExporter", settings.otlp_endpoint, "/v1/traces"
        )
        metric_exporter = _otlp(
            "metric_exporter", "OTLPMetricExporter", settings.otlp_endpoint, "/v1/metrics"
        )
        processors.append(BatchSpanProcessor(span_exporter))
        interval = int(settings.otlp_metrics_interval * 1000)
        readers.append(
            PeriodicExportingMetricReader(metric_exporter, export_interval_millis=interval)
        )
    registry: CollectorRegistry | None = None
    if settings.metrics:
        registry = CollectorRegistry()
        readers.append(PrometheusMetricReader(scope_info_enabled=False, registry=registry))
    tracer_provider = TracerProvider(resource=resource)
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    if settings.install_global:
        otel_trace.set_tracer_provider(tracer_provider)
        otel_metrics.set_meter_provider(meter_provider)
    return Telemetry(
        settings=settings,
        meter_provider=meter_provider,
        tracer_provider=tracer_provider,
        registry=registry,
        metrics=Metrics(meter_provider.get_meter("trifix")),
        tracer=tracer_provider.get_tracer("trifix"),
        log_handler=handler,
    )

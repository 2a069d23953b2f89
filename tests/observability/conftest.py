"""Helpers for observability tests: in-memory OpenTelemetry SDK pieces, a fake session handle,
a tiny HTTP client for 127.0.0.1, and log capture through `configure_logging`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import trio
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from trifix.core.session import Session
from trifix.core.settings import Role, SessionSettings
from trifix.observability import Metrics, configure_logging
from trifix.runtime import SessionHandle, SessionSpec
from trifix.runtime.store_writer import StoreWriter
from trifix.store import MemoryStore

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class Otel:
    """SDK providers that keep what they record, for assertions."""

    spans: InMemorySpanExporter
    tracer_provider: TracerProvider
    reader: InMemoryMetricReader
    registry: CollectorRegistry
    meter_provider: MeterProvider
    metrics: Metrics

    def points(self, name: str) -> list[tuple[dict[str, object], object]]:
        """(attributes, data point) of metric `name` as of now."""
        data = self.reader.get_metrics_data()
        out = []
        assert data is not None
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        out.extend((dict(p.attributes or {}), p) for p in metric.data.data_points)
        return out

    def finished(self, name: str) -> list[object]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]


@pytest.fixture
def otel() -> Iterator[Otel]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    registry = CollectorRegistry()
    prometheus = PrometheusMetricReader(scope_info_enabled=False, registry=registry)
    meter_provider = MeterProvider(metric_readers=[reader, prometheus])
    metrics = Metrics(meter_provider.get_meter("trifix"))
    yield Otel(spans, tracer_provider, reader, registry, meter_provider, metrics)
    tracer_provider.shutdown()
    meter_provider.shutdown()


class LogCapture:
    """The JSON lines the ``trifix`` loggers wrote."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def find(self, event: str) -> list[dict[str, object]]:
        return [r for r in self.records() if r.get("event") == event]


@pytest.fixture
def json_logs() -> Iterator[LogCapture]:
    stream = io.StringIO()
    handler = configure_logging("DEBUG", "json", stream=stream)
    yield LogCapture(stream)
    logger = logging.getLogger("trifix")
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def fake_handle(session_id: str = "LP") -> SessionHandle:
    """A real handle that is never connected: observers are called with it directly."""
    spec = SessionSpec(session_id, SessionSettings("GW", session_id, Role.INITIATOR))
    return SessionHandle(spec, Session(spec.settings), StoreWriter(MemoryStore()), lambda: T0, 10)


async def http_get(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to 127.0.0.1:`port`: (status, headers, body)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        parsed[key.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding") == "chunked":
        body_out = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            body_out += rest[:size]
            rest = rest[size + 2 :]
    else:
        body_out = rest
    return int(status_line.split()[1]), parsed, body_out

"""The HTTP app's routing and token check, health states, `setup` and `observe`."""

from __future__ import annotations

import functools
import io
import json
import sys
import types
from datetime import time

import pytest
import trio
import trio.testing

from tests.observability.conftest import http_get
from tests.runtime.conftest import gw_settings, lp_settings, memory_pair, trio_wall_clock
from trifix.observability import (
    HttpApp,
    OtlpMissingError,
    Request,
    Response,
    TelemetrySettings,
    health,
    observe,
    serve_http,
    setup,
)
from trifix.runtime import EngineSpec, SessionSpec, open_engine
from trifix.runtime.schedule import Schedule


def request(
    path: str, method: str = "GET", client: str | None = "10.1.1.1", **headers: str
) -> Request:
    return Request(method, path, "", headers, b"", client)


async def changed(_request: Request) -> Response:
    return Response.json({"changed": True})


async def test_token_protects_state_changing_routes() -> None:
    app = HttpApp(token="s3cret")
    app.route("POST", "/sessions/LP/logout", changed, protected=True)
    assert (await app.handle(request("/nope"))).status == 404
    refused = await app.handle(request("/sessions/LP/logout"))
    assert refused.status == 405
    assert refused.headers["allow"] == "POST"
    no_token = await app.handle(request("/sessions/LP/logout", "POST"))
    assert no_token.status == 401
    assert "bearer" in no_token.headers["www-authenticate"].lower()
    wrong = await app.handle(request("/sessions/LP/logout", "POST", authorization="Bearer nope"))
    assert wrong.status == 401
    ok = await app.handle(request("/sessions/LP/logout", "POST", authorization="Bearer s3cret"))
    assert ok.status == 200
    assert json.loads(ok.body) == {"changed": True}

    open_app = HttpApp()
    open_app.route("POST", "/x", changed, protected=True)
    assert (await open_app.handle(request("/x", "POST", client="127.0.0.1"))).status == 200
    assert (await open_app.handle(request("/x", "POST", client="::1"))).status == 200
    for client in ("10.1.1.1", "not-an-ip", None):
        assert (await open_app.handle(request("/x", "POST", client=client))).status == 403


async def test_served_app_token_body_limit_and_websocket_refusal() -> None:
    app = HttpApp(token="s3cret")

    async def echo(req: Request) -> Response:
        return Response(200, req.body, headers={"x-query": req.query})

    app.route("POST", "/echo", echo, protected=True)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(functools.partial(serve_http, app=app, port=0))
        status, _, _ = await http_get(port, "/echo", method="POST", body=b"hi")
        assert status == 401
        auth = {"Authorization": "Bearer s3cret"}
        status, headers, body = await http_get(
            port, "/echo?a=1", method="POST", headers=auth, body=b"hi"
        )
        assert (status, body, headers["x-query"]) == (200, b"hi", "a=1")
        status, _, _ = await http_get(
            port, "/echo", method="POST", headers=auth, body=b"x" * ((1 << 20) + 1)
        )
        assert status == 413
        nursery.cancel_scope.cancel()
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    await app({"type": "websocket"}, receive, send)
    await app({"type": "http", "headers": [], "method": "GET", "path": "/"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    with pytest.raises(ValueError, match="engine or an app"):
        await serve_http()


async def test_shutdown_event_stops_the_server() -> None:
    stop = trio.Event()
    spec = EngineSpec([SessionSpec("LP", gw_settings())])
    async with open_engine(spec) as engine, trio.open_nursery() as nursery:
        port = await nursery.start(functools.partial(serve_http, engine, port=0, shutdown=stop))
        status, _, body = await http_get(port, "/health")
        assert status == 503
        assert json.loads(body)["sessions"]["LP"]["status"] == "down"
        assert (await http_get(port, "/metrics"))[0] == 404  # no registry: no metrics
        stop.set()


async def test_health_states(autojump_clock: trio.testing.MockClock) -> None:
    closed = SessionSpec("CLOSED", gw_settings(), schedule=Schedule.daily(time(10), time(11)))
    disabled = SessionSpec("OFF", gw_settings(), enabled=False)
    async with memory_pair(SessionSpec("LP", gw_settings()), SessionSpec("GW", lp_settings())) as (
        gw,
        _lp,
    ):
        await gw.add_session(closed)
        await gw.add_session(disabled)
        handle = gw.session("LP")
        await handle.wait_logged_on()
        await trio.sleep(5)
        report = health(gw)
        assert report["status"] == "healthy"
        statuses = {sid: s["status"] for sid, s in report["sessions"].items()}
        assert statuses == {"LP": "up", "CLOSED": "closed", "OFF": "disabled"}
        assert report["sessions"]["LP"]["uptime_seconds"] == 5
        assert report["sessions"]["LP"]["last_heartbeat"] == "2026-11-25T09:00:00Z"
        handle.core._gap = object()  # type: ignore[assignment]  # a ResendRequest outstanding
        assert health(gw)["sessions"]["LP"]["status"] == "degraded"
        assert health(gw)["status"] == "degraded"
        handle.core._gap = None
        handle._note_error("connect to h:1 failed: b'554=pw'")
        assert (
            health(gw)["sessions"]["LP"]["last_error"] == "connect to h:1 failed: b'554=<redacted>"
        )


async def test_observe_attaches_to_sessions_added_later(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = trio_wall_clock()
    async with open_engine(EngineSpec([SessionSpec("A", gw_settings())]), clock=clock) as engine:
        async with trio.open_nursery() as nursery:
            observation = await nursery.start(functools.partial(observe, engine, rescan=0.5))
            handle = await engine.add_session(SessionSpec("B", gw_settings(target_comp_id="B")))
            assert not handle._observers
            await trio.sleep(1)
            assert len(handle._observers) == 4
            nursery.cancel_scope.cancel()
        assert not handle._observers
        assert not engine.session("A")._observers
        assert observation.engine is engine


def test_setup_console_traces_and_metrics() -> None:
    out = io.StringIO()
    telemetry = setup(
        TelemetrySettings(traces="console", log_format="json", install_global=False), log_stream=out
    )
    try:
        telemetry.tracer.start_span("probe").end()
        telemetry.metrics.record_order_ack("LP", 0.002)
        assert telemetry.registry is not None
        from prometheus_client import generate_latest

        text = generate_latest(telemetry.registry).decode()
        assert 'fix_order_ack_latency_seconds_bucket{le="0.0025",session="LP"} 1.0' in text
    finally:
        telemetry.shutdown()
    assert '"name": "probe"' in out.getvalue()
    quiet = setup(TelemetrySettings(metrics=False, install_global=False), log_stream=out)
    assert quiet.registry is None
    quiet.shutdown()
    with pytest.raises(ValueError, match="traces"):
        setup(TelemetrySettings(traces="jaeger"), log_stream=out)  # type: ignore[arg-type]


def test_setup_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    package = "opentelemetry.exporter.otlp.proto.http"
    monkeypatch.setitem(sys.modules, f"{package}.trace_exporter", None)
    with pytest.raises(OtlpMissingError, match=r"trifix\[otlp\]"):
        setup(TelemetrySettings(traces="otlp", install_global=False), log_stream=io.StringIO())

    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    made: list[tuple[str, dict[str, str]]] = []

    def fake(name: str, base: type) -> types.ModuleType:
        module = types.ModuleType(name)

        def factory(**kwargs: str) -> object:
            made.append((name, kwargs))
            return base()

        setattr(module, "OTLPSpanExporter" if "trace" in name else "OTLPMetricExporter", factory)
        return module

    monkeypatch.setitem(
        sys.modules, f"{package}.trace_exporter", fake("trace", InMemorySpanExporter)
    )
    monkeypatch.setitem(
        sys.modules, f"{package}.metric_exporter", fake("metric", ConsoleMetricExporter)
    )
    for endpoint in ("http://collector:4318/", None):
        telemetry = setup(
            TelemetrySettings(traces="otlp", otlp_endpoint=endpoint, install_global=True),
            log_stream=io.StringIO(),
        )
        telemetry.shutdown()
    assert made[:2] == [
        ("trace", {"endpoint": "http://collector:4318/v1/traces"}),
        ("metric", {"endpoint": "http://collector:4318/v1/metrics"}),
    ]
    assert made[2:] == [("trace", {}), ("metric", {})]


def test_shutdown_gives_the_trifix_logger_back(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from trifix.observability import TelemetrySettings, setup

    logger = logging.getLogger("trifix")
    before = (logger.propagate, logger.level)
    first = setup(
        TelemetrySettings(log_level="ERROR", install_global=False), log_stream=io.StringIO()
    )
    second = setup(
        TelemetrySettings(log_level="DEBUG", install_global=False), log_stream=io.StringIO()
    )
    assert logger.propagate is False
    first.shutdown()
    second.shutdown()
    assert (logger.propagate, logger.level) == before
    with caplog.at_level(logging.WARNING, logger="trifix"):
        logging.getLogger("trifix.runtime").warning("seen by the application's logging again")
    assert "seen by the application's logging again" in caplog.text

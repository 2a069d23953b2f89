"""A gateway engine and the mini LP over TCP on 127.0.0.1, observed: /health, /metrics, logs
and spans after real traffic."""

from __future__ import annotations

import functools
import json
from datetime import timedelta

import trio

from simulator import run_mini_lp
from tests.observability.conftest import LogCapture, Otel, http_get
from tests.runtime.conftest import gw_settings, lp_settings
from tests.simulator.test_mini import new_order
from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.observability import Observation, observe, serve_http
from trifix.runtime import EngineSpec, ReconnectPolicy, SessionSpec, open_engine

SLOW_RETRY = ReconnectPolicy(initial_delay=timedelta(seconds=30), jitter=0)
HEALTH_KEYS = {
    "status",
    "state",
    "connected",
    "logged_in",
    "last_heartbeat",
    "sequences_in_sync",
    "uptime_seconds",
    "next_sender_seq",
    "next_target_seq",
    "last_error",
}


async def _answer(handle_events: trio.MemoryReceiveChannel, cl_ord_id: str) -> Message:  # type: ignore[type-arg]
    with trio.fail_after(5):
        async for event in handle_events:
            if (
                isinstance(event, AppMessageReceived)
                and event.message.get(Tag.CL_ORD_ID) == cl_ord_id.encode()
            ):
                return event.message
    raise AssertionError("events ended")


async def test_health_metrics_logs_and_spans_after_traffic(
    otel: Otel, json_logs: LogCapture
) -> None:
    lp_spec = EngineSpec([SessionSpec("GW", lp_settings())], listen_port=0)
    mini_scope = trio.CancelScope()

    async with open_engine(lp_spec) as lp, trio.open_nursery() as lp_nursery:

        async def mini_lp() -> None:
            with mini_scope:
                await run_mini_lp(lp, "GW", tick_interval=60)

        lp_nursery.start_soon(mini_lp)
        assert lp.listen_port is not None
        gw_spec = EngineSpec(
            [
                SessionSpec(
                    "LP", gw_settings(), hosts=[("127.0.0.1", lp.listen_port)], reconnect=SLOW_RETRY
                )
            ]
        )
        async with open_engine(gw_spec) as gw, trio.open_nursery() as nursery:
            observation: Observation = await nursery.start(
                functools.partial(observe, gw, metrics=otel.metrics)
            )
            observation.spans.tracer = otel.tracer_provider.get_tracer("test")
            observation.orders.tracer = otel.tracer_provider.get_tracer("test")
            port = await nursery.start(
                functools.partial(serve_http, gw, registry=otel.registry, port=0, token="s3cret")
            )
            handle = gw.session("LP")
            with trio.fail_after(5):
                await handle.wait_logged_on()

            status, headers, body = await http_get(port, "/health")
            report = json.loads(body)
            assert (status, headers["content-type"]) == (200, "application/json")
            assert report["status"] == "healthy"
            entry = report["sessions"]["LP"]
            assert set(entry) == HEALTH_KEYS
            assert entry["status"] == "up"
            assert entry["logged_in"]
            assert entry["connected"]
            assert entry["sequences_in_sync"] is True
            assert entry["last_heartbeat"].endswith("Z")
            assert entry["last_error"] is None

            await handle.send(new_order("ORD-1", "1", 1000))
            answer = await _answer(handle.events(), "ORD-1")
            assert answer.msg_type == MsgType.EXECUTION_REPORT

            status, headers, body = await http_get(port, "/metrics")
            text = body.decode()
            assert status == 200
            assert headers["content-type"].startswith("text/plain")
            assert 'fix_messages_sent_total{msg_type="D",session="LP"} 1.0' in text
            assert 'fix_messages_received_total{msg_type="8",session="LP"}' in text
            assert 'fix_messages_received_total{msg_type="A",session="LP"} 1.0' in text
            assert 'fix_session_logged_on{session="LP"} 1.0' in text
            assert 'fix_order_ack_latency_seconds_count{session="LP"} 1.0' in text
            assert 'fix_sequence_gaps_total{session="LP"} 0.0' in text

            orders = otel.finished("fix.order")
            assert len(orders) == 1
            attributes = orders[0].attributes  # type: ignore[attr-defined]
            assert attributes["fix.cl_ord_id"] == "ORD-1"
            assert attributes["fix.symbol"] == "EURUSD"
            assert attributes["fix.session"] == "LP"
            assert len(otel.finished("fix.logon")) == 1

            # The LP goes away: the only session is down, so the gateway is unhealthy.
            mini_scope.cancel()
            await lp.session("GW").logout("test over")
            with trio.fail_after(5):
                await handle.wait_disconnected()
            status, _headers, body = await http_get(port, "/health")
            report = json.loads(body)
            assert status == 503
            assert report["status"] == "unhealthy"
            assert report["sessions"]["LP"]["status"] == "down"
            nursery.cancel_scope.cancel()
        lp_nursery.cancel_scope.cancel()

    levels = {(r["event"], r["level"]) for r in json_logs.records() if "event" in r}
    assert ("Connected", "INFO") in levels
    assert ("LoggedOn", "INFO") in levels
    assert ("LogoutReceived", "INFO") in levels
    directions = {
        r.get("direction") for r in json_logs.records() if r["logger"] == "trifix.messages"
    }
    assert directions == {"in", "out"}

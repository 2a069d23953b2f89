"""`trifix run`: the demo end to end through the CLI, stopping, configurations, the live view."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
from rich.console import Console
from typer.testing import CliRunner

import trifix.tools.live as live
import trifix.tools.run as running
from trifix.cli import app
from trifix.core.events import AppMessageReceived, HeartbeatSent, LoggedOn
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.state import SessionState
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, SessionSpec, SessionStatistics
from trifix.store import LmdbStore

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
runner = CliRunner()


def test_demo_shows_logon_orders_and_market_data(tmp_path: Path) -> None:
    store = tmp_path / "store"
    args = ["run", "--no-ui", "--duration", "3", "--store-dir", str(store), "--web-port", "0"]
    result = runner.invoke(app, [*args, "--ws-port", "0"])
    assert result.exit_code == 0, result.output
    log = result.stderr
    assert "embedded LP listening on 127.0.0.1:" in log
    assert re.search(r"run  dashboard: http://127\.0\.0\.1:\d+/ \(WebSocket API on ws://", log)
    assert "LP   logged on (heartbeat 10 s, sequence numbers reset)" in log
    assert "<- MarketDataSnapshot EURUSD 1.08500 / 1.08510" in log
    assert "<- MarketDataSnapshot GBPUSD 1.26500 / 1.26515" in log
    # A market order fills at the offer of the moment: the seeded random walk may have ticked.
    assert re.search(r"<- ExecutionReport ORD-1 Fill 1000000 @ 1\.08\d{3}\n", log), log
    assert "<- ExecutionReport ORD-2 Fill 500000 @ 1.26450" in log
    # The replace and the cancel go through the gateway, which names their ClOrdIDs itself.
    assert re.search(r"<- ExecutionReport \S+ Replaced \(was ORD-3\): buy 3000000 EURUSD", log)
    assert re.search(r"<- ExecutionReport \S+ Canceled", log)
    assert "-> cancel ORD-1 (already filled)" in log
    assert "refused by the gateway before sending" in log  # never sent: the LP needs no reject
    assert "run  market data: EURUSD " in log  # the incrementals, summarised each second
    assert "3 s elapsed: logging out" in log
    assert "LP   <- Logout" in log
    assert "LP   stopped: 9 messages sent" in log
    assert "Reject of seq" not in log  # nothing was invalid in either direction
    assert (store / "data.mdb").exists()


def test_ctrl_c_logs_out_and_exits_0_on_a_store_used_before(tmp_path: Path) -> None:
    # A real process and a real SIGINT; the store already holds a session (from a first run),
    # so this also shows that a second `trifix run` starts cleanly.
    store = tmp_path / "store"
    first = runner.invoke(app, ["run", "--no-ui", "--duration", "0.5", "--store-dir", str(store)])
    assert first.exit_code == 0, first.output
    command = [sys.executable, "-m", "trifix", "run", "--no-ui", "--store-dir", str(store)]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "logged on" in line:
                break
        os.kill(proc.pid, signal.SIGINT)
        _, rest = proc.communicate(timeout=10)
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    assert "SIGINT: logging out" in log
    assert "LP   disconnected: logout completed" in log
    assert "Traceback" not in log


async def test_a_second_signal_stops_at_once() -> None:
    runner_ = running._Runner(
        running.RunOptions(ui=False), Console(file=io.StringIO()), lambda _: None
    )
    send, receive = trio.open_memory_channel[int](2)
    with trio.CancelScope() as everything:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(runner_.watch_signals, receive, everything)
            await send.send(signal.SIGINT)
            await runner_.stopping.wait()
            assert runner_.forced_by is None
            await send.send(signal.SIGTERM)
            await trio.sleep_forever()
    assert everything.cancelled_caught
    assert runner_.forced_by == signal.SIGTERM
    assert [line.split("  ", 1)[1] for line in runner_.tracker.recent] == [
        "run  SIGINT: logging out (send it again to stop at once)",
        "run  SIGTERM again: stopping at once",
    ]


def _acceptor_only(store: Path | None = None) -> EngineSpec:
    settings = SessionSettings("GATEWAY", "CLIENT", Role.ACCEPTOR)
    return EngineSpec([SessionSpec("CLIENT", settings)], listen_port=0, store_path=store)


def test_with_a_config_runs_its_sessions_and_no_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []

    def load(path: Path) -> running.GatewaySetup:
        seen.append(path)
        return running.GatewaySetup(
            _acceptor_only(tmp_path / "from-config"), running.TelemetryOptions()
        )

    monkeypatch.setattr(running, "load_gateway_config", load)
    store = tmp_path / "override"
    args = ["run", "gw.yaml", "--no-ui", "--duration", "0.3", "--store-dir", str(store)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen == [Path("gw.yaml")]
    assert "sessions CLIENT; listening on 127.0.0.1:" in result.stderr
    assert f"store: {store}" in result.stderr
    assert "CLIENT stopped: 0 messages sent" in result.stderr
    assert "embedded LP" not in result.stderr
    assert (store / "data.mdb").exists()
    assert not (tmp_path / "from-config").exists()


def test_a_bad_config_is_reported_with_exit_code_1(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["run", str(missing), "--no-ui"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"trifix run: {missing}")


def test_without_the_config_package_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trifix.config", None)  # makes the import fail
    result = runner.invoke(app, ["run", "gw.yaml", "--no-ui"])
    assert result.exit_code == 1
    assert "reading a configuration file needs trifix.config" in result.stderr
    assert "run `trifix run` with no file for the demo" in result.stderr


def test_a_store_in_use_is_reported_with_exit_code_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        running,
        "load_gateway_config",
        lambda path: running.GatewaySetup(_acceptor_only(), running.TelemetryOptions()),
    )
    held = LmdbStore(tmp_path)
    try:
        held.open_session("CLIENT", T0)  # as another engine would
        args = ["run", "gw.yaml", "--no-ui", "--duration", "1", "--store-dir", str(tmp_path)]
        result = runner.invoke(app, args)
    finally:
        held.close()
    assert result.exit_code == 1
    assert result.stderr.startswith(f"trifix run: store {tmp_path} is already open")
    assert "Traceback" not in result.output


# -- the live view --------------------------------------------------------------------------------
def _stats(**changes: Any) -> SessionStatistics:
    base = SessionStatistics(
        id="LP",
        state=SessionState.ACTIVE,
        enabled=True,
        connected=True,
        logged_on=True,
        peer="127.0.0.1:9876",
        next_sender_seq=12,
        next_target_seq=34,
        messages_in=30,
        messages_out=11,
        app_messages_in=0,
        bytes_in=4096,
        connects=1,
        reconnect_attempts=0,
        logged_on_since=T0,
        last_received=T0,
        last_error=None,
    )
    return replace(base, **changes)


def _report(**fields: object) -> Message:
    base: dict[int, object] = {
        Tag.ORDER_ID: "O1",
        Tag.CL_ORD_ID: "ORD-1",
        Tag.EXEC_ID: "E2",
        Tag.EXEC_TYPE: "F",
        Tag.ORD_STATUS: "2",
        Tag.SYMBOL: "EURUSD",
        Tag.SIDE: "1",
        Tag.ORDER_QTY: "1000000",
        Tag.ORD_TYPE: "1",
        Tag.LAST_QTY: "1000000",
        Tag.LAST_PX: "1.08510",
        Tag.LEAVES_QTY: "0",
        Tag.CUM_QTY: "1000000",
        Tag.AVG_PX: "1.08510",
    }
    return Message.new(MsgType.EXECUTION_REPORT, *base.items(), *fields.items())  # type: ignore[arg-type]


def test_live_view_shows_sessions_book_orders_and_events() -> None:
    tracker = live.Tracker(lambda: T0)
    snapshot = Message.new(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, (Tag.MD_REQ_ID, "MD-1"))
    snapshot.set(Tag.SYMBOL, "EURUSD").add_group(
        Tag.NO_MD_ENTRIES,
        [
            [(Tag.MD_ENTRY_TYPE, "0"), (Tag.MD_ENTRY_PX, "1.08500")],
            [(Tag.MD_ENTRY_TYPE, "1"), (Tag.MD_ENTRY_PX, "1.08510")],
        ],
    )
    tracker.on_event("LP", LoggedOn(heartbeat_interval=10, reset=True))
    tracker.on_event("LP", AppMessageReceived(snapshot))
    tracker.on_event("LP", AppMessageReceived(_report()))
    tracker.on_event("LP", HeartbeatSent(test_req_id=None))
    rates = live.RateMeter()
    rates.sample([_stats(messages_in=10, messages_out=1)], at=0.0)
    rates.sample([_stats()], at=2.0)
    sim = _stats(id="GW", logged_on=False, state=SessionState.DISCONNECTED, last_error="boom")
    stats = [_stats(), sim]
    console = Console(file=io.StringIO(), width=200, color_system=None)
    now = T0 + timedelta(seconds=1.5)
    console.print(live.render(stats, tracker, rates, now=now, title="demo", labels={"GW": "sim"}))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    lines = out.splitlines()
    assert lines[0].startswith("demo")
    (lp_row,) = [line for line in lines if line.startswith("│ LP ")]
    cells = [c.strip() for c in lp_row.strip("│").split("│")]
    # id, state, logged on, next out, next in, msg/s in, msg/s out, heartbeat, received...
    assert cells == [
        "LP",
        "active",
        "yes",
        "12",
        "34",
        "10.0",
        "5.0",
        "1.5s ago",
        "1.5s ago",
        "0",
        "",
    ]
    (sim_row,) = [line for line in lines if line.startswith("│ sim ")]
    assert [c.strip() for c in sim_row.strip("│").split("│")][1:3] == ["disconnected", "no"]
    assert "boom" in sim_row
    assert any(
        line.split() == ["│", "EURUSD", "│", "1.08500", "│", "1.08510", "│", "1", "│"]
        for line in lines
    )
    assert any("ORD-1" in line and "filled" in line and "1.08510" in line for line in lines)
    assert "09:30:00.000  LP   <- ExecutionReport ORD-1 Fill 1000000 @ 1.08510" in out
    assert "09:30:00.000  LP   logged on (heartbeat 10 s, sequence numbers reset)" in out


# -- hot reload ---------------------------------------------------------------------------------
_RELOAD_CONFIG = """
store: {{path: null}}
listen: {{host: 127.0.0.1, port: 0}}
sessions:
  - id: GW
    role: acceptor
    sender_comp_id: LP
    target_comp_id: GW
    enabled: {enabled}
"""


async def test_run_applies_a_reloadable_edit_of_its_configuration(tmp_path: Path) -> None:
    from trifix.config import load_engine_spec

    path = tmp_path / "gw.yaml"
    path.write_text(_RELOAD_CONFIG.format(enabled="true"))
    lines: list[str] = []
    options = running.RunOptions(load_engine_spec(path), ui=False, config_path=path, duration=None)
    runner_ = running._Runner(options, Console(file=io.StringIO()), lines.append)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner_.main)
        with trio.fail_after(15):
            while not any("sessions GW" in line for line in lines):  # noqa: ASYNC110
                await trio.sleep(0.05)
            await trio.sleep(2.1)  # let the watcher note the file's first version as old
            path.write_text(_RELOAD_CONFIG.format(enabled="false"))
            while not any("GW: applied enabled" in line for line in lines):  # noqa: ASYNC110
                await trio.sleep(0.05)
            assert not runner_.stopping.is_set()
            await trio.sleep(2.1)
            path.write_text(":\n  - not: [valid")
            while not any("edit not applied" in line for line in lines):  # noqa: ASYNC110
                await trio.sleep(0.05)
        runner_.request_stop("test done")
    refused = [line for line in lines if "edit not applied" in line]
    assert "gw.yaml" in refused[0]


async def test_telemetry_serves_health_and_metrics_while_running() -> None:
    from tests.observability.conftest import http_get

    options = running.RunOptions(
        _acceptor_only(),
        ui=False,
        telemetry=running.TelemetryOptions(http_port=0, log_level="WARNING"),
    )
    runner_ = running._Runner(options, Console(file=io.StringIO()), lambda _: None)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner_.main)
        with trio.fail_after(10):
            while not any("health: http://" in line for line in runner_.tracker.recent):  # noqa: ASYNC110
                await trio.sleep(0.01)
        line = next(line for line in runner_.tracker.recent if "health: http://" in line)
        port = int(line.split("/health")[0].rsplit(":", 1)[1])
        status, _, body = await http_get(port, "/health")
        assert status == 503  # the acceptor's one session has no client: unhealthy
        assert json.loads(body)["sessions"]["CLIENT"]["connected"] is False
        status, _, body = await http_get(port, "/metrics")
        assert status == 200
        assert b"fix_sequence_gaps_total" in body
        runner_.request_stop("test over")
    assert runner_.telemetry is not None


async def test_a_port_in_use_is_reported_and_the_gateway_runs_on() -> None:
    with trio.socket.socket() as taken:
        await taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = running.RunOptions(
            _acceptor_only(), ui=False, telemetry=running.TelemetryOptions(http_port=port)
        )
        runner_ = running._Runner(options, Console(file=io.StringIO()), lambda _: None)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(runner_.main)
            with trio.fail_after(10):
                while not any("not serving" in line for line in runner_.tracker.recent):  # noqa: ASYNC110
                    await trio.sleep(0.01)
            runner_.request_stop("test over")
    assert any("(pick another port)" in line for line in runner_.tracker.recent)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-format", "xml"], "--log-format 'xml': use 'console' or 'json'"),
        (["--traces", "jaeger"], "--traces 'jaeger': use 'off', 'console' or 'otlp'"),
        (["--log-level", "loud"], "--log-level 'loud': use DEBUG, INFO, WARNING or ERROR"),
    ],
)
def test_bad_telemetry_flags_are_usage_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", "--no-ui", *args])
    assert result.exit_code == 2
    assert f"trifix run: {message}" in result.stderr


def test_the_config_metrics_block_turns_the_endpoints_on(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(
        "log_level: warning\nmetrics:\n  enabled: true\n  port: 9999\nsessions:\n"
        "  - id: CLIENT\n    sender_comp_id: GATEWAY\n    target_comp_id: CLIENT\n"
        "    role: acceptor\nlisten:\n  port: 0\n"
    )
    setup = running.load_gateway_config(path)
    assert [s.id for s in setup.spec.sessions] == ["CLIENT"]
    assert (setup.telemetry.http_port, setup.telemetry.log_level) == (9999, "WARNING")
    assert (setup.trading, setup.web) == (None, None)


async def test_a_config_with_trading_and_web_runs_the_gateway_and_dashboard(
    tmp_path: Path,
) -> None:
    from simulator import run_mini_lp
    from tests.observability.conftest import http_get
    from trifix.runtime import open_engine

    lp_spec = EngineSpec(
        [SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))], listen_port=0
    )
    async with open_engine(lp_spec) as lp, trio.open_nursery() as nursery:
        nursery.start_soon(run_mini_lp, lp, "GW")
        path = tmp_path / "gw.yaml"
        path.write_text(
            "store: {path: null}\n"
            "sessions:\n"
            f"  - {{id: LP1, host: 127.0.0.1, port: {lp.listen_port}, sender_comp_id: GW,"
            " target_comp_id: LP, fix: {reset_on_logon: true}}\n"
            "trading:\n"
            "  lps:\n"
            "    - name: LP1\n"
            "      order_session: LP1\n"
            "      md_session: LP1\n"
            "      subscribe: [EURUSD]\n"
            "      instruments: [{symbol: EURUSD, tick_size: '0.00001', lot_size: 1000}]\n"
            "web: {enabled: true, http_port: 0, ws_port: 0}\n"
        )
        setup = running.load_gateway_config(path)
        assert setup.trading is not None
        assert [lp.name for lp in setup.trading.lps] == ["LP1"]
        options = running.RunOptions(setup.spec, ui=False, trading=setup.trading, web=setup.web)
        runner_ = running._Runner(options, Console(file=io.StringIO()), lambda _: None)
        async with trio.open_nursery() as inner:
            inner.start_soon(runner_.main)
            recent = runner_.tracker.recent
            with trio.fail_after(10):
                while not any("MarketDataSnapshot EURUSD" in line for line in recent):  # noqa: ASYNC110
                    await trio.sleep(0.01)
            line = next(line for line in recent if "dashboard: http://" in line)
            port = int(line.split("dashboard: http://127.0.0.1:")[1].split("/")[0])
            status, _, body = await http_get(port, "/api/sessions")
            assert status == 200
            assert b"LP1" in body
            status, _, _ = await http_get(port, "/")
            assert status == 200
            runner_.request_stop("test over")
        nursery.cancel_scope.cancel()


def test_the_simulator_example_configs_are_valid() -> None:
    from trifix.config import load

    config = load(Path(__file__).parents[1] / "examples" / "gateway-sim.yaml")
    assert config.trading is not None
    assert config.web.enabled
    setup = running.load_gateway_config(Path(__file__).parents[1] / "examples" / "gateway-sim.yaml")
    assert setup.trading is not None
    assert setup.trading.lps[0].instruments[0].symbol == "EURUSD"
    assert setup.trading.subscriptions[0].symbols == ("EURUSD", "USDJPY")

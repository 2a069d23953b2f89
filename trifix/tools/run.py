"""`trifix run`: run the gateway's sessions (the logic behind the command).

With no configuration, one process runs two engines: an embedded simulated LP (the bundled
`simulator.run_mini_lp`, an acceptor on a free port of 127.0.0.1, keeping nothing between runs)
and the gateway (an initiator session "LP" with its LMDB store). A short demo then subscribes to
EURUSD and GBPUSD and places a market order, a marketable limit order, and a resting order that
it replaces and cancels, so a newcomer sees each flow end to end. With a configuration, the
gateway runs the configured sessions and no demo.

Every event of the gateway's sessions goes to a `trifix.tools.live.Tracker`; the live view
(`trifix.tools.live.render`) draws it, or without the view the tracker writes one line per event.

Stopping: the first SIGINT or SIGTERM (or the end of ``--duration``) leaves the engine blocks,
which log every session out within its logout timeout and close the store; a second signal
cancels everything at once.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

import trio
from rich.console import Console
from rich.live import Live

from trifix.core.errors import ConfigError
from trifix.core.settings import Role, SessionSettings
from trifix.observability import Telemetry, TelemetrySettings, observe, serve_http, setup
from trifix.runtime import (
    Engine,
    EngineSpec,
    ReconnectPolicy,
    SessionHandle,
    SessionSpec,
    open_engine,
    system_clock,
)
from trifix.tools.gateway_run import (
    DEMO_LP,
    Subscriptions,
    TrackerObserver,
    TradingDemo,
    lp_configs,
)
from trifix.tools.live import REFRESH, RateMeter, Tracker, render
from trifix.trading import Gateway, LPConfig, open_gateway
from trifix.web import serve_web

__all__ = [
    "DEMO_SYMBOLS",
    "ConfigUnavailableError",
    "GatewaySetup",
    "RunOptions",
    "TelemetryOptions",
    "TradingOptions",
    "WebOptions",
    "load_gateway_config",
    "run",
]

DEMO_SYMBOLS = ("EURUSD", "GBPUSD")
_DEMO_RECONNECT = ReconnectPolicy(
    initial_delay=timedelta(milliseconds=500), max_delay=timedelta(seconds=5)
)


class ConfigUnavailableError(ConfigError):
    """`trifix run CONFIG` needs `trifix.config`, which this installation lacks."""


@dataclass(frozen=True, slots=True)
class TelemetryOptions:
    """Logs, metrics, traces and the operations HTTP server of one `trifix run`.

    Attributes:
        http_port: serve ``GET /health`` and ``GET /metrics`` on this port (0 picks a free
            one); None serves nothing.
        http_host: the address to bind (loopback unless asked otherwise).
        token: a bearer token that endpoints changing state require.
        log_level: DEBUG (every FIX message), INFO, WARNING or ERROR.
        log_format: "console" or "json".
        traces: "off", "console" or "otlp" (OTLP needs the ``trifix[otlp]`` extra).
    """

    http_port: int | None = None
    http_host: str = "127.0.0.1"
    token: str | None = None
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"
    traces: Literal["off", "console", "otlp"] = "off"


@dataclass(frozen=True, slots=True)
class WebOptions:
    """The dashboard and the WebSocket API (with /health and /metrics on `http_port`).

    Attributes:
        http_port: the dashboard's port (0 picks a free one).
        ws_port: the WebSocket API's port (0 picks a free one).
        host: the address both bind to.
        token: a bearer token that requests changing state must carry.
    """

    http_port: int = 8080
    ws_port: int = 8081
    host: str = "127.0.0.1"
    token: str | None = None


@dataclass(frozen=True, slots=True)
class TradingOptions:
    """The trading gateway over the engine's sessions: its LPs and start-up subscriptions."""

    lps: tuple[LPConfig, ...]
    subscriptions: tuple[Subscriptions, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewaySetup:
    """Everything a configuration file asks `trifix run` for."""

    spec: EngineSpec
    telemetry: TelemetryOptions
    trading: TradingOptions | None = None
    web: WebOptions | None = None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What `trifix run` was asked to do.

    Attributes:
        spec: the configured engine, or None for the embedded LP and the demo.
        store_dir: the gateway's LMDB directory (overrides the configuration's when set).
        ui: show the live view (else write log lines to `log`).
        duration: stop after this many seconds; None runs until a signal.
        config_path: the configuration file `spec` came from; it is watched, and reloadable
            edits (schedules, reconnection, limits, enabling, new sessions) apply while running.
        telemetry: logs, metrics, traces and the HTTP endpoints; None leaves them off.
        trading: the trading gateway's LPs; None runs the sessions without one (the demo
            always has its own).
        web: serve the dashboard and the WebSocket API (needs a gateway); None does not.
    """

    spec: EngineSpec | None = None
    store_dir: Path | None = None
    ui: bool = True
    duration: float | None = None
    config_path: Path | None = None
    telemetry: TelemetryOptions | None = None
    trading: TradingOptions | None = None
    web: WebOptions | None = None


def load_gateway_config(path: Path) -> GatewaySetup:
    """The engine, the telemetry its ``log_level`` and ``metrics`` blocks ask for, and the
    trading gateway and web endpoints of its ``trading`` and ``web`` blocks.

    Raises:
        ConfigUnavailableError: `trifix.config` is not installed.
        ConfigError: the file cannot be used (the message names file, line and key).
    """
    try:
        from trifix.config import load, to_engine_spec  # here: the demo needs no configuration
    except ImportError as exc:
        raise ConfigUnavailableError(
            "reading a configuration file needs trifix.config, which this installation does "
            f"not have ({exc}); run `trifix run` with no file for the demo"
        ) from exc
    config = load(path)
    telemetry = TelemetryOptions(
        http_port=config.metrics.port if config.metrics.enabled else None,
        log_level=config.log_level,
    )
    lps, subscriptions = lp_configs(config)
    trading = TradingOptions(tuple(lps), tuple(subscriptions)) if lps else None
    web = config.web
    web_options = (
        WebOptions(web.http_port, web.ws_port, web.host, web.token) if web.enabled else None
    )
    return GatewaySetup(to_engine_spec(config), telemetry, trading, web_options)


# -- running ---------------------------------------------------------------------------------------
def _demo_specs(store_dir: Path) -> tuple[EngineSpec, Callable[[int], EngineSpec]]:
    """The embedded LP's engine, and the gateway's for the LP's port."""
    lp = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))], listen_port=0)

    def gateway(port: int) -> EngineSpec:
        # The embedded LP keeps no state between runs, so each run is a new FIX session: the
        # gateway logs on with ResetSeqNumFlag (141=Y), as FX LPs commonly expect daily.
        settings = SessionSettings(
            "GW", "LP", Role.INITIATOR, heartbeat_interval=10, reset_on_logon=True
        )
        session = SessionSpec(
            "LP", settings, hosts=[("127.0.0.1", port)], reconnect=_DEMO_RECONNECT
        )
        return EngineSpec([session], store_path=store_dir)

    return lp, gateway


class _Runner:
    """One `trifix run`: the engines, the event drains, the output and the stop logic."""

    def __init__(self, options: RunOptions, console: Console, log: Callable[[str], None]) -> None:
        self.options = options
        self.console = console
        self.log = log
        self.ui = options.ui and console.is_terminal
        self.tracker = Tracker(system_clock, emit=None if self.ui else log)
        self.stopping = trio.Event()
        self.forced_by: int | None = None
        self._drain_scopes: list[trio.CancelScope] = []
        self.telemetry: Telemetry | None = None

    async def main(self) -> int:
        if self.options.telemetry is not None:
            self.telemetry = _setup_telemetry(self.options.telemetry)
        try:
            return await self._main()
        finally:
            if self.telemetry is not None:
                self.telemetry.shutdown()

    async def _main(self) -> int:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as top:
                top.start_soon(self.watch_signals, signals, top.cancel_scope)
                if self.options.duration is not None:
                    top.start_soon(self._stop_after, self.options.duration)
                # The drains outlive the engine blocks, so the shutdown's Logout is reported.
                async with trio.open_nursery() as drains:
                    if self.options.spec is None:
                        await self._serve_demo(drains)
                    else:
                        await self._serve_config(self.options.spec, drains)
                    for scope in self._drain_scopes:
                        scope.cancel()
                top.cancel_scope.cancel()
        return 128 + self.forced_by if self.forced_by is not None else 0

    def request_stop(self, why: str) -> None:
        if not self.stopping.is_set():
            self.tracker.log("run", why)
            self.stopping.set()

    async def watch_signals(
        self, signals: AsyncIterator[int], everything: trio.CancelScope
    ) -> None:
        """First signal: a graceful stop. Second: cancel `everything` at once."""
        async for signum in signals:
            name = signal.Signals(signum).name
            if not self.stopping.is_set():
                self.request_stop(f"{name}: logging out (send it again to stop at once)")
            else:
                self.tracker.log("run", f"{name} again: stopping at once")
                self.forced_by = signum
                everything.cancel()
                return

    async def _stop_after(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self.request_stop(f"{seconds:g} s elapsed: logging out")

    async def _drain(self, handle: SessionHandle, scope: trio.CancelScope) -> None:
        events = handle.events()
        with scope:
            async for event in events:
                self.tracker.on_event(handle.id, event)
        while True:  # what is left once the engine has stopped
            try:
                event = events.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                return
            self.tracker.on_event(handle.id, event)

    async def _show(
        self, sessions: Sequence[SessionHandle], title: str, labels: Mapping[str, str]
    ) -> None:
        """Until cancelled: redraw the live view, or log a market data summary each second."""
        tracker = self.tracker
        if self.ui:
            rates = RateMeter()
            with Live(console=self.console, auto_refresh=False) as live:
                while True:
                    stats = [h.statistics() for h in sessions]
                    rates.sample(stats, trio.current_time())
                    now = tracker.clock()
                    live.update(
                        render(stats, tracker, rates, now=now, title=title, labels=labels),
                        refresh=True,
                    )
                    await trio.sleep(REFRESH)
        seen = 0
        errors: dict[str, str | None] = {}
        while True:
            await trio.sleep(1.0)
            for handle in sessions:  # connection failures are not events: watch the statistics
                error = handle.statistics().last_error
                if error != errors.get(handle.id) and error is not None:
                    attempts = handle.statistics().reconnect_attempts
                    tracker.log(handle.id, f"{error} (reconnect attempts: {attempts})")
                errors[handle.id] = error
            updates = sum(q.updates for q in tracker.book.values())
            if updates > seen:
                quotes = ", ".join(
                    f"{s} {q.bid} / {q.offer}" for s, q in sorted(tracker.book.items())
                )
                tracker.log("run", f"market data: {quotes} ({updates - seen} updates)")
                seen = updates

    async def _serve(
        self,
        engine: Engine,
        drains: trio.Nursery,
        title: str,
        *,
        also_shown: Sequence[SessionHandle] = (),
        labels: Mapping[str, str] | None = None,
        demo: bool = False,
    ) -> None:
        """Run `engine`'s sessions (with the trading gateway, and the demo) until a stop is
        requested."""
        trading = self.options.trading
        if demo:
            trading = TradingOptions((LPConfig(DEMO_LP, order_session="LP", md_session="LP"),))
        owned = _gateway_sessions(trading)
        handles = list(engine.sessions.values())
        for handle in handles:
            if handle.id in owned:  # the gateway reads these: watch, do not take
                handle.add_observer(TrackerObserver(self.tracker))
                if handle.is_logged_on:  # it logged on before the view was watching
                    self.tracker.logged_on.add(handle.id)
                    self.tracker.log(handle.id, "logged on")
                continue
            scope = trio.CancelScope()
            self._drain_scopes.append(scope)
            drains.start_soon(self._drain, handle, scope)
        async with trio.open_nursery() as work, self._open_gateway(engine, trading) as gateway:
            await self._observe(engine, work, gateway)
            if gateway is not None:
                for sub in trading.subscriptions if trading is not None else ():
                    await gateway.subscribe(sub.symbols, depth=sub.depth, lps=[sub.lp])
                if demo:
                    show = TradingDemo(
                        gateway, engine.session("LP"), self.tracker, DEMO_SYMBOLS, pause=0.2
                    )
                    work.start_soon(show.run)
            work.start_soon(self._show, [*handles, *also_shown], title, labels or {})
            await self.stopping.wait()
            work.cancel_scope.cancel()
        self.tracker.emit = self.log  # the live view is gone: report the shutdown as lines

    @asynccontextmanager
    async def _open_gateway(
        self, engine: Engine, trading: TradingOptions | None
    ) -> AsyncIterator[Gateway | None]:
        if trading is None:
            yield None
            return
        metrics = self.telemetry.metrics if self.telemetry is not None else None
        async with open_gateway(
            engine,
            trading.lps,
            on_order_ack=metrics.record_order_ack if metrics is not None else None,
            on_tick=metrics.record_tick if metrics is not None else None,
        ) as gateway:
            yield gateway

    async def _observe(self, engine: Engine, work: trio.Nursery, gateway: Gateway | None) -> None:
        """Logs, metrics and spans for `engine`; the health and metrics endpoints, or the
        dashboard and the WebSocket API (which serve /health and /metrics too)."""
        telemetry, options = self.telemetry, self.options.telemetry
        if telemetry is not None:
            await work.start(observe, engine, telemetry)
        registry = telemetry.registry if telemetry is not None else None
        web = self.options.web
        if web is not None and gateway is not None:
            serve_dashboard = partial(
                serve_web,
                gateway,
                engine,
                registry,
                http_port=web.http_port,
                ws_port=web.ws_port,
                host=web.host,
                token=web.token,
            )
            ports = await self._start_server(work, serve_dashboard, f"{web.host}:{web.http_port}")
            if ports is not None:
                url = f"http://{web.host}:{ports.http}"
                self.tracker.log(
                    "run",
                    f"dashboard: {url}/ (WebSocket API on ws://{web.host}:{ports.ws}/), "
                    f"health: {url}/health",
                )
            return
        if options is None or options.http_port is None:
            return
        serve = partial(
            serve_http,
            engine,
            registry=registry,
            host=options.http_host,
            port=options.http_port,
            token=options.token,
        )
        port = await self._start_server(work, serve, f"{options.http_host}:{options.http_port}")
        if port is not None:
            url = f"http://{options.http_host}:{port}"
            self.tracker.log("run", f"health: {url}/health, metrics: {url}/metrics")

    async def _start_server(
        self, work: trio.Nursery, serve: Callable[..., Awaitable[None]], where: str
    ) -> Any:
        """Start `serve` in `work`; None (and a line saying why) when it cannot bind."""
        failure: BaseException | None = None
        try:
            return await work.start(serve)
        except* OSError as group:  # the server's nursery wraps a failed bind in groups
            failure = group.exceptions[0]
            while isinstance(failure, BaseExceptionGroup):
                failure = failure.exceptions[0]
        self.tracker.log("run", f"not serving HTTP on {where}: {failure} (pick another port)")
        return None

    def _summary(self, engine: Engine) -> None:
        for handle in engine.sessions.values():
            s = handle.statistics()
            self.tracker.log(
                handle.id,
                f"stopped: {s.messages_out} messages sent, {s.messages_in} received; "
                f"next sequence numbers out {s.next_sender_seq}, in {s.next_target_seq}",
            )

    async def _serve_demo(self, drains: trio.Nursery) -> None:
        # The bundled LP simulator, a client of trifix's public API: imported only for the demo.
        from simulator import run_mini_lp

        store_dir = self.options.store_dir or Path("fixstore")
        lp_spec, gateway_spec = _demo_specs(store_dir)
        async with open_engine(lp_spec) as lp, trio.open_nursery() as simulator:
            simulator.start_soon(run_mini_lp, lp, "GW")
            where = f"127.0.0.1:{lp.listen_port}"
            self.tracker.log("run", f"embedded LP listening on {where}; gateway store: {store_dir}")
            title = f"trifix run: gateway session LP <-> embedded LP on {where} (Ctrl-C stops)"
            async with open_engine(gateway_spec(lp.listen_port or 0)) as gw:
                labels = {"GW": "GW (embedded LP)"}
                await self._serve(
                    gw, drains, title, also_shown=[lp.session("GW")], labels=labels, demo=True
                )
            self._summary(gw)
            simulator.cancel_scope.cancel()

    async def _serve_config(self, spec: EngineSpec, drains: trio.Nursery) -> None:
        if self.options.store_dir is not None:
            spec = replace(spec, store_path=self.options.store_dir)
        async with open_engine(spec) as engine:
            names = ", ".join(engine.sessions)
            port = engine.listen_port
            where = f"; listening on {spec.listen_host}:{port}" if port else ""
            self.tracker.log(
                "run", f"sessions {names}{where}; store: {spec.store_path or 'in memory'}"
            )
            async with trio.open_nursery() as reloading:
                if self.options.config_path is not None:
                    await reloading.start(self._reload, engine, self.options.config_path)
                await self._serve(engine, drains, f"trifix run: {names} (Ctrl-C stops)")
                reloading.cancel_scope.cancel()
        self._summary(engine)

    async def _reload(
        self,
        engine: Engine,
        path: Path,
        task_status: trio.TaskStatus[object] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Watch the configuration file and apply what can change while running."""
        from trifix.config import ConfigChange, GatewayConfig, apply, to_engine_spec, watch

        async def on_change(old: GatewayConfig, new: GatewayConfig, change: ConfigChange) -> None:
            for line in await apply(engine, change, to_engine_spec(new)):
                self.tracker.log("config", line)

        def on_error(exc: Exception) -> None:
            self.tracker.log("config", f"edit not applied, the running configuration stays: {exc}")

        try:
            await watch(path, on_change, on_error=on_error, task_status=task_status)
        except (ConfigError, OSError) as exc:  # cannot even read it now: run without reloads
            self.tracker.log("config", f"not watching {path} for changes: {exc}")
            task_status.started()


def _gateway_sessions(trading: TradingOptions | None) -> frozenset[str]:
    """The sessions a gateway with `trading`'s LPs reads itself."""
    if trading is None:
        return frozenset()
    ids = {lp.order_session for lp in trading.lps} | {lp.md_session for lp in trading.lps}
    return frozenset(i for i in ids if i is not None)


def _setup_telemetry(options: TelemetryOptions) -> Telemetry:
    return setup(
        TelemetrySettings(
            log_level=options.log_level,
            log_format=options.log_format,
            metrics=options.http_port is not None,
            traces=options.traces,
        )
    )


def run(options: RunOptions, *, console: Console, log: Callable[[str], None]) -> int:
    """Run until stopped (a signal or `options.duration`); returns the exit code.

    0 is a clean stop; 128 + N when a second signal N forced it. The live view draws on
    `console` (when it is a terminal); log lines go to `log`.

    Raises:
        StoreError: the store cannot be opened (for example another process holds a session).
    """
    try:
        return trio.run(_Runner(options, console, log).main)
    except BaseExceptionGroup as group:
        # Nurseries wrap errors in groups (in groups); one error alone is raised as itself.
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        if isinstance(error, Exception) and not isinstance(error, BaseExceptionGroup):
            raise error from None
        raise

"""The world an end-to-end script runs in: the simulator and a trifix gateway, over loopback TCP.

`open_e2e_env(setup)` starts the simulator (listening on 127.0.0.1, a free port) and a trifix
engine whose one initiator session dials it, with a gateway (`trifix.trading.open_gateway`)
over that session for orders and market data. Both engines keep their stores in memory objects
held here, so checks can read what was really sent (SendingTimes for the throttle check, the
simulator's sent application messages for the delivered-once check).

While the script runs, `UpdateLog` keeps the gateway's order, session and alert updates (book
and BBO updates are only counted: a flood of 100,000 must not be kept) and `RssSampler` samples
the process's resident memory.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import trio
import trio.lowlevel

from simulator import SimSession, Simulator, SimulatorSpec, open_simulator
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import (
    Engine,
    EngineSpec,
    ReconnectPolicy,
    SessionHandle,
    SessionSpec,
    ThrottleSettings,
    open_engine,
)
from trifix.store import MemoryStore
from trifix.trading import BookStyle, Gateway, LPConfig, open_gateway
from trifix.trading.updates import Alert, BboChanged, BookChanged, GatewayUpdate

__all__ = ["E2EEnv", "GatewaySetup", "RssSampler", "UpdateLog", "open_e2e_env"]

_LP = "LP"
_SESSION = "LP"
_UPDATE_BUFFER = 100_000
_RSS_INTERVAL = 0.02


@dataclass(frozen=True, slots=True)
class GatewaySetup:
    """The gateway side of an e2e script (the ``gateway:`` header).

    Attributes:
        heartbeat: HeartBtInt of the gateway's Logon (the simulator adopts it).
        reset_on_logon: send ResetSeqNumFlag=Y on every Logon.
        reconnect_delay: seconds before the initiator dials again after a lost connection.
        throttle: the order session's outbound rate limit (on_limit "wait"), or None.
        ack_timeout: seconds an order request may stay unanswered.
        timestamp_precision: digits of SendingTime's fraction (6 lets the throttle check
            see microseconds).
    """

    heartbeat: int = 30
    reset_on_logon: bool = True
    reconnect_delay: float = 0.2
    throttle: ThrottleSettings | None = None
    ack_timeout: float = 10.0
    timestamp_precision: int = 6


@dataclass
class UpdateLog:
    """What the gateway published during the script (order/session/alert updates kept, book
    and BBO updates counted)."""

    kept: list[GatewayUpdate] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    overflowed: bool = False

    _channel: trio.MemoryReceiveChannel[GatewayUpdate] | None = None

    async def caught_up(self) -> None:
        """Return once every update the gateway has published so far is recorded (checks
        read the log right after a state they waited for, which the same dispatch reported)."""
        channel = self._channel
        # The recorder never blocks on anything but this channel: yielding until it is empty
        # (no event to wait for exists) lets it drain what was published.
        while channel is not None and channel.statistics().current_buffer_used:
            await trio.lowlevel.checkpoint()
        for _ in range(3):  # an update handed straight to the waiting recorder: let it run
            await trio.lowlevel.checkpoint()

    async def run(self, gw: Gateway, *, task_status: trio.TaskStatus[None]) -> None:
        """Consume the gateway's updates until cancelled."""
        async with gw.open_updates(_UPDATE_BUFFER) as updates:
            self._channel = updates
            task_status.started()
            async for update in updates:
                kind = type(update).__name__
                self.counts[kind] += 1
                if isinstance(update, BookChanged | BboChanged):
                    continue
                if isinstance(update, Alert) and update.kind.value == "overflow":
                    self.overflowed = True
                self.kept.append(update)

    def alerts(self) -> list[Alert]:
        """The alerts published, oldest first."""
        return [u for u in self.kept if isinstance(u, Alert)]


def _rss_bytes() -> int | None:
    """The process's resident set size now (Linux /proc), or None where unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Samples the resident memory every few milliseconds: the growth over the baseline."""

    def __init__(self) -> None:
        self.baseline: int | None = None
        self.peak: int | None = None
        self.reset()

    def reset(self) -> None:
        """Take a new baseline now (growth is measured from here)."""
        self.baseline = _rss_bytes()
        self.peak = self.baseline

    @property
    def available(self) -> bool:
        """False where the platform does not tell (no /proc)."""
        return self.baseline is not None

    def growth(self) -> int:
        """The largest RSS seen minus the baseline, in bytes."""
        if self.baseline is None or self.peak is None:
            return 0
        return max(0, self.peak - self.baseline)

    def sample(self) -> None:
        """Take one sample now."""
        rss = _rss_bytes()
        if rss is not None and (self.peak is None or rss > self.peak):
            self.peak = rss

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            self.sample()
            await trio.sleep(_RSS_INTERVAL)


@dataclass
class E2EEnv:
    """A running simulator and gateway, and what the checks read.

    Attributes:
        sim: the simulator; `sim_session` the session the gateway logs on to.
        engine: the gateway's engine; `handle` its session (orders and market data).
        gw: the gateway; `lp` the LP's name in it.
        gw_store, sim_store: the two engines' stores.
        updates: the gateway's updates; `memory` the RSS samples.
        nursery: where background steps run.
    """

    sim: Simulator
    sim_session: SimSession
    engine: Engine
    handle: SessionHandle
    gw: Gateway
    lp: str
    gw_store: MemoryStore
    sim_store: MemoryStore
    updates: UpdateLog
    memory: RssSampler
    nursery: trio.Nursery
    setup: GatewaySetup


def gateway_session(sim_spec: SimulatorSpec, setup: GatewaySetup, port: int) -> SessionSpec:
    """The gateway's initiator session: the simulator's only session's CompIDs, reversed."""
    theirs = sim_spec.sessions[0].session.settings
    settings = SessionSettings(
        theirs.target_comp_id,
        theirs.sender_comp_id,
        Role.INITIATOR,
        heartbeat_interval=setup.heartbeat,
        reset_on_logon=setup.reset_on_logon,
        timestamp_precision=setup.timestamp_precision,
        username=theirs.username,
        password=theirs.password,
    )
    delay = timedelta(seconds=setup.reconnect_delay)
    return SessionSpec(
        _SESSION,
        settings,
        hosts=[("127.0.0.1", port)],
        reconnect=ReconnectPolicy(initial_delay=delay, max_delay=delay, jitter=0.0),
        throttle=setup.throttle,
    )


@asynccontextmanager
async def open_e2e_env(sim_spec: SimulatorSpec, setup: GatewaySetup) -> AsyncIterator[E2EEnv]:
    """Start the simulator and the gateway for one script; leaving stops both, logging out.

    Args:
        sim_spec: the simulator (one session: the one the gateway logs on to).
        setup: the gateway's options.
    """
    sim_spec = replace(sim_spec, listen_host="127.0.0.1", listen_port=0, store_path=None)
    sim_store, gw_store = MemoryStore(), MemoryStore()
    async with open_simulator(sim_spec, store=sim_store) as sim:
        assert sim.port is not None
        session_spec = gateway_session(sim_spec, setup, sim.port)
        config = LPConfig(
            _LP,
            _SESSION,
            _SESSION,
            book_style=BookStyle.BY_POSITION,
            ack_timeout=timedelta(seconds=setup.ack_timeout),
        )
        async with (
            open_engine(EngineSpec([session_spec]), store=gw_store) as engine,
            open_gateway(engine, [config], cl_ord_id_prefix="E") as gw,
            trio.open_nursery() as nursery,
        ):
            updates = UpdateLog()
            await nursery.start(updates.run, gw)
            memory = RssSampler()
            nursery.start_soon(memory.run)
            yield E2EEnv(
                sim=sim,
                sim_session=sim.session(sim_spec.sessions[0].id),
                engine=engine,
                handle=engine.session(_SESSION),
                gw=gw,
                lp=_LP,
                gw_store=gw_store,
                sim_store=sim_store,
                updates=updates,
                memory=memory,
                nursery=nursery,
                setup=setup,
            )
            nursery.cancel_scope.cancel()


def script_relative(script_path: Path, name: str) -> Path:
    """`name` relative to the script's directory (absolute paths as they are)."""
    path = Path(name)
    return path if path.is_absolute() else script_path.parent / path

"""What a simulator runs: its sessions, instruments, seed and where it listens.

These are plain values; `simulator.config` builds them from YAML (or from the CLI's flags),
and tests build them directly.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from simulator.behaviour import Behaviour
from simulator.instruments import DEFAULT_INSTRUMENTS, Instrument
from trifix.core.settings import Role
from trifix.runtime import SessionSpec, TlsSettings

__all__ = ["AppMode", "SimSessionSpec", "SimulatorSpec"]


class AppMode(enum.Enum):
    """What a simulator session does with application messages."""

    LP = "lp"
    """A liquidity provider: orders, cancels, replaces, market data, quotes, status."""
    ECHO = "echo"
    """A test double: echoes NewOrderSingles, rejects anything else (see `simulator.echo`)."""


@dataclass(frozen=True, slots=True)
class SimSessionSpec:
    """One session of the simulator.

    Attributes:
        session: the engine's session (an acceptor: our CompID is its sender_comp_id).
        app: `AppMode.LP` or `AppMode.ECHO`.
        behaviour: the LP's behaviour at start (ignored in echo mode).
    """

    session: SessionSpec
    app: AppMode = AppMode.LP
    behaviour: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        if self.session.settings.role is not Role.ACCEPTOR:
            raise ValueError(f"session {self.session.id}: the simulator only runs acceptors")

    @property
    def id(self) -> str:
        """The session's id."""
        return self.session.id


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    """Everything a simulator runs.

    Attributes:
        sessions: the sessions; the acceptor tells them apart by the CompIDs of the Logon.
        instruments: what the LP sessions quote and trade (one market, shared by all).
        seed: seeds the market's random walk and every session's random choices.
        tick_interval: seconds between two steps of the random walk (and market data updates).
        listen_host, listen_port: where to listen; port 0 picks a free port; None listens
            nowhere (connections are then given with `Simulator.run_connection`).
        tls: TLS for the listening port, or None.
        store_path: an LMDB store directory; None keeps sequence numbers and sent messages in
            memory.
        store_sync: "durable" or "os" (see `trifix.runtime.EngineSpec`).
    """

    sessions: Sequence[SimSessionSpec]
    instruments: Sequence[Instrument] = DEFAULT_INSTRUMENTS
    seed: int = 0
    tick_interval: float = 0.25
    listen_host: str = "127.0.0.1"
    listen_port: int | None = 0
    tls: TlsSettings | None = None
    store_path: Path | None = None
    store_sync: Literal["durable", "os"] = "durable"

    def __post_init__(self) -> None:
        if not self.sessions:
            raise ValueError("a simulator needs at least one session")
        ids = [s.id for s in self.sessions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate session ids: {', '.join(dupes)}")
        symbols = [i.symbol for i in self.instruments]
        dupes = sorted({s for s in symbols if symbols.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate symbols: {', '.join(dupes)}")
        if self.tick_interval <= 0:
            raise ValueError("tick_interval must be > 0 seconds")

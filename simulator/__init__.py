"""The bundled LP simulator: an acceptor built on trifix's public API.

Public API (docs/simulator.md):

- `open_simulator(spec)` (async context manager) and `serve_simulator(spec, task_status=...)`
  run a `SimulatorSpec`; the `Simulator` they give has `port`, `session(id)` and `book(symbol)`;
- `SimSession`: one session's controls (`set_behaviour`, `induce_gap`, `drop_heartbeats`,
  `disconnect`, `restart`, `flood`);
- `Behaviour`, `FillModel`, `RejectRule`, `Instrument`, `AppMode`, `SimSessionSpec`;
- `run_mini_lp(engine, session_id)`: LP mode on one session of an engine the caller runs (the
  embedded LP of `trifix run` and the gateway tests).
"""

from simulator.behaviour import Behaviour, FillModel, RejectRule
from simulator.echo import EchoApp
from simulator.instruments import DEFAULT_INSTRUMENTS, Instrument
from simulator.market import Book, Level
from simulator.server import (
    Simulator,
    SimulatorControl,
    open_simulator,
    run_mini_lp,
    serve_simulator,
)
from simulator.session import SimSession
from simulator.spec import AppMode, SimSessionSpec, SimulatorSpec

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "AppMode",
    "Behaviour",
    "Book",
    "EchoApp",
    "FillModel",
    "Instrument",
    "Level",
    "RejectRule",
    "SimSession",
    "SimSessionSpec",
    "Simulator",
    "SimulatorControl",
    "SimulatorSpec",
    "open_simulator",
    "run_mini_lp",
    "serve_simulator",
]

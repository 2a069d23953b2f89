"""The simulator's configuration file: a gateway configuration plus a ``simulator:`` section.

The sessions, ``listen`` and the ``fix:`` options are the gateway's (docs/configuration.md); every
session must be an acceptor. The ``simulator:`` section adds the market and each session's
application and behaviour (docs/simulator.md). Problems are reported like the gateway's, with
file, line, column and key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import attrs

from simulator.behaviour import Behaviour, FillModel, RejectRule
from simulator.instruments import DEFAULT_INSTRUMENTS, Instrument
from simulator.spec import AppMode, SimSessionSpec, SimulatorSpec
from trifix.config import ConfigFileError, InvalidValue, load_with_sections, session_spec
from trifix.config.errors import ConfigProblem
from trifix.core.tags import OrdRejReason, Side

__all__ = ["SimulatorSection", "load_simulator_spec"]


def _decimal(value: Any, key: str) -> Decimal:
    """`value` (a number or a string) as a Decimal; InvalidValue naming `key` otherwise."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise InvalidValue("expected a decimal number", key=(key,), got=value)


def _price(value: Any) -> Decimal:
    return _decimal(value, "price")


def _tick_size(value: Any) -> Decimal:
    return _decimal(value, "tick_size")


def _size(value: Any) -> Decimal:
    return _decimal(value, "size")


def _min_qty(value: Any) -> Decimal:
    return _decimal(value, "min_qty")


def _max_qty(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value, "max_qty")


def _qty_above(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value, "qty_above")


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


@attrs.frozen(kw_only=True)
class InstrumentConfig:
    """One item of `simulator.instruments`."""

    symbol: str
    price: Any = attrs.field(converter=_price)
    tick_size: Any = attrs.field(converter=_tick_size)
    spread_ticks: int = 2
    size: Any = attrs.field(default=1_000_000, converter=_size)
    max_step: int = 3
    min_qty: Any = attrs.field(default=0, converter=_min_qty)
    max_qty: Any = attrs.field(default=None, converter=_max_qty)
    levels: int = 1
    trade_probability: float = 0.0

    def instrument(self) -> Instrument:
        """The `Instrument`: `price` is the mid, the spread `spread_ticks` ticks wide."""
        bid = self.price - (self.spread_ticks // 2) * self.tick_size
        try:
            return Instrument(
                self.symbol,
                bid,
                bid + self.spread_ticks * self.tick_size,
                self.tick_size,
                self.size,
                self.max_step,
                self.min_qty,
                self.max_qty,
                self.levels,
                self.trade_probability,
            )
        except ValueError as exc:
            raise InvalidValue(str(exc).split(": ", 1)[-1]) from None

    def __attrs_post_init__(self) -> None:
        if self.spread_ticks < 1:
            raise InvalidValue("expected at least 1", key=("spread_ticks",), got=self.spread_ticks)
        self.instrument()


@attrs.frozen(kw_only=True)
class RejectConfig:
    """`reject:` of a session's behaviour (see `RejectRule`)."""

    all: bool = False
    symbols: tuple[str, ...] = ()
    sides: tuple[Literal["buy", "sell"], ...] = ()
    qty_above: Any = attrs.field(default=None, converter=_qty_above)
    ratio: float = 0.0
    reason: int = int(OrdRejReason.OTHER.value)
    text: str = "rejected by the simulator"

    def rule(self) -> RejectRule:
        """The `RejectRule`."""
        return RejectRule(
            all=self.all,
            symbols=frozenset(self.symbols),
            sides=frozenset(Side.BUY if s == "buy" else Side.SELL for s in self.sides),
            qty_above=self.qty_above,
            ratio=self.ratio,
            reason=OrdRejReason(self.reason),
            text=self.text,
        )

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.ratio <= 1:
            raise InvalidValue("expected from 0 to 1", key=("ratio",), got=self.ratio)
        if self.reason not in {int(r.value) for r in OrdRejReason}:
            raise InvalidValue("not an OrdRejReason (103)", key=("reason",), got=self.reason)


@attrs.frozen(kw_only=True)
class SessionBehaviourConfig:
    """One entry of `simulator.sessions`, by session id: its application and behaviour."""

    app: Literal["lp", "echo"] = "lp"
    fill: Literal["immediate", "resting", "none"] = "resting"
    slices: int = 1
    slice_interval: timedelta = timedelta(0)
    latency: timedelta = timedelta(0)
    latency_jitter: timedelta = timedelta(0)
    reject: RejectConfig | None = None
    quote_validity: timedelta = timedelta(seconds=5)
    quote_tradeable: bool = True
    quote_spread_ticks: int = 0

    def __attrs_post_init__(self) -> None:
        if self.slices < 1:
            raise InvalidValue("expected at least 1", key=("slices",), got=self.slices)
        if self.quote_spread_ticks < 0:
            raise InvalidValue("expected 0 or more", key=("quote_spread_ticks",))

    def behaviour(self) -> Behaviour:
        """The `Behaviour`."""
        return Behaviour(
            reject=None if self.reject is None else self.reject.rule(),
            fill=FillModel(self.fill),
            slices=self.slices,
            slice_interval=_seconds(self.slice_interval),
            latency=_seconds(self.latency),
            latency_jitter=_seconds(self.latency_jitter),
            quote_validity=_seconds(self.quote_validity),
            quote_tradeable=self.quote_tradeable,
            quote_spread_ticks=self.quote_spread_ticks,
        )


@attrs.frozen(kw_only=True)
class SimulatorSection:
    """The `simulator:` section."""

    seed: int = 0
    tick_interval: timedelta = timedelta(milliseconds=250)
    store: str = "memory"
    instruments: tuple[InstrumentConfig, ...] | None = None
    sessions: Mapping[str, SessionBehaviourConfig] = attrs.Factory(dict)

    def __attrs_post_init__(self) -> None:
        if self.tick_interval <= timedelta(0):
            raise InvalidValue("expected more than 0 seconds", key=("tick_interval",))


def load_simulator_spec(
    path: str | os.PathLike[str], environ: Mapping[str, str] = os.environ
) -> SimulatorSpec:
    """Read a simulator configuration file (see the module docstring).

    Raises:
        ConfigFileError: every problem of the file, with file, line, column and key.
    """
    config, sections = load_with_sections(path, {"simulator": SimulatorSection}, environ)
    section: SimulatorSection = sections["simulator"]
    name = os.fspath(path)
    ids = {s.id for s in config.sessions}
    known = ", ".join(sorted(ids))
    problems = [
        ConfigProblem(
            name, None, None, f"simulator.sessions.{key}", f"no session {key!r} (known: {known})"
        )
        for key in section.sessions
        if key not in ids
    ]
    for index, session in enumerate(config.sessions):
        if session.role != "acceptor":
            problems.append(
                ConfigProblem(
                    name,
                    None,
                    None,
                    f"sessions[{index}].role",
                    "the simulator only runs acceptors: write role: acceptor",
                )
            )
    if problems:
        raise ConfigFileError(problems)
    assert config.listen is not None  # the gateway schema requires it for acceptors
    default = SessionBehaviourConfig()
    sessions = []
    for session in config.sessions:
        chosen = section.sessions.get(session.id, default)
        sessions.append(
            SimSessionSpec(session_spec(session), AppMode(chosen.app), chosen.behaviour())
        )
    instruments = (
        DEFAULT_INSTRUMENTS
        if section.instruments is None
        else tuple(i.instrument() for i in section.instruments)
    )
    return SimulatorSpec(
        sessions,
        instruments=instruments,
        seed=section.seed,
        tick_interval=_seconds(section.tick_interval),
        listen_host=config.listen.host,
        listen_port=config.listen.port,
        store_path=None if section.store == "memory" else Path(section.store),
    )

"""End-to-end scripts (``kind: e2e``): the simulator and a trifix gateway, driven by steps.

A session script plays a FIX counterparty byte by byte; an e2e script instead starts the bundled
simulator and a trifix gateway connected to it over loopback TCP, acts through the gateway's API
and the simulator's controls, and checks what must hold at the end::

    kind: e2e
    case: E2E-1
    title: Normal trading flow
    simulator: {seed: 7, behaviour: {fill: immediate}}
    gateway: {throttle: {rate: 200, burst: 20}}
    steps:
      - wait_logged_on
      - subscribe: {symbols: [EURUSD], depth: 1}
      - place: {id: A, symbol: EURUSD, side: buy, qty: 1000}
      - wait_order: {id: A, status: filled}
      - assert: [{order: {id: A, status: filled, cum_qty: 1000}}, {book: EURUSD}, seq_in_sync]

Loading checks everything before anything runs, like session scripts: unknown keys, steps and
checks, bad values, the simulator's configuration; each problem is a `ScriptError` naming the
file, the line and the step. The format is in docs/conformance.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from conformance.e2e_env import GatewaySetup, script_relative
from conformance.script import (
    Script,
    ScriptError,
    Step,
    _args,
    _Bad,
    _flag,
    _number,
    _opt_seconds,
    _split_step,
)
from conformance.simcontrol import SIM_ACTIONS
from conformance.yamlsource import LineDict, LineList
from simulator import (
    AppMode,
    Behaviour,
    FillModel,
    Instrument,
    RejectRule,
    SimSessionSpec,
    SimulatorSpec,
)
from simulator.config import load_simulator_spec
from trifix.config import ConfigError
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import Side
from trifix.runtime import SessionSpec, ThrottleSettings
from trifix.trading import OrderState

__all__ = ["Comparison", "E2EScript", "E2EStep", "build_e2e_script"]

_HEADER_KEYS: Final = frozenset(
    {"kind", "case", "title", "assumes", "step_timeout", "timeout", "simulator", "gateway", "steps"}
)
_SIDES: Final = {"buy": Side.BUY, "sell": Side.SELL}


# -- values ----------------------------------------------------------------------------------

_OPS: Final[dict[str, Callable[[Decimal, Decimal], bool]]] = {
    "==": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """A number compared with ``==``, ``>=``, ``>``, ``<=`` or ``<`` (``">= 2"``; a bare
    value means equal)."""

    op: str
    value: Decimal

    @classmethod
    def parse(cls, value: object, what: str) -> Comparison:
        """Read ``5``, ``"5"``, ``">= 5"``... or raise `_Bad` naming `what`."""
        text = str(value).strip()
        match = re.fullmatch(r"(==|>=|<=|>|<)?\s*(-?[0-9.]+)", text)
        if isinstance(value, bool) or match is None:
            raise _Bad(f"{what}: {value!r} is not a number or a comparison like '>= 2'")
        return cls(match[1] or "==", Decimal(match[2]))

    def holds(self, got: Decimal) -> bool:
        """Whether `got` satisfies the comparison."""
        return _OPS[self.op](got, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value}"


# -- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class E2EStep(Step):
    """One step of an e2e script: `action` (the step's name) with its checked `args`."""

    action: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The step's name as written in scripts."""
        return self.action


@dataclass(frozen=True, slots=True)
class E2EScript(Script):
    """A loaded e2e script: a `Script` (name, case, title, steps...) plus what it runs.

    Attributes:
        simulator: the simulator to start (its one session is the gateway's counterparty).
        gateway: the gateway's options.
    """

    simulator: SimulatorSpec | None = None
    gateway: GatewaySetup = field(default_factory=GatewaySetup)


# -- loading ---------------------------------------------------------------------------------


def build_e2e_script(path: Path, doc: LineDict) -> E2EScript:
    """Check an e2e script's document (read by `conformance.script.load_script`).

    Raises:
        ScriptError: anything wrong, with the file, line and step.
    """
    unknown = sorted(str(k) for k in doc if k not in _HEADER_KEYS)
    if unknown:
        known = ", ".join(sorted(_HEADER_KEYS))
        raise ScriptError(path, doc.line, f"unknown key {unknown[0]!r}; known: {known}")
    try:
        case = doc.get("case")
        if case is None or str(case).strip() == "":
            raise _Bad("'case' is required: the scenario's id, e.g. case: E2E-1")
        simulator = _simulator(path, doc.get("simulator", {}))
        gateway = _gateway(doc.get("gateway", {}))
        step_timeout = _opt_seconds(doc.get("step_timeout"), "step_timeout")
        timeout = _opt_seconds(doc.get("timeout"), "timeout")
    except _Bad as exc:
        raise ScriptError(path, doc.line, str(exc)) from None
    steps_node = doc.get("steps")
    if not isinstance(steps_node, LineList) or not steps_node:
        raise ScriptError(path, doc.line, "'steps' must be a non-empty list of steps")
    steps = []
    for i, (node, line) in enumerate(zip(steps_node, steps_node.item_lines, strict=True), 1):
        try:
            steps.append(_step(node, i, line))
        except _Bad as exc:
            raise ScriptError(path, line, str(exc), step=i) from None
    return E2EScript(
        path=path,
        name=path.stem,
        case=str(case),
        title=str(doc.get("title", "")),
        roles=frozenset(),
        assumes=str(doc.get("assumes", "")),
        sender_comp_id=None,
        target_comp_id=None,
        begin_string="FIX.4.4",
        heartbeat=gateway.heartbeat,
        reset=gateway.reset_on_logon,
        check_seq=True,
        step_timeout=step_timeout,
        timeout=timeout,
        variables={},
        steps=tuple(steps),
        simulator=simulator,
        gateway=gateway,
    )


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Bad(f"{what} must be a mapping")
    return value


def _only(node: Mapping[str, Any], what: str, allowed: set[str]) -> None:
    unknown = sorted(str(k) for k in node if k not in allowed)
    if unknown:
        raise _Bad(f"{what}: unknown key {unknown[0]!r}; known: {', '.join(sorted(allowed))}")


def _decimal(value: object, what: str) -> Decimal:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Bad(f"{what}: {value!r} is not a decimal number") from None
    if not number.is_finite():
        raise _Bad(f"{what}: {value!r} is not a decimal number")
    return number


_INSTRUMENT_KEYS: Final = {
    "symbol", "bid", "offer", "tick", "size", "max_step", "min_qty", "max_qty", "levels",
    "trade_probability",
}  # fmt: skip
_SIM_KEYS: Final = {"file", "seed", "tick_interval", "persist_messages", "instruments", "behaviour"}


def _simulator(path: Path, value: object) -> SimulatorSpec:
    """The simulator: a configuration file next to the script, or the inline form."""
    node = _mapping(value, "simulator")
    _only(node, "simulator", _SIM_KEYS)
    if "file" in node:
        if len(node) != 1:
            raise _Bad("simulator: 'file' is the whole configuration; put the rest in the file")
        try:
            spec = load_simulator_spec(script_relative(path, str(node["file"])))
        except (ConfigError, OSError) as exc:
            raise _Bad(f"simulator file: {exc}") from None
        if len(spec.sessions) != 1:
            raise _Bad("simulator file: the gateway logs on to one session: configure exactly one")
        return spec
    settings = SessionSettings(
        "LP",
        "GW",
        Role.ACCEPTOR,
        persist_messages=_flag(node.get("persist_messages", True), "persist_messages"),
    )
    session = SimSessionSpec(SessionSpec("GW", settings), AppMode.LP, _behaviour(node))
    instruments = node.get("instruments")
    kwargs: dict[str, Any] = {}
    if instruments is not None:
        if not isinstance(instruments, list) or not instruments:
            raise _Bad("simulator.instruments: a non-empty list of instruments")
        kwargs["instruments"] = tuple(_instrument(i) for i in instruments)
    try:
        return SimulatorSpec(
            [session],
            seed=_number(node.get("seed", 0), "seed", int),
            tick_interval=float(_number(node.get("tick_interval", 0.25), "tick_interval")),
            **kwargs,
        )
    except ValueError as exc:
        raise _Bad(f"simulator: {exc}") from None


def _instrument(value: object) -> Instrument:
    node = _mapping(value, "simulator.instruments[]")
    _only(node, "instrument", _INSTRUMENT_KEYS)
    try:
        symbol = str(node["symbol"])
        bid, offer, tick = (_decimal(node[k], k) for k in ("bid", "offer", "tick"))
    except KeyError as exc:
        raise _Bad(f"instrument: {exc.args[0]!r} is required (symbol, bid, offer, tick)") from None
    extra: dict[str, Any] = {}
    for key in ("size", "min_qty"):
        if key in node:
            extra[key] = _decimal(node[key], key)
    if node.get("max_qty") is not None:
        extra["max_qty"] = _decimal(node["max_qty"], "max_qty")
    for key in ("max_step", "levels"):
        if key in node:
            extra[key] = _number(node[key], key, int)
    if "trade_probability" in node:
        extra["trade_probability"] = float(_number(node["trade_probability"], "trade_probability"))
    return Instrument(symbol, bid, offer, tick, **extra)


def _behaviour(node: Mapping[str, Any]) -> Behaviour:
    changes = dict(_mapping(node.get("behaviour", {}), "simulator.behaviour"))
    try:
        if isinstance(changes.get("fill"), str):
            changes["fill"] = FillModel(changes["fill"])
        if isinstance(changes.get("reject"), Mapping):
            changes["reject"] = RejectRule(**changes["reject"])
        return dataclasses.replace(Behaviour(), **changes)
    except (TypeError, ValueError) as exc:
        raise _Bad(f"simulator.behaviour: {exc}") from None


_GATEWAY_KEYS: Final = {"heartbeat", "reset_on_logon", "reconnect_delay", "throttle", "ack_timeout"}


def _gateway(value: object) -> GatewaySetup:
    node = _mapping(value, "gateway")
    _only(node, "gateway", _GATEWAY_KEYS)
    throttle = None
    if node.get("throttle") is not None:
        spec = _mapping(node["throttle"], "gateway.throttle")
        _only(spec, "gateway.throttle", {"rate", "burst"})
        if "rate" not in spec:
            raise _Bad("gateway.throttle needs a 'rate' (messages a second)")
        burst = spec.get("burst")
        throttle = ThrottleSettings(
            rate=float(_number(spec["rate"], "throttle.rate")),
            burst=None if burst is None else _number(burst, "throttle.burst", int),
        )
        if throttle.rate <= 0:
            raise _Bad("gateway.throttle.rate must be more than 0")
    heartbeat = _number(node.get("heartbeat", 30), "heartbeat", int)
    if heartbeat < 1:
        raise _Bad("gateway.heartbeat must be at least 1 second")
    return GatewaySetup(
        heartbeat=heartbeat,
        reset_on_logon=_flag(node.get("reset_on_logon", True), "reset_on_logon"),
        reconnect_delay=float(_number(node.get("reconnect_delay", 0.2), "reconnect_delay")),
        throttle=throttle,
        ack_timeout=float(_number(node.get("ack_timeout", 10), "ack_timeout")),
    )


# -- steps -----------------------------------------------------------------------------------


def _step(node: object, index: int, line: int) -> E2EStep:
    kind, value, note = _split_step(node, _STEPS, "e2e step")
    return E2EStep(index, line, note, action=kind, args=_STEPS[kind](value))


def _timeout_only(value: object) -> dict[str, Any]:
    args = _args(value, "step", {"timeout"}, "timeout")
    return {"timeout": _opt_seconds(args.get("timeout"), "timeout")}


def _statuses(value: object, what: str) -> frozenset[OrderState]:
    items = value if isinstance(value, list) else [value]
    try:
        return frozenset(OrderState(str(v)) for v in items)
    except ValueError:
        known = ", ".join(s.value for s in OrderState)
        raise _Bad(f"{what}: {value!r}: each status is one of {known}") from None


def _side(value: object) -> Side:
    side = _SIDES.get(str(value).lower())
    if side is None:
        raise _Bad(f"side: {value!r} is buy or sell")
    return side


def _order_fields(args: Mapping[str, Any]) -> dict[str, Any]:
    if "symbol" not in args or "qty" not in args:
        raise _Bad("an order needs 'symbol' and 'qty' (and 'price' for a limit order)")
    price = args.get("price")
    return {
        "symbol": str(args["symbol"]),
        "side": _side(args.get("side", "buy")),
        "qty": _decimal(args["qty"], "qty"),
        "price": None if price is None else _decimal(price, "price"),
    }


def _place(value: object) -> dict[str, Any]:
    args = _args(value, "place", {"id", "symbol", "side", "qty", "price"}, None)
    if "id" not in args:
        raise _Bad("place needs an 'id': the order's ClOrdID, named by later steps")
    return {"id": str(args["id"]), **_order_fields(args)}


def _burst(value: object) -> dict[str, Any]:
    args = _args(value, "burst", {"count", "prefix", "symbol", "side", "qty", "price"}, None)
    count = _number(args.get("count"), "count", int) if "count" in args else 0
    if count < 1:
        raise _Bad("burst needs a 'count' of at least 1")
    return {"count": count, "prefix": str(args.get("prefix", "B")), **_order_fields(args)}


def _order_id(value: object) -> dict[str, Any]:
    args = _args(value, "step", {"id"}, "id")
    if "id" not in args:
        raise _Bad("name the order: its 'id'")
    return {"id": str(args["id"])}


def _replace(value: object) -> dict[str, Any]:
    args = _args(value, "replace", {"id", "qty", "price"}, None)
    if "id" not in args or ("qty" not in args and "price" not in args):
        raise _Bad("replace needs an 'id' and a new 'qty', a new 'price' or both")
    return {
        "id": str(args["id"]),
        "qty": None if "qty" not in args else _decimal(args["qty"], "qty"),
        "price": None if "price" not in args else _decimal(args["price"], "price"),
    }


def _subscribe(value: object) -> dict[str, Any]:
    args = _args(value, "subscribe", {"symbols", "depth"}, "symbols")
    symbols = args.get("symbols")
    symbols = [symbols] if isinstance(symbols, str) else symbols
    if not isinstance(symbols, list) or not symbols:
        raise _Bad("subscribe needs 'symbols': a symbol or a list of them")
    return {
        "symbols": [str(s) for s in symbols],
        "depth": _number(args.get("depth", 1), "depth", int),
    }


def _symbol(value: object) -> dict[str, Any]:
    args = _args(value, "step", {"symbol", "timeout"}, "symbol")
    if "symbol" not in args:
        raise _Bad("name the 'symbol'")
    return {"symbol": str(args["symbol"]), "timeout": _opt_seconds(args.get("timeout"), "timeout")}


def _request_quote(value: object) -> dict[str, Any]:
    args = _args(value, "request_quote", {"symbol", "side", "qty", "as"}, None)
    if "symbol" not in args or "as" not in args:
        raise _Bad("request_quote needs a 'symbol' and 'as' (the name trade_quote uses)")
    return {
        "symbol": str(args["symbol"]),
        "side": None if "side" not in args else _side(args["side"]),
        "qty": None if "qty" not in args else _decimal(args["qty"], "qty"),
        "as": str(args["as"]),
    }


def _trade_quote(value: object) -> dict[str, Any]:
    args = _args(value, "trade_quote", {"quote", "id", "side", "qty"}, None)
    missing = [k for k in ("quote", "id", "qty") if k not in args]
    if missing:
        raise _Bad(f"trade_quote needs {', '.join(missing)} (and 'side', buy by default)")
    return {
        "quote": str(args["quote"]),
        "id": str(args["id"]),
        "side": _side(args.get("side", "buy")),
        "qty": _decimal(args["qty"], "qty"),
    }


def _wait_order(value: object) -> dict[str, Any]:
    args = _args(value, "wait_order", {"id", "status", "timeout"}, None)
    if "id" not in args or "status" not in args:
        raise _Bad("wait_order needs an 'id' and a 'status' (or a list of them)")
    return {
        "id": str(args["id"]),
        "status": _statuses(args["status"], "status"),
        "timeout": _opt_seconds(args.get("timeout"), "timeout"),
    }


def _wait_orders(value: object) -> dict[str, Any]:
    args = _args(value, "wait_orders", {"prefix", "status", "count", "timeout"}, None)
    if "status" not in args:
        raise _Bad("wait_orders needs a 'status' (or a list of them)")
    count = args.get("count")
    return {
        "prefix": str(args.get("prefix", "")),
        "status": _statuses(args["status"], "status"),
        "count": None if count is None else _number(count, "count", int),
        "timeout": _opt_seconds(args.get("timeout"), "timeout"),
    }


def _wait_session(value: object) -> dict[str, Any]:
    args = dict(_mapping(value, "wait_session"))
    timeout = _opt_seconds(args.pop("timeout", None), "timeout")
    side = str(args.pop("of", "gateway"))
    if side not in ("gateway", "simulator"):
        raise _Bad("wait_session: 'of' is gateway or simulator")
    if not args:
        raise _Bad("wait_session needs statistics to wait for, e.g. {connects: '>= 2'}")
    fields = {str(k): Comparison.parse(v, str(k)) for k, v in args.items()}
    return {"of": side, "fields": fields, "timeout": timeout}


def _sim(value: object) -> dict[str, Any]:
    args = _args(value, "sim", {"action", "args", "background", "expect", "session"}, None)
    action = str(args.get("action", ""))
    if action not in SIM_ACTIONS:
        raise _Bad(f"sim: action {action!r} is not one of {', '.join(sorted(SIM_ACTIONS))}")
    extra = _mapping(args.get("args", {}), "sim args")
    for key in extra:
        if not isinstance(key, str):
            raise _Bad(f"sim args: {key!r} is not a name (quote YAML's on/off/yes/no)")
    expect = args.get("expect")
    return {
        "action": action,
        "args": dict(extra),
        "background": _flag(args.get("background", False), "background"),
        "expect": None if expect is None else Comparison.parse(expect, "expect"),
    }


def _wait(value: object) -> dict[str, Any]:
    return {"seconds": float(_number(value, "wait"))}


def _no_args(value: object) -> dict[str, Any]:
    if value is not None:
        raise _Bad("this step takes no arguments")
    return {}


_STEPS: Final[dict[str, Callable[[object], dict[str, Any]]]] = {
    "wait_logged_on": _timeout_only,
    "wait_disconnected": _timeout_only,
    "subscribe": _subscribe,
    "unsubscribe": _symbol,
    "place": _place,
    "cancel": _order_id,
    "replace": _replace,
    "request_status": _order_id,
    "request_quote": _request_quote,
    "trade_quote": _trade_quote,
    "burst": _burst,
    "wait_order": _wait_order,
    "wait_orders": _wait_orders,
    "wait_book": _symbol,
    "wait_session": _wait_session,
    "sim": _sim,
    "join": _timeout_only,
    "wait": _wait,
    "reset_memory": _no_args,
    "assert": lambda value: {"checks": _checks(value)},
}


# -- checks ----------------------------------------------------------------------------------


def _checks(value: object) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    items = value if isinstance(value, list) else [value]
    if not items or items == [None]:
        raise _Bad(f"assert takes a list of checks: {', '.join(_CHECKS)}")
    out = []
    for item in items:
        if isinstance(item, str):
            name, arg = item.strip(), None
        elif isinstance(item, Mapping) and len(item) == 1:
            ((name, arg),) = item.items()
            name = str(name)
        else:
            raise _Bad(f"a check is one of {', '.join(_CHECKS)}, not {item!r}")
        builder = _CHECKS.get(name)
        if builder is None:
            raise _Bad(f"unknown check {name!r}; known: {', '.join(_CHECKS)}")
        out.append((name, builder(arg)))
    return tuple(out)


def _check_order(value: object) -> dict[str, Any]:
    args = _args(value, "order", {"id", "status", "cum_qty", "leaves_qty", "fills"}, None)
    if "id" not in args:
        raise _Bad("order: name the order's 'id'")
    out: dict[str, Any] = {"id": str(args["id"])}
    if "status" in args:
        out["status"] = _statuses(args["status"], "status")
    for key in ("cum_qty", "leaves_qty", "fills"):
        if key in args:
            out[key] = Comparison.parse(args[key], key)
    return out


def _check_orders(value: object) -> dict[str, Any]:
    args = _args(value, "orders", {"prefix", "status", "count"}, None)
    out: dict[str, Any] = {"prefix": str(args.get("prefix", ""))}
    if "status" in args:
        out["status"] = _statuses(args["status"], "status")
    if "count" in args:
        out["count"] = Comparison.parse(args["count"], "count")
    return out


def _check_session(value: object) -> dict[str, Any]:
    node = _mapping(value, "session check")
    if not node:
        raise _Bad("session: name statistics to check, e.g. {connects: '>= 2'}")
    return {"fields": {str(k): Comparison.parse(v, str(k)) for k, v in node.items()}}


def _check_throttle(value: object) -> dict[str, Any]:
    args = _args(value, "throttle", {"rate", "burst", "min_orders"}, None)
    out: dict[str, Any] = {}
    if "rate" in args:
        out["rate"] = float(_number(args["rate"], "rate"))
    if "burst" in args:
        out["burst"] = _number(args["burst"], "burst", int)
    out["min_orders"] = _number(args.get("min_orders", 1), "min_orders", int)
    return out


def _check_memory(value: object) -> dict[str, Any]:
    args = _args(value, "memory", {"max_growth_mb"}, "max_growth_mb")
    if "max_growth_mb" not in args:
        raise _Bad("memory needs 'max_growth_mb'")
    return {"max_growth_mb": float(_number(args["max_growth_mb"], "max_growth_mb"))}


def _check_no_alerts(value: object) -> dict[str, Any]:
    items = [] if value is None else value if isinstance(value, list) else [value]
    return {"kinds": frozenset(str(v) for v in items)}


_CHECKS: Final[dict[str, Callable[[object], dict[str, Any]]]] = {
    "order": _check_order,
    "orders": _check_orders,
    "orders_known": _no_args,
    "book": lambda value: _symbol(value),
    "seq_in_sync": _no_args,
    "delivered_once": _no_args,
    "session": _check_session,
    "sim_session": _check_session,
    "throttle": _check_throttle,
    "memory": _check_memory,
    "no_alerts": _check_no_alerts,
}

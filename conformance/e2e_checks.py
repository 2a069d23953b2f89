"""The checks of an e2e script's ``assert`` step: what must hold at the end of a scenario.

Each check reads the running world (`E2EEnv`) and returns None when it holds, or the first
difference as ``expected ..., got ...``. The runner retries a failing check until the step's
timeout, so messages still in flight (a heartbeat, the last market data update) may land.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from conformance.e2e_env import E2EEnv
from conformance.e2e_script import Comparison
from trifix.core.codec import Framer
from trifix.core.fields import parse_utc_timestamp
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.runtime import SessionStatistics
from trifix.store import MessageStore
from trifix.trading import OrderState

__all__ = ["CHECKS", "run_check", "stat_value"]

_PENDING: Final = frozenset(
    {OrderState.PENDING_NEW, OrderState.PENDING_CANCEL, OrderState.PENDING_REPLACE}
)
_ADMIN: Final = frozenset(
    m.value
    for m in (
        MsgType.HEARTBEAT,
        MsgType.TEST_REQUEST,
        MsgType.RESEND_REQUEST,
        MsgType.REJECT,
        MsgType.SEQUENCE_RESET,
        MsgType.LOGOUT,
        MsgType.LOGON,
    )
)
_MB: Final = 1_000_000


def stat_value(stats: SessionStatistics, name: str) -> Decimal | None:
    """A statistic by name: a field (``connects``) or a counter (``event_counts.GapDetected``,
    ``messages_in_by_type.X``; 0 when never counted); None for an unknown name."""
    head, _, key = name.partition(".")
    value: Any = getattr(stats, head, None)
    if key:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key, 0)
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    return None


def stored_messages(store: MessageStore, session_id: str, next_seq: int) -> list[Message]:
    """The messages a store keeps for a session, from 1 up to `next_seq` (exclusive)."""
    framer = Framer()
    out: list[Message] = []
    for _, data in store.get_range(session_id, 1, max(0, next_seq - 1)):
        out.extend(f for f in framer.feed(data) if isinstance(f, Message))
    return out


def _order(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    view = env.gw.order(args["id"])
    if view is None:
        return f"order {args['id']}: unknown to the gateway"
    if "status" in args and view.state not in args["status"]:
        wanted = " or ".join(sorted(s.value for s in args["status"]))
        return f"order {view.cl_ord_id}: status expected {wanted}, got {view.state.value}"
    actual: dict[str, Decimal] = {
        "cum_qty": view.cum_qty,
        "leaves_qty": view.leaves_qty,
        "fills": Decimal(len(view.fills)),
    }
    for key, got in actual.items():
        wanted_cmp: Comparison | None = args.get(key)
        if wanted_cmp is not None and not wanted_cmp.holds(got):
            return f"order {view.cl_ord_id}: {key} expected {wanted_cmp}, got {got}"
    return None


def _orders(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    views = [v for v in env.gw.orders() if v.chain[0].startswith(args["prefix"])]
    if "status" in args:
        wrong = [v for v in views if v.state not in args["status"]]
        if wrong:
            wanted = " or ".join(sorted(s.value for s in args["status"]))
            first = wrong[0]
            return (
                f"{len(wrong)} of {len(views)} orders not {wanted}, e.g. "
                f"{first.cl_ord_id}: {first.state.value}"
            )
    count: Comparison | None = args.get("count")
    if count is not None and not count.holds(Decimal(len(views))):
        which = f" {args['prefix']}*" if args["prefix"] else ""
        return f"orders{which}: count expected {count}, got {len(views)}"
    return None


def _orders_known(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    unknown = [v for v in env.gw.orders() if v.state in _PENDING or v.pending is not None]
    if unknown:
        first = unknown[0]
        return (
            f"every order's fate known, got {len(unknown)} still pending, e.g. "
            f"{first.cl_ord_id}: {first.state.value}"
        )
    awaiting = env.gw.statistics().lps[env.lp].awaiting_answer
    if awaiting:
        return f"no request awaiting an answer, got {awaiting}"
    return None


def _book(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    symbol = args["symbol"]
    book = env.gw.book(symbol, env.lp)
    if book is None:
        return f"book {symbol}: the gateway has none (subscribe first)"
    if not book.usable:
        return f"book {symbol}: expected usable, got stale ({book.stale})"
    depth = book.depth()
    shown = max(len(depth.bids), len(depth.offers))
    sim = env.sim.book(symbol)
    for side, got, expected in (
        ("bids", depth.bids, sim.bids),
        ("offers", depth.offers, sim.offers),
    ):
        got_levels = [(lvl.price, lvl.size) for lvl in got]
        want = [(lvl.price, lvl.size) for lvl in expected[:shown]]
        if got_levels != want:
            return f"book {symbol} {side}: expected the simulator's {want}, got {got_levels}"
    return None


def _seq_in_sync(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    gw, sim = env.handle.statistics(), env.sim_session.statistics()
    if not (gw.logged_on and sim.logged_on):
        return f"both sides logged on, got gateway {gw.state.value}, simulator {sim.state.value}"
    if gw.awaiting_resend or sim.awaiting_resend:
        return "no resend outstanding, got one"
    if gw.next_sender_seq != sim.next_target_seq:
        return (
            f"gateway's next outbound {gw.next_sender_seq} = simulator's next expected "
            f"{sim.next_target_seq}"
        )
    if gw.next_target_seq != sim.next_sender_seq:
        return (
            f"gateway's next expected {gw.next_target_seq} = simulator's next outbound "
            f"{sim.next_sender_seq}"
        )
    return None


def _delivered_once(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    sim = env.sim_session.statistics()
    sent = stored_messages(env.sim_store, env.sim_session.id, sim.next_sender_seq)
    app_sent = sum(1 for m in sent if m.msg_type not in _ADMIN)
    delivered = env.handle.statistics().app_messages_in
    if delivered != app_sent:
        return (
            f"each application message the simulator sent delivered once: expected "
            f"{app_sent}, got {delivered} delivered"
        )
    exec_ids = [f.exec_id for v in env.gw.orders() for f in v.fills if not f.reconciled]
    if len(exec_ids) != len(set(exec_ids)):
        return f"every fill's ExecID once, got {len(exec_ids) - len(set(exec_ids))} twice"
    duplicates = [a for a in env.updates.alerts() if a.kind.value == "duplicate"]
    if duplicates:
        return f"no duplicate alert, got: {duplicates[0].text}"
    return None


def _session(stats: SessionStatistics, fields: Mapping[str, Comparison], who: str) -> str | None:
    for name, wanted in fields.items():
        got = stat_value(stats, name)
        if got is None:
            return f"{who} session: no statistic {name!r} (see SessionStatistics)"
        if not wanted.holds(got):
            return f"{who} session {name}: expected {wanted}, got {got}"
    return None


def _gateway_session(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    return _session(env.handle.statistics(), args["fields"], "gateway")


def _sim_session(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    return _session(env.sim_session.statistics(), args["fields"], "simulator")


def _sending_time(message: Message) -> datetime:
    return parse_utc_timestamp(message.get(Tag.SENDING_TIME) or b"")


def _throttle(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    """Replays the NewOrderSingles' SendingTimes (stamped when the throttle let each go)
    through a token bucket of the configured rate and burst."""
    settings = env.setup.throttle
    rate = args.get("rate", settings.rate if settings is not None else None)
    if rate is None:
        return "throttle: the gateway has no throttle; give the check a 'rate'"
    burst = args.get("burst", settings.burst if settings is not None else None)
    capacity = float(burst or max(1, int(rate)))
    stats = env.handle.statistics()
    sent = stored_messages(env.gw_store, env.handle.id, stats.next_sender_seq)
    times = [_sending_time(m) for m in sent if m.msg_type == MsgType.NEW_ORDER_SINGLE]
    if len(times) < args["min_orders"]:
        return f"throttle: at least {args['min_orders']} orders sent, got {len(times)}"
    slack = rate * 0.002  # SendingTime (wall clock) and the throttle (trio's) may differ by ~ms
    tokens, previous = capacity, times[0] if times else None
    for i, when in enumerate(times):
        assert previous is not None
        tokens = min(capacity, tokens + (when - previous).total_seconds() * rate)
        previous = when
        if tokens < 1 - slack:
            return (
                f"throttle: at most {rate:g}/s with bursts of {capacity:g}, got order {i + 1} of "
                f"{len(times)} at {when.time()} with {tokens:.2f} tokens left"
            )
        tokens -= 1
    return None


def _memory(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    if not env.memory.available:
        return None  # no /proc: nothing to measure (the transcript says so)
    growth = env.memory.growth() / _MB
    if growth > args["max_growth_mb"]:
        return f"memory: RSS growth at most {args['max_growth_mb']:g} MB, got {growth:.1f} MB"
    return None


def _no_alerts(env: E2EEnv, args: Mapping[str, Any]) -> str | None:
    kinds: frozenset[str] = args["kinds"]
    alerts = [a for a in env.updates.alerts() if not kinds or a.kind.value in kinds]
    if alerts:
        which = f" of {', '.join(sorted(kinds))}" if kinds else ""
        first = alerts[0]
        return f"no alerts{which}, got {len(alerts)}: {first.kind.value}: {first.text}"
    return None


CHECKS: Final[dict[str, Callable[[E2EEnv, Mapping[str, Any]], str | None]]] = {
    "order": _order,
    "orders": _orders,
    "orders_known": _orders_known,
    "book": _book,
    "seq_in_sync": _seq_in_sync,
    "delivered_once": _delivered_once,
    "session": _gateway_session,
    "sim_session": _sim_session,
    "throttle": _throttle,
    "memory": _memory,
    "no_alerts": _no_alerts,
}


def run_check(env: E2EEnv, name: str, args: Mapping[str, Any]) -> str | None:
    """Run one check: None when it holds, else the difference."""
    return CHECKS[name](env, args)

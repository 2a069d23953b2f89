"""The gateway's plumbing: its LPs and sessions, the tasks reading them, lookups, statistics.

`GatewayCore` holds one `LPState` per LP and runs, in the gateway's nursery, one reader task per
engine session (a session shared by orders and market data is read once) and one watcher task
per LP (ack timeouts, quote expiry). `Gateway` (`trifix.trading.gateway`) adds the API.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import trio

from trifix.core.errors import GarbledMessageError
from trifix.core.message import Message
from trifix.core.tags import MsgType
from trifix.runtime import Engine, NotLoggedOnError, SessionHandle, SessionStatistics
from trifix.runtime.specs import Clock
from trifix.runtime.throttle import ThrottledError
from trifix.trading.bbo import ConsolidatedBBO
from trifix.trading.breaker import BreakerStatistics, CircuitBreaker
from trifix.trading.gateway_lp import LatencyCallback, LPState
from trifix.trading.order_views import IllegalTransition
from trifix.trading.routing import LPConfig, NoRouteError
from trifix.trading.updates import Alert, AlertKind, GatewayUpdate, UpdateHub, jsonable

__all__ = ["GatewayCore", "GatewayStatistics", "LPStatistics", "UnknownLPError"]

_RECOVERED = frozenset(
    {
        MsgType.NEW_ORDER_SINGLE,
        MsgType.ORDER_CANCEL_REQUEST,
        MsgType.ORDER_CANCEL_REPLACE_REQUEST,
    }
)


class UnknownLPError(NoRouteError):
    """No LP has the name given."""


@dataclass(frozen=True, slots=True)
class LPStatistics:
    """One LP at a glance.

    Attributes:
        name: the LP.
        order_session: its order session's statistics (None without one).
        md_session: its market data session's statistics (None without one).
        breaker: its circuit breaker.
        orders: orders tracked.
        open_orders: orders not ended.
        awaiting_answer: requests (new, cancel, replace) sent and not answered yet.
        subscriptions: live market data subscriptions.
        live_quotes: quotes still live.
    """

    name: str
    order_session: SessionStatistics | None
    md_session: SessionStatistics | None
    breaker: BreakerStatistics
    orders: int
    open_orders: int
    awaiting_answer: int
    subscriptions: int
    live_quotes: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        data: dict[str, Any] = jsonable(self)
        return data


@dataclass(frozen=True, slots=True)
class GatewayStatistics:
    """The gateway at a glance (frozen).

    Attributes:
        lps: per LP, in configured order.
        consumers: update consumers open.
        updates_published: updates published since the gateway opened.
        consumers_cut_off: consumers cut off for falling behind.
    """

    lps: Mapping[str, LPStatistics]
    consumers: int
    updates_published: int
    consumers_cut_off: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        data: dict[str, Any] = jsonable(self)
        return data


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


class GatewayCore:
    """The LPs, their sessions and tasks, lookups and statistics (see `Gateway`)."""

    def __init__(
        self,
        engine: Engine,
        lps: Sequence[LPConfig],
        *,
        clock: Clock,
        on_order_ack: LatencyCallback | None = None,
        on_tick: LatencyCallback | None = None,
        cl_ord_id_prefix: str | None = None,
    ) -> None:
        if not lps:
            raise ValueError("a gateway needs at least one LP")
        self._clock = clock
        self._hub = UpdateHub()
        self._bbo = ConsolidatedBBO()
        self._lps: dict[str, LPState] = {}
        self._sessions: dict[str, tuple[SessionHandle, LPState]] = {}
        self._owner: dict[str, LPState] = {}
        self._wakeups: dict[str, trio.Event] = {}
        self._flushing: set[str] = set()
        for config in lps:
            if config.name in self._lps:
                raise ValueError(f"two LPs are named {config.name!r}")
            handles = [self._handle(engine, config, sid) for sid in self._ids(config)]
            order = handles[0] if config.order_session is not None else None
            md = handles[-1] if config.md_session is not None else None
            state = LPState(
                config, order, md, self._bbo, self._publish,
                on_order_ack=on_order_ack, on_tick=on_tick,
            )  # fmt: skip
            self._lps[config.name] = state
            self._wakeups[config.name] = trio.Event()
            for handle in handles:
                self._sessions[handle.id] = (handle, state)
        start = int(clock().timestamp())
        self._prefix = cl_ord_id_prefix if cl_ord_id_prefix is not None else f"{_base36(start)}-"
        self._next_id = 1
        self.recovery_alerts: list[Alert] = []
        """What `recover_from_store` could not use (published before any consumer could listen)."""

    @staticmethod
    def _ids(config: LPConfig) -> list[str]:
        return [s for s in (config.order_session, config.md_session) if s is not None]

    def _handle(self, engine: Engine, config: LPConfig, session_id: str) -> SessionHandle:
        owner = self._sessions.get(session_id)
        if owner is not None and owner[1].name != config.name:
            raise ValueError(
                f"LP {config.name}: session {session_id!r} already belongs to LP {owner[1].name}"
            )
        try:
            return engine.session(session_id)
        except KeyError as exc:
            raise ValueError(f"LP {config.name}: {exc.args[0]}") from None

    # -- lifecycle ----------------------------------------------------------------------------
    async def _recover(self, engine: Engine) -> None:
        """Re-feed each tracker with the orders its session sent, from the engine's store."""
        now = self._clock()
        for state in self._lps.values():
            handle = state.order_handle
            if handle is None:
                continue
            sent: list[Message] = []
            async for chunk in engine.store.read_chunks(handle.id, 1, 0):
                for seq, raw in chunk:
                    try:
                        msg = Message.from_frame(raw)
                    except GarbledMessageError as exc:
                        text = f"recovery: stored message {seq} unreadable: {exc}"
                        self._recovery_alert(state, AlertKind.MALFORMED, text, now)
                        continue
                    if msg.msg_type in _RECOVERED:
                        sent.append(msg)
            for event in state.tracker.recover(sent, []):
                if isinstance(event, IllegalTransition):  # a stored request the tracker refused
                    text = f"recovery: {event.reason}"
                    self._recovery_alert(state, AlertKind.ILLEGAL_TRANSITION, text, now)
            for view in state.tracker.orders():
                for cl_ord_id in view.chain:
                    self._owner[cl_ord_id] = state
                if view.pending is not None:
                    self._owner[view.pending.cl_ord_id] = state
            state.needs_status = bool(state.tracker.open_orders())

    def _recovery_alert(self, state: LPState, kind: AlertKind, text: str, now: datetime) -> None:
        alert = Alert(state.name, kind, text, now)
        self.recovery_alerts.append(alert)
        self._publish(alert)

    def _start(self, nursery: trio.Nursery) -> None:
        now = self._clock()
        for handle, state in self._sessions.values():
            if handle.is_logged_on:
                if state.md is not None and handle is state.md_handle:
                    state.market_data(state.md.on_logged_on(), now, None)
                if handle is state.order_handle and state.needs_status:
                    state.queue_status_requests()
            nursery.start_soon(self._read, handle, state)
        for state in self._lps.values():
            nursery.start_soon(self._watch, state)

    async def _read(self, handle: SessionHandle, state: LPState) -> None:
        await self._flush(state)
        async for event in handle.events():
            quotes = len(state.quote_ids)
            state.on_event(handle.id, event, self._clock(), trio.current_time())
            if len(state.quote_ids) != quotes:
                self._wake(state)
            await self._flush(state)

    async def _watch(self, state: LPState) -> None:
        """Count unanswered requests as they time out, and publish quotes as they expire."""
        while True:
            now, trio_now = self._clock(), trio.current_time()
            next_ack = state.expire(trio_now, now)
            deadline = math.inf if next_ack is None else next_ack
            state.expire_quotes(now)
            expiry = state.next_quote_expiry(now)
            if expiry is not None:
                deadline = min(deadline, trio_now + max((expiry - now).total_seconds(), 0.0))
            with trio.move_on_at(deadline):
                await self._wakeups[state.name].wait()
            self._wakeups[state.name] = trio.Event()

    def _wake(self, state: LPState) -> None:
        self._wakeups[state.name].set()

    async def _flush(self, state: LPState) -> None:
        # One sender per LP at a time keeps requests in the order they were queued.
        if state.name in self._flushing:
            return
        self._flushing.add(state.name)
        try:
            while state.outbox:
                msg = state.outbox.pop(0)
                market_data = msg.msg_type == MsgType.MARKET_DATA_REQUEST
                handle = state.md_handle if market_data else state.order_handle
                assert handle is not None
                try:
                    await handle.send(msg)
                except (NotLoggedOnError, ThrottledError) as exc:
                    if not market_data:  # a market data request is sent again at the next logon
                        state.needs_status = True
                        state.alert(AlertKind.SEND_FAILED, f"{msg.msg_type}: {exc}", self._clock())
        finally:
            self._flushing.discard(state.name)

    def _publish(self, update: GatewayUpdate) -> None:
        self._hub.publish(update)

    # -- the LPs -----------------------------------------------------------------------------
    @property
    def lp_names(self) -> tuple[str, ...]:
        """The LPs' names, in configured order."""
        return tuple(self._lps)

    def _lp(self, name: str) -> LPState:
        state = self._lps.get(name)
        if state is None:
            known = ", ".join(self._lps)
            raise UnknownLPError(f"no LP named {name!r} (configured: {known})")
        return state

    def _order_handle(self, state: LPState) -> SessionHandle:
        handle = state.order_handle
        if handle is None:
            raise NoRouteError(f"LP {state.name} has no order session (market data only)")
        if not handle.is_logged_on:
            raise NotLoggedOnError(
                f"LP {state.name}: order session {handle.id} is not logged on "
                f"({handle.state.value})"
            )
        return handle

    def lp_of(self, cl_ord_id: str) -> str | None:
        """The LP an order (any ClOrdID of its chain) was sent to."""
        state = self._owner.get(cl_ord_id)
        return state.name if state is not None else None

    def breaker(self, lp: str) -> CircuitBreaker:
        """The circuit breaker of `lp` (its state, `force_open`, `reset`...)."""
        return self._lp(lp).breaker

    # -- updates and statistics ---------------------------------------------------------------
    def open_updates(
        self, buffer: int = 1000
    ) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[GatewayUpdate]]:
        """Every update from now on, in order: ``async with gw.open_updates() as updates``.

        A consumer whose `buffer` fills is cut off: its iteration ends after an ``overflow``
        `Alert`, and the gateway never waits for it.
        """
        return self._hub.open(buffer)

    def statistics(self) -> GatewayStatistics:
        """A frozen snapshot of every LP and of the update fan-out."""
        now = self._clock()
        lps = {}
        for state in self._lps.values():
            lps[state.name] = LPStatistics(
                name=state.name,
                order_session=state.order_handle.statistics() if state.order_handle else None,
                md_session=state.md_handle.statistics() if state.md_handle else None,
                breaker=state.breaker.statistics(now),
                orders=len(state.tracker),
                open_orders=len(state.tracker.open_orders()),
                awaiting_answer=len(state.awaiting),
                subscriptions=len(state.md.subscriptions()) if state.md is not None else 0,
                live_quotes=sum(1 for _ in state.quotes.live(now)),
            )
            state.breaker_alerts()
        return GatewayStatistics(lps, self._hub.consumers, self._hub.published, self._hub.cut_off)

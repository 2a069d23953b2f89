"""The trading gateway: several LPs behind one API for applications.

    async with open_engine(spec) as engine, open_gateway(engine, [LPConfig("LP1", "LP1")]) as gw:
        await gw.subscribe(["EURUSD"])
        view = await gw.place(order, lp=Route.BEST_PRICE)
        async with gw.open_updates() as updates:
            async for update in updates:
                print(update.to_json())

Theory of operation. The gateway owns the event streams of its LPs' sessions: one task per
engine session (a session used for both orders and market data is read once) feeds every event
to the LP's `LPState` (`trifix.trading.gateway_lp`), which dispatches ExecutionReports and
OrderCancelRejects to the `OrderTracker`, market data to the `MarketDataManager` and the
consolidated BBO, quotes to the `QuoteBook`, and session events (logon, disconnect) to market
data resubscription, breaker accounting and the status requests that follow a reconnect. Then
the task sends what the LP queued. Whatever happens is published as updates (`open_updates`).

Sending an order: route (a named LP or `Route.BEST_PRICE`, see `trifix.trading.routing`), the
LP's pre-send checks (collars around the LP's own book), its circuit breaker, the tracker
(`on_sent`), then the session. A send that fails is undone in the tracker. One more task per LP
watches for unanswered requests (ack timeouts) and expiring quotes.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import trio

from trifix.core.errors import GarbledMessageError
from trifix.core.message import Message
from trifix.core.tags import MsgType, OrdType, Side, Tag
from trifix.runtime import Engine, NotLoggedOnError, SessionHandle, SessionStatistics
from trifix.runtime.specs import Clock
from trifix.runtime.throttle import ThrottledError
from trifix.trading.bbo import Bbo, ConsolidatedBBO
from trifix.trading.book import InconsistencyKind, OrderBook
from trifix.trading.breaker import BreakerStatistics, CircuitBreaker, FailureKind
from trifix.trading.checks import OrderRequest
from trifix.trading.gateway_lp import LatencyCallback, LPState
from trifix.trading.marketdata import MarketDataError
from trifix.trading.messages import (
    NewOrderSingle,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    QuoteRequest,
)
from trifix.trading.order_state import OrderState
from trifix.trading.order_views import OrderView
from trifix.trading.orders import DuplicateClOrdIDError, UnknownOrderError
from trifix.trading.quotes import QuoteView
from trifix.trading.routing import Candidate, LPConfig, NoRouteError, Route, choose_best_price
from trifix.trading.updates import (
    AlertKind,
    BboChanged,
    BookChanged,
    GatewayUpdate,
    QuoteChanged,
    UpdateHub,
    jsonable,
)

__all__ = [
    "Gateway",
    "GatewayStatistics",
    "LPStatistics",
    "UnknownLPError",
    "open_gateway",
]

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


class Gateway:
    """Several LPs behind one API; see the module docstring. Made by `open_gateway`."""

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
                        state.alert(AlertKind.MALFORMED, f"stored message {seq}: {exc}", now)
                        continue
                    if msg.msg_type in _RECOVERED:
                        sent.append(msg)
            for event in state.tracker.recover(sent, []):
                if not hasattr(event, "order"):
                    state.alert(AlertKind.ILLEGAL_TRANSITION, f"recovery: {event}", now)
            for view in state.tracker.orders():
                for cl_ord_id in view.chain:
                    self._owner[cl_ord_id] = state
                if view.pending is not None:
                    self._owner[view.pending.cl_ord_id] = state
            state.needs_status = bool(state.tracker.open_orders())

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
            deadline = state.expire(trio_now, now) or math.inf
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

    # -- orders -------------------------------------------------------------------------------
    def new_cl_ord_id(self) -> str:
        """A ClOrdID no order of this gateway uses (a prefix from the start time + a counter)."""
        while True:
            cl_ord_id = f"{self._prefix}{self._next_id}"
            self._next_id += 1
            if not self._used(cl_ord_id):
                return cl_ord_id

    def _used(self, cl_ord_id: str) -> bool:
        return cl_ord_id in self._owner or any(cl_ord_id in s.tracker for s in self._lps.values())

    def route(self, symbol: str, side: Side, lp: str | Route = Route.BEST_PRICE) -> str:
        """The LP an order for `symbol` and `side` would go to now.

        Raises:
            UnknownLPError: `lp` names no LP.
            NoRouteError: best price: no LP with an order session logged on, a breaker letting
                orders through and a price for the side.
        """
        if isinstance(lp, str):
            return self._lp(lp).name
        now = self._clock()
        candidates = []
        for state in self._lps.values():
            if state.order_handle is None:
                continue
            refusal = None
            if not state.order_handle.is_logged_on:
                refusal = f"order session {state.order_handle.id} not logged on"
            elif not state.breaker.would_allow(now):
                refusal = f"circuit breaker {state.breaker.state(now).value}"
                state.breaker_alerts()
            candidates.append(Candidate(state.name, state.book(symbol), refusal))
        if not candidates:
            raise NoRouteError("no LP has an order session")
        return choose_best_price(symbol, side, candidates)

    async def place(
        self, order: NewOrderSingle | Message, *, lp: str | Route = Route.BEST_PRICE
    ) -> OrderView:
        """Check and send a new order; returns its view (PendingNew).

        Raises:
            DuplicateClOrdIDError: the ClOrdID is used by an order of the gateway.
            UnknownLPError, NoRouteError: see `route`.
            NotLoggedOnError: the LP's order session is not logged on.
            PreTradeCheckError: a pre-send check refused the order.
            CircuitOpenError: the LP's breaker is open.
            ThrottledError: the session's rate limit refused the send.
        """
        msg = order if isinstance(order, Message) else order.to_message()
        if msg.msg_type != MsgType.NEW_ORDER_SINGLE:
            raise ValueError(f"place sends NewOrderSingle (35=D), not 35={msg.msg_type}")
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        if self._used(cl_ord_id):
            raise DuplicateClOrdIDError(f"ClOrdID {cl_ord_id!r} is already used")
        state = self._lp(self.route(msg.get_str(Tag.SYMBOL), msg.get_enum(Tag.SIDE, Side), lp))
        return await self._send(state, msg, cl_ord_id, checked=True)

    async def _send(
        self, state: LPState, msg: Message, cl_ord_id: str, *, checked: bool
    ) -> OrderView:
        """Checks, breaker, tracker, session: the path of every order request."""
        handle = self._order_handle(state)
        now = self._clock()
        if checked:
            state.checks.check(msg, now)
            try:
                state.breaker.allow(now)
            finally:
                state.breaker_alerts()
        update = state.tracker.on_sent(msg, now)
        assert update is not None
        self._owner[cl_ord_id] = state
        state.expect_answer(cl_ord_id, msg.msg_type, trio.current_time())
        try:
            await handle.send(msg)
        except (NotLoggedOnError, ThrottledError) as exc:
            state.tracker.on_send_failed(cl_ord_id, now)
            del self._owner[cl_ord_id]
            state.forget(cl_ord_id)
            if checked:  # release the breaker's probe, if it took one
                kind = (
                    FailureKind.DISCONNECT
                    if isinstance(exc, NotLoggedOnError)
                    else FailureKind.OTHER
                )
                state.breaker.record_failure(now, kind)
                state.breaker_alerts()
            raise
        state.order_changed(update)
        self._wake(state)
        return update.order

    def _owned(self, cl_ord_id: str) -> tuple[LPState, OrderView]:
        state = self._owner.get(cl_ord_id)
        view = state.tracker.get(cl_ord_id) if state is not None else None
        if state is None or view is None:
            raise UnknownOrderError(f"no order has ClOrdID {cl_ord_id!r}")
        return state, view

    async def cancel(self, cl_ord_id: str) -> OrderView:
        """Ask the LP to cancel an order (any ClOrdID of its chain); returns it PendingCancel.

        Cancels are never stopped by checks or the breaker.

        Raises:
            UnknownOrderError: no order has this ClOrdID.
            IllegalTransitionError: the order has ended, or a request is already pending.
            NotLoggedOnError: the LP's order session is not logged on.
        """
        state, view = self._owned(cl_ord_id)
        request = OrderCancelRequest(
            cl_ord_id=self.new_cl_ord_id(),
            orig_cl_ord_id=view.cl_ord_id,
            symbol=view.symbol,
            side=view.side,
            order_qty=view.order_qty,
            order_id=view.order_id,
            transact_time=self._clock(),
        )
        return await self._send(state, request.to_message(), request.cl_ord_id, checked=False)

    async def replace(
        self, cl_ord_id: str, *, order_qty: Decimal | None = None, price: Decimal | None = None
    ) -> OrderView:
        """Ask the LP to change an order's quantity and/or price; returns it PendingReplace.

        The replace passes the LP's pre-send checks and breaker like a new order.

        Raises:
            ValueError: neither `order_qty` nor `price` given.
            UnknownOrderError, IllegalTransitionError, NotLoggedOnError: as for `cancel`.
            PreTradeCheckError, CircuitOpenError: as for `place`.
        """
        if order_qty is None and price is None:
            raise ValueError("replace needs a new order_qty, a new price or both")
        state, view = self._owned(cl_ord_id)
        request = OrderCancelReplaceRequest(
            cl_ord_id=self.new_cl_ord_id(),
            orig_cl_ord_id=view.cl_ord_id,
            symbol=view.symbol,
            side=view.side,
            ord_type=view.ord_type,
            order_qty=order_qty if order_qty is not None else view.order_qty,
            price=price if price is not None else view.price,
            order_id=view.order_id,
            time_in_force=view.time_in_force,
            transact_time=self._clock(),
        )
        return await self._send(state, request.to_message(), request.cl_ord_id, checked=True)

    async def request_status(self, cl_ord_id: str) -> None:
        """Ask the LP for an order's status (OrderStatusRequest); the answer updates it.

        Raises:
            UnknownOrderError: no order has this ClOrdID.
            NotLoggedOnError: the LP's order session is not logged on.
        """
        state, view = self._owned(cl_ord_id)
        handle = self._order_handle(state)
        await handle.send(state.tracker.status_request(view.cl_ord_id).to_message())

    async def mass_status(
        self, lp: str, *, symbol: str | None = None, side: Side | None = None
    ) -> str:
        """Ask `lp` for the status of all its orders (or those of `symbol`/`side`).

        Orders the LP reports that the gateway did not know are adopted; when the last answer
        arrives an `Alert` (kind ``mass_status``) lists open orders the LP did not report.
        Returns the MassStatusReqID.
        """
        state = self._lp(lp)
        handle = self._order_handle(state)
        req_id = f"{self._prefix}MS{self._next_id}"
        self._next_id += 1
        request = state.tracker.mass_status_request(req_id, symbol=symbol, side=side)
        state.tracker.on_sent(request, self._clock())
        await handle.send(request.to_message())
        return req_id

    def order(self, cl_ord_id: str) -> OrderView | None:
        """The order any of whose ClOrdIDs is `cl_ord_id`, or None."""
        state = self._owner.get(cl_ord_id)
        return state.tracker.get(cl_ord_id) if state is not None else None

    def orders(
        self,
        *,
        lp: str | None = None,
        symbol: str | None = None,
        side: Side | None = None,
        status: OrderState | Collection[OrderState] | None = None,
        open_only: bool = False,
    ) -> list[OrderView]:
        """The orders matching every filter given, oldest first (across LPs)."""
        states = [self._lp(lp)] if lp is not None else list(self._lps.values())
        found = [
            view
            for state in states
            for view in state.tracker.orders(
                symbol=symbol, side=side, status=status, open_only=open_only
            )
        ]
        found.sort(key=lambda v: v.created_at)
        return found

    # -- market data --------------------------------------------------------------------------
    def _md_lps(self, lps: Sequence[str] | None) -> list[LPState]:
        if lps is None:
            states = [s for s in self._lps.values() if s.md is not None]
            if not states:
                raise NoRouteError("no LP has a market data session")
            return states
        states = [self._lp(name) for name in lps]
        for state in states:
            if state.md is None:
                raise NoRouteError(f"LP {state.name} has no market data session")
        return states

    async def subscribe(
        self, symbols: str | Sequence[str], *, depth: int = 1, lps: Sequence[str] | None = None
    ) -> None:
        """Subscribe to `symbols` on each LP named (default: every LP with market data).

        One subscription per symbol and LP; requests go out now, or at the next logon.

        Raises:
            UnknownLPError, NoRouteError: an LP unknown or without a market data session.
            MarketDataError: a symbol already subscribed on one of the LPs, or a bad depth.
            SubscriptionLimitError: over an LP's `max_subscriptions`.
        """
        wanted = [symbols] if isinstance(symbols, str) else list(symbols)
        states = self._md_lps(lps)
        for state in states:
            for symbol in wanted:
                if state.book(symbol) is not None:
                    raise MarketDataError(f"LP {state.name} is already subscribed to {symbol}")
        for state in states:
            assert state.md is not None
            for symbol in wanted:
                state.md.subscribe(symbol, depth=depth, style=state.config.book_style)
            state.outbox += state.md.data_to_send()
            await self._flush(state)

    async def unsubscribe(self, symbol: str, *, lps: Sequence[str] | None = None) -> None:
        """Stop the market data of `symbol` on each LP named (default: every LP)."""
        for state in self._md_lps(lps):
            assert state.md is not None
            for sub in state.md.subscriptions():
                if symbol in sub.symbols:
                    state.md.unsubscribe(sub)
                    for book in sub.books.values():
                        self._drop_book(state, book)
            state.outbox += state.md.data_to_send()
            await self._flush(state)

    def _drop_book(self, state: LPState, book: OrderBook) -> None:
        if book.stale is None:
            book.mark_stale(InconsistencyKind.REQUESTED, "unsubscribed")
        self._publish(BookChanged(state.name, book.symbol, book.top(), False))
        bbo = self._bbo.update(book)
        if bbo is not None:
            self._publish(BboChanged(bbo.symbol, bbo))

    def book(self, symbol: str, lp: str) -> OrderBook | None:
        """`lp`'s book of `symbol`, if subscribed."""
        return self._lp(lp).book(symbol)

    def bbo(self, symbol: str) -> Bbo | None:
        """The consolidated best bid and offer of `symbol`, or None if no LP quoted it yet."""
        return self._bbo.best(symbol) if symbol in self._bbo.symbols() else None

    def symbols(self) -> list[str]:
        """The symbols subscribed on any LP, sorted."""
        return sorted(
            {
                symbol
                for state in self._lps.values()
                if state.md is not None
                for sub in state.md.subscriptions()
                for symbol in sub.symbols
            }
        )

    # -- quotes -------------------------------------------------------------------------------
    async def request_quote(
        self,
        symbol: str,
        *,
        lp: str,
        side: Side | None = None,
        order_qty: Decimal | None = None,
    ) -> QuoteRequest:
        """Send a QuoteRequest to `lp`; its quotes arrive as `QuoteChanged` updates.

        Raises:
            UnknownLPError, NoRouteError, NotLoggedOnError: see `place`.
            QuoteError: the quantity is not positive.
        """
        state = self._lp(lp)
        handle = self._order_handle(state)
        request = state.quotes.request(symbol, self._clock(), side=side, order_qty=order_qty)
        await handle.send(request.to_message())
        return request

    def quotes(
        self, *, lp: str | None = None, symbol: str | None = None, live_only: bool = True
    ) -> list[QuoteView]:
        """The quotes received (live ones only by default), oldest first per LP."""
        now = self._clock()
        states = [self._lp(lp)] if lp is not None else list(self._lps.values())
        found = []
        for state in states:
            for quote_id in state.quote_ids:
                view = state.quotes.get(quote_id, now)
                assert view is not None
                if (symbol is None or view.symbol == symbol) and (view.is_live or not live_only):
                    found.append(view)
        return found

    async def trade_quote(
        self,
        quote_id: str,
        *,
        lp: str,
        side: Side,
        order_qty: Decimal,
        cl_ord_id: str | None = None,
    ) -> OrderView:
        """Send an order (OrdType previously quoted, FOK) on a firm quote of `lp`.

        Raises:
            QuoteError: the quote is unknown, not firm, expired, traded, or does not cover the
                side or quantity.
            DuplicateClOrdIDError, NotLoggedOnError, PreTradeCheckError, CircuitOpenError:
                as for `place`; these are checked before the quote is used up.
        """
        state = self._lp(lp)
        cl_ord_id = cl_ord_id if cl_ord_id is not None else self.new_cl_ord_id()
        if self._used(cl_ord_id):
            raise DuplicateClOrdIDError(f"ClOrdID {cl_ord_id!r} is already used")
        self._order_handle(state)
        now = self._clock()
        quoted = state.quotes.get(quote_id, now)
        if quoted is not None:
            price = quoted.quote.offer_px if side is Side.BUY else quoted.quote.bid_px
            if price is not None:
                preview = OrderRequest(
                    cl_ord_id, quoted.symbol, side, OrdType.PREVIOUSLY_QUOTED, order_qty, price
                )
                state.checks.check(preview, now)
        if not state.breaker.would_allow(now):
            try:
                state.breaker.allow(now)  # raises CircuitOpenError, saying until when
            finally:
                state.breaker_alerts()
        order = state.quotes.order_for(
            quote_id, side=side, order_qty=order_qty, cl_ord_id=cl_ord_id, now=now
        )
        traded = state.quotes.get(quote_id, now)
        assert traded is not None
        self._publish(QuoteChanged(state.name, traded))
        return await self._send(state, order.to_message(), cl_ord_id, checked=True)

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


@asynccontextmanager
async def open_gateway(
    engine: Engine,
    lps: Sequence[LPConfig],
    *,
    clock: Clock | None = None,
    on_order_ack: Callable[[str, float], object] | None = None,
    on_tick: Callable[[str, float], object] | None = None,
    recover_from_store: bool = False,
    cl_ord_id_prefix: str | None = None,
) -> AsyncIterator[Gateway]:
    """Run a gateway over `lps`, sessions of the running `engine`, until the block ends.

    Args:
        engine: a running engine (`trifix.runtime.open_engine`) holding every LP's sessions.
        lps: the LPs, in the order that breaks best-price ties.
        clock: wall time (default: the engine's clock).
        on_order_ack: called with (LP, seconds) from a new order's send to its first answer.
        on_tick: called with (LP, seconds) from a market data message's SendingTime to its
            book update.
        recover_from_store: rebuild each LP's orders from the requests its order session
            stored (the store keeps what was sent, not what was received): the orders come
            back pending and their status is asked for at the next logon.
        cl_ord_id_prefix: the start of generated ClOrdIDs (default: the start time in base 36).

    Raises:
        ValueError: no LPs, two with one name, a session unknown to the engine or shared by two
            LPs.
    """
    gateway = Gateway(
        engine,
        lps,
        clock=clock if clock is not None else engine.clock,
        on_order_ack=on_order_ack,
        on_tick=on_tick,
        cl_ord_id_prefix=cl_ord_id_prefix,
    )
    if recover_from_store:
        await gateway._recover(engine)
    try:
        async with trio.open_nursery() as nursery:
            gateway._start(nursery)
            yield gateway
            nursery.cancel_scope.cancel()
    finally:
        gateway._hub.close()

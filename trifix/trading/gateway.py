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

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal

import trio

from trifix.core.message import Message
from trifix.core.tags import MsgType, OrdType, Side, Tag
from trifix.runtime import Engine, NotLoggedOnError
from trifix.runtime.specs import Clock
from trifix.runtime.throttle import ThrottledError
from trifix.trading.breaker import FailureKind
from trifix.trading.checks import OrderRequest
from trifix.trading.gateway_core import GatewayStatistics, LPStatistics, UnknownLPError
from trifix.trading.gateway_lp import LPState
from trifix.trading.gateway_md import GatewayMarketData
from trifix.trading.messages import NewOrderSingle, OrderCancelReplaceRequest, OrderCancelRequest
from trifix.trading.order_state import OrderState
from trifix.trading.order_views import OrderUpdate, OrderView
from trifix.trading.orders import DuplicateClOrdIDError, UnknownOrderError
from trifix.trading.routing import Candidate, LPConfig, NoRouteError, Route, choose_best_price
from trifix.trading.updates import QuoteChanged

__all__ = [
    "Gateway",
    "GatewayStatistics",
    "LPStatistics",
    "UnknownLPError",
    "open_gateway",
]


class Gateway(GatewayMarketData):
    """Several LPs behind one API; see the module docstring. Made by `open_gateway`."""

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
        # A typed order is read as it is rather than from the message just made of it.
        typed = order if isinstance(order, NewOrderSingle) else None
        request = OrderRequest.of_new_order(typed) if typed is not None else None
        if request is not None:
            cl_ord_id, symbol, side = request.cl_ord_id, request.symbol, request.side
        else:
            typed = None
            cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        if self._used(cl_ord_id):
            raise DuplicateClOrdIDError(f"ClOrdID {cl_ord_id!r} is already used")
        if request is None:
            symbol, side = msg.get_str(Tag.SYMBOL), msg.get_enum(Tag.SIDE, Side)
        state = self._lp(self.route(symbol, side, lp))
        return await self._send(state, msg, cl_ord_id, checked=True, request=request, typed=typed)

    async def _send(
        self,
        state: LPState,
        msg: Message,
        cl_ord_id: str,
        *,
        checked: bool,
        request: OrderRequest | None = None,
        typed: NewOrderSingle | None = None,
    ) -> OrderView:
        """Checks, breaker, tracker, session: the path of every order request.

        `request` is `msg` as the checks read it, and `typed` the NewOrderSingle `msg` was
        made of, when the caller has them (they are read from `msg` otherwise).
        """
        handle = self._order_handle(state)
        now = self._clock()
        if checked:
            state.checks.check(request if request is not None else msg, now)
            try:
                state.breaker.allow(now)
            finally:
                state.breaker_alerts()
        if typed is not None:
            update: OrderUpdate | None = state.tracker.on_sent_new(typed, msg, now)
        else:
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
        if len(state.timeouts) == 1:  # the watcher sleeps with no deadline: give it this one
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

"""LP mode: a simulated liquidity provider serving one session, driven by its `Behaviour`.

For each application message received (after the behaviour's latency):

* NewOrderSingle (D): rejected (150=8, 39=8) when a ClOrdID is reused, the symbol is unknown,
  the side, type or quantity is not supported (outside the instrument's min/max quantity), or
  the behaviour's `RejectRule` matches; otherwise acknowledged (150=0) and filled by the
  `FillModel`, in `Behaviour.slices` executions. An order carrying a QuoteID (117) trades at
  once on that Quote if it is tradeable, unexpired and large enough, and is rejected otherwise.
* OrderCancelRequest (F) / OrderCancelReplaceRequest (G): Canceled (150=4) / Replaced (150=5)
  for an open order; otherwise OrderCancelReject (35=9) with CxlRejReason 1 (unknown order),
  0 (too late: filled or canceled) or 6 (duplicate ClOrdID).
* OrderStatusRequest (H): an ExecutionReport 150=I with the order's state (39=8 and
  OrdRejReason 5 for an unknown order). OrderMassStatusRequest (AF): one 150=I report per order
  (per symbol for 585=1), with MassStatusReqID (584), TotNumReports (911) and
  LastRptRequested (912=Y on the last).
* MarketDataRequest (V): see `simulator.mdfeed`.
* QuoteRequest (R): a Quote (S) per symbol around the market, tradeable or indicative (537),
  valid for `Behaviour.quote_validity` seconds (ValidUntilTime, 62); a QuoteRequestReject (AG)
  for an unknown symbol.
* Anything else: BusinessMessageReject (35=j, 380=3).

Orders outlive connections: after a disconnect (a `disconnect_after_ack` one included) the
order goes on filling while the peer is away, and the peer learns its fate from a status
request. Subscriptions end with the connection.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import trio

from simulator.behaviour import FillModel
from simulator.market import Market, Tick
from simulator.mdfeed import MarketDataFeed
from simulator.reports import (
    UNKNOWN_ORDER_ID,
    Order,
    Rejected,
    cancel_reject,
    execution_report,
)
from trifix.core.errors import FieldValueError, LocalProtocolError
from trifix.core.events import AppMessageReceived, Disconnected
from trifix.core.message import Message
from trifix.core.tags import (
    BusinessRejectReason,
    CxlRejReason,
    CxlRejResponseTo,
    ExecType,
    MassStatusReqType,
    MsgType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    QuoteRejectReason,
    QuoteType,
    Side,
    SubscriptionRequestType,
    Tag,
)
from trifix.runtime import NotLoggedOnError

if TYPE_CHECKING:
    from simulator.session import SimSession

__all__ = ["LPApp"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _Quote:
    quote_id: str
    symbol: str
    bid: Decimal
    offer: Decimal
    size: Decimal
    valid_until: datetime
    tradeable: bool


class LPApp:
    """Serves one session as a simulated LP (see the module docstring) until cancelled."""

    def __init__(self, session: SimSession, market: Market, rng: random.Random) -> None:
        self.session = session
        self.handle = session.handle
        self.market = market
        self.rng = rng
        self.clock = session.engine.clock
        self.feed = MarketDataFeed(market)
        self.orders: dict[str, Order] = {}  # by latest ClOrdID
        self.seen_cl_ord_ids: set[str] = set()
        self.quotes: dict[str, _Quote] = {}
        self._counters = {"O": 0, "E": 0, "Q": 0}
        self._nursery: trio.Nursery | None = None
        market.add_listener(self.on_tick)

    # -- serving ------------------------------------------------------------------------------
    async def serve(self) -> None:
        """Consume the session's events until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            async for event in self.handle.events():
                if isinstance(event, Disconnected):
                    self.feed.subscriptions.clear()  # the peer subscribes again on its logon
                elif isinstance(event, AppMessageReceived):
                    await self._delay()
                    await self.on_message(event.message)
            nursery.cancel_scope.cancel()

    def clear(self) -> None:
        """Forget orders, quotes and subscriptions (a restart without persistence)."""
        self.orders.clear()
        self.seen_cl_ord_ids.clear()
        self.quotes.clear()
        self.feed.subscriptions.clear()

    async def _delay(self) -> None:
        behaviour = self.session.behaviour
        delay = behaviour.latency
        if behaviour.latency_jitter > 0:
            delay += self.rng.uniform(0, behaviour.latency_jitter)
        if delay > 0:
            await trio.sleep(delay)

    async def on_message(self, msg: Message) -> None:
        """Answer one application message."""
        handlers: dict[str, Callable[[Message], Awaitable[None]]] = {
            MsgType.NEW_ORDER_SINGLE: self._new_order,
            MsgType.ORDER_CANCEL_REQUEST: self._cancel,
            MsgType.ORDER_CANCEL_REPLACE_REQUEST: self._replace,
            MsgType.ORDER_STATUS_REQUEST: self._status,
            MsgType.ORDER_MASS_STATUS_REQUEST: self._mass_status,
            MsgType.MARKET_DATA_REQUEST: self._market_data_request,
            MsgType.QUOTE_REQUEST: self._quote_request,
        }
        handler = handlers.get(msg.msg_type)
        try:
            if handler is None:
                await self._business_reject(
                    msg, BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE, "unsupported message type"
                )
            else:
                await handler(msg)
        except FieldValueError as exc:  # only when the session does not validate
            await self._business_reject(
                msg, BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING, str(exc)
            )

    async def _send(self, msg: Message) -> None:
        # The connection may have ended: what happened is kept in the orders, not the wire.
        with contextlib.suppress(NotLoggedOnError):
            await self.handle.send(msg)

    def _next_id(self, prefix: str) -> str:
        self._counters[prefix] += 1
        return f"{prefix}{self._counters[prefix]}"

    async def _report(self, order: Order, exec_type: ExecType, **options: Any) -> None:
        exec_id = self._next_id("E")
        await self._send(execution_report(order, exec_id, exec_type, self.clock(), **options))

    # -- the market -----------------------------------------------------------------------------
    async def on_tick(self, tick: Tick) -> None:
        """Publish a market step to the subscriptions, then fill resting orders it reaches."""
        if self.handle.is_logged_on:
            await self._publish(tick.symbols, tick)
        await self._fill_resting()

    async def _publish(self, symbols: tuple[str, ...], tick: Tick) -> None:
        for sub in list(self.feed.subscriptions.values()):
            for msg in self.feed.updates(sub, symbols, tick.trades):
                await self._send(msg)

    async def flood(self, rate: float, count: int, symbol: str | None = None) -> int:
        """See `SimSession.flood`: steps the market `count` times, paced at `rate` a second."""
        if rate <= 0 or count < 0:
            raise ValueError("flood needs rate > 0 and count >= 0")
        subscribed = [s for sub in self.feed.subscriptions.values() for s in sub.symbols]
        if symbol is not None and symbol not in subscribed:
            raise LocalProtocolError(f"no subscription of session {self.handle.id} to {symbol}")
        if not subscribed:
            raise LocalProtocolError(f"session {self.handle.id} has no market data subscription")
        symbols = [symbol] if symbol is not None else list(dict.fromkeys(subscribed))
        start = trio.current_time()
        for sent in range(count):
            due = start + sent / rate
            if due > trio.current_time():
                await trio.sleep_until(due)
            else:  # behind the rate: still let the writer (and everything else) run
                await trio.lowlevel.checkpoint()
            if not self.handle.is_logged_on:
                return sent
            name = symbols[sent % len(symbols)]
            await self._publish((name,), self.market.step((name,)))
        return count

    # -- orders ---------------------------------------------------------------------------------
    async def _new_order(self, msg: Message) -> None:
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        order = Order(
            order_id=UNKNOWN_ORDER_ID,
            cl_ord_id=cl_ord_id,
            symbol=msg.get_str(Tag.SYMBOL, ""),
            side=msg.get_enum(Tag.SIDE, Side),
            ord_type=msg.get_enum(Tag.ORD_TYPE, OrdType),
            qty=msg.get_decimal(Tag.ORDER_QTY, ZERO),
            price=msg.get_decimal(Tag.PRICE, None),
            quote_id=msg.get_str(Tag.QUOTE_ID, None),
            status=OrdStatus.REJECTED,
        )
        try:
            quote_price = self._check_new(order)
        except Rejected as why:
            self.seen_cl_ord_ids.add(cl_ord_id)
            await self._report(order, ExecType.REJECTED, reject=why)
            return
        self.seen_cl_ord_ids.add(cl_ord_id)
        order.order_id = self._next_id("O")
        order.status = OrdStatus.NEW
        self.orders[cl_ord_id] = order
        await self._report(order, ExecType.NEW)
        behaviour = self.session.behaviour
        if behaviour.disconnect_after_ack:
            self.session.set_behaviour(disconnect_after_ack=False)
            with contextlib.suppress(NotLoggedOnError):
                await self.handle.wait_flushed()  # the ack reaches the peer, the fill does not
            await self.session.disconnect()
        price = quote_price if quote_price is not None else self._fill_price(order)
        if price is not None:
            await self._fill(order, price)

    def _check_new(self, order: Order) -> Decimal | None:
        """Raise `Rejected` for an order the LP refuses; the quote's price for a quoted one."""
        if order.cl_ord_id in self.seen_cl_ord_ids:
            raise Rejected(OrdRejReason.DUPLICATE_ORDER, f"duplicate ClOrdID {order.cl_ord_id}")
        instrument = self.market.instrument(order.symbol)
        if instrument is None:
            raise Rejected(OrdRejReason.UNKNOWN_SYMBOL, f"unknown symbol {order.symbol!r}")
        if order.side not in (Side.BUY, Side.SELL):
            raise Rejected(OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "side must be 1 or 2")
        if order.quote_id is None and order.ord_type not in (OrdType.MARKET, OrdType.LIMIT):
            raise Rejected(
                OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "only market and limit orders"
            )
        if order.ord_type is OrdType.LIMIT and (order.price is None or order.price <= ZERO):
            raise Rejected(
                OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "a limit order needs Price > 0"
            )
        too_big = instrument.max_qty is not None and order.qty > instrument.max_qty
        if order.qty <= ZERO or order.qty < instrument.min_qty or too_big:
            raise Rejected(OrdRejReason.INCORRECT_QUANTITY, f"OrderQty {order.qty} not accepted")
        rule = self.session.behaviour.reject
        if rule is not None and rule.matches(order.symbol, order.side, order.qty, self.rng):
            raise Rejected(rule.reason, rule.text)
        if order.quote_id is None:
            return None
        return self._quoted_price(order)

    def _quoted_price(self, order: Order) -> Decimal:
        quote = self.quotes.get(order.quote_id or "")
        if quote is None or quote.symbol != order.symbol:
            raise Rejected(OrdRejReason.OTHER, f"unknown quote {order.quote_id!r}")
        if not quote.tradeable:
            raise Rejected(OrdRejReason.OTHER, f"quote {quote.quote_id} is indicative")
        if self.clock() > quote.valid_until:
            raise Rejected(OrdRejReason.STALE_ORDER, f"quote {quote.quote_id} has expired")
        if order.qty > quote.size:
            raise Rejected(OrdRejReason.INCORRECT_QUANTITY, f"more than the quoted {quote.size}")
        return quote.offer if order.side is Side.BUY else quote.bid

    def _fill_price(self, order: Order) -> Decimal | None:
        """The price `order` fills at now by the fill model, or None when it rests."""
        model = self.session.behaviour.fill
        if model is FillModel.NONE:
            return None
        book = self.market.book(order.symbol)
        buy = order.side is Side.BUY
        if order.ord_type is OrdType.MARKET or order.price is None:
            return book.offer if buy else book.bid
        if model is FillModel.IMMEDIATE:
            return order.price
        if (buy and order.price >= book.offer) or (not buy and order.price <= book.bid):
            return order.price
        return None

    async def _fill(self, order: Order, price: Decimal) -> None:
        """Fill what is left of `order` at `price`, in the behaviour's slices."""
        behaviour = self.session.behaviour
        slices = _slices(order.leaves_qty, behaviour.slices)
        await self._execute(order, slices[0], price)
        if len(slices) == 1:
            return
        if behaviour.slice_interval <= 0 or self._nursery is None:
            for qty in slices[1:]:
                await self._execute(order, qty, price)
            return
        order.filling = True
        self._nursery.start_soon(
            self._fill_later, order, slices[1:], price, behaviour.slice_interval
        )

    async def _fill_later(
        self, order: Order, slices: list[Decimal], price: Decimal, interval: float
    ) -> None:
        try:
            for qty in slices:
                await trio.sleep(interval)
                if not order.is_open:
                    return  # canceled meanwhile
                await self._execute(order, min(qty, order.leaves_qty), price)
        finally:
            order.filling = False

    async def _execute(self, order: Order, qty: Decimal, price: Decimal) -> None:
        if qty <= ZERO or not order.is_open:
            return
        order.execute(qty, price)
        await self._report(order, ExecType.TRADE, last=(qty, price))

    async def _fill_resting(self) -> None:
        for order in list(self.orders.values()):
            if order.is_open and not order.filling and order.quote_id is None:
                price = self._fill_price(order)
                if price is not None:
                    await self._fill(order, price)

    async def _cancel(self, msg: Message) -> None:
        await self._amend(msg, CxlRejResponseTo.ORDER_CANCEL_REQUEST)

    async def _replace(self, msg: Message) -> None:
        await self._amend(msg, CxlRejResponseTo.ORDER_CANCEL)

    async def _amend(self, msg: Message, kind: CxlRejResponseTo) -> None:
        """A cancel (F) or a cancel/replace (G) of the order whose ClOrdID is OrigClOrdID."""
        orig = msg.get_str(Tag.ORIG_CL_ORD_ID)
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        order = self.orders.get(orig)
        reason, text = None, ""
        if order is None:
            reason, text = CxlRejReason.UNKNOWN_ORDER, "unknown order"
        elif cl_ord_id in self.seen_cl_ord_ids:
            reason, text = CxlRejReason.DUPLICATE_CL_ORD_ID, "duplicate ClOrdID"
        elif not order.is_open:
            reason = CxlRejReason.TOO_LATE_TO_CANCEL
            text = f"too late: the order is {order.status.name.lower()}"
        elif kind is CxlRejResponseTo.ORDER_CANCEL:
            new_qty = msg.get_decimal(Tag.ORDER_QTY, order.qty)
            if new_qty <= order.cum_qty:
                reason = CxlRejReason.OTHER
                text = f"OrderQty {new_qty} is not above the filled {order.cum_qty}"
        if reason is not None or order is None:
            why = CxlRejReason.OTHER if reason is None else reason
            await self._send(cancel_reject(msg, order, kind, why, text, self.clock()))
            return
        self.seen_cl_ord_ids.add(cl_ord_id)
        del self.orders[orig]
        order.cl_ord_id = cl_ord_id
        self.orders[cl_ord_id] = order
        if kind is CxlRejResponseTo.ORDER_CANCEL_REQUEST:
            order.status = OrdStatus.CANCELED
            await self._report(order, ExecType.CANCELED, orig=orig)
            return
        order.qty = msg.get_decimal(Tag.ORDER_QTY, order.qty)
        order.ord_type = msg.get_enum(Tag.ORD_TYPE, OrdType, order.ord_type)
        order.price = (
            None if order.ord_type is OrdType.MARKET else msg.get_decimal(Tag.PRICE, order.price)
        )
        await self._report(order, ExecType.REPLACED, orig=orig)
        price = self._fill_price(order)
        if price is not None and not order.filling:
            await self._fill(order, price)

    # -- status ---------------------------------------------------------------------------------
    async def _status(self, msg: Message) -> None:
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        order = self.orders.get(cl_ord_id) or self._by_order_id(msg.get_str(Tag.ORDER_ID, None))
        if order is not None:
            await self._report(order, ExecType.ORDER_STATUS)
            return
        unknown = Order(
            UNKNOWN_ORDER_ID,
            cl_ord_id,
            msg.get_str(Tag.SYMBOL, ""),
            msg.get_enum(Tag.SIDE, Side),
            OrdType.MARKET,
            ZERO,
            None,
            status=OrdStatus.REJECTED,
        )
        why = Rejected(OrdRejReason.UNKNOWN_ORDER, f"unknown order {cl_ord_id}")
        await self._report(unknown, ExecType.ORDER_STATUS, reject=why)

    def _by_order_id(self, order_id: str | None) -> Order | None:
        return next((o for o in self.orders.values() if o.order_id == order_id), None)

    async def _mass_status(self, msg: Message) -> None:
        req_id = msg.get_str(Tag.MASS_STATUS_REQ_ID)
        kind = msg.get_enum(Tag.MASS_STATUS_REQ_TYPE, MassStatusReqType)
        orders = sorted(self.orders.values(), key=lambda o: int(o.order_id[1:]))
        if kind is MassStatusReqType.STATUS_FOR_ORDERS_FOR_A_SECURITY:
            symbol = msg.get_str(Tag.SYMBOL, "")
            orders = [o for o in orders if o.symbol == symbol]
        for index, order in enumerate(orders, start=1):
            extra = [
                (Tag.MASS_STATUS_REQ_ID, req_id),
                (Tag.TOT_NUM_REPORTS, len(orders)),
                (Tag.LAST_RPT_REQUESTED, index == len(orders)),
            ]
            await self._report(order, ExecType.ORDER_STATUS, extra=extra)
        if not orders:
            await self._business_reject(
                msg, BusinessRejectReason.OTHER, f"MassStatusReqID {req_id}: no orders"
            )

    # -- market data and quotes -----------------------------------------------------------------
    async def _market_data_request(self, msg: Message) -> None:
        req_id = msg.get_str(Tag.MD_REQ_ID)
        kind = msg.get_enum(Tag.SUBSCRIPTION_REQUEST_TYPE, SubscriptionRequestType)
        if kind is SubscriptionRequestType.DISABLE_PREVIOUS_SNAPSHOT:
            if self.feed.subscriptions.pop(req_id, None) is None:
                text = f"no subscription {req_id!r} to cancel"
                await self._send(self.feed.reject(req_id, None, text))
            return
        try:
            sub = self.feed.parse(msg)
        except Rejected as why:
            await self._send(self.feed.reject(req_id, why, why.text))
            return
        for symbol in sub.symbols:
            await self._send(self.feed.snapshot(sub, symbol))
        if kind is SubscriptionRequestType.SNAPSHOT_AND_UPDATES:
            self.feed.subscriptions[req_id] = sub

    async def _quote_request(self, msg: Message) -> None:
        req_id = msg.get_str(Tag.QUOTE_REQ_ID)
        behaviour = self.session.behaviour
        for group in msg.group(Tag.NO_RELATED_SYM):
            symbol = group.get_str(Tag.SYMBOL, "")
            instrument = self.market.instrument(symbol)
            if instrument is None:
                reject = Message.new(
                    MsgType.QUOTE_REQUEST_REJECT,
                    (Tag.QUOTE_REQ_ID, req_id),
                    # QuoteRequestRejectReason (658) shares QuoteRejectReason's codes.
                    (Tag.QUOTE_REQUEST_REJECT_REASON, QuoteRejectReason.UNKNOWN_SYMBOL),
                    (Tag.TEXT, f"unknown symbol {symbol!r}"),
                )
                await self._send(reject.add_group(Tag.NO_RELATED_SYM, [[(Tag.SYMBOL, symbol)]]))
                continue
            book = self.market.book(symbol)
            widen = instrument.tick * behaviour.quote_spread_ticks
            size = group.get_decimal(Tag.ORDER_QTY, instrument.size)
            now = self.clock()
            quote = _Quote(
                self._next_id("Q"),
                symbol,
                book.bid - widen,
                book.offer + widen,
                size,
                now + timedelta(seconds=behaviour.quote_validity),
                behaviour.quote_tradeable,
            )
            self.quotes[quote.quote_id] = quote
            await self._send(
                Message.new(
                    MsgType.QUOTE,
                    (Tag.QUOTE_REQ_ID, req_id),
                    (Tag.QUOTE_ID, quote.quote_id),
                    (
                        Tag.QUOTE_TYPE,
                        QuoteType.TRADEABLE if quote.tradeable else QuoteType.INDICATIVE,
                    ),
                    (Tag.SYMBOL, symbol),
                    (Tag.BID_PX, quote.bid),
                    (Tag.OFFER_PX, quote.offer),
                    (Tag.BID_SIZE, size),
                    (Tag.OFFER_SIZE, size),
                    (Tag.VALID_UNTIL_TIME, quote.valid_until),
                    (Tag.TRANSACT_TIME, now),
                )
            )

    async def _business_reject(self, msg: Message, reason: BusinessRejectReason, text: str) -> None:
        await self._send(
            Message.new(
                MsgType.BUSINESS_MESSAGE_REJECT,
                (Tag.REF_SEQ_NUM, msg.seq_num),
                (Tag.REF_MSG_TYPE, msg.msg_type),
                (Tag.BUSINESS_REJECT_REASON, reason),
                (Tag.TEXT, text),
            )
        )


def _slices(qty: Decimal, count: int) -> list[Decimal]:
    """`qty` in `count` parts, each a multiple of qty's own precision; the last takes the rest."""
    if count <= 1:
        return [qty]
    unit = Decimal(1).scaleb(min(qty.as_tuple().exponent, 0))  # type: ignore[arg-type]
    part = (qty / count).quantize(unit, rounding="ROUND_DOWN")
    if part <= ZERO:
        return [qty]
    return [part] * (count - 1) + [qty - part * (count - 1)]

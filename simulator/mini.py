"""A minimal simulated LP: fills orders, answers cancels and replaces, streams prices.

Built only on trifix's public runtime API: it serves one acceptor session of an `Engine` by
reading the session's events (`SessionHandle.events`) and answering with `SessionHandle.send`.
`trifix run` connects its gateway to it; tests use it as a counterparty. The full simulator
(scripted misbehaviour, YAML configuration) is a separate, larger piece.

What it does, for each application message received:

* NewOrderSingle (D): an ExecutionReport New (150=0, 39=0). A market order, or a limit order
  at or through the touch (a buy at or above the offer, a sell at or below the bid), then fills
  in full (150=F, 39=2): at the order's limit price, or for a market order at the current
  simulated offer (buy) or bid (sell). A limit order away from the market rests, and fills at
  its price on the first price tick that reaches it. An unknown symbol, an unsupported side or
  order type, a quantity that is not positive or a duplicate ClOrdID is answered with an
  ExecutionReport Rejected (150=8, 39=8, OrdRejReason 103).
* OrderCancelRequest (F): an ExecutionReport Canceled (150=4, 39=4) for a resting order;
  otherwise an OrderCancelReject (35=9, 434=1) with CxlRejReason 102=1 (unknown order) or 102=0
  (too late to cancel: the order is already filled or canceled).
* OrderCancelReplaceRequest (G): an ExecutionReport Replaced (150=5, 39=0) with the new
  quantity and price (and a Fill right after if the new price is marketable); otherwise an
  OrderCancelReject with 434=2 and the same reasons as a cancel.
* MarketDataRequest (V): a MarketDataSnapshotFullRefresh (W) per symbol with the bid and offer,
  then, for SubscriptionRequestType 263=1, a MarketDataIncrementalRefresh (X) on every price tick
  (or a new W per symbol when the request asks for full refreshes, 265=0). 263=2 unsubscribes.
  Unknown symbols, a duplicate MDReqID or no supported entry type (only bid and offer are)
  are answered with a MarketDataRequestReject (Y, MDReqRejReason 281).
* Any other application message: a BusinessMessageReject (35=j, 380=3).

Prices follow a random walk per instrument, in whole ticks, one step every `tick_interval`
seconds from the start of `run_mini_lp`. Each instrument draws from its own generator seeded
from `seed` and its symbol, and OrderIDs and ExecIDs are counters, so a run is reproducible: the
same seed, the same clock and the same requests give the same messages.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import trio

from simulator.instruments import DEFAULT_INSTRUMENTS, Instrument
from trifix.core.errors import FieldValueError
from trifix.core.events import AppMessageReceived, Disconnected, Event
from trifix.core.message import Message
from trifix.core.tags import (
    BusinessRejectReason,
    CxlRejReason,
    CxlRejResponseTo,
    ExecType,
    MDEntryType,
    MDReqRejReason,
    MDUpdateAction,
    MDUpdateType,
    MsgType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    Side,
    SubscriptionRequestType,
    Tag,
)
from trifix.runtime import Engine, NotLoggedOnError, SessionHandle

__all__ = ["DEFAULT_INSTRUMENTS", "Instrument", "run_mini_lp"]

ZERO = Decimal(0)
UNKNOWN_ORDER_ID = "NONE"  # OrderID (37) is required on a reject even when no order exists


class _Walk:
    """One instrument's simulated top of book."""

    def __init__(self, instrument: Instrument, seed: int) -> None:
        self.instrument = instrument
        # A string seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
        self._rng = random.Random(f"{seed}:{instrument.symbol}")
        self._spread = instrument.offer - instrument.bid
        self.bid = instrument.bid

    @property
    def offer(self) -> Decimal:
        return self.bid + self._spread

    def step(self) -> None:
        inst = self.instrument
        moved = self.bid + self._rng.randint(-inst.max_step, inst.max_step) * inst.tick
        self.bid = max(moved, inst.tick)


@dataclass(slots=True)
class _Order:
    order_id: str
    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    qty: Decimal
    price: Decimal | None
    status: OrdStatus = OrdStatus.NEW
    cum_qty: Decimal = ZERO
    avg_px: Decimal = ZERO

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.cum_qty if self.status in _OPEN else ZERO


_OPEN = frozenset({OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED})


@dataclass(slots=True)
class _Subscription:
    symbols: tuple[str, ...]
    entry_types: tuple[MDEntryType, ...]
    full_refresh: bool


class _Rejected(Exception):
    """A request the LP answers with a reject; carries the reject's fields."""

    def __init__(self, reason: Any, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


@dataclass(slots=True)
class _MiniLP:
    handle: SessionHandle
    engine: Engine
    walks: dict[str, _Walk]
    tick_interval: float
    orders: dict[str, _Order] = field(default_factory=dict)  # open or done, by latest ClOrdID
    seen_cl_ord_ids: set[str] = field(default_factory=set)
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    next_order: int = 1
    next_exec: int = 1

    # -- serving ----------------------------------------------------------------------------
    async def serve(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._tick_forever)
            async for event in self.handle.events():
                await self._on_event(event)

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, Disconnected):
            # Subscriptions belong to a connection: the gateway subscribes again on its next
            # logon. Orders stay, as at a real LP.
            self.subscriptions.clear()
        elif isinstance(event, AppMessageReceived):
            await self._on_message(event.message)

    async def _on_message(self, msg: Message) -> None:
        handlers: dict[str, Callable[[Message], Awaitable[None]]] = {
            MsgType.NEW_ORDER_SINGLE: self._new_order,
            MsgType.ORDER_CANCEL_REQUEST: self._cancel,
            MsgType.ORDER_CANCEL_REPLACE_REQUEST: self._replace,
            MsgType.MARKET_DATA_REQUEST: self._market_data_request,
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
        # The connection may have ended after the request arrived: nothing can carry the answer.
        with contextlib.suppress(NotLoggedOnError):
            await self.handle.send(msg)

    async def _tick_forever(self) -> None:
        start = trio.current_time()
        ticks = 0
        while True:
            ticks += 1
            await trio.sleep_until(start + ticks * self.tick_interval)
            for walk in self.walks.values():
                walk.step()
            if self.handle.is_logged_on:
                await self._publish()
                await self._fill_resting()

    # -- orders -----------------------------------------------------------------------------
    async def _new_order(self, msg: Message) -> None:
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        order = _Order(
            order_id=UNKNOWN_ORDER_ID,
            cl_ord_id=cl_ord_id,
            symbol=msg.get_str(Tag.SYMBOL, ""),
            side=msg.get_enum(Tag.SIDE, Side),
            ord_type=msg.get_enum(Tag.ORD_TYPE, OrdType),
            qty=msg.get_decimal(Tag.ORDER_QTY, ZERO),
            price=msg.get_decimal(Tag.PRICE, None),
            status=OrdStatus.REJECTED,
        )
        try:
            self._check_new(order)
        except _Rejected as why:
            self.seen_cl_ord_ids.add(cl_ord_id)
            await self._send(self._execution_report(order, ExecType.REJECTED, reject=why))
            return
        self.seen_cl_ord_ids.add(cl_ord_id)
        order.order_id = f"O{self.next_order}"
        order.status = OrdStatus.NEW
        self.next_order += 1
        self.orders[cl_ord_id] = order
        await self._send(self._execution_report(order, ExecType.NEW))
        await self._fill_if_marketable(order)

    def _check_new(self, order: _Order) -> None:
        if order.cl_ord_id in self.seen_cl_ord_ids:
            raise _Rejected(OrdRejReason.DUPLICATE_ORDER, f"duplicate ClOrdID {order.cl_ord_id}")
        if order.symbol not in self.walks:
            raise _Rejected(OrdRejReason.UNKNOWN_SYMBOL, f"unknown symbol {order.symbol!r}")
        if order.side not in (Side.BUY, Side.SELL):
            raise _Rejected(OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "side must be 1 or 2")
        if order.ord_type not in (OrdType.MARKET, OrdType.LIMIT):
            raise _Rejected(
                OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "only market and limit orders"
            )
        if order.ord_type is OrdType.LIMIT and (order.price is None or order.price <= ZERO):
            raise _Rejected(
                OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "a limit order needs Price > 0"
            )
        if order.qty <= ZERO:
            raise _Rejected(OrdRejReason.INCORRECT_QUANTITY, "OrderQty must be > 0")

    def _fill_price(self, order: _Order) -> Decimal | None:
        """The price `order` fills at now, or None when it rests."""
        walk = self.walks[order.symbol]
        buy = order.side is Side.BUY
        if order.ord_type is OrdType.MARKET or order.price is None:
            return walk.offer if buy else walk.bid
        if (buy and order.price >= walk.offer) or (not buy and order.price <= walk.bid):
            return order.price
        return None

    async def _fill_if_marketable(self, order: _Order) -> None:
        price = self._fill_price(order)
        if price is None:
            return
        last_qty = order.leaves_qty
        order.avg_px = (order.avg_px * order.cum_qty + price * last_qty) / order.qty
        order.cum_qty = order.qty
        order.status = OrdStatus.FILLED
        await self._send(
            self._execution_report(order, ExecType.TRADE, last_qty=last_qty, last_px=price)
        )

    async def _fill_resting(self) -> None:
        for order in list(self.orders.values()):
            if order.status in _OPEN:
                await self._fill_if_marketable(order)

    async def _cancel(self, msg: Message) -> None:
        await self._amend(msg, CxlRejResponseTo.ORDER_CANCEL_REQUEST)

    async def _replace(self, msg: Message) -> None:
        await self._amend(msg, CxlRejResponseTo.ORDER_CANCEL)

    async def _amend(self, msg: Message, kind: CxlRejResponseTo) -> None:
        """A cancel (F) or a cancel/replace (G) of the order whose ClOrdID is OrigClOrdID."""
        orig = msg.get_str(Tag.ORIG_CL_ORD_ID)
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        order = self.orders.get(orig)
        if order is None:
            await self._cancel_reject(msg, kind, None, CxlRejReason.UNKNOWN_ORDER, "unknown order")
            return
        if cl_ord_id in self.seen_cl_ord_ids:
            await self._cancel_reject(
                msg, kind, order, CxlRejReason.DUPLICATE_CL_ORD_ID, "duplicate ClOrdID"
            )
            return
        if order.status not in _OPEN:
            text = f"too late: the order is {order.status.name.lower()}"
            await self._cancel_reject(msg, kind, order, CxlRejReason.TOO_LATE_TO_CANCEL, text)
            return
        self.seen_cl_ord_ids.add(cl_ord_id)
        del self.orders[orig]
        order.cl_ord_id = cl_ord_id
        self.orders[cl_ord_id] = order
        if kind is CxlRejResponseTo.ORDER_CANCEL_REQUEST:
            order.status = OrdStatus.CANCELED
            await self._send(self._execution_report(order, ExecType.CANCELED, orig=orig))
            return
        order.qty = msg.get_decimal(Tag.ORDER_QTY, order.qty)
        order.ord_type = msg.get_enum(Tag.ORD_TYPE, OrdType, order.ord_type)
        order.price = msg.get_decimal(Tag.PRICE, order.price)
        if order.ord_type is OrdType.MARKET:
            order.price = None
        await self._send(self._execution_report(order, ExecType.REPLACED, orig=orig))
        await self._fill_if_marketable(order)

    # -- market data ------------------------------------------------------------------------
    async def _market_data_request(self, msg: Message) -> None:
        req_id = msg.get_str(Tag.MD_REQ_ID)
        kind = msg.get_enum(Tag.SUBSCRIPTION_REQUEST_TYPE, SubscriptionRequestType)
        if kind is SubscriptionRequestType.DISABLE_PREVIOUS_SNAPSHOT:
            if self.subscriptions.pop(req_id, None) is None:
                await self._md_reject(req_id, None, f"no subscription {req_id!r} to cancel")
            return
        try:
            sub = self._parse_subscription(msg, req_id)
        except _Rejected as why:
            await self._md_reject(req_id, why.reason, why.text)
            return
        for symbol in sub.symbols:
            await self._send(self._snapshot(req_id, symbol, sub.entry_types))
        if kind is SubscriptionRequestType.SNAPSHOT_AND_UPDATES:
            self.subscriptions[req_id] = sub

    def _parse_subscription(self, msg: Message, req_id: str) -> _Subscription:
        if req_id in self.subscriptions:
            raise _Rejected(MDReqRejReason.DUPLICATE_MD_REQ_ID, f"MDReqID {req_id!r} is in use")
        symbols = tuple(g.get_str(Tag.SYMBOL, "") for g in msg.group(Tag.NO_RELATED_SYM))
        unknown = [s for s in symbols if s not in self.walks]
        if unknown or not symbols:
            raise _Rejected(
                MDReqRejReason.UNKNOWN_SYMBOL, f"unknown symbol: {', '.join(unknown) or 'none'}"
            )
        wanted = {g.get_str(Tag.MD_ENTRY_TYPE) for g in msg.group(Tag.NO_MD_ENTRY_TYPES)}
        types = tuple(t for t in (MDEntryType.BID, MDEntryType.OFFER) if t.value in wanted)
        if not types:
            raise _Rejected(
                MDReqRejReason.UNSUPPORTED_MD_ENTRY_TYPE, "only bid (0) and offer (1) are quoted"
            )
        update_type = msg.get_enum(
            Tag.MD_UPDATE_TYPE, MDUpdateType, MDUpdateType.INCREMENTAL_REFRESH
        )
        return _Subscription(symbols, types, update_type is MDUpdateType.FULL_REFRESH)

    async def _publish(self) -> None:
        for req_id, sub in list(self.subscriptions.items()):
            if sub.full_refresh:
                for symbol in sub.symbols:
                    await self._send(self._snapshot(req_id, symbol, sub.entry_types))
            else:
                await self._send(self._incremental(req_id, sub))

    def _entry(self, symbol: str, entry_type: MDEntryType) -> tuple[Decimal, Decimal]:
        walk = self.walks[symbol]
        price = walk.bid if entry_type is MDEntryType.BID else walk.offer
        return price, walk.instrument.size

    def _snapshot(self, req_id: str, symbol: str, types: Iterable[MDEntryType]) -> Message:
        entries = []
        for entry_type in types:
            price, size = self._entry(symbol, entry_type)
            entries.append(
                [
                    (Tag.MD_ENTRY_TYPE, entry_type),
                    (Tag.MD_ENTRY_PX, price),
                    (Tag.MD_ENTRY_SIZE, size),
                ]
            )
        msg = Message.new(
            MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, (Tag.MD_REQ_ID, req_id), (Tag.SYMBOL, symbol)
        )
        return msg.add_group(Tag.NO_MD_ENTRIES, entries)

    def _incremental(self, req_id: str, sub: _Subscription) -> Message:
        entries = []
        for symbol in sub.symbols:
            for entry_type in sub.entry_types:
                price, size = self._entry(symbol, entry_type)
                entries.append(
                    [
                        (Tag.MD_UPDATE_ACTION, MDUpdateAction.CHANGE),
                        (Tag.MD_ENTRY_TYPE, entry_type),
                        (Tag.SYMBOL, symbol),
                        (Tag.MD_ENTRY_PX, price),
                        (Tag.MD_ENTRY_SIZE, size),
                    ]
                )
        msg = Message.new(MsgType.MARKET_DATA_INCREMENTAL_REFRESH, (Tag.MD_REQ_ID, req_id))
        return msg.add_group(Tag.NO_MD_ENTRIES, entries)

    async def _md_reject(self, req_id: str, reason: MDReqRejReason | None, text: str) -> None:
        fields: list[tuple[int, Any]] = [(Tag.MD_REQ_ID, req_id)]
        if reason is not None:
            fields.append((Tag.MD_REQ_REJ_REASON, reason))
        fields.append((Tag.TEXT, text))
        await self._send(Message.new(MsgType.MARKET_DATA_REQUEST_REJECT, *fields))

    # -- answers ----------------------------------------------------------------------------
    def _execution_report(
        self,
        order: _Order,
        exec_type: ExecType,
        *,
        orig: str | None = None,
        last_qty: Decimal | None = None,
        last_px: Decimal | None = None,
        reject: _Rejected | None = None,
    ) -> Message:
        exec_id = f"E{self.next_exec}"
        self.next_exec += 1
        fields: list[tuple[int, Any]] = [
            (Tag.ORDER_ID, order.order_id),
            (Tag.CL_ORD_ID, order.cl_ord_id),
        ]
        if orig is not None:
            fields.append((Tag.ORIG_CL_ORD_ID, orig))
        fields += [
            (Tag.EXEC_ID, exec_id),
            (Tag.EXEC_TYPE, exec_type),
            (Tag.ORD_STATUS, order.status),
        ]
        if reject is not None:
            fields.append((Tag.ORD_REJ_REASON, reject.reason))
        fields += [
            (Tag.SYMBOL, order.symbol),
            (Tag.SIDE, order.side),
            (Tag.ORDER_QTY, order.qty),
            (Tag.ORD_TYPE, order.ord_type),
        ]
        if order.price is not None:
            fields.append((Tag.PRICE, order.price))
        if last_qty is not None and last_px is not None:
            fields += [(Tag.LAST_QTY, last_qty), (Tag.LAST_PX, last_px)]
        fields += [
            (Tag.LEAVES_QTY, order.leaves_qty),
            (Tag.CUM_QTY, order.cum_qty),
            (Tag.AVG_PX, order.avg_px),
            (Tag.TRANSACT_TIME, self.engine.clock()),
        ]
        if reject is not None:
            fields.append((Tag.TEXT, reject.text))
        return Message.new(MsgType.EXECUTION_REPORT, *fields)

    async def _cancel_reject(
        self,
        msg: Message,
        kind: CxlRejResponseTo,
        order: _Order | None,
        reason: CxlRejReason,
        text: str,
    ) -> None:
        await self._send(
            Message.new(
                MsgType.ORDER_CANCEL_REJECT,
                (Tag.ORDER_ID, order.order_id if order else UNKNOWN_ORDER_ID),
                (Tag.CL_ORD_ID, msg.get_str(Tag.CL_ORD_ID)),
                (Tag.ORIG_CL_ORD_ID, msg.get_str(Tag.ORIG_CL_ORD_ID)),
                (Tag.ORD_STATUS, order.status if order else OrdStatus.REJECTED),
                (Tag.TRANSACT_TIME, self.engine.clock()),
                (Tag.CXL_REJ_RESPONSE_TO, kind),
                (Tag.CXL_REJ_REASON, reason),
                (Tag.TEXT, text),
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


async def run_mini_lp(
    engine: Engine,
    session_id: str,
    *,
    seed: int = 0,
    instruments: Sequence[Instrument] = DEFAULT_INSTRUMENTS,
    tick_interval: float = 0.25,
) -> None:
    """Serve `session_id` of `engine` as a simulated LP until cancelled.

    The session is usually an acceptor; the engine connects it (its listening port or
    `Engine.run_connection`). This task consumes every event of the session, so nothing else
    should read `SessionHandle.events()` for it.

    Args:
        engine: a running engine (see `trifix.runtime.open_engine`).
        session_id: the session to serve.
        seed: seeds the price walks; the same seed gives the same prices.
        instruments: what the LP quotes and trades (symbols must be unique).
        tick_interval: seconds between price steps (and market data updates).
    """
    symbols = [i.symbol for i in instruments]
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"duplicate symbols in {symbols}")
    if tick_interval <= 0:
        raise ValueError("tick_interval must be > 0")
    walks = {i.symbol: _Walk(i, seed) for i in instruments}
    lp = _MiniLP(engine.session(session_id), engine, walks, tick_interval)
    await lp.serve()

"""What the application sends, recorded before it goes out: orders, cancels, replaces, requests.

`OrderTracker.on_sent` is called just before a message is handed to the session: a
NewOrderSingle (D) creates an order in PENDING_NEW, an OrderCancelRequest (F) or
OrderCancelReplaceRequest (G) makes the order pending (its new ClOrdID finds the order from
then on), an OrderMassStatusRequest (AF) opens a reconciliation. Misuse raises and changes
nothing: a ClOrdID used twice or an OrigClOrdID that is not the order's current ClOrdID is an
`OrderTrackingError`, a request the order's state forbids an `IllegalTransitionError`.
`on_send_failed` undoes `on_sent` for a message the session refused. `status_request` and
`mass_status_request` build the requests the application may send.

`OrderRequests` is a mixin of `trifix.trading.orders.OrderTracker` (which re-exports the names
here), which holds the state it works on.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from trifix.core.errors import LocalProtocolError
from trifix.core.message import Message
from trifix.core.tags import MassStatusReqType, MsgType, OrdType, Side, Tag, TimeInForce
from trifix.trading._order_record import MassStatusRun, OrderRecord
from trifix.trading.checkvalues import OrderRequest
from trifix.trading.errors import TradingError
from trifix.trading.messages import NewOrderSingle, OrderMassStatusRequest, OrderStatusRequest
from trifix.trading.order_state import START, MachineState, OrderEvent, apply
from trifix.trading.order_views import OrderUpdate, PendingRequest

__all__ = [
    "DuplicateClOrdIDError",
    "OrderRequests",
    "OrderTrackingError",
    "SupportsToMessage",
    "UnknownOrderError",
]


class SupportsToMessage(Protocol):
    """A typed message (`trifix.trading.messages`) that converts to a wire `Message`."""

    def to_message(self) -> Message:
        """The wire message."""
        ...


class OrderTrackingError(TradingError, LocalProtocolError):
    """The tracker was asked to record something impossible; nothing was changed."""


class DuplicateClOrdIDError(OrderTrackingError):
    """A ClOrdID already used by an order of this session."""


class UnknownOrderError(OrderTrackingError):
    """A cancel or replace names an order the tracker does not know."""


def _wire(msg: Message | SupportsToMessage) -> Message:
    return msg if isinstance(msg, Message) else msg.to_message()


class OrderRequests:
    """Mixin of `OrderTracker`: recording what is sent, and the requests it builds."""

    if TYPE_CHECKING:
        # Tracker state used here, defined by `OrderTracker`.
        _orders: list[OrderRecord]
        _by_cl_ord_id: dict[str, OrderRecord]
        _mass_status: dict[str, MassStatusRun]

    # -- requests the application may send ---------------------------------------------------
    def status_request(self, cl_ord_id: str) -> OrderStatusRequest:
        """An OrderStatusRequest (H) for the order `cl_ord_id` names.

        Raises:
            UnknownOrderError: no order uses `cl_ord_id`.
        """
        order = self._require(cl_ord_id)
        return OrderStatusRequest(
            cl_ord_id=order.cl_ord_id, symbol=order.symbol, side=order.side, order_id=order.order_id
        )

    @staticmethod
    def mass_status_request(
        mass_status_req_id: str, *, symbol: str | None = None, side: Side | None = None
    ) -> OrderMassStatusRequest:
        """An OrderMassStatusRequest (AF) for all orders, or those of `symbol` and/or `side`.

        Record it with `on_sent` when sending it, so that the answers reconcile the orders.
        """
        req_type = (
            MassStatusReqType.STATUS_FOR_ALL_ORDERS
            if symbol is None
            else MassStatusReqType.STATUS_FOR_ORDERS_FOR_A_SECURITY
        )
        return OrderMassStatusRequest(
            mass_status_req_id=mass_status_req_id,
            mass_status_req_type=req_type,
            symbol=symbol,
            side=side,
        )

    # -- what was sent -------------------------------------------------------------------------
    def on_sent(self, msg: Message | SupportsToMessage, now: datetime) -> OrderUpdate | None:
        """Record an outgoing message; call it just before handing the message to the session.

        NewOrderSingle (D) creates an order in PENDING_NEW; OrderCancelRequest (F) and
        OrderCancelReplaceRequest (G) make the order pending; OrderMassStatusRequest (AF)
        opens a reconciliation. Other messages are ignored (None).

        Raises:
            DuplicateClOrdIDError: the ClOrdID is already used.
            UnknownOrderError: OrigClOrdID names no order, or not the order's current ClOrdID.
            IllegalTransitionError: the order's state does not allow the request.
            FieldValueError: a required field is missing or invalid.
        """
        m = _wire(msg)
        msg_type = m.msg_type
        if msg_type == MsgType.NEW_ORDER_SINGLE:
            return self._sent_new(m, now)
        if msg_type == MsgType.ORDER_CANCEL_REQUEST:
            return self._sent_request(m, now, OrderEvent.SEND_CANCEL)
        if msg_type == MsgType.ORDER_CANCEL_REPLACE_REQUEST:
            return self._sent_request(m, now, OrderEvent.SEND_REPLACE)
        if msg_type == MsgType.ORDER_MASS_STATUS_REQUEST:
            req_id = m.get_str(Tag.MASS_STATUS_REQ_ID)
            self._mass_status[req_id] = MassStatusRun(
                req_id, now, m.get_str(Tag.SYMBOL, None), m.get_enum(Tag.SIDE, Side, None)
            )
        return None

    def on_send_failed(self, cl_ord_id: str, now: datetime) -> OrderUpdate | None:
        """Undo `on_sent` for a message that never left (the session refused it).

        A new order that has heard nothing from the LP is forgotten (None is returned); a
        pending cancel or replace is withdrawn and the order goes back to its prior state.

        Raises:
            UnknownOrderError: `cl_ord_id` names neither an unanswered new order nor a
                pending request.
        """
        order = self._require(cl_ord_id)
        pending = order.pending
        if pending is not None and pending.cl_ord_id == cl_ord_id:
            previous = order.machine
            assert previous.prior is not None
            order.machine = MachineState(previous.prior)
            order.pending = None
            order.updated_at = now
            del self._by_cl_ord_id[cl_ord_id]
            return OrderUpdate(order.view(), previous.state, OrderEvent.CANCEL_REJECTED)
        if order.machine == START and order.order_id is None and order.cl_ord_id == cl_ord_id:
            self._orders.remove(order)
            del self._by_cl_ord_id[cl_ord_id]
            return None
        raise UnknownOrderError(f"ClOrdID {cl_ord_id!r} is not an unanswered request")

    def on_sent_new(self, order: NewOrderSingle, msg: Message, now: datetime) -> OrderUpdate:
        """`on_sent` for a typed new order whose wire form `msg` (``order.to_message()``) is
        about to be sent: the order is recorded from `order` itself when that gives the same
        values as reading `msg` (`OrderRequest.plain`), without reading `msg` again.

        Raises:
            DuplicateClOrdIDError: the ClOrdID is already used.
            FieldValueError: a required field is missing or invalid.
        """
        if not OrderRequest.plain(order):
            return self._sent_new(msg, now)
        return self._record_new(
            order.cl_ord_id,
            now,
            symbol=order.symbol,
            side=order.side,
            ord_type=order.ord_type,
            order_qty=order.order_qty,
            price=order.price,
            stop_px=order.stop_px,
            time_in_force=order.time_in_force,
            account=order.account,
        )

    def _sent_new(self, m: Message, now: datetime) -> OrderUpdate:
        cl_ord_id = m.get_str(Tag.CL_ORD_ID)
        if cl_ord_id in self._by_cl_ord_id:
            raise DuplicateClOrdIDError(f"ClOrdID {cl_ord_id!r} is already used")
        return self._record_new(
            cl_ord_id,
            now,
            symbol=m.get_str(Tag.SYMBOL),
            side=m.get_enum(Tag.SIDE, Side),
            ord_type=m.get_enum(Tag.ORD_TYPE, OrdType),
            order_qty=m.get_decimal(Tag.ORDER_QTY),
            price=m.get_decimal(Tag.PRICE, None),
            stop_px=m.get_decimal(Tag.STOP_PX, None),
            time_in_force=m.get_enum(Tag.TIME_IN_FORCE, TimeInForce, None),
            account=m.get_str(Tag.ACCOUNT, None),
        )

    def _record_new(
        self,
        cl_ord_id: str,
        now: datetime,
        *,
        symbol: str,
        side: Side,
        ord_type: OrdType,
        order_qty: Decimal,
        price: Decimal | None,
        stop_px: Decimal | None,
        time_in_force: TimeInForce | None,
        account: str | None,
    ) -> OrderUpdate:
        if cl_ord_id in self._by_cl_ord_id:
            raise DuplicateClOrdIDError(f"ClOrdID {cl_ord_id!r} is already used")
        order = OrderRecord(
            cl_ord_id=cl_ord_id,
            symbol=symbol,
            side=side,
            ord_type=ord_type,
            order_qty=order_qty,
            price=price,
            stop_px=stop_px,
            time_in_force=time_in_force,
            account=account,
            created_at=now,
            updated_at=now,
            chain=[cl_ord_id],
        )
        self._orders.append(order)
        self._by_cl_ord_id[cl_ord_id] = order
        return OrderUpdate(order.view(), None, OrderEvent.SEND_NEW)

    def _sent_request(self, m: Message, now: datetime, event: OrderEvent) -> OrderUpdate:
        cl_ord_id = m.get_str(Tag.CL_ORD_ID)
        orig = m.get_str(Tag.ORIG_CL_ORD_ID)
        order = self._require(orig)
        if orig != order.cl_ord_id:
            raise UnknownOrderError(
                f"OrigClOrdID {orig!r} is not the order's current ClOrdID {order.cl_ord_id!r}"
            )
        if cl_ord_id in self._by_cl_ord_id:
            raise DuplicateClOrdIDError(f"ClOrdID {cl_ord_id!r} is already used")
        replacing = event is OrderEvent.SEND_REPLACE
        pending = PendingRequest(
            event=event,
            cl_ord_id=cl_ord_id,
            sent_at=now,
            order_qty=m.get_decimal(Tag.ORDER_QTY, None) if replacing else None,
            price=m.get_decimal(Tag.PRICE, None) if replacing else None,
            ord_type=m.get_enum(Tag.ORD_TYPE, OrdType, None) if replacing else None,
        )
        previous = order.machine.state
        order.machine = apply(order.machine, event)  # raises before anything changed
        order.pending = pending
        order.updated_at = now
        self._by_cl_ord_id[cl_ord_id] = order
        return OrderUpdate(order.view(), previous, event)

    def _require(self, cl_ord_id: str) -> OrderRecord:
        order = self._by_cl_ord_id.get(cl_ord_id)
        if order is None:
            raise UnknownOrderError(f"no order has ClOrdID {cl_ord_id!r}")
        return order

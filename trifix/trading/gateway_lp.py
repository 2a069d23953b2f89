"""One LP inside the gateway: its tracker, checks, breaker, books and quotes, and the dispatch of
what its sessions deliver.

`LPState` is driven by the gateway's reader tasks (`on_event`) and by the gateway's API; it
does no I/O itself except through the `publish` callback (updates for applications) and it
reads time only as the arguments it is given. What it sends is queued in `outbox` (market data
requests, status requests after a reconnect) for the gateway's reader to send.

Breaker accounting: an ExecutionReport Rejected (150=8) answering a new order or a replace, an
OrderCancelReject, an ack timeout and a disconnect with requests unanswered are failures; the
first answer to a new order or a replace that is not a reject is a success. Cancels are never
stopped by the breaker (an LP misbehaving is when one wants to cancel most).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from trifix.core.errors import FixError
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    Event,
    HeartbeatSent,
    LoggedOn,
    RejectReceived,
    TestRequestSent,
)
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.runtime import SessionHandle
from trifix.runtime.schedule import ScheduleKind
from trifix.trading.bbo import ConsolidatedBBO
from trifix.trading.book import OrderBook
from trifix.trading.breaker import CircuitBreaker, FailureKind
from trifix.trading.checks import PreTradeChecks, QuantityCheck
from trifix.trading.marketdata import (
    BookInconsistent,
    BookUpdated,
    MarketDataEvent,
    MarketDataIgnored,
    MarketDataManager,
    SubscriptionChanged,
    SubscriptionState,
)
from trifix.trading.messages import BusinessMessageReject, Quote, QuoteCancel
from trifix.trading.order_state import OrderEvent
from trifix.trading.order_views import (
    DuplicateIgnored,
    IllegalTransition,
    MalformedReport,
    MassStatusCompleted,
    OrderUpdate,
    Overfill,
    QuantityMismatch,
    TrackerEvent,
    UnknownOrder,
)
from trifix.trading.orders import OrderTracker
from trifix.trading.quotes import QuoteBook, QuoteError
from trifix.trading.routing import LPConfig
from trifix.trading.updates import (
    Alert,
    AlertKind,
    BboChanged,
    BookChanged,
    GatewayUpdate,
    OrderChanged,
    QuoteChanged,
    SessionChanged,
)

__all__ = ["Awaiting", "LPState"]

_QUIET: Final = (AdminMessageReceived, HeartbeatSent, TestRequestSent)
"""Session events too routine to report as `SessionChanged`."""
_GATED: Final = frozenset({MsgType.NEW_ORDER_SINGLE, MsgType.ORDER_CANCEL_REPLACE_REQUEST})
_TWO: Final = Decimal(2)

Publish = Callable[[GatewayUpdate], None]
LatencyCallback = Callable[[str, float], object]


@dataclass(slots=True)
class Awaiting:
    """A request sent and not yet answered.

    Attributes:
        cl_ord_id: its ClOrdID.
        msg_type: D, F or G.
        sent: trio time when sent.
        deadline: trio time after which it counts as timed out (None: never).
    """

    cl_ord_id: str
    msg_type: str
    sent: float
    deadline: float | None


def _build_checks(
    config: LPConfig, tracker: OrderTracker, order_handle: SessionHandle | None
) -> PreTradeChecks:
    # Trading hours: the LP's own, else its order session's schedule (unless non-stop).
    schedule = config.trading_hours
    if schedule is None and order_handle is not None:
        session_schedule = order_handle.spec.schedule
        if session_schedule.kind is not ScheduleKind.NON_STOP:
            schedule = session_schedule
    if config.instruments:
        return PreTradeChecks.standard(
            instruments=config.instruments,
            orders=tracker,
            collar=config.collar,
            schedule=schedule,
            notional_limit=config.notional_limit,
        )
    # No reference data: keep the checks that need none (positive quantity, collar, notional).
    standard = PreTradeChecks.standard(
        instruments=(),
        orders=tracker,
        collar=config.collar,
        schedule=schedule,
        notional_limit=config.notional_limit,
    )
    kept = [c for c in standard.checks if c.name not in ("symbol", "quantity", "tick_size")]
    return PreTradeChecks([QuantityCheck({}), *kept])


def _describe(event: Event) -> str:
    fields = getattr(event, "__dataclass_fields__", {})
    parts = [f"{name}={getattr(event, name)!r}" for name in fields if name != "message"]
    return ", ".join(parts)


class LPState:
    """Everything the gateway keeps for one LP.

    Args:
        config: the LP's configuration.
        order_handle: its order session, if any.
        md_handle: its market data session, if any.
        bbo: the gateway's consolidated BBO (shared by every LP).
        publish: called with every update for applications.
        on_order_ack: called with (LP name, seconds) from a new order's send to its first
            answer.
        on_tick: called with (LP name, seconds) from a market data message's SendingTime (52)
            to its book being updated.
    """

    def __init__(
        self,
        config: LPConfig,
        order_handle: SessionHandle | None,
        md_handle: SessionHandle | None,
        bbo: ConsolidatedBBO,
        publish: Publish,
        *,
        on_order_ack: LatencyCallback | None = None,
        on_tick: LatencyCallback | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.order_handle = order_handle
        self.md_handle = md_handle
        self.tracker = OrderTracker()
        self.checks = _build_checks(config, self.tracker, order_handle)
        self.breaker = CircuitBreaker(config.name, config.breaker)
        self.md: MarketDataManager | None = None
        if md_handle is not None:
            self.md = MarketDataManager(
                config.name,
                max_subscriptions=config.max_subscriptions,
                req_id_prefix=f"{config.name}-MD",
            )
        self.quotes = QuoteBook(id_prefix=f"{config.name}-QR")
        self.quote_ids: list[str] = []
        self.awaiting: dict[str, Awaiting] = {}
        self.timeouts: deque[Awaiting] = deque()
        self.outbox: list[Message] = []
        self.needs_status = False
        self._bbo = bbo
        self._publish = publish
        self._on_order_ack = on_order_ack
        self._on_tick = on_tick

    # -- queries --------------------------------------------------------------------------------
    def book(self, symbol: str) -> OrderBook | None:
        """The LP's book of `symbol`, if subscribed."""
        return self.md.book(symbol) if self.md is not None else None

    # -- requests sent --------------------------------------------------------------------------
    def expect_answer(self, cl_ord_id: str, msg_type: str, sent: float) -> None:
        """Remember a request sent at trio time `sent`, for its ack latency and timeout."""
        timeout = self.config.ack_timeout
        deadline = sent + timeout.total_seconds() if timeout is not None else None
        entry = Awaiting(cl_ord_id, msg_type, sent, deadline)
        self.awaiting[cl_ord_id] = entry
        if deadline is not None:
            self.timeouts.append(entry)

    def forget(self, cl_ord_id: str) -> None:
        """Drop a request that never left (its send failed)."""
        self.awaiting.pop(cl_ord_id, None)

    def expire(self, trio_now: float, now: datetime) -> float | None:
        """Count the requests unanswered past their deadline; returns the next deadline."""
        while self.timeouts:
            entry = self.timeouts[0]
            if self.awaiting.get(entry.cl_ord_id) is not entry:
                self.timeouts.popleft()  # answered, forgotten or replaced
                continue
            assert entry.deadline is not None
            if entry.deadline > trio_now:
                return entry.deadline
            self.timeouts.popleft()
            del self.awaiting[entry.cl_ord_id]
            self.breaker.record_failure(now, FailureKind.TIMEOUT)
            self.alert(
                AlertKind.ACK_TIMEOUT,
                f"no answer to {MsgType(entry.msg_type).name} {entry.cl_ord_id!r} within "
                f"{self.config.ack_timeout}",
                now,
            )
            self.breaker_alerts()
        return None

    # -- publishing -----------------------------------------------------------------------------
    def alert(self, kind: AlertKind, text: str, now: datetime) -> None:
        """Publish an `Alert` about this LP."""
        self._publish(Alert(self.name, kind, text, now))

    def order_changed(self, update: OrderUpdate) -> None:
        """Publish an `OrderChanged` for a tracker update."""
        self._publish(OrderChanged(self.name, update.order, update.event, update.fill, update.text))

    def breaker_alerts(self) -> None:
        """Publish the breaker's state changes since the last call."""
        for change in self.breaker.events():
            self.alert(
                AlertKind.BREAKER,
                f"circuit breaker {change.previous.value} -> {change.state.value}: {change.reason}",
                change.at,
            )

    # -- session events -------------------------------------------------------------------------
    def on_event(self, session_id: str, event: Event, now: datetime, trio_now: float) -> None:
        """Dispatch one event of one of the LP's sessions (never raises for bad input)."""
        if isinstance(event, AppMessageReceived):
            try:
                self._on_message(session_id, event.message, now, trio_now)
            except (FixError, ValueError) as exc:
                # A message no component could read: report it, keep reading.
                self.alert(
                    AlertKind.MALFORMED,
                    f"{session_id}: unreadable {event.message.msg_type!r} message: {exc}",
                    now,
                )
            return
        is_order = self.order_handle is not None and session_id == self.order_handle.id
        is_md = self.md_handle is not None and session_id == self.md_handle.id
        if isinstance(event, LoggedOn):
            if is_md:
                assert self.md is not None
                self.market_data(self.md.on_logged_on(), now, None)
            if is_order and self.needs_status:
                self.queue_status_requests()
        elif isinstance(event, Disconnected):
            if is_md:
                assert self.md is not None
                self.market_data(self.md.on_disconnected(), now, None)
            if is_order:
                self._disconnected(now)
        elif isinstance(event, RejectReceived):
            self.alert(
                AlertKind.SESSION_REJECT,
                f"{session_id}: message {event.ref_seq} rejected (reason {event.reason}): "
                f"{event.text or ''}",
                now,
            )
        if not isinstance(event, _QUIET):
            handle = self.order_handle if is_order else self.md_handle
            logged_on = handle.is_logged_on if handle is not None else False
            self._publish(
                SessionChanged(
                    self.name, session_id, type(event).__name__, _describe(event), logged_on, now
                )
            )

    def _disconnected(self, now: datetime) -> None:
        unanswered = list(self.awaiting)
        self.awaiting.clear()
        self.timeouts.clear()
        if unanswered:
            self.breaker.record_failure(now, FailureKind.DISCONNECT)
            self.alert(
                AlertKind.ACK_TIMEOUT,
                f"disconnected with {len(unanswered)} request(s) unanswered: "
                f"{', '.join(unanswered)}; their status is asked for after the next logon",
                now,
            )
            self.breaker_alerts()
        if self.tracker.open_orders():
            self.needs_status = True

    def queue_status_requests(self) -> None:
        """After a reconnect (or a recovery): ask the LP about every open order."""
        self.needs_status = False
        for view in self.tracker.open_orders():
            self.outbox.append(self.tracker.status_request(view.cl_ord_id).to_message())

    # -- application messages -------------------------------------------------------------------
    def _on_message(self, session_id: str, msg: Message, now: datetime, trio_now: float) -> None:
        msg_type = msg.msg_type
        is_order = self.order_handle is not None and session_id == self.order_handle.id
        is_md = (
            self.md is not None and self.md_handle is not None and session_id == self.md_handle.id
        )
        if is_order and msg_type in (MsgType.EXECUTION_REPORT, MsgType.ORDER_CANCEL_REJECT):
            self._order_message(msg, now, trio_now)
        elif msg_type in (MsgType.QUOTE, MsgType.QUOTE_CANCEL):
            try:
                self._quote_message(msg, now)
            except QuoteError as exc:
                self.alert(AlertKind.QUOTE, f"{session_id}: {exc}", now)
        elif is_md and msg_type in (
            MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH,
            MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
            MsgType.MARKET_DATA_REQUEST_REJECT,
        ):
            assert self.md is not None
            self.market_data(self.md.on_message(msg), now, msg)
        elif msg_type == MsgType.QUOTE_REQUEST_REJECT:
            self.alert(
                AlertKind.QUOTE,
                f"quote request {msg.get_str(Tag.QUOTE_REQ_ID, None)!r} rejected (reason "
                f"{msg.get_str(Tag.QUOTE_REQUEST_REJECT_REASON, None)}): "
                f"{msg.get_str(Tag.TEXT, '')}",
                now,
            )
        elif msg_type == MsgType.BUSINESS_MESSAGE_REJECT:
            rej = BusinessMessageReject.from_message(msg)
            what = "quote request" if rej.ref_msg_type == MsgType.QUOTE_REQUEST else "message"
            self.alert(
                AlertKind.QUOTE if what == "quote request" else AlertKind.BUSINESS_REJECT,
                f"{what} {rej.business_reject_ref_id or rej.ref_seq_num} (35={rej.ref_msg_type}) "
                f"refused: {rej.business_reject_reason.name} {rej.text or ''}".rstrip(),
                now,
            )
        else:
            self.alert(AlertKind.UNHANDLED, f"{session_id}: {msg_type!r} message not handled", now)

    def _quote_message(self, msg: Message, now: datetime) -> None:
        if msg.msg_type == MsgType.QUOTE:
            view = self.quotes.on_quote(Quote.from_message(msg), now)
            self.quote_ids.append(view.quote_id)
            self._publish(QuoteChanged(self.name, view))
            return
        for view in self.quotes.on_cancel(QuoteCancel.from_message(msg), now):
            self._publish(QuoteChanged(self.name, view))

    def _order_message(self, msg: Message, now: datetime, trio_now: float) -> None:
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID, "")
        answered = self.awaiting.pop(cl_ord_id, None) if cl_ord_id else None
        events = self.tracker.on_received(msg, now)
        rejected = any(
            isinstance(e, OrderUpdate)
            and e.event in (OrderEvent.REJECTED, OrderEvent.CANCEL_REJECTED)
            for e in events
        )
        if answered is not None:
            if answered.msg_type == MsgType.NEW_ORDER_SINGLE and self._on_order_ack is not None:
                self._on_order_ack(self.name, trio_now - answered.sent)
            if rejected:
                self.breaker.record_failure(now, FailureKind.REJECT)
            elif answered.msg_type in _GATED:
                self.breaker.record_success(now)
        elif rejected:
            self.breaker.record_failure(now, FailureKind.REJECT)
        for event in events:
            self._tracker_event(event, now)
        self.breaker_alerts()

    def _tracker_event(self, event: TrackerEvent, now: datetime) -> None:
        if isinstance(event, OrderUpdate):
            self.order_changed(event)
            if event.event is OrderEvent.REJECTED:
                self.alert(
                    AlertKind.REJECT,
                    f"order {event.order.cl_ord_id!r} rejected: {event.text or 'no reason given'}",
                    now,
                )
            elif event.event is OrderEvent.CANCEL_REJECTED:
                reason = event.order.cxl_rej_reason
                why = f" ({reason.name})" if reason is not None else ""
                text = f"cancel/replace of {event.order.cl_ord_id!r} refused{why}"
                self.alert(AlertKind.REJECT, f"{text}: {event.text}" if event.text else text, now)
            return
        kind, text = _tracker_alert(event)
        self.alert(kind, text, now)

    # -- market data ----------------------------------------------------------------------------
    def market_data(
        self, events: list[MarketDataEvent], now: datetime, msg: Message | None
    ) -> None:
        """Publish what market data events changed; queue the manager's requests."""
        ticked = False
        for event in events:
            if isinstance(event, BookUpdated | BookInconsistent):
                book = event.book
                self._publish(BookChanged(self.name, book.symbol, book.top(), book.usable))
                if isinstance(event, BookUpdated):
                    ticked = True
                    self._reference_price(book)
                else:
                    self.alert(
                        AlertKind.BOOK_INCONSISTENT,
                        f"book {book.symbol} stale ({event.inconsistency.kind.value}): "
                        f"{event.inconsistency.reason}",
                        now,
                    )
                bbo = self._bbo.update(book)
                if bbo is not None:
                    self._publish(BboChanged(bbo.symbol, bbo))
            elif isinstance(event, SubscriptionChanged):
                sub = event.subscription
                if event.state is SubscriptionState.REJECTED:
                    self.alert(
                        AlertKind.MARKET_DATA,
                        f"market data for {', '.join(sub.symbols)} rejected: {sub.error}",
                        now,
                    )
            elif isinstance(event, MarketDataIgnored):
                self.alert(AlertKind.MARKET_DATA, f"market data ignored: {event.reason}", now)
        assert self.md is not None
        self.outbox += self.md.data_to_send()
        if ticked and msg is not None and self._on_tick is not None:
            sent_at = msg.get_utc_timestamp(Tag.SENDING_TIME, None)  # None: not off the wire
            if sent_at is not None:
                self._on_tick(self.name, (now - sent_at).total_seconds())

    def _reference_price(self, book: OrderBook) -> None:
        bid, offer = book.best_bid, book.best_offer
        if bid is not None and offer is not None:
            self.checks.set_reference_price(book.symbol, (bid.price + offer.price) / _TWO)
            return
        trade = book.last_trade
        if trade is not None:
            self.checks.set_reference_price(book.symbol, trade.price)

    # -- quotes -----------------------------------------------------------------------------------
    def next_quote_expiry(self, now: datetime) -> datetime | None:
        """When the next live quote expires, if any is live."""
        return min((view.expires_at for view in self.quotes.live(now)), default=None)

    def expire_quotes(self, now: datetime) -> None:
        """Publish the quotes whose validity ended by `now`."""
        for view in self.quotes.expire(now):
            self._publish(QuoteChanged(self.name, view))


def _tracker_alert(event: TrackerEvent) -> tuple[AlertKind, str]:
    """The alert for a tracker event that is not an order update."""
    if isinstance(event, IllegalTransition):
        return AlertKind.ILLEGAL_TRANSITION, (
            f"order {event.cl_ord_id!r}: report not applied: {event.reason}"
        )
    if isinstance(event, QuantityMismatch):
        adopted = " (the LP's figure adopted)" if event.adopted else ""
        return AlertKind.QUANTITY_MISMATCH, (
            f"order {event.cl_ord_id!r}: tag {event.tag} is {event.local} here, "
            f"{event.reported} at the LP{adopted}"
        )
    if isinstance(event, Overfill):
        return AlertKind.OVERFILL, (
            f"order {event.cl_ord_id!r}: {event.cum_qty} filled of {event.order_qty}"
        )
    if isinstance(event, DuplicateIgnored):
        return AlertKind.DUPLICATE, (
            f"{event.msg_type} for {event.cl_ord_id!r} (ExecID {event.exec_id}) already applied"
        )
    if isinstance(event, UnknownOrder):
        return AlertKind.UNKNOWN_ORDER, (
            f"{event.msg_type} for unknown order ClOrdID={event.cl_ord_id!r} "
            f"OrderID={event.order_id!r}"
        )
    if isinstance(event, MalformedReport):
        return (
            AlertKind.MALFORMED,
            f"{event.msg_type} not applied: {event.reason} (tag {event.tag})",
        )
    assert isinstance(event, MassStatusCompleted)
    missing = ", ".join(event.missing) or "none"
    return AlertKind.MASS_STATUS, (
        f"mass status {event.mass_status_req_id}: {len(event.reported)} reported, "
        f"{len(event.adopted)} adopted; open orders the LP did not report: {missing}"
    )

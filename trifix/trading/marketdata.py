"""Market data subscriptions of one session: requests out, books kept from what comes back.

Theory of operation (FIX 4.4 vol. 3, "Market Data"). `MarketDataManager` is sans-IO: the
application calls `subscribe`/`unsubscribe`, the driver feeds it the session's events
(`on_event`: LoggedOn, Disconnected, received messages) and sends what `data_to_send` returns.
It never touches a socket or a clock, so tests drive it message by message.

A `Subscription` moves through `SubscriptionState`::

    subscribe ──> PENDING ──W for every symbol──> ACTIVE ──inconsistent book──> STALE
                     │  ^                            ^                             │
                     Y  └──── logon (new MDReqID) ───┼──── disconnect ─────────────┤
                     v                               └──── fresh snapshot (W) <────┘
                 REJECTED                 unsubscribe (from any live state) ──> UNSUBSCRIBED

Each request gets a fresh MDReqID (262) from a per-manager counter, so a reconnect never reuses
one the LP may still remember. W, X and Y are routed by MDReqID (and by Symbol within it; an X
entry without Symbol belongs to the subscription's only symbol). When a book goes inconsistent
(see `trifix.trading.book`) it is re-snapshotted per `ResnapshotPolicy`: by default a
snapshot-only request (263=0) for that symbol while the stream goes on (the W arrives in
sequence with the stream, so updates after it apply to it); or by cancelling and renewing the
whole subscription. After `max_resnapshots` bad snapshots in a row the manager gives up on the
book (it stays STALE, with the reason in `Subscription.error`).

The values (`Subscription`, `SubscriptionState`, the events, the errors) live in
`trifix.trading.mdvalues` and are re-exported here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final

from trifix.core.errors import FieldValueError
from trifix.core.events import AppMessageReceived, Disconnected, Event, LoggedOn
from trifix.core.message import Message
from trifix.core.tags import (
    MDEntryType,
    MDUpdateType,
    MsgType,
    SubscriptionRequestType,
)
from trifix.trading.book import BookStyle, Inconsistency, InconsistencyKind, OrderBook
from trifix.trading.errors import TradingMessageError
from trifix.trading.mdvalues import (
    BookInconsistent,
    BookUpdated,
    MarketDataError,
    MarketDataEvent,
    MarketDataIgnored,
    ResnapshotPolicy,
    Subscription,
    SubscriptionChanged,
    SubscriptionLimitError,
    SubscriptionState,
)
from trifix.trading.mdwire import read_incremental, read_md_req_id, read_snapshot
from trifix.trading.messages import MarketDataRequest, MarketDataRequestReject

__all__ = [
    "BookInconsistent",
    "BookUpdated",
    "MarketDataError",
    "MarketDataEvent",
    "MarketDataIgnored",
    "MarketDataManager",
    "ResnapshotPolicy",
    "Subscription",
    "SubscriptionChanged",
    "SubscriptionLimitError",
    "SubscriptionState",
]

DEFAULT_ENTRY_TYPES: Final = (MDEntryType.BID, MDEntryType.OFFER)


class _Purpose(enum.Enum):
    SUBSCRIBE = "subscribe"
    RESNAPSHOT = "resnapshot"
    UNSUBSCRIBE = "unsubscribe"


class MarketDataManager:
    """The market data subscriptions of one session (sans-IO).

    Args:
        lp: the LP's name, given to the books (for reports and consolidation).
        max_subscriptions: live subscriptions allowed at once.
        max_symbols: symbols allowed across live subscriptions (None: no limit).
        req_id_prefix: MDReqIDs are this prefix and a counter.
        resnapshot: how to get a fresh snapshot of an inconsistent book.
        max_resnapshots: bad snapshots in a row before giving up on a book.
    """

    def __init__(
        self,
        lp: str = "",
        *,
        max_subscriptions: int = 100,
        max_symbols: int | None = None,
        req_id_prefix: str = "MD",
        resnapshot: ResnapshotPolicy = ResnapshotPolicy.SNAPSHOT_REQUEST,
        max_resnapshots: int = 3,
    ) -> None:
        if max_subscriptions < 1 or (max_symbols is not None and max_symbols < 1):
            raise MarketDataError("max_subscriptions and max_symbols must be at least 1")
        self.lp = lp
        self.max_subscriptions = max_subscriptions
        self.max_symbols = max_symbols
        self.resnapshot = resnapshot
        self.max_resnapshots = max_resnapshots
        self._prefix = req_id_prefix
        self._next_id = 1
        self._subs: list[Subscription] = []
        self._by_symbol: dict[str, Subscription] = {}
        self._requests: dict[str, tuple[Subscription, _Purpose, str | None]] = {}
        self._outbox: list[Message] = []
        self._logged_on = False

    # -- application side --------------------------------------------------------------------
    def subscribe(
        self,
        symbols: str | Iterable[str],
        *,
        depth: int = 0,
        entry_types: Iterable[MDEntryType] = DEFAULT_ENTRY_TYPES,
        updates: bool = True,
        style: BookStyle | None = None,
        aggregated_book: bool | None = None,
    ) -> Subscription:
        """Subscribe to `symbols`; the request goes out now, or at the next logon.

        Args:
            symbols: one symbol or several.
            depth: 0 for the full book, 1 for top of book, N for N levels.
            entry_types: bid, offer, trade, opening, closing... (269).
            updates: False for a one-off snapshot (263=0).
            style: how the LP's incrementals name levels; by default TOP_OF_BOOK for depth 1,
                BY_PRICE otherwise.
            aggregated_book: AggregatedBook (266), when the LP wants it said.

        Raises:
            MarketDataError: no symbols, a repeated or already subscribed symbol, a negative
                depth or no entry types.
            SubscriptionLimitError: over `max_subscriptions` or `max_symbols`.
        """
        wanted = (symbols,) if isinstance(symbols, str) else tuple(symbols)
        types = tuple(dict.fromkeys(entry_types))
        if not wanted or len(set(wanted)) != len(wanted) or not all(wanted):
            raise MarketDataError(f"need distinct, non-empty symbols, not {wanted!r}")
        taken = [s for s in wanted if s in self._by_symbol]
        if taken:
            raise MarketDataError(
                f"already subscribed to {', '.join(taken)}: unsubscribe first "
                f"(MDReqID {self._by_symbol[taken[0]].md_req_id})"
            )
        if depth < 0:
            raise MarketDataError(f"depth must be 0 (full book), 1 (top) or N levels, not {depth}")
        if not types:
            raise MarketDataError("need at least one MDEntryType")
        live = self.subscriptions()
        if len(live) >= self.max_subscriptions:
            raise SubscriptionLimitError(
                f"{self.lp or 'this session'} allows {self.max_subscriptions} subscriptions "
                f"and has {len(live)}: unsubscribe one or raise max_subscriptions"
            )
        if self.max_symbols is not None and len(self._by_symbol) + len(wanted) > self.max_symbols:
            raise SubscriptionLimitError(
                f"{self.lp or 'this session'} allows {self.max_symbols} symbols and has "
                f"{len(self._by_symbol)}; {len(wanted)} more is too many"
            )
        if style is None:
            style = BookStyle.TOP_OF_BOOK if depth == 1 else BookStyle.BY_PRICE
        sub = Subscription(wanted, depth, types, updates, style, aggregated_book)
        sub.books = {s: OrderBook(s, lp=self.lp, style=style) for s in wanted}
        self._subs.append(sub)
        for s in wanted:
            self._by_symbol[s] = sub
        if self._logged_on:
            self._request(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Cancel `sub` (263=2 when logged on); its books stop updating. Idempotent."""
        if not sub.live:
            return
        if self._logged_on and sub.updates and sub.md_req_id:
            self._drop_requests(sub)
            self._send_request(sub, SubscriptionRequestType.DISABLE_PREVIOUS_SNAPSHOT, sub.symbols)
            self._requests[sub.md_req_id] = (sub, _Purpose.UNSUBSCRIBE, None)
        else:
            self._drop_requests(sub)
        self._end(sub, SubscriptionState.UNSUBSCRIBED)

    def subscriptions(self) -> list[Subscription]:
        """The live subscriptions (pending, active or stale), oldest first."""
        return [s for s in self._subs if s.live]

    def book(self, symbol: str) -> OrderBook | None:
        """The book of `symbol`, if a live subscription covers it."""
        sub = self._by_symbol.get(symbol)
        return None if sub is None else sub.books[symbol]

    def data_to_send(self) -> list[Message]:
        """The requests to send, in order (and forget them)."""
        out, self._outbox = self._outbox, []
        return out

    # -- session side ----------------------------------------------------------------------------
    def on_event(self, event: Event) -> list[MarketDataEvent]:
        """Feed one session event; returns what changed."""
        if isinstance(event, AppMessageReceived):
            return self.on_message(event.message)
        if isinstance(event, LoggedOn):
            return self.on_logged_on()
        if isinstance(event, Disconnected):
            return self.on_disconnected()
        return []

    def on_logged_on(self) -> list[MarketDataEvent]:
        """The session is logged on: (re)request every live subscription with a new MDReqID."""
        if self._logged_on:
            return []
        self._logged_on = True
        out: list[MarketDataEvent] = []
        for sub in self.subscriptions():
            sub.resnapshots.clear()
            self._request(sub)
            self._set_state(sub, SubscriptionState.PENDING, out)
        return out

    def on_disconnected(self) -> list[MarketDataEvent]:
        """The session ended: every book is stale until the next logon's snapshots."""
        self._logged_on = False
        self._requests.clear()
        out: list[MarketDataEvent] = []
        for sub in self.subscriptions():
            for book in sub.books.values():
                if book.has_snapshot and book.stale is None:
                    found = book.mark_stale(InconsistencyKind.DISCONNECTED, "session disconnected")
                    out.append(BookInconsistent(book, found))
            sub.error = "session disconnected"
            sub.md_req_id = ""
            if sub.state is not SubscriptionState.PENDING:
                self._set_state(sub, SubscriptionState.STALE, out)
        return out

    def on_message(self, msg: Message) -> list[MarketDataEvent]:
        """Feed one received application message; W, X and Y are handled, others ignored."""
        msg_type = msg.msg_type
        if msg_type == MsgType.MARKET_DATA_INCREMENTAL_REFRESH:
            return self._on_incremental(msg)
        if msg_type == MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH:
            return self._on_snapshot(msg)
        if msg_type == MsgType.MARKET_DATA_REQUEST_REJECT:
            return self._on_reject(msg)
        return []

    # -- receiving -------------------------------------------------------------------------------
    def _on_incremental(self, msg: Message) -> list[MarketDataEvent]:
        try:
            req_id, by_symbol = read_incremental(msg)
        except FieldValueError as exc:
            return self._unreadable(msg, exc)
        sub = None
        if req_id is not None:
            known = self._requests.get(req_id)
            if known is None or known[1] is _Purpose.UNSUBSCRIBE:
                return [MarketDataIgnored(f"no subscription has MDReqID {req_id!r}", msg)]
            sub = known[0]
        out: list[MarketDataEvent] = []
        for symbol, updates in by_symbol.items():
            book = self._route(sub, symbol)
            if book is None:
                out.append(MarketDataIgnored(f"no subscribed book for symbol {symbol!r}", msg))
                continue
            found = book.apply_updates(updates)
            if found is not None:
                self._inconsistent(self._by_symbol[book.symbol], book, found, out)
            elif book.usable:
                out.append(BookUpdated(book))
        return out

    def _on_snapshot(self, msg: Message) -> list[MarketDataEvent]:
        try:
            req_id, symbol, entries = read_snapshot(msg)
        except FieldValueError as exc:
            return self._unreadable(msg, exc)
        sub = None
        if req_id is not None:
            known = self._requests.get(req_id)
            if known is None or known[1] is _Purpose.UNSUBSCRIBE:
                return [MarketDataIgnored(f"no subscription has MDReqID {req_id!r}", msg)]
            sub = known[0]
            if known[1] is _Purpose.RESNAPSHOT:
                del self._requests[req_id]  # a snapshot-only request is answered once
        book = self._route(sub, symbol)
        if book is None:
            return [MarketDataIgnored(f"no subscribed book for symbol {symbol!r}", msg)]
        sub = self._by_symbol[book.symbol]
        out: list[MarketDataEvent] = []
        found = book.apply_snapshot(entries)
        if found is not None:
            self._inconsistent(sub, book, found, out)
            return out
        sub.resnapshots.pop(book.symbol, None)
        out.append(BookUpdated(book))
        if all(b.usable for b in sub.books.values()):
            sub.error = None
            self._set_state(sub, SubscriptionState.ACTIVE, out)
        return out

    def _on_reject(self, msg: Message) -> list[MarketDataEvent]:
        try:
            reject = MarketDataRequestReject.from_message(msg)
        except TradingMessageError as exc:
            return [MarketDataIgnored(f"unreadable MarketDataRequestReject: {exc}", msg)]
        known = self._requests.pop(reject.md_req_id, None)
        if known is None:
            return [MarketDataIgnored(f"no request has MDReqID {reject.md_req_id!r}", msg)]
        sub, purpose, symbol = known
        if purpose is _Purpose.UNSUBSCRIBE:
            return [MarketDataIgnored(f"the LP refused to unsubscribe: {reject.text or ''}", msg)]
        sub.reject_reason = reject.reason
        what = "request" if purpose is _Purpose.SUBSCRIBE else f"snapshot request for {symbol}"
        reason = "" if reject.reason is None else f" ({reject.reason.name})"
        sub.reject_text = reject.text
        sub.error = f"{what} {reject.md_req_id} rejected{reason}: {reject.text or 'no text'}"
        self._drop_requests(sub)
        out: list[MarketDataEvent] = []
        self._end(sub, SubscriptionState.REJECTED, out)
        return out

    def _route(self, sub: Subscription | None, symbol: str | None) -> OrderBook | None:
        if symbol is None:
            if sub is None or len(sub.symbols) != 1:
                return None
            symbol = sub.symbols[0]
        found = self._by_symbol.get(symbol)
        if found is None or (sub is not None and found is not sub):
            return None
        return found.books[symbol]

    def _unreadable(self, msg: Message, exc: FieldValueError) -> list[MarketDataEvent]:
        """A W or X that cannot be read: its updates are lost, so its books need a snapshot."""
        out: list[MarketDataEvent] = [MarketDataIgnored(f"unreadable: {exc}", msg)]
        req_id = read_md_req_id(msg)
        known = None if req_id is None else self._requests.get(req_id)
        subs = [known[0]] if known is not None else self.subscriptions()
        for sub in subs:
            if not sub.live:
                continue
            for book in sub.books.values():
                if book.stale is None:
                    found = book.mark_stale(InconsistencyKind.MISSING_FIELD, f"unreadable: {exc}")
                    self._inconsistent(sub, book, found, out)
        return out

    def _inconsistent(
        self, sub: Subscription, book: OrderBook, found: Inconsistency, out: list[MarketDataEvent]
    ) -> None:
        out.append(BookInconsistent(book, found))
        sub.error = found.reason
        self._set_state(sub, SubscriptionState.STALE, out)
        count = sub.resnapshots.get(book.symbol, 0) + 1
        sub.resnapshots[book.symbol] = count
        if count > self.max_resnapshots:
            sub.error = f"{found.reason}; gave up after {self.max_resnapshots} fresh snapshots"
            return
        if not self._logged_on:
            return  # the next logon asks for everything again
        if self.resnapshot is ResnapshotPolicy.SNAPSHOT_REQUEST or not sub.updates:
            req_id = self._send_request(sub, SubscriptionRequestType.SNAPSHOT, (book.symbol,))
            self._requests[req_id] = (sub, _Purpose.RESNAPSHOT, book.symbol)
        else:
            self._drop_requests(sub)
            self._send_request(sub, SubscriptionRequestType.DISABLE_PREVIOUS_SNAPSHOT, sub.symbols)
            self._request(sub)

    # -- sending ---------------------------------------------------------------------------------
    def _request(self, sub: Subscription) -> None:
        kind = (
            SubscriptionRequestType.SNAPSHOT_AND_UPDATES
            if sub.updates
            else SubscriptionRequestType.SNAPSHOT
        )
        sub.md_req_id = self._send_request(sub, kind, sub.symbols)
        self._requests[sub.md_req_id] = (sub, _Purpose.SUBSCRIBE, None)

    def _send_request(
        self, sub: Subscription, kind: SubscriptionRequestType, symbols: tuple[str, ...]
    ) -> str:
        if kind is SubscriptionRequestType.DISABLE_PREVIOUS_SNAPSHOT:
            req_id = sub.md_req_id
        else:
            req_id = f"{self._prefix}{self._next_id}"
            self._next_id += 1
        request = MarketDataRequest(
            md_req_id=req_id,
            subscription_request_type=kind,
            market_depth=sub.depth,
            entry_types=sub.entry_types,
            symbols=symbols,
            md_update_type=MDUpdateType.INCREMENTAL_REFRESH
            if kind is SubscriptionRequestType.SNAPSHOT_AND_UPDATES
            else None,
            aggregated_book=sub.aggregated_book,
        )
        self._outbox.append(request.to_message())
        return req_id

    # -- bookkeeping -----------------------------------------------------------------------------
    def _drop_requests(self, sub: Subscription) -> None:
        for req_id in [r for r, (s, _p, _sym) in self._requests.items() if s is sub]:
            del self._requests[req_id]

    def _end(
        self, sub: Subscription, state: SubscriptionState, out: list[MarketDataEvent] | None = None
    ) -> None:
        for symbol in sub.symbols:
            if self._by_symbol.get(symbol) is sub:
                del self._by_symbol[symbol]
        self._set_state(sub, state, out if out is not None else [])

    @staticmethod
    def _set_state(sub: Subscription, state: SubscriptionState, out: list[MarketDataEvent]) -> None:
        if sub.state is not state:
            sub.state = state
            out.append(SubscriptionChanged(sub, state))

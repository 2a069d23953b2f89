"""Quotes: ask LPs for prices (QuoteRequest, 35=R), keep what they answer (Quote, 35=S) until it
expires, is withdrawn (QuoteCancel, 35=Z) or is replaced, and trade on a firm one.

`QuoteBook` is sans-IO: it builds the requests to send and takes the quotes received, with the
time passed in. A quote's life:

* it arrives **indicative** (QuoteType 537=0: a price to look at, not to trade) or **firm**
  (537=1 tradeable or 2 restricted tradeable); a quote without 537 counts as firm, the FIX 4.4
  default for a quote answering a request;
* it ends **expired** at its ValidUntilTime (62) or, without one, after the book's default
  validity; **canceled** by a QuoteCancel (its QuoteID, its symbol, or all quotes);
  **replaced** when a newer quote answers the same QuoteReqID (streaming quotes); or **traded**
  once an order has been built on it (`order_for`), since an LP fills a quote once.

`order_for` checks everything an LP would refuse an order on a quote for (known, firm, live,
the side priced, the quantity within the quote's minimum and maximum sizes) and raises
`QuoteError` saying which, before anything is sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from trifix.core.tags import OrdType, QuoteCancelType, QuoteType, Side, TimeInForce
from trifix.trading.errors import TradingError
from trifix.trading.messages import NewOrderSingle, Quote, QuoteCancel, QuoteRequest

__all__ = ["QuoteBook", "QuoteError", "QuoteState", "QuoteView"]


class QuoteError(TradingError):
    """An order on a quote was refused before sending, or a quote message made no sense."""


class QuoteState(StrEnum):
    """Where a received quote stands."""

    INDICATIVE = "indicative"
    """Prices to look at; not tradeable."""
    FIRM = "firm"
    """Tradeable until it expires."""
    EXPIRED = "expired"
    """Its validity ended."""
    CANCELED = "canceled"
    """Withdrawn by the LP (QuoteCancel)."""
    REPLACED = "replaced"
    """A newer quote answered the same request."""
    TRADED = "traded"
    """An order was sent on it."""


_FIRM_TYPES = frozenset({QuoteType.TRADEABLE, QuoteType.RESTRICTED_TRADEABLE})
_LIVE = frozenset({QuoteState.INDICATIVE, QuoteState.FIRM})


@dataclass(frozen=True, slots=True)
class QuoteView:
    """A received quote and its state, as of the time it was looked at."""

    quote: Quote
    state: QuoteState
    received_at: datetime
    expires_at: datetime
    traded_by: str | None = None
    """The ClOrdID of the order sent on it, once traded."""

    @property
    def quote_id(self) -> str:
        return self.quote.quote_id

    @property
    def symbol(self) -> str:
        return self.quote.symbol

    @property
    def is_live(self) -> bool:
        return self.state in _LIVE


@dataclass(frozen=True, slots=True)
class _Request:
    request: QuoteRequest
    sent_at: datetime


class QuoteBook:
    """The quotes of one LP session: requests sent, quotes received, and trading on them.

    Args:
        default_validity: how long a quote without ValidUntilTime stays live.
        id_prefix: the start of generated QuoteReqIDs (make it unique per gateway).
    """

    def __init__(
        self, *, default_validity: timedelta = timedelta(seconds=30), id_prefix: str = "QR"
    ) -> None:
        if default_validity <= timedelta(0):
            raise ValueError("default_validity must be positive")
        self.default_validity = default_validity
        self._ids = (f"{id_prefix}{n}" for n in itertools.count(1))
        self._requests: dict[str, _Request] = {}
        self._quotes: dict[str, QuoteView] = {}
        self._by_request: dict[str, str] = {}  # QuoteReqID -> the latest QuoteID answering it

    # -- requests -------------------------------------------------------------------------------
    def request(
        self,
        symbol: str,
        now: datetime,
        *,
        side: Side | None = None,
        order_qty: Decimal | None = None,
        quote_type: QuoteType | None = QuoteType.TRADEABLE,
        valid_for: timedelta | None = None,
        quote_req_id: str | None = None,
    ) -> QuoteRequest:
        """A QuoteRequest to send, remembered so the answering quotes are linked to it.

        Raises:
            QuoteError: the quantity is not positive, or `quote_req_id` was used already.
        """
        if order_qty is not None and order_qty <= 0:
            raise QuoteError(f"quote request for {symbol}: quantity must be positive")
        req_id = quote_req_id or next(self._ids)
        if req_id in self._requests:
            raise QuoteError(f"QuoteReqID {req_id!r} was used already")
        request = QuoteRequest(
            quote_req_id=req_id,
            symbol=symbol,
            side=side,
            order_qty=order_qty,
            quote_type=quote_type,
            valid_until_time=now + valid_for if valid_for is not None else None,
        )
        self._requests[req_id] = _Request(request, now)
        return request

    def requested(self, quote_req_id: str) -> QuoteRequest | None:
        """The request sent with this QuoteReqID, if any."""
        entry = self._requests.get(quote_req_id)
        return entry.request if entry is not None else None

    # -- what the LP sends ----------------------------------------------------------------------
    def on_quote(self, quote: Quote, now: datetime) -> QuoteView:
        """Take a received quote; a newer quote for the same request replaces the older one.

        Raises:
            QuoteError: the QuoteID was seen before (a quote is never changed in place), or a
                quote answering a request for another symbol.
        """
        if quote.quote_id in self._quotes:
            raise QuoteError(f"QuoteID {quote.quote_id!r} received twice")
        if quote.quote_req_id is not None:
            asked = self._requests.get(quote.quote_req_id)
            if asked is not None and asked.request.symbol != quote.symbol:
                raise QuoteError(
                    f"quote {quote.quote_id!r} for {quote.symbol} answers request "
                    f"{quote.quote_req_id!r} for {asked.request.symbol}"
                )
            previous = self._by_request.get(quote.quote_req_id)
            if previous is not None:
                self._end(previous, QuoteState.REPLACED, now)
            self._by_request[quote.quote_req_id] = quote.quote_id
        firm = quote.quote_type is None or quote.quote_type in _FIRM_TYPES
        expires = quote.valid_until_time or now + self.default_validity
        view = QuoteView(
            quote, QuoteState.FIRM if firm else QuoteState.INDICATIVE, now, expires_at=expires
        )
        self._quotes[quote.quote_id] = view
        return self._aged(view, now)

    def on_cancel(self, cancel: QuoteCancel, now: datetime) -> list[QuoteView]:
        """Withdraw the quotes a QuoteCancel names; returns those it ended."""
        kind = cancel.quote_cancel_type
        if kind == QuoteCancelType.CANCEL_ALL_QUOTES:
            targets = list(self._quotes)
        elif kind == QuoteCancelType.CANCEL_FOR_ONE_OR_MORE_SECURITIES and cancel.symbol:
            targets = [qid for qid, view in self._quotes.items() if view.symbol == cancel.symbol]
        else:  # by QuoteID (the other cancel types name securities trifix does not classify)
            targets = [cancel.quote_id] if cancel.quote_id in self._quotes else []
        ended = []
        for quote_id in targets:
            view = self._end(quote_id, QuoteState.CANCELED, now)
            if view is not None:
                ended.append(view)
        return ended

    # -- looking ----------------------------------------------------------------------------------
    def get(self, quote_id: str, now: datetime) -> QuoteView | None:
        """The quote with this QuoteID and its state at `now`."""
        view = self._quotes.get(quote_id)
        return self._aged(view, now) if view is not None else None

    def live(self, now: datetime, symbol: str | None = None) -> Iterator[QuoteView]:
        """The quotes still live at `now`, oldest first (optionally for one symbol)."""
        for view in list(self._quotes.values()):
            aged = self._aged(view, now)
            if aged.is_live and (symbol is None or aged.symbol == symbol):
                yield aged

    def expire(self, now: datetime) -> list[QuoteView]:
        """Mark the quotes whose validity ended by `now`; returns those newly expired."""
        ended = []
        for quote_id, view in self._quotes.items():
            if view.is_live and view.expires_at <= now:
                ended.append(self._set(quote_id, QuoteState.EXPIRED))
        return ended

    # -- trading on a quote ---------------------------------------------------------------------
    def order_for(
        self,
        quote_id: str,
        *,
        side: Side,
        order_qty: Decimal,
        cl_ord_id: str,
        now: datetime,
        account: str | None = None,
    ) -> NewOrderSingle:
        """A NewOrderSingle (OrdType D, previously quoted) that trades on a firm quote.

        A buy takes the offer and a sell the bid. The quote is then marked traded.

        Raises:
            QuoteError: saying why the LP would refuse it: unknown quote, not firm, expired,
                canceled, replaced or traded already, the side not priced, or the quantity
                outside the quote's sizes.
        """
        view = self.get(quote_id, now)
        if view is None:
            raise QuoteError(f"no quote {quote_id!r}")
        if view.state != QuoteState.FIRM:
            raise QuoteError(f"quote {quote_id!r} is {view.state}, not firm")
        quote = view.quote
        buying = side == Side.BUY
        if side not in (Side.BUY, Side.SELL):
            raise QuoteError(f"quote {quote_id!r}: side {side.name} cannot trade on a quote")
        price = quote.offer_px if buying else quote.bid_px
        if price is None:
            which = "offer" if buying else "bid"
            raise QuoteError(f"quote {quote_id!r} has no {which} price to {side.name.lower()} at")
        most = quote.offer_size if buying else quote.bid_size
        least = quote.min_offer_size if buying else quote.min_bid_size
        if order_qty <= 0:
            raise QuoteError(f"quote {quote_id!r}: quantity must be positive")
        if most is not None and order_qty > most:
            raise QuoteError(f"quote {quote_id!r}: quantity {order_qty} is above its size {most}")
        if least is not None and order_qty < least:
            raise QuoteError(
                f"quote {quote_id!r}: quantity {order_qty} is below its minimum {least}"
            )
        order = NewOrderSingle(
            cl_ord_id=cl_ord_id,
            symbol=quote.symbol,
            side=side,
            order_qty=order_qty,
            ord_type=OrdType.PREVIOUSLY_QUOTED,
            price=price,
            time_in_force=TimeInForce.FILL_OR_KILL,
            quote_id=quote.quote_id,
            transact_time=now,
            account=account,
        )
        self._quotes[quote_id] = replace(view, state=QuoteState.TRADED, traded_by=cl_ord_id)
        return order

    # -- internals --------------------------------------------------------------------------------
    def _aged(self, view: QuoteView, now: datetime) -> QuoteView:
        if view.is_live and view.expires_at <= now:
            return self._set(view.quote_id, QuoteState.EXPIRED)
        return view

    def _end(self, quote_id: str, state: QuoteState, now: datetime) -> QuoteView | None:
        view = self._quotes.get(quote_id)
        if view is None:
            return None
        view = self._aged(view, now)
        return self._set(quote_id, state) if view.is_live else None

    def _set(self, quote_id: str, state: QuoteState) -> QuoteView:
        view = self._quotes[quote_id] = replace(self._quotes[quote_id], state=state)
        return view

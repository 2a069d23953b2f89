"""Pre-send checks: refuse an order before it leaves, saying which rule and which values.

Theory of operation. A check is a small object with a ``name`` that looks at one
`OrderRequest` (a NewOrderSingle or a cancel/replace, read by `OrderRequest.of`) in a
`CheckContext` (the time and the last reference prices) and returns a `CheckFailure` or None.
`PreTradeChecks`, configured once per session, runs its checks in order and returns the
first failure (`first_failure`, or `check`, which raises `PreTradeCheckError`) or all of
them (`failures`). `PreTradeChecks.standard` builds the usual set:

- ``symbol``: the symbol is in the instrument reference data and tradable;
- ``quantity``: positive, within the instrument's min/max, a multiple of its lot size;
- ``tick_size``: Price and StopPx are multiples of the tick size;
- ``collar``: a priced order is within a band around the symbol's last reference price
  (a percentage of it, an absolute distance, or the narrower of both); market orders skip;
- ``duplicate_cl_ord_id``: the ClOrdID was never used by an order of the session's tracker;
- ``trading_hours``: the session's `Schedule` is open at ``now``;
- ``notional_limit``: the open notional of the session's working orders (LeavesQty x price,
  so fills and cancels release it; a pending replace counts at the larger of its old and new
  terms) plus this order's stays within the limit. A replace counts instead of the order it
  replaces. Notional is gross (both sides add up) and in price units, currencies ignored.

Symbol-dependent checks say nothing about an unknown symbol: ``symbol`` reports it once.
Nothing here reads a clock or sends anything. The values the checks work with (`OrderRequest`,
`Instrument`, `Collar`, `CheckContext`, `CheckFailure`...) live in `trifix.trading.checkvalues`
and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from trifix.core.message import Message
from trifix.core.tags import OrdType
from trifix.runtime.schedule import Schedule
from trifix.trading.checkvalues import (
    ZERO,
    Check,
    CheckContext,
    CheckFailure,
    Collar,
    Instrument,
    OrderRequest,
    OrderSource,
    PreTradeCheckError,
    _ToMessage,
)
from trifix.trading.order_views import OrderView

__all__ = [
    "Check",
    "CheckContext",
    "CheckFailure",
    "Collar",
    "CollarCheck",
    "DuplicateClOrdIDCheck",
    "Instrument",
    "NotionalLimitCheck",
    "OrderRequest",
    "OrderSource",
    "PreTradeCheckError",
    "PreTradeChecks",
    "QuantityCheck",
    "SymbolCheck",
    "TickSizeCheck",
    "TradingHoursCheck",
]


def _fail(check: str, reason: str, **values: object) -> CheckFailure:
    return CheckFailure(check, reason, tuple(values.items()))


class SymbolCheck:
    """The symbol is known and tradable."""

    name = "symbol"

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self.instruments = instruments

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        instrument = self.instruments.get(order.symbol)
        if instrument is None:
            return _fail(self.name, f"unknown symbol {order.symbol!r}", symbol=order.symbol)
        if not instrument.tradable:
            return _fail(self.name, f"symbol {order.symbol!r} is not tradable", symbol=order.symbol)
        return None


class QuantityCheck:
    """The quantity is positive, within min/max and a multiple of the lot size."""

    name = "quantity"

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self.instruments = instruments

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        qty = order.order_qty
        inst = self.instruments.get(order.symbol)
        if qty <= ZERO:
            return _fail(self.name, f"OrderQty {qty} must be positive", order_qty=qty)
        if inst is None:
            return None
        if inst.min_qty is not None and qty < inst.min_qty:
            return _fail(
                self.name,
                f"OrderQty {qty} is below the minimum {inst.min_qty} for {inst.symbol}",
                order_qty=qty,
                min_qty=inst.min_qty,
            )
        if inst.max_qty is not None and qty > inst.max_qty:
            return _fail(
                self.name,
                f"OrderQty {qty} is above the maximum {inst.max_qty} for {inst.symbol}",
                order_qty=qty,
                max_qty=inst.max_qty,
            )
        if qty % inst.lot_size:
            return _fail(
                self.name,
                f"OrderQty {qty} is not a multiple of the lot size {inst.lot_size}",
                order_qty=qty,
                lot_size=inst.lot_size,
            )
        return None


class TickSizeCheck:
    """Price and StopPx are multiples of the tick size."""

    name = "tick_size"

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self.instruments = instruments

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        inst = self.instruments.get(order.symbol)
        if inst is None:
            return None
        for field_name, value in (("Price", order.price), ("StopPx", order.stop_px)):
            if value is not None and value % inst.tick_size:
                return _fail(
                    self.name,
                    f"{field_name} {value} is not a multiple of the tick size {inst.tick_size}",
                    price=value,
                    tick_size=inst.tick_size,
                )
        return None


class CollarCheck:
    """A priced order's price lies within the collar around the reference price.

    Args:
        default: the collar for symbols without their own.
        per_symbol: collars by symbol.
        require_reference: refuse a priced order for a symbol with no reference price yet
            (True), or let it pass unchecked (False).
    """

    name = "collar"

    def __init__(
        self,
        default: Collar,
        per_symbol: Mapping[str, Collar] | None = None,
        *,
        require_reference: bool = True,
    ) -> None:
        self.default = default
        self.per_symbol = dict(per_symbol or {})
        self.require_reference = require_reference

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        price = order.price if order.price is not None else order.stop_px
        if order.ord_type is OrdType.MARKET or price is None:
            return None
        reference = ctx.reference_prices.get(order.symbol)
        if reference is None:
            if not self.require_reference:
                return None
            return _fail(
                self.name,
                f"no reference price for {order.symbol!r} to check {price} against",
                symbol=order.symbol,
                price=price,
            )
        width = self.per_symbol.get(order.symbol, self.default).half_width(reference)
        low, high = reference - width, reference + width
        if low <= price <= high:
            return None
        return _fail(
            self.name,
            f"price {price} is outside the collar [{low}, {high}] around the reference "
            f"price {reference} of {order.symbol}",
            price=price,
            reference=reference,
            low=low,
            high=high,
        )


class DuplicateClOrdIDCheck:
    """The ClOrdID was never used by an order of the session."""

    name = "duplicate_cl_ord_id"

    def __init__(self, orders: OrderSource) -> None:
        self.orders = orders

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        if order.cl_ord_id in self.orders:
            return _fail(
                self.name, f"ClOrdID {order.cl_ord_id!r} is already used", cl_ord_id=order.cl_ord_id
            )
        return None


class TradingHoursCheck:
    """The session's schedule is open."""

    name = "trading_hours"

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        if self.schedule.is_open(ctx.now):
            return None
        reopens = self.schedule.next_open(ctx.now)
        when = f"; it opens at {reopens.isoformat()}" if reopens is not None else ""
        return _fail(
            self.name,
            f"outside trading hours at {ctx.now.isoformat()}{when}",
            now=ctx.now,
            next_open=reopens,
        )


class NotionalLimitCheck:
    """Open notional plus this order's stays within the session's limit."""

    name = "notional_limit"

    def __init__(self, limit: Decimal, orders: OrderSource) -> None:
        if limit < ZERO:
            raise ValueError(f"notional limit must not be negative, not {limit}")
        self.limit = limit
        self.orders = orders

    def __call__(self, order: OrderRequest, ctx: CheckContext) -> CheckFailure | None:
        prices = ctx.reference_prices
        open_notional = ZERO
        replaced: OrderView | None = None
        for view in self.orders.open_orders():
            if order.orig_cl_ord_id is not None and order.orig_cl_ord_id in view.chain:
                replaced = view
                continue
            value = _open_value(view, prices)
            if value is None:
                return _fail(
                    self.name,
                    f"cannot value open order {view.cl_ord_id!r}: no price and no reference "
                    f"price for {view.symbol!r}",
                    cl_ord_id=view.cl_ord_id,
                )
            open_notional += value
        price = _first(order.price, order.stop_px, prices.get(order.symbol))
        if price is None:
            return _fail(
                self.name,
                f"cannot value the order: no price and no reference price for {order.symbol!r}",
                symbol=order.symbol,
            )
        qty = order.order_qty - (replaced.cum_qty if replaced is not None else ZERO)
        notional = max(qty, ZERO) * abs(price)
        total = open_notional + notional
        if total <= self.limit:
            return None
        return _fail(
            self.name,
            f"open notional {open_notional} + this order's {notional} = {total} exceeds the "
            f"limit {self.limit}",
            open_notional=open_notional,
            order_notional=notional,
            limit=self.limit,
        )


def _first(*values: Decimal | None) -> Decimal | None:
    return next((v for v in values if v is not None), None)


def _open_value(view: OrderView, prices: Mapping[str, Decimal]) -> Decimal | None:
    """LeavesQty x price of an open order; a pending replace at its larger terms."""
    price = _first(view.price, view.stop_px, prices.get(view.symbol))
    if price is None:
        return None
    value = view.leaves_qty * abs(price)
    pending = view.pending
    if pending is not None and pending.order_qty is not None:
        new_price = _first(pending.price, price) or price
        value = max(value, max(pending.order_qty - view.cum_qty, ZERO) * abs(new_price))
    return value


class PreTradeChecks:
    """The checks of one session, run in order.

    Args:
        checks: the checks, in the order to run them.
        reference_prices: initial reference prices by symbol.
    """

    def __init__(
        self, checks: Iterable[Check], reference_prices: Mapping[str, Decimal] | None = None
    ) -> None:
        self.checks: tuple[Check, ...] = tuple(checks)
        self._prices: dict[str, Decimal] = dict(reference_prices or {})

    @classmethod
    def standard(
        cls,
        *,
        instruments: Iterable[Instrument],
        orders: OrderSource | None = None,
        collar: Collar | None = None,
        collars: Mapping[str, Collar] | None = None,
        schedule: Schedule | None = None,
        notional_limit: Decimal | None = None,
    ) -> PreTradeChecks:
        """The usual checks; those whose configuration is absent are left out.

        Args:
            instruments: reference data (symbol, quantity and tick checks).
            orders: the session's orders (duplicate ClOrdID; needed for `notional_limit`).
            collar: the default price collar (per-symbol ones in `collars`).
            collars: collars by symbol.
            schedule: trading hours.
            notional_limit: the open notional limit of the session.
        """
        by_symbol = {i.symbol: i for i in instruments}
        checks: list[Check] = [
            SymbolCheck(by_symbol),
            QuantityCheck(by_symbol),
            TickSizeCheck(by_symbol),
        ]
        if collar is not None:
            checks.append(CollarCheck(collar, collars))
        if orders is not None:
            checks.append(DuplicateClOrdIDCheck(orders))
        if schedule is not None:
            checks.append(TradingHoursCheck(schedule))
        if notional_limit is not None:
            if orders is None:
                raise ValueError("a notional limit needs the session's orders (orders=...)")
            checks.append(NotionalLimitCheck(notional_limit, orders))
        return cls(checks)

    def set_reference_price(self, symbol: str, price: Decimal) -> None:
        """The last reference price of `symbol` (a mid, a last trade...), for collars."""
        self._prices[symbol] = price

    def reference_price(self, symbol: str) -> Decimal | None:
        """The reference price of `symbol`, if one was set."""
        return self._prices.get(symbol)

    def failures(self, order: OrderRequest, now: datetime) -> list[CheckFailure]:
        """Every failure, in check order ([] when the order passes)."""
        ctx = CheckContext(now, self._prices)
        return [f for f in (check(order, ctx) for check in self.checks) if f is not None]

    def first_failure(self, order: OrderRequest, now: datetime) -> CheckFailure | None:
        """The first failure, or None when the order passes."""
        ctx = CheckContext(now, self._prices)
        for check in self.checks:
            failure = check(order, ctx)
            if failure is not None:
                return failure
        return None

    def check(self, order: OrderRequest | Message | _ToMessage, now: datetime) -> None:
        """Raise on the first failure.

        Raises:
            PreTradeCheckError: naming the check and the values.
        """
        request = order if isinstance(order, OrderRequest) else OrderRequest.of(order)
        failure = self.first_failure(request, now)
        if failure is not None:
            raise PreTradeCheckError(request.cl_ord_id, [failure])

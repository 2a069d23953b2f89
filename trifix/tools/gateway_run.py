"""`trifix run`'s trading side: the gateway's LPs from the configuration, the demo's orders
through the gateway, and the live view's feed of session events.

The trading gateway reads its sessions' events itself (`trifix.trading.open_gateway`), so the
live view does not compete for them: it watches every session through a `SessionObserver`,
which sees the same events in the same order without taking any.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import trio

from trifix.config import GatewayConfig, LiquidityProviderConfig
from trifix.core.events import Event
from trifix.core.tags import OrdType, Side
from trifix.runtime import SessionHandle
from trifix.runtime.handle import SessionObserver
from trifix.tools.live import Tracker
from trifix.trading import (
    BreakerSettings,
    Collar,
    Gateway,
    Instrument,
    LPConfig,
    NewOrderSingle,
    OrderState,
    OrderView,
    TradingError,
)

__all__ = ["DEMO_LP", "Subscriptions", "TrackerObserver", "TradingDemo", "lp_configs"]

DEMO_LP = "LP"
"""The demo gateway's one LP, on its one session (orders and market data)."""

_ANSWER_TIMEOUT = 5.0
_WORKING = frozenset({OrderState.NEW, OrderState.REPLACED, OrderState.PARTIALLY_FILLED})


@dataclass(frozen=True, slots=True)
class Subscriptions:
    """Market data a gateway asks for when it starts: `symbols` from `lp` at `depth`."""

    lp: str
    symbols: tuple[str, ...]
    depth: int


def lp_configs(config: GatewayConfig) -> tuple[list[LPConfig], list[Subscriptions]]:
    """The gateway's LPs and its start-up subscriptions, from the ``trading:`` block."""
    if config.trading is None:
        return [], []
    limits = {s.id: s.limits for s in config.sessions}
    lps: list[LPConfig] = []
    subscriptions: list[Subscriptions] = []
    for lp in config.trading.lps:
        md_limits = limits.get(lp.md_session or "")
        cap = md_limits.max_subscriptions if md_limits is not None else None
        lps.append(_lp_config(lp, 100 if cap is None else cap))
        if lp.subscribe:
            subscriptions.append(Subscriptions(lp.name, lp.subscribe, lp.depth))
    return lps, subscriptions


def _lp_config(lp: LiquidityProviderConfig, max_subscriptions: int) -> LPConfig:
    collar = None
    if lp.collar_percent is not None or lp.collar_absolute is not None:
        collar = Collar(percent=lp.collar_percent, absolute=lp.collar_absolute)
    breaker = lp.breaker
    return LPConfig(
        name=lp.name,
        order_session=lp.order_session,
        md_session=lp.md_session,
        instruments=tuple(
            Instrument(
                symbol=i.symbol,
                tick_size=i.tick_size,
                lot_size=i.lot_size,
                min_qty=i.min_qty,
                max_qty=i.max_qty,
                tradable=i.tradable,
            )
            for i in lp.instruments
        ),
        collar=collar,
        notional_limit=lp.notional_limit,
        breaker=BreakerSettings(
            failure_threshold=breaker.failure_threshold,
            window=breaker.window,
            cool_down=breaker.cool_down,
            probes=breaker.probes,
        ),
        max_subscriptions=max_subscriptions,
        ack_timeout=lp.ack_timeout,
    )


class TrackerObserver(SessionObserver):
    """Feeds a session's events to the live view's `Tracker` (observing, not consuming)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def on_event(self, handle: SessionHandle, event: Event) -> None:
        self.tracker.on_event(handle.id, event)


class TradingDemo:
    """The demo's flows through the gateway: prices, then orders that show each answer.

    A market order and a marketable limit order fill; a resting order is replaced and
    canceled; a cancel of the filled order is refused by the gateway itself (an ended order
    cannot be canceled), so it never reaches the LP.
    """

    def __init__(
        self,
        gateway: Gateway,
        handle: SessionHandle,
        tracker: Tracker,
        symbols: Sequence[str],
        pause: float,
    ) -> None:
        self.gateway = gateway
        self.handle = handle
        self.tracker = tracker
        self.symbols = tuple(symbols)
        self.pause = pause

    async def run(self) -> None:
        """Subscribe, wait for prices, place the orders once, then idle."""
        await self.handle.wait_logged_on()
        await self.gateway.subscribe(self.symbols, depth=1, lps=[DEMO_LP])
        self.tracker.log(DEMO_LP, f"subscribed to {' '.join(self.symbols)} (top of book)")
        if not await self._wait(lambda: all(self._bid(s) for s in self.symbols)):
            self.tracker.log(DEMO_LP, "no prices yet: placing the orders anyway")
        try:
            await self._orders()
        except TradingError as exc:  # the session dropped mid-demo, a check refused...
            self.tracker.log(DEMO_LP, f"demo stopped: {exc}")
        await trio.sleep(math.inf)

    def _bid(self, symbol: str) -> Decimal | None:
        book = self.gateway.book(symbol, DEMO_LP)
        top = book.top() if book is not None else None
        return top.bid.price if top is not None and top.bid is not None else None

    async def _wait(self, done: Callable[[], bool]) -> bool:
        with trio.move_on_after(_ANSWER_TIMEOUT):
            while not done():  # noqa: ASYNC110 - the gateway updates orders and books itself
                await trio.sleep(0.01)
            return True
        return False

    def _state(self, cl_ord_id: str) -> OrderState | None:
        view = self.gateway.order(cl_ord_id)
        return view.state if view is not None else None

    async def _step(
        self, text: str, action: Callable[[], Awaitable[OrderView]], done: Callable[[], bool]
    ) -> None:
        await trio.sleep(self.pause)
        self.tracker.log(DEMO_LP, f"-> {text}")
        await action()
        if not await self._wait(done):
            self.tracker.log(DEMO_LP, f"no answer within {_ANSWER_TIMEOUT:.0f} s")

    async def _orders(self) -> None:
        gw = self.gateway
        eur_bid = self._bid("EURUSD") or Decimal("1.08500")
        gbp_bid = self._bid("GBPUSD") or Decimal("1.26500")
        away = (eur_bid * Decimal("0.99")).quantize(Decimal("0.00001"))
        closer = (eur_bid * Decimal("0.995")).quantize(Decimal("0.00001"))
        marketable = gbp_bid - Decimal("0.00050")

        def order(
            cl: str, side: Side, qty: int, symbol: str, price: Decimal | None = None
        ) -> NewOrderSingle:
            return NewOrderSingle(
                cl_ord_id=cl,
                symbol=symbol,
                side=side,
                order_qty=Decimal(qty),
                ord_type=OrdType.MARKET if price is None else OrdType.LIMIT,
                price=price,
            )

        await self._step(
            "ORD-1: buy 1000000 EURUSD at market",
            lambda: gw.place(order("ORD-1", Side.BUY, 1_000_000, "EURUSD"), lp=DEMO_LP),
            lambda: self._state("ORD-1") == OrderState.FILLED,
        )
        await self._step(
            f"ORD-2: sell 500000 GBPUSD limit {marketable} (marketable)",
            lambda: gw.place(order("ORD-2", Side.SELL, 500_000, "GBPUSD", marketable), lp=DEMO_LP),
            lambda: self._state("ORD-2") == OrderState.FILLED,
        )
        await self._step(
            f"ORD-3: buy 2000000 EURUSD limit {away} (rests)",
            lambda: gw.place(order("ORD-3", Side.BUY, 2_000_000, "EURUSD", away), lp=DEMO_LP),
            lambda: self._state("ORD-3") in _WORKING,
        )
        await self._step(
            f"replace ORD-3 with buy 3000000 at {closer}",
            lambda: gw.replace("ORD-3", order_qty=Decimal(3_000_000), price=closer),
            lambda: self._state("ORD-3") == OrderState.REPLACED,
        )
        await self._step(
            "cancel ORD-3",
            lambda: gw.cancel("ORD-3"),
            lambda: self._state("ORD-3") == OrderState.CANCELED,
        )
        await trio.sleep(self.pause)
        self.tracker.log(DEMO_LP, "-> cancel ORD-1 (already filled)")
        try:
            await gw.cancel("ORD-1")
        except TradingError as exc:
            self.tracker.log(DEMO_LP, f"refused by the gateway before sending: {exc}")

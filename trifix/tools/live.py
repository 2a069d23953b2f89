"""`trifix run`: run the gateway's sessions and show them live (the logic behind the command).

With no configuration, one process runs two engines: an embedded simulated LP (the bundled
`simulator.run_mini_lp`, an acceptor on a free port of 127.0.0.1, keeping nothing between runs)
and the gateway (an initiator session "LP" with its LMDB store). A short demo then subscribes to
EURUSD and GBPUSD and places a market order, a marketable limit order, and a resting order that
it replaces and cancels, so a newcomer sees each flow end to end. With a configuration, the
gateway runs the configured sessions and no demo.

Every event of the gateway's sessions goes to a `Tracker`, which keeps what the view shows
(orders, top of book, recent events) and, without the live view, writes one line per event.
The live view (`render`) is a thin rich renderer of `SessionHandle.statistics()` and the tracker.

Stopping: the first SIGINT or SIGTERM (or the end of ``--duration``) leaves the engine blocks,
which log every session out within its logout timeout and close the store; a second signal
cancels everything at once.
"""

from __future__ import annotations

import math
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import trio
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from trifix.core.errors import ConfigError
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    Event,
    GapDetected,
    HeartbeatSent,
    LoggedOn,
    LogoutReceived,
    LogoutSent,
    PeerTimedOut,
    RejectReceived,
    RejectSent,
)
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import (
    CxlRejResponseTo,
    ExecType,
    MDEntryType,
    MDUpdateType,
    MsgType,
    OrdStatus,
    OrdType,
    Side,
    SubscriptionRequestType,
    Tag,
)
from trifix.runtime import (
    Engine,
    EngineSpec,
    NotLoggedOnError,
    ReconnectPolicy,
    SessionHandle,
    SessionSpec,
    SessionStatistics,
    open_engine,
    system_clock,
)

__all__ = [
    "DEMO_SYMBOLS",
    "ConfigUnavailableError",
    "RateMeter",
    "RunOptions",
    "Tracker",
    "load_config",
    "render",
    "run",
]

DEMO_SYMBOLS = ("EURUSD", "GBPUSD")
REFRESH = 0.25  # seconds between redraws of the live view (4 a second)
RECENT = 10  # event lines the live view keeps
_ANSWER_TIMEOUT = 5.0  # how long the demo waits for each answer before moving on
_DEMO_RECONNECT = ReconnectPolicy(
    initial_delay=timedelta(milliseconds=500), max_delay=timedelta(seconds=5)
)


class ConfigUnavailableError(ConfigError):
    """`trifix run CONFIG` needs `trifix.config`, which this installation lacks."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What `trifix run` was asked to do.

    Attributes:
        spec: the configured engine, or None for the embedded LP and the demo.
        store_dir: the gateway's LMDB directory (overrides the configuration's when set).
        ui: show the live view (else write log lines to `log`).
        duration: stop after this many seconds; None runs until a signal.
    """

    spec: EngineSpec | None = None
    store_dir: Path | None = None
    ui: bool = True
    duration: float | None = None


def load_config(path: Path) -> EngineSpec:
    """The engine described by the configuration file at `path` (`trifix.config`).

    Raises:
        ConfigUnavailableError: `trifix.config` is not installed.
        ConfigError: the file cannot be used (the message names file, line and key).
    """
    try:
        from trifix.config import load_engine_spec  # here: the demo needs no configuration
    except ImportError as exc:
        raise ConfigUnavailableError(
            "reading a configuration file needs trifix.config (load_engine_spec), which this "
            f"installation does not have ({exc}); run `trifix run` with no file for the demo"
        ) from exc
    return load_engine_spec(path)


# -- what the demo tracks -------------------------------------------------------------------------
@dataclass(slots=True)
class OrderRow:
    """One order as the gateway sees it, from its ExecutionReports (wire text, not parsed)."""

    cl_ord_id: str
    symbol: str
    side: str
    qty: str
    price: str
    status: str
    filled: str = "0"
    avg_px: str = ""


@dataclass(slots=True)
class Quote:
    """Top of book of one symbol."""

    bid: str = ""
    offer: str = ""
    updates: int = 0


_SIDES = {Side.BUY.value: "buy", Side.SELL.value: "sell"}


def _word(name: str) -> str:
    return name.replace("_", " ").lower()


@dataclass
class Tracker:
    """Keeps what the view shows from the sessions' events, and logs each as a line.

    Attributes:
        clock: wall time, for the log lines.
        emit: called with each log line (None: only kept in `recent`).
    """

    clock: Callable[[], datetime]
    emit: Callable[[str], None] | None = None
    orders: dict[str, OrderRow] = field(default_factory=dict)  # by OrderID (or ClOrdID)
    book: dict[str, Quote] = field(default_factory=dict)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT))
    last_heartbeat: dict[str, datetime] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)  # ClOrdIDs with an answer (8 or 9)
    logged_on: set[str] = field(default_factory=set)  # sessions, from LoggedOn to Disconnected
    _changed: trio.Event = field(default_factory=trio.Event)

    def log(self, session_id: str, text: str) -> None:
        """Record a line about `session_id`."""
        line = f"{self.clock():%H:%M:%S.%f}"[:-3] + f"  {session_id:<4} {text}"
        self.recent.append(line)
        if self.emit is not None:
            self.emit(line)

    def sent(self, session_id: str, msg: Message, text: str) -> None:
        """The application sent `msg` (logged with `text`)."""
        self.log(session_id, f"-> {_name(msg.msg_type)} {text}")

    async def wait_until(self, done: Callable[[], bool], seconds: float) -> bool:
        """Wait until `done()` holds, re-checked after each event; False after `seconds`."""
        with trio.move_on_after(seconds):
            while not done():
                await self._changed.wait()
            return True
        return False

    def on_event(self, session_id: str, event: Event) -> None:
        """Take one event of `session_id`."""
        now = self.clock()
        if isinstance(event, AppMessageReceived):
            self._on_message(session_id, event.message)
        elif isinstance(event, LoggedOn):
            self.logged_on.add(session_id)
            reset = ", sequence numbers reset" if event.reset else ""
            self.log(session_id, f"logged on (heartbeat {event.heartbeat_interval} s{reset})")
        elif isinstance(event, HeartbeatSent):
            self.last_heartbeat[session_id] = now
        elif isinstance(event, AdminMessageReceived):
            if event.message.msg_type == MsgType.HEARTBEAT:
                self.last_heartbeat[session_id] = now
        elif isinstance(event, LogoutReceived | LogoutSent):
            arrow = "<-" if isinstance(event, LogoutReceived) else "->"
            self.log(session_id, f"{arrow} Logout{': ' + event.text if event.text else ''}")
        elif isinstance(event, Disconnected):
            self.logged_on.discard(session_id)
            self.log(session_id, f"disconnected: {event.reason}")
        elif isinstance(event, RejectReceived | RejectSent):
            arrow = "<-" if isinstance(event, RejectReceived) else "->"
            self.log(session_id, f"{arrow} Reject of seq {event.ref_seq}: {event.text}")
        elif isinstance(event, GapDetected):
            self.log(session_id, f"gap: expected {event.expected}, got {event.received}")
        elif isinstance(event, PeerTimedOut):
            self.log(session_id, "peer timed out")
        self._changed.set()
        self._changed = trio.Event()

    def _on_message(self, session_id: str, msg: Message) -> None:
        kind = msg.msg_type
        if kind == MsgType.EXECUTION_REPORT:
            self.log(session_id, "<- ExecutionReport " + self._execution_report(msg))
        elif kind in (
            MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH,
            MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
        ):
            quote = self._market_data(msg)
            if kind == MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH and quote is not None:
                symbol, q = quote
                if q.updates == 1:  # the first snapshot; the rest are summarised by `run`
                    self.log(session_id, f"<- MarketDataSnapshot {symbol} {q.bid} / {q.offer}")
        elif kind == MsgType.ORDER_CANCEL_REJECT:
            self.answered.add(msg.get_str(Tag.CL_ORD_ID, "?"))
            what = (
                "cancel"
                if msg.get_str(Tag.CXL_REJ_RESPONSE_TO, "") == CxlRejResponseTo.ORDER_CANCEL_REQUEST
                else "replace"
            )
            self.log(
                session_id,
                f"<- OrderCancelReject {msg.get_str(Tag.CL_ORD_ID, '?')}: {what} of "
                f"{msg.get_str(Tag.ORIG_CL_ORD_ID, '?')} refused "
                f"({msg.get_str(Tag.TEXT, 'no reason given')})",
            )
        else:
            text = msg.get_str(Tag.TEXT, "")
            self.log(session_id, f"<- {_name(kind)}{': ' + text if text else ''}")

    def _execution_report(self, msg: Message) -> str:
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID, "?")
        self.answered.add(cl_ord_id)
        order_id = msg.get_str(Tag.ORDER_ID, "NONE")
        key = cl_ord_id if order_id == "NONE" else order_id
        row = self.orders.get(key)
        if row is None:
            row = self.orders[key] = OrderRow(cl_ord_id, "", "", "", "", "")
        row.cl_ord_id = cl_ord_id
        row.symbol = msg.get_str(Tag.SYMBOL, row.symbol)
        row.side = _SIDES.get(msg.get_str(Tag.SIDE, ""), row.side)
        row.qty = msg.get_str(Tag.ORDER_QTY, row.qty)
        row.price = msg.get_str(Tag.PRICE, "market")
        status = msg.get_str(Tag.ORD_STATUS, "")
        row.status = _word(OrdStatus(status).name) if status in _ORD_STATUS else status
        row.filled = msg.get_str(Tag.CUM_QTY, row.filled)
        avg = msg.get_str(Tag.AVG_PX, "")
        row.avg_px = avg if row.filled not in ("0", "") else ""
        exec_type = msg.get_str(Tag.EXEC_TYPE, "")
        if exec_type == ExecType.TRADE:
            last = f"{msg.get_str(Tag.LAST_QTY, '?')} @ {msg.get_str(Tag.LAST_PX, '?')}"
            return f"{cl_ord_id} Fill {last}"
        if exec_type == ExecType.REPLACED:
            return (
                f"{cl_ord_id} Replaced (was {msg.get_str(Tag.ORIG_CL_ORD_ID, '?')}): "
                f"{row.side} {row.qty} {row.symbol} at {row.price}"
            )
        if exec_type == ExecType.REJECTED:
            return f"{cl_ord_id} Rejected: {msg.get_str(Tag.TEXT, 'no reason given')}"
        if exec_type == ExecType.NEW:
            return f"{cl_ord_id} New: {row.side} {row.qty} {row.symbol} at {row.price}"
        name = _word(ExecType(exec_type).name) if exec_type in _EXEC_TYPE else exec_type
        return f"{cl_ord_id} {name.capitalize()}"

    def _market_data(self, msg: Message) -> tuple[str, Quote] | None:
        last: tuple[str, Quote] | None = None
        for entry in msg.group(Tag.NO_MD_ENTRIES):
            symbol = entry.get_str(Tag.SYMBOL, "") or msg.get_str(Tag.SYMBOL, "?")
            quote = self.book.setdefault(symbol, Quote())
            side = entry.get_str(Tag.MD_ENTRY_TYPE, "")
            price = entry.get_str(Tag.MD_ENTRY_PX, "")
            if side == MDEntryType.BID:
                quote.bid = price
            elif side == MDEntryType.OFFER:
                quote.offer = price
            if last is None or last[0] != symbol:
                quote.updates += 1
            last = (symbol, quote)
        return last


_ORD_STATUS = frozenset(s.value for s in OrdStatus)
_EXEC_TYPE = frozenset(s.value for s in ExecType)


def _name(msg_type: str) -> str:
    try:
        return "".join(w.capitalize() for w in MsgType(msg_type).name.split("_"))
    except ValueError:
        return f"MsgType {msg_type}"


# -- the live view ---------------------------------------------------------------------------------
@dataclass
class RateMeter:
    """Messages per second in and out per session, from successive statistics snapshots.

    Rates are recomputed once at least `window` seconds have passed since the last sample, so a
    view redrawn 4 times a second shows steady numbers.
    """

    window: float = 1.0
    _last: dict[str, tuple[float, int, int]] = field(default_factory=dict)
    rates: dict[str, tuple[float, float]] = field(default_factory=dict)

    def sample(self, stats: Sequence[SessionStatistics], at: float) -> None:
        """Take a snapshot taken at monotonic time `at` (seconds)."""
        for s in stats:
            prev = self._last.get(s.id)
            if prev is None:
                self._last[s.id] = (at, s.messages_in, s.messages_out)
                continue
            then, was_in, was_out = prev
            if at - then >= self.window:
                dt = at - then
                self.rates[s.id] = ((s.messages_in - was_in) / dt, (s.messages_out - was_out) / dt)
                self._last[s.id] = (at, s.messages_in, s.messages_out)


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    return f"{max((now - when).total_seconds(), 0.0):.1f}s ago"


def render(
    sessions: Sequence[SessionStatistics],
    tracker: Tracker,
    rates: RateMeter,
    *,
    now: datetime,
    title: str = "trifix run",
    labels: Mapping[str, str] | None = None,
) -> RenderableType:
    """The live view: sessions, top of book, orders and recent events.

    Args:
        sessions: the sessions' statistics, one row each.
        tracker: orders, top of book, heartbeats and recent events.
        rates: messages per second, sampled by the caller.
        now: wall time, for the "... ago" columns.
        title: the title of the sessions' table.
        labels: names to show instead of session ids.
    """
    table = Table(title=title, title_justify="left", expand=False)
    for name in ("session", "state", "logged on", "next out", "next in", "msg/s in"):
        table.add_column(name, justify="right" if name.startswith(("next", "msg")) else "left")
    for name in ("msg/s out", "last heartbeat", "last received", "reconnects", "last error"):
        table.add_column(name, justify="right" if name.startswith("msg") else "left")
    for s in sessions:
        rate_in, rate_out = rates.rates.get(s.id, (0.0, 0.0))
        table.add_row(
            (labels or {}).get(s.id, s.id),
            s.state.value,
            Text("yes", style="green") if s.logged_on else Text("no", style="red"),
            str(s.next_sender_seq),
            str(s.next_target_seq),
            f"{rate_in:.1f}",
            f"{rate_out:.1f}",
            _ago(tracker.last_heartbeat.get(s.id), now),
            _ago(s.last_received, now),
            str(s.reconnect_attempts),
            Text(s.last_error or "", style="yellow"),
        )
    parts: list[RenderableType] = [table]
    if tracker.book:
        book = Table(title="top of book", title_justify="left")
        for name in ("symbol", "bid", "offer", "updates"):
            book.add_column(name, justify="left" if name == "symbol" else "right")
        for symbol, q in sorted(tracker.book.items()):
            book.add_row(symbol, q.bid, q.offer, str(q.updates))
        parts.append(book)
    if tracker.orders:
        orders = Table(title="orders", title_justify="left")
        for name in ("ClOrdID", "symbol", "side", "qty", "price", "status", "filled", "avg px"):
            orders.add_column(name)
        for o in list(tracker.orders.values())[-8:]:
            orders.add_row(
                o.cl_ord_id, o.symbol, o.side, o.qty, o.price, o.status, o.filled, o.avg_px
            )
        parts.append(orders)
    if tracker.recent:
        parts.append(Text("\n".join(tracker.recent), style="dim"))
    return Group(*parts)


# -- running ---------------------------------------------------------------------------------------
def _demo_specs(store_dir: Path) -> tuple[EngineSpec, Callable[[int], EngineSpec]]:
    """The embedded LP's engine, and the gateway's for the LP's port."""
    lp = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))], listen_port=0)

    def gateway(port: int) -> EngineSpec:
        # The embedded LP keeps no state between runs, so each run is a new FIX session: the
        # gateway logs on with ResetSeqNumFlag (141=Y), as FX LPs commonly expect daily.
        settings = SessionSettings(
            "GW", "LP", Role.INITIATOR, heartbeat_interval=10, reset_on_logon=True
        )
        session = SessionSpec(
            "LP", settings, hosts=[("127.0.0.1", port)], reconnect=_DEMO_RECONNECT
        )
        return EngineSpec([session], store_path=store_dir)

    return lp, gateway


class _Demo:
    """The demo flows on the gateway's session "LP": market data, then a few orders."""

    def __init__(self, handle: SessionHandle, tracker: Tracker, pause: float) -> None:
        self.handle = handle
        self.tracker = tracker
        self.pause = pause
        self.orders_done = False

    async def run(self) -> None:
        sid = self.handle.id
        logged_on = self.tracker.logged_on
        while True:
            # Wait for the tracker too, so the log tells the logon before what the demo sends.
            await self.handle.wait_logged_on()
            await self.tracker.wait_until(lambda: sid in logged_on, math.inf)
            try:
                await self._subscribe()
                if not self.orders_done:
                    await self._orders()
                    self.orders_done = True
            except NotLoggedOnError:
                pass  # the session dropped: start over once it is back
            await self.handle.wait_disconnected()
            await self.tracker.wait_until(lambda: sid not in logged_on, math.inf)

    async def _send(self, msg: Message, text: str) -> None:
        await self.handle.send(msg)
        self.tracker.sent(self.handle.id, msg, text)

    async def _subscribe(self) -> None:
        msg = Message.new(
            MsgType.MARKET_DATA_REQUEST,
            (Tag.MD_REQ_ID, "MD-1"),
            (Tag.SUBSCRIPTION_REQUEST_TYPE, SubscriptionRequestType.SNAPSHOT_AND_UPDATES),
            (Tag.MARKET_DEPTH, 1),
            (Tag.MD_UPDATE_TYPE, MDUpdateType.INCREMENTAL_REFRESH),
        )
        msg.add_group(
            Tag.NO_MD_ENTRY_TYPES,
            [[(Tag.MD_ENTRY_TYPE, t)] for t in (MDEntryType.BID, MDEntryType.OFFER)],
        )
        msg.add_group(Tag.NO_RELATED_SYM, [[(Tag.SYMBOL, s)] for s in DEMO_SYMBOLS])
        await self._send(msg, f"MD-1: {' '.join(DEMO_SYMBOLS)}, top of book, streaming")
        book = self.tracker.book
        await self.tracker.wait_until(
            lambda: all(book.get(s, Quote()).bid for s in DEMO_SYMBOLS), _ANSWER_TIMEOUT
        )

    async def _step(self, msg: Message, text: str, done: Callable[[], bool]) -> None:
        await trio.sleep(self.pause)
        await self._send(msg, text)
        if not await self.tracker.wait_until(done, _ANSWER_TIMEOUT):
            self.tracker.log(self.handle.id, f"no answer within {_ANSWER_TIMEOUT:.0f} s")

    def _status(self, cl_ord_id: str) -> str:
        """The status of the order whose latest ClOrdID is `cl_ord_id`, once answered."""
        if cl_ord_id in self.tracker.answered:
            for row in self.tracker.orders.values():
                if row.cl_ord_id == cl_ord_id:
                    return row.status
        return ""

    async def _orders(self) -> None:
        book = self.tracker.book
        gbp_bid = Decimal(book.get("GBPUSD", Quote()).bid or "1.26500")
        eur_bid = Decimal(book.get("EURUSD", Quote()).bid or "1.08500")
        away = (eur_bid * Decimal("0.99")).quantize(Decimal("0.00001"))
        closer = (eur_bid * Decimal("0.995")).quantize(Decimal("0.00001"))
        marketable = gbp_bid - Decimal("0.00050")
        filled = {"filled"}
        now = self.handle.clock()  # TransactTime of every demo order: when the demo started
        await self._step(
            _order(now, "ORD-1", Side.BUY, 1_000_000, "EURUSD"),
            "ORD-1: buy 1000000 EURUSD at market",
            lambda: self._status("ORD-1") in filled,
        )
        await self._step(
            _order(now, "ORD-2", Side.SELL, 500_000, "GBPUSD", marketable),
            f"ORD-2: sell 500000 GBPUSD limit {marketable} (marketable)",
            lambda: self._status("ORD-2") in filled,
        )
        await self._step(
            _order(now, "ORD-3", Side.BUY, 2_000_000, "EURUSD", away),
            f"ORD-3: buy 2000000 EURUSD limit {away} (rests)",
            lambda: self._status("ORD-3") == "new",
        )
        await self._step(
            _amend(
                now,
                MsgType.ORDER_CANCEL_REPLACE_REQUEST,
                "ORD-3a",
                "ORD-3",
                "EURUSD",
                3_000_000,
                closer,
            ),
            f"ORD-3a: replace ORD-3 with buy 3000000 at {closer}",
            lambda: self._status("ORD-3a") == "new",
        )
        await self._step(
            _amend(now, MsgType.ORDER_CANCEL_REQUEST, "ORD-3b", "ORD-3a", "EURUSD"),
            "ORD-3b: cancel ORD-3a",
            lambda: self._status("ORD-3b") == "canceled",
        )
        await self._step(
            _amend(now, MsgType.ORDER_CANCEL_REQUEST, "ORD-1x", "ORD-1", "EURUSD"),
            "ORD-1x: cancel ORD-1 (already filled: expect a reject)",
            lambda: "ORD-1x" in self.tracker.answered,
        )


def _order(
    now: datetime, cl_ord_id: str, side: Side, qty: int, symbol: str, price: Decimal | None = None
) -> Message:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, now),
        (Tag.ORDER_QTY, qty),
        (Tag.ORD_TYPE, OrdType.MARKET if price is None else OrdType.LIMIT),
    )
    return msg if price is None else msg.set(Tag.PRICE, price)


def _amend(
    now: datetime,
    kind: MsgType,
    cl_ord_id: str,
    orig: str,
    symbol: str,
    qty: int = 0,
    price: Decimal | None = None,
) -> Message:
    msg = Message.new(
        kind,
        (Tag.ORIG_CL_ORD_ID, orig),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, symbol),
        (Tag.SIDE, Side.BUY),
        (Tag.TRANSACT_TIME, now),
    )
    if kind == MsgType.ORDER_CANCEL_REPLACE_REQUEST:
        msg.set(Tag.ORDER_QTY, qty).set(Tag.ORD_TYPE, OrdType.LIMIT).set(Tag.PRICE, price)
    return msg


class _Runner:
    """One `trifix run`: the engines, the event drains, the output and the stop logic."""

    def __init__(self, options: RunOptions, console: Console, log: Callable[[str], None]) -> None:
        self.options = options
        self.console = console
        self.log = log
        self.ui = options.ui and console.is_terminal
        self.tracker = Tracker(system_clock, emit=None if self.ui else log)
        self.stopping = trio.Event()
        self.forced_by: int | None = None
        self._drain_scopes: list[trio.CancelScope] = []

    async def main(self) -> int:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as top:
                top.start_soon(self.watch_signals, signals, top.cancel_scope)
                if self.options.duration is not None:
                    top.start_soon(self._stop_after, self.options.duration)
                # The drains outlive the engine blocks, so the shutdown's Logout is reported.
                async with trio.open_nursery() as drains:
                    if self.options.spec is None:
                        await self._serve_demo(drains)
                    else:
                        await self._serve_config(self.options.spec, drains)
                    for scope in self._drain_scopes:
                        scope.cancel()
                top.cancel_scope.cancel()
        return 128 + self.forced_by if self.forced_by is not None else 0

    def request_stop(self, why: str) -> None:
        if not self.stopping.is_set():
            self.tracker.log("run", why)
            self.stopping.set()

    async def watch_signals(
        self, signals: AsyncIterator[int], everything: trio.CancelScope
    ) -> None:
        """First signal: a graceful stop. Second: cancel `everything` at once."""
        async for signum in signals:
            name = signal.Signals(signum).name
            if not self.stopping.is_set():
                self.request_stop(f"{name}: logging out (send it again to stop at once)")
            else:
                self.tracker.log("run", f"{name} again: stopping at once")
                self.forced_by = signum
                everything.cancel()
                return

    async def _stop_after(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self.request_stop(f"{seconds:g} s elapsed: logging out")

    async def _drain(self, handle: SessionHandle, scope: trio.CancelScope) -> None:
        events = handle.events()
        with scope:
            async for event in events:
                self.tracker.on_event(handle.id, event)
        while True:  # what is left once the engine has stopped
            try:
                event = events.receive_nowait()
            except trio.WouldBlock:
                return
            self.tracker.on_event(handle.id, event)

    async def _show(
        self, sessions: Sequence[SessionHandle], title: str, labels: Mapping[str, str]
    ) -> None:
        """Until cancelled: redraw the live view, or log a market data summary each second."""
        tracker = self.tracker
        if self.ui:
            rates = RateMeter()
            with Live(console=self.console, auto_refresh=False) as live:
                while True:
                    stats = [h.statistics() for h in sessions]
                    rates.sample(stats, trio.current_time())
                    now = tracker.clock()
                    live.update(
                        render(stats, tracker, rates, now=now, title=title, labels=labels),
                        refresh=True,
                    )
                    await trio.sleep(REFRESH)
        seen = 0
        errors: dict[str, str | None] = {}
        while True:
            await trio.sleep(1.0)
            for handle in sessions:  # connection failures are not events: watch the statistics
                error = handle.statistics().last_error
                if error != errors.get(handle.id) and error is not None:
                    attempts = handle.statistics().reconnect_attempts
                    tracker.log(handle.id, f"{error} (reconnect attempts: {attempts})")
                errors[handle.id] = error
            updates = sum(q.updates for q in tracker.book.values())
            if updates > seen:
                quotes = ", ".join(
                    f"{s} {q.bid} / {q.offer}" for s, q in sorted(tracker.book.items())
                )
                tracker.log("run", f"market data: {quotes} ({updates - seen} updates)")
                seen = updates

    async def _serve(
        self,
        engine: Engine,
        drains: trio.Nursery,
        title: str,
        *,
        also_shown: Sequence[SessionHandle] = (),
        labels: Mapping[str, str] | None = None,
        demo: bool = False,
    ) -> None:
        """Run `engine`'s sessions (and the demo) until a stop is requested."""
        handles = list(engine.sessions.values())
        for handle in handles:
            scope = trio.CancelScope()
            self._drain_scopes.append(scope)
            drains.start_soon(self._drain, handle, scope)
        async with trio.open_nursery() as work:
            if demo:
                work.start_soon(_Demo(engine.session("LP"), self.tracker, pause=0.2).run)
            work.start_soon(self._show, [*handles, *also_shown], title, labels or {})
            await self.stopping.wait()
            work.cancel_scope.cancel()
        self.tracker.emit = self.log  # the live view is gone: report the shutdown as lines

    def _summary(self, engine: Engine) -> None:
        for handle in engine.sessions.values():
            s = handle.statistics()
            self.tracker.log(
                handle.id,
                f"stopped: {s.messages_out} messages sent, {s.messages_in} received "
                f"received; next sequence numbers out {s.next_sender_seq}, in {s.next_target_seq}",
            )

    async def _serve_demo(self, drains: trio.Nursery) -> None:
        # The bundled LP simulator, a client of trifix's public API: imported only for the demo.
        from simulator import run_mini_lp

        store_dir = self.options.store_dir or Path("fixstore")
        lp_spec, gateway_spec = _demo_specs(store_dir)
        async with open_engine(lp_spec) as lp, trio.open_nursery() as simulator:
            simulator.start_soon(run_mini_lp, lp, "GW")
            where = f"127.0.0.1:{lp.listen_port}"
            self.tracker.log("run", f"embedded LP listening on {where}; gateway store: {store_dir}")
            title = f"trifix run: gateway session LP <-> embedded LP on {where} (Ctrl-C stops)"
            async with open_engine(gateway_spec(lp.listen_port or 0)) as gw:
                labels = {"GW": "GW (embedded LP)"}
                await self._serve(
                    gw, drains, title, also_shown=[lp.session("GW")], labels=labels, demo=True
                )
            self._summary(gw)
            simulator.cancel_scope.cancel()

    async def _serve_config(self, spec: EngineSpec, drains: trio.Nursery) -> None:
        if self.options.store_dir is not None:
            spec = replace(spec, store_path=self.options.store_dir)
        async with open_engine(spec) as engine:
            names = ", ".join(engine.sessions)
            port = engine.listen_port
            where = f"; listening on {spec.listen_host}:{port}" if port else ""
            self.tracker.log(
                "run", f"sessions {names}{where}; store: {spec.store_path or 'in memory'}"
            )
            await self._serve(engine, drains, f"trifix run: {names} (Ctrl-C stops)")
        self._summary(engine)


def run(options: RunOptions, *, console: Console, log: Callable[[str], None]) -> int:
    """Run until stopped (a signal or `options.duration`); returns the exit code.

    0 is a clean stop; 128 + N when a second signal N forced it. The live view draws on
    `console` (when it is a terminal); log lines go to `log`.

    Raises:
        StoreError: the store cannot be opened (for example another process holds a session).
    """
    try:
        return trio.run(_Runner(options, console, log).main)
    except BaseExceptionGroup as group:
        # Nurseries wrap errors in groups (in groups); one error alone is raised as itself.
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        if isinstance(error, Exception) and not isinstance(error, BaseExceptionGroup):
            raise error from None
        raise

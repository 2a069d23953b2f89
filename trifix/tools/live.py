"""The live view of `trifix run`: what it shows and how it draws it.

Every event of the gateway's sessions goes to a `Tracker`, which keeps what the view shows
(orders, top of book, recent events) and, without the live view, writes one line per event.
The live view (`render`) is a thin rich renderer of `SessionHandle.statistics()` and the tracker;
`RateMeter` turns successive statistics into messages per second. Running the engines (and the
demo) is `trifix.tools.run`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import trio
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

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
from trifix.core.tags import (
    CxlRejResponseTo,
    ExecType,
    MDEntryType,
    MsgType,
    OrdStatus,
    Side,
    Tag,
)
from trifix.runtime import SessionStatistics

__all__ = [
    "RateMeter",
    "Tracker",
    "render",
]

REFRESH = 0.25  # seconds between redraws of the live view (4 a second)
RECENT = 10  # event lines the live view keeps


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

"""Market data for one LP session: subscriptions, snapshots and incremental refreshes.

* A MarketDataRequest (V) subscribes (263=1) or asks for a snapshot only (263=0); 263=2 ends a
  subscription. The answer is a MarketDataSnapshotFullRefresh (W) per symbol with MarketDepth
  (264) levels a side (0: every level the book has), each entry with its MDEntryPositionNo (290).
* On every step of the market a subscription gets one MarketDataIncrementalRefresh (X): for each
  symbol that moved, a Change (279=1) of every level it shows, by position; then a New (279=0)
  trade entry (269=2) for each trade that printed, when trades were asked for. A subscription
  asking for full refreshes (265=0) gets a new W per symbol instead.
* Unknown symbols, a duplicate MDReqID or no supported entry type are rejected with a
  MarketDataRequestReject (Y, MDReqRejReason 281).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.market import Market, Trade
from simulator.reports import Rejected
from trifix.core.message import Message
from trifix.core.tags import (
    MDEntryType,
    MDReqRejReason,
    MDUpdateAction,
    MDUpdateType,
    MsgType,
    Tag,
)

__all__ = ["MarketDataFeed", "Subscription"]

_QUOTED = (MDEntryType.BID, MDEntryType.OFFER)


@dataclass(frozen=True, slots=True)
class Subscription:
    """One MDReqID's subscription."""

    req_id: str
    symbols: tuple[str, ...]
    sides: tuple[MDEntryType, ...]
    trades: bool
    depth: int
    """Levels a side shown (0: all)."""
    full_refresh: bool


class MarketDataFeed:
    """A session's subscriptions and the messages that serve them."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.subscriptions: dict[str, Subscription] = {}

    def parse(self, msg: Message) -> Subscription:
        """The subscription a MarketDataRequest asks for. Raises `Rejected` (MDReqRejReason)."""
        req_id = msg.get_str(Tag.MD_REQ_ID)
        if req_id in self.subscriptions:
            raise Rejected(MDReqRejReason.DUPLICATE_MD_REQ_ID, f"MDReqID {req_id!r} is in use")
        symbols = tuple(g.get_str(Tag.SYMBOL, "") for g in msg.group(Tag.NO_RELATED_SYM))
        unknown = [s for s in symbols if self.market.instrument(s) is None]
        if unknown or not symbols:
            raise Rejected(
                MDReqRejReason.UNKNOWN_SYMBOL, f"unknown symbol: {', '.join(unknown) or 'none'}"
            )
        wanted = {g.get_str(Tag.MD_ENTRY_TYPE) for g in msg.group(Tag.NO_MD_ENTRY_TYPES)}
        sides = tuple(t for t in _QUOTED if t.value in wanted)
        trades = MDEntryType.TRADE.value in wanted
        if not sides and not trades:
            raise Rejected(
                MDReqRejReason.UNSUPPORTED_MD_ENTRY_TYPE,
                "only bid (0), offer (1) and trade (2) entries are published",
            )
        depth = msg.get_int(Tag.MARKET_DEPTH, 0)
        if depth < 0:
            raise Rejected(MDReqRejReason.UNSUPPORTED_MARKET_DEPTH, "MarketDepth must be >= 0")
        update_type = msg.get_enum(
            Tag.MD_UPDATE_TYPE, MDUpdateType, MDUpdateType.INCREMENTAL_REFRESH
        )
        full = update_type is MDUpdateType.FULL_REFRESH
        return Subscription(req_id, symbols, sides, trades, depth, full)

    def snapshot(self, sub: Subscription, symbol: str) -> Message:
        """A MarketDataSnapshotFullRefresh (W) of `symbol` for `sub`."""
        entries: list[list[tuple[int, Any]]] = []
        for entry_type, position, level in self._levels(sub, symbol):
            entries.append(
                [
                    (Tag.MD_ENTRY_TYPE, entry_type),
                    (Tag.MD_ENTRY_PX, level[0]),
                    (Tag.MD_ENTRY_SIZE, level[1]),
                    (Tag.MD_ENTRY_POSITION_NO, position),
                ]
            )
        msg = Message.new(
            MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH,
            (Tag.MD_REQ_ID, sub.req_id),
            (Tag.SYMBOL, symbol),
        )
        return msg.add_group(Tag.NO_MD_ENTRIES, entries)

    def updates(
        self, sub: Subscription, symbols: Iterable[str], trades: Sequence[Trade]
    ) -> list[Message]:
        """What `sub` gets after a step that moved `symbols` and printed `trades`."""
        moved = [s for s in sub.symbols if s in set(symbols)]
        if sub.full_refresh:
            return [self.snapshot(sub, symbol) for symbol in moved]
        entries: list[list[tuple[int, Any]]] = []
        for symbol in moved:
            for entry_type, position, level in self._levels(sub, symbol):
                entries.append(
                    [
                        (Tag.MD_UPDATE_ACTION, MDUpdateAction.CHANGE),
                        (Tag.MD_ENTRY_TYPE, entry_type),
                        (Tag.SYMBOL, symbol),
                        (Tag.MD_ENTRY_PX, level[0]),
                        (Tag.MD_ENTRY_SIZE, level[1]),
                        (Tag.MD_ENTRY_POSITION_NO, position),
                    ]
                )
        if sub.trades:
            entries.extend(
                [
                    (Tag.MD_UPDATE_ACTION, MDUpdateAction.NEW),
                    (Tag.MD_ENTRY_TYPE, MDEntryType.TRADE),
                    (Tag.SYMBOL, trade.symbol),
                    (Tag.MD_ENTRY_PX, trade.price),
                    (Tag.MD_ENTRY_SIZE, trade.size),
                ]
                for trade in trades
                if trade.symbol in moved
            )
        if not entries:
            return []
        msg = Message.new(MsgType.MARKET_DATA_INCREMENTAL_REFRESH, (Tag.MD_REQ_ID, sub.req_id))
        return [msg.add_group(Tag.NO_MD_ENTRIES, entries)]

    def _levels(self, sub: Subscription, symbol: str) -> Iterable[tuple[MDEntryType, int, Any]]:
        book = self.market.book(symbol)
        for entry_type in sub.sides:
            levels = book.bids if entry_type is MDEntryType.BID else book.offers
            shown = levels if sub.depth == 0 else levels[: sub.depth]
            for position, level in enumerate(shown, start=1):
                yield entry_type, position, (level.price, level.size)

    def reject(self, req_id: str, why: Rejected | None, text: str) -> Message:
        """A MarketDataRequestReject (Y)."""
        fields: list[tuple[int, Any]] = [(Tag.MD_REQ_ID, req_id)]
        if why is not None:
            fields.append((Tag.MD_REQ_REJ_REASON, why.reason))
        fields.append((Tag.TEXT, text))
        return Message.new(MsgType.MARKET_DATA_REQUEST_REJECT, *fields)

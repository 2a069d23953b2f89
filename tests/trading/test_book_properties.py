"""Property: a random sequence of valid incrementals gives the book a snapshot taken afterwards
gives, for every book style, through the wire (encode, frame, read) both ways."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trading.mdfixtures import (
    BID,
    CHANGE,
    DELETE,
    NEW,
    OFFER,
    incremental_message,
    over_the_wire,
    snapshot_message,
)
from trifix.core.tags import MDEntryType
from trifix.trading.book import BookEntry, BookStyle, BookUpdate, OrderBook
from trifix.trading.mdwire import read_incremental, read_snapshot

# Bids live in 1..50 and offers in 51..100 (in ticks), so a valid sequence never crosses.
RANGES = {BID: (1, 50), OFFER: (51, 100)}
TICK = Decimal("0.0001")
SIDES = st.sampled_from([BID, OFFER])
SIZES = st.integers(1, 5_000_000)


def px(ticks: int) -> Decimal:
    return Decimal(1) + ticks * TICK


def by_rank(side: MDEntryType, levels: dict[int, int]) -> list[int]:
    """Prices best first."""
    return sorted(levels, reverse=side is BID)


def expected_depth(model: dict[MDEntryType, dict[int, int]]) -> tuple[list[str], list[str]]:
    return tuple(  # type: ignore[return-value]
        [f"{px(p)}x{model[side][p]}" for p in by_rank(side, model[side])] for side in (BID, OFFER)
    )


def depth_of(book: OrderBook) -> tuple[list[str], list[str]]:
    depth = book.depth()
    return [f"{lv.price}x{lv.size}" for lv in depth.bids], [
        f"{lv.price}x{lv.size}" for lv in depth.offers
    ]


def feed(book: OrderBook, updates: list[BookUpdate], batches: list[int]) -> None:
    """Send `updates` as X messages of the given sizes, over the wire, into `book`."""
    i = 0
    for size in batches:
        chunk = updates[i : i + size]
        i += size
        if not chunk:
            break
        msg = over_the_wire(incremental_message([("EURUSD", u) for u in chunk]))
        req_id, by_symbol = read_incremental(msg)
        assert req_id == "R1"
        assert list(by_symbol) == ["EURUSD"]
        assert book.apply_updates(by_symbol["EURUSD"]) is None, book.stale


def rebuilt(style: BookStyle, entries: list[BookEntry]) -> OrderBook:
    _req, symbol, parsed = read_snapshot(over_the_wire(snapshot_message("EURUSD", entries)))
    assert symbol == "EURUSD"
    book = OrderBook("EURUSD", style=style)
    assert book.apply_snapshot(parsed) is None
    return book


def level_entries(model: dict[MDEntryType, dict[int, int]], positions: bool) -> list[BookEntry]:
    return [
        BookEntry(side, px(p), Decimal(model[side][p]), None, rank + 1 if positions else None)
        for side in (BID, OFFER)
        for rank, p in enumerate(by_rank(side, model[side]))
    ]


def random_levels(data: st.DataObject) -> dict[MDEntryType, dict[int, int]]:
    return {
        side: data.draw(st.dictionaries(st.integers(*RANGES[side]), SIZES, max_size=10))
        for side in (BID, OFFER)
    }


@settings(max_examples=60, deadline=None)
@given(data=st.data(), positions=st.booleans())
def test_level_books_match_a_later_snapshot(data: st.DataObject, positions: bool) -> None:
    style = BookStyle.BY_POSITION if positions else BookStyle.BY_PRICE
    model = random_levels(data)
    book = OrderBook("EURUSD", style=style)
    assert book.apply_snapshot(level_entries(model, positions)) is None
    updates: list[BookUpdate] = []
    for _ in range(data.draw(st.integers(0, 40))):
        side = data.draw(SIDES)
        levels = model[side]
        ranks = by_rank(side, levels)
        low, high = RANGES[side]
        free = [p for p in range(low, high + 1) if p not in levels]
        kinds = (["new"] if free else []) + (["change", "delete"] if levels else [])
        kind = data.draw(st.sampled_from(kinds))
        if kind == "new":
            price = data.draw(st.sampled_from(free))
            size = data.draw(SIZES)
            levels[price] = size
            rank = by_rank(side, levels).index(price) + 1
            updates.append(BookUpdate(NEW, side, px(price), Decimal(size), None, rank))
            continue
        rank = data.draw(st.integers(1, len(ranks)))
        price = ranks[rank - 1]
        if kind == "change":
            size = data.draw(SIZES)
            levels[price] = size
            updates.append(BookUpdate(CHANGE, side, px(price), Decimal(size), None, rank))
        else:
            del levels[price]
            where = (None, rank) if positions else (px(price), None)
            updates.append(BookUpdate(DELETE, side, where[0], None, None, where[1]))
    feed(book, updates, data.draw(st.lists(st.integers(1, 6), min_size=len(updates))))
    assert depth_of(book) == expected_depth(model)
    assert depth_of(rebuilt(style, level_entries(model, positions))) == depth_of(book)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_entry_id_books_match_a_later_snapshot(data: st.DataObject) -> None:
    entries: dict[str, tuple[MDEntryType, int, int]] = {}
    next_id = 0

    def fresh() -> str:
        nonlocal next_id
        next_id += 1
        return f"E{next_id}"

    def snapshot() -> list[BookEntry]:
        return [BookEntry(s, px(p), Decimal(q), eid) for eid, (s, p, q) in entries.items()]

    for _ in range(data.draw(st.integers(0, 8))):
        side = data.draw(SIDES)
        entries[fresh()] = (side, data.draw(st.integers(*RANGES[side])), data.draw(SIZES))
    book = OrderBook("EURUSD", style=BookStyle.BY_ENTRY_ID)
    assert book.apply_snapshot(snapshot()) is None
    updates: list[BookUpdate] = []
    for _ in range(data.draw(st.integers(0, 40))):
        kind = data.draw(st.sampled_from(["new", "change", "delete"] if entries else ["new"]))
        if kind == "new":
            side = data.draw(SIDES)
            eid, price, size = fresh(), data.draw(st.integers(*RANGES[side])), data.draw(SIZES)
            entries[eid] = (side, price, size)
            updates.append(BookUpdate(NEW, side, px(price), Decimal(size), eid))
            continue
        eid = data.draw(st.sampled_from(sorted(entries)))
        side, price, size = entries.pop(eid)
        if kind == "delete":
            updates.append(BookUpdate(DELETE, side, None, None, eid))
            continue
        new_price = data.draw(st.none() | st.integers(*RANGES[side]))
        new_size = data.draw(st.none() | SIZES)
        renamed = data.draw(st.booleans())
        new_id = fresh() if renamed else eid
        entries[new_id] = (side, price if new_price is None else new_price, new_size or size)
        updates.append(
            BookUpdate(
                CHANGE,
                side,
                None if new_price is None else px(new_price),
                None if new_size is None else Decimal(new_size),
                new_id,
                None,
                eid if renamed else None,
            )
        )
    feed(book, updates, data.draw(st.lists(st.integers(1, 6), min_size=len(updates))))
    model: dict[MDEntryType, dict[int, int]] = {BID: {}, OFFER: {}}
    for side, price, size in entries.values():
        model[side][price] = model[side].get(price, 0) + size
    assert depth_of(book) == expected_depth(model)
    again = rebuilt(BookStyle.BY_ENTRY_ID, snapshot())
    assert depth_of(again) == depth_of(book)
    # The rebuilt book knows the same entries: deleting them all empties both books alike.
    deletes = [BookUpdate(DELETE, s, None, None, eid) for eid, (s, _p, _q) in entries.items()]
    assert book.apply_updates(deletes) is None
    assert again.apply_updates(deletes) is None
    assert depth_of(book) == depth_of(again) == ([], [])

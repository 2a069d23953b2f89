"""OrderBook: every update kind of every style, and every inconsistency."""

from __future__ import annotations

import pytest

from tests.trading.mdfixtures import BID, CHANGE, DELETE, NEW, OFFER, TRADE, d, entry, update
from trifix.core.tags import MDEntryType
from trifix.trading.book import (
    BookStyle,
    Depth,
    InconsistencyKind,
    Level,
    OrderBook,
    TopOfBook,
)

K = InconsistencyKind


def ladder(style: BookStyle = BookStyle.BY_PRICE, ids: bool = False) -> OrderBook:
    """Bids 99, 98, 97 and offers 101, 102, 103, size 10 each (ids b99.. / o101..)."""
    book = OrderBook("EURUSD", lp="LP1", style=style)
    entries = [
        entry(BID, str(p), 10, f"b{p}" if ids else None, i + 1) for i, p in enumerate((99, 98, 97))
    ] + [
        entry(OFFER, str(p), 10, f"o{p}" if ids else None, i + 1)
        for i, p in enumerate((101, 102, 103))
    ]
    assert book.apply_snapshot(entries) is None
    return book


def prices(book: OrderBook) -> tuple[list[str], list[str]]:
    depth = book.depth()
    return [f"{lv.price}x{lv.size}" for lv in depth.bids], [
        f"{lv.price}x{lv.size}" for lv in depth.offers
    ]


# -- reading --------------------------------------------------------------------------
def test_new_book_is_empty_and_ignores_updates_until_a_snapshot() -> None:
    book = OrderBook("EURUSD")
    assert not book.has_snapshot
    assert not book.usable
    assert book.apply_update(update(NEW, BID, "1", 1)) is None
    assert book.top() == TopOfBook(None, None)
    assert book.depth() == Depth((), ())
    assert "empty" in repr(book)


def test_snapshot_gives_top_depth_and_last_values() -> None:
    book = OrderBook("EURUSD", lp="LP1")
    snap = [
        entry(OFFER, "101", 5),
        entry(BID, "99", 10),
        entry(BID, "98", 20),
        entry(OFFER, "102", 7),
        entry(BID, "99", 1),  # a second entry at one price is summed into the level
        entry(BID, "97", 0),  # an empty level is not a level
        entry(TRADE, "100", 3),
        entry(MDEntryType.OPENING_PRICE, "95", None),
        entry(MDEntryType.CLOSING_PRICE, "96", None),
        entry(MDEntryType.SETTLEMENT_PRICE, None, None),  # no price: nothing to keep
    ]
    assert book.apply_snapshot(snap) is None
    assert book.usable
    assert book.snapshots == 1
    assert book.top() == TopOfBook(Level(d(99), d(11)), Level(d(101), d(5)))
    assert book.depth(1) == Depth((Level(d(99), d(11)),), (Level(d(101), d(5)),))
    assert prices(book) == (["99x11", "98x20"], ["101x5", "102x7"])
    assert book.depth(5) == book.depth()
    assert book.depth(0) == Depth((), ())
    assert book.last_trade == Level(d(100), d(3))
    assert book.opening_price == Level(d(95), d(0))
    assert book.closing_price == Level(d(96), d(0))
    assert book.value(MDEntryType.SETTLEMENT_PRICE) is None
    assert "LP1:EURUSD live" in repr(book)


def test_depth_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError, match="depth must be >= 0"):
        ladder().depth(-1)


def test_a_new_snapshot_replaces_the_book_and_clears_stale() -> None:
    book = ladder()
    book.apply_update(update(DELETE, BID, "50"))
    assert book.stale is not None
    assert not book.usable
    assert "stale" in repr(book)
    assert book.apply_snapshot([entry(BID, "1", 1), entry(OFFER, "2", 1)]) is None
    assert book.stale is None
    assert book.snapshots == 2
    assert prices(book) == (["1x1"], ["2x1"])


# -- by price --------------------------------------------------------------------------
def test_by_price_new_change_delete() -> None:
    book = ladder()
    ups = [
        update(NEW, BID, "100", 4),  # a new best bid
        update(CHANGE, OFFER, "102", 9),
        update(DELETE, BID, "97"),
        update(NEW, OFFER, "101", 6),  # a New on an existing level takes its size
        update(CHANGE, BID, "98", 0),  # size 0 removes the level
        update(NEW, OFFER, "104", 0),  # an empty New adds nothing
    ]
    assert book.apply_updates(ups) is None
    assert prices(book) == (["100x4", "99x10"], ["101x6", "102x9", "103x10"])
    assert book.updates_applied == 6


@pytest.mark.parametrize(
    ("bad", "kind", "words"),
    [
        (update(CHANGE, BID, "50", 1), K.UNKNOWN_LEVEL, "change of unknown bid level 50"),
        (update(DELETE, OFFER, "50"), K.UNKNOWN_LEVEL, "delete of unknown offer level 50"),
        (update(CHANGE, OFFER, "50", 0), K.UNKNOWN_LEVEL, "change of unknown offer level 50"),
        (update(NEW, BID, "98", -1), K.NEGATIVE_SIZE, "size -1"),
        (update(NEW, BID, None, 1), K.MISSING_FIELD, "without MDEntryPx (270)"),
        (update(CHANGE, BID, "98"), K.MISSING_FIELD, "without MDEntrySize (271)"),
        (update(NEW, TRADE, None, 1), K.MISSING_FIELD, "trade without MDEntryPx"),
    ],
)
def test_by_price_inconsistencies(bad: object, kind: InconsistencyKind, words: str) -> None:
    book = ladder()
    before = book.depth()
    found = book.apply_updates([bad])  # type: ignore[list-item]
    assert found is not None
    assert found.kind is kind
    assert words in found.reason
    assert found.reason.startswith("LP1:EURUSD: ")
    assert found.update == bad
    assert book.stale is found
    assert not book.usable
    assert book.depth() == before
    # Stale: later updates are ignored, and report nothing new.
    assert book.apply_update(update(NEW, BID, "100", 1)) is None
    assert book.depth() == before


def test_crossed_only_after_the_whole_message() -> None:
    book = ladder()
    # Mid-message the bid at 101 crosses the offer; the offer then moves: fine.
    ups = [update(NEW, BID, "101", 1), update(DELETE, OFFER, "101")]
    assert book.apply_updates(ups) is None
    found = book.apply_updates([update(NEW, BID, "102", 1)])
    assert found is not None
    assert found.kind is K.CROSSED
    assert "bid 102 >= offer 102" in found.reason
    assert found.update is None


def test_last_values_new_change_delete() -> None:
    book = ladder()
    assert book.apply_updates([update(NEW, TRADE, "100", 2)]) is None
    assert book.apply_updates([update(CHANGE, TRADE, "100.5")]) is None
    assert book.last_trade == Level(d("100.5"), d(0))
    book.apply_updates([update(NEW, MDEntryType.CLOSING_PRICE, "98", None)])
    assert book.closing_price == Level(d(98), d(0))
    assert book.apply_updates([update(DELETE, TRADE)]) is None
    assert book.apply_updates([update(DELETE, TRADE)]) is None  # nothing to delete: harmless
    assert book.last_trade is None
    found = book.apply_updates([update(NEW, TRADE, "100", -1)])
    assert found is not None
    assert found.kind is K.NEGATIVE_SIZE


@pytest.mark.parametrize(
    ("snap", "kind"),
    [
        ([entry(BID, "99", -1)], K.NEGATIVE_SIZE),
        ([entry(BID, None, 1)], K.MISSING_FIELD),
        ([entry(OFFER, "99", None)], K.MISSING_FIELD),
        ([entry(BID, "100", 1), entry(OFFER, "100", 1)], K.CROSSED),
    ],
)
def test_a_bad_snapshot_leaves_the_book_stale(snap: list[object], kind: InconsistencyKind) -> None:
    book = OrderBook("X")
    found = book.apply_snapshot(snap)  # type: ignore[arg-type]
    assert found is not None
    assert found.kind is kind
    assert book.stale is found
    assert found.reason.startswith("X: ")


def test_mark_stale() -> None:
    book = ladder()
    found = book.mark_stale(K.DISCONNECTED, "session ended")
    assert book.stale is found
    assert found.kind is K.DISCONNECTED
    assert found.reason == "LP1:EURUSD: session ended"


# -- by entry id --------------------------------------------------------------------------
def test_by_entry_id_aggregates_entries_into_levels() -> None:
    book = ladder(BookStyle.BY_ENTRY_ID, ids=True)
    ups = [
        update(NEW, BID, "99", 5, "b99x"),  # a second order at 99
        update(CHANGE, BID, None, 4, "b98"),  # size only: keeps the price
        update(CHANGE, OFFER, "104", None, "o103"),  # price only: keeps the size
        update(CHANGE, OFFER, "101", 3, "o101new", ref_id="o101"),  # a new id via MDEntryRefID
        update(DELETE, BID, None, None, "b97"),
        update(NEW, OFFER, "105", 0, "o105"),  # empty: not added
    ]
    assert book.apply_updates(ups) is None
    assert prices(book) == (["99x15", "98x4"], ["101x3", "102x10", "104x10"])
    assert book.apply_updates([update(DELETE, BID, None, None, "b99")]) is None
    assert prices(book)[0] == ["99x5", "98x4"]
    assert book.apply_updates([update(CHANGE, BID, None, 0, "b99x")]) is None  # size 0: gone
    assert prices(book)[0] == ["98x4"]
    # The renamed entry answers to its new id only.
    assert book.apply_updates([update(DELETE, OFFER, None, None, "o101new")]) is None
    found = book.apply_updates([update(DELETE, OFFER, None, None, "o101")])
    assert found is not None
    assert found.kind is K.UNKNOWN_ENTRY


@pytest.mark.parametrize(
    ("bad", "kind", "words"),
    [
        (update(NEW, BID, "99", 1, "b98"), K.DUPLICATE_ENTRY, "new entry 'b98' already exists"),
        (update(CHANGE, BID, "99", 1, "zz"), K.UNKNOWN_ENTRY, "change of unknown entry 'zz'"),
        (update(DELETE, BID, None, None, "zz"), K.UNKNOWN_ENTRY, "delete of unknown entry"),
        (update(NEW, BID, "99", 1), K.MISSING_FIELD, "without MDEntryID (278)"),
        (update(NEW, BID, None, 1, "n"), K.MISSING_FIELD, "without MDEntryPx (270)"),
        (update(NEW, BID, "1", None, "n"), K.MISSING_FIELD, "without MDEntrySize (271)"),
        (update(CHANGE, BID, None, -2, "b98"), K.NEGATIVE_SIZE, "size -2"),
    ],
)
def test_by_entry_id_inconsistencies(bad: object, kind: InconsistencyKind, words: str) -> None:
    book = ladder(BookStyle.BY_ENTRY_ID, ids=True)
    found = book.apply_updates([bad])  # type: ignore[list-item]
    assert found is not None
    assert found.kind is kind
    assert words in found.reason


def test_by_entry_id_snapshot_without_ids_keeps_the_levels() -> None:
    book = ladder(BookStyle.BY_ENTRY_ID, ids=False)
    assert prices(book) == (["99x10", "98x10", "97x10"], ["101x10", "102x10", "103x10"])
    found = book.apply_updates([update(DELETE, BID, None, None, "b99")])
    assert found is not None
    assert found.kind is K.UNKNOWN_ENTRY


def test_by_entry_id_trades_and_crossing() -> None:
    book = ladder(BookStyle.BY_ENTRY_ID, ids=True)
    assert book.apply_updates([update(NEW, TRADE, "100", 1)]) is None
    assert book.last_trade == Level(d(100), d(1))
    found = book.apply_updates([update(NEW, BID, "101", 1, "x")])
    assert found is not None
    assert found.kind is K.CROSSED


# -- by position --------------------------------------------------------------------------
def test_by_position_inserts_changes_and_deletes_shifting_levels() -> None:
    book = ladder(BookStyle.BY_POSITION)
    ups = [
        update(NEW, BID, "100", 1, position=1),  # a new best: the others move down
        update(NEW, OFFER, "104", 4, position=4),  # appended at the end
        update(DELETE, BID, position=3),  # 98 (now third)
        update(CHANGE, OFFER, None, 8, position=2),  # 102's size
        update(CHANGE, OFFER, "101.5", None, position=1),  # 101 moves to 101.5, keeps its size
        update(CHANGE, BID, "97", 0, position=3),  # size 0: removed
    ]
    assert book.apply_updates(ups) is None
    assert prices(book) == (["100x1", "99x10"], ["101.5x10", "102x8", "103x10", "104x4"])


def test_by_position_a_message_may_pass_through_disorder() -> None:
    # An LP moving its whole book down a tick changes every position in one message: after
    # the first change, level 1 (98) is below level 2 (99); only the end state must be ordered.
    book = ladder(BookStyle.BY_POSITION)
    ups = [
        update(CHANGE, BID, "98", None, position=1),
        update(CHANGE, BID, "97", None, position=2),
        update(CHANGE, BID, "96", None, position=3),
        update(CHANGE, OFFER, "100", None, position=1),
        update(CHANGE, OFFER, "101", 7, position=2),
        update(CHANGE, OFFER, "102", None, position=3),
    ]
    assert book.apply_updates(ups) is None
    assert prices(book) == (["98x10", "97x10", "96x10"], ["100x10", "101x7", "102x10"])
    # Disorder that the message leaves behind is an inconsistency, and the book goes stale.
    found = book.apply_updates(
        [update(NEW, TRADE, "99", 1), update(CHANGE, BID, "95", None, position=1)]
    )
    assert found is not None
    assert found.kind is K.BAD_POSITION
    assert "95 at position 1 before 97 at position 2" in found.reason
    assert not book.usable


def test_by_position_mixed_with_by_price_entries_in_one_message() -> None:
    book = ladder(BookStyle.BY_POSITION)
    ups = [
        update(CHANGE, BID, "100", None, position=1),  # 99 -> 100, by position
        update(CHANGE, BID, "98", 4),  # then 98 by price: the positional edits settle first
    ]
    assert book.apply_updates(ups) is None
    assert prices(book)[0] == ["100x10", "98x4", "97x10"]
    bad = [update(NEW, BID, "102", 1, position=1), update(CHANGE, BID, "97", -1)]
    found = book.apply_updates(bad)
    assert found is not None
    assert found.kind is K.NEGATIVE_SIZE
    book = ladder(BookStyle.BY_POSITION)
    disorder = [update(CHANGE, BID, "96", None, position=1), update(CHANGE, BID, "98", 2)]
    found = book.apply_updates(disorder)
    assert found is not None
    assert "96 at position 1 before 98 at position 2" in found.reason


def test_by_position_without_a_position_falls_back_to_the_price() -> None:
    book = ladder(BookStyle.BY_POSITION)
    assert book.apply_updates([update(CHANGE, BID, "98", 3)]) is None
    assert book.apply_updates([update(NEW, TRADE, "100", 1)]) is None
    assert prices(book)[0] == ["99x10", "98x3", "97x10"]


@pytest.mark.parametrize(
    ("bad", "kind", "words"),
    [
        (update(NEW, BID, "96", 1, position=5), K.BAD_POSITION, "bid position 5 of 3 levels"),
        (update(CHANGE, BID, "96", 1, position=4), K.BAD_POSITION, "position 4 of 3"),
        (update(DELETE, OFFER, position=0), K.BAD_POSITION, "offer position 0 of 3"),
        (update(NEW, BID, "96", 1, position=1), K.BAD_POSITION, "96 at position 1 before 99"),
        (update(NEW, OFFER, "102", 1, position=1), K.BAD_POSITION, "already at another"),
        (update(CHANGE, OFFER, "104", 1, position=1), K.BAD_POSITION, "out of order"),
        (update(NEW, BID, None, 1, position=1), K.MISSING_FIELD, "new bid without MDEntryPx"),
        (update(NEW, BID, "100", None, position=1), K.MISSING_FIELD, "without MDEntrySize"),
        (update(CHANGE, BID, "100", -1, position=1), K.NEGATIVE_SIZE, "size -1"),
    ],
)
def test_by_position_inconsistencies(bad: object, kind: InconsistencyKind, words: str) -> None:
    book = ladder(BookStyle.BY_POSITION)
    found = book.apply_updates([bad])  # type: ignore[list-item]
    assert found is not None
    assert found.kind is kind
    assert words in found.reason


# -- top of book --------------------------------------------------------------------------
def test_top_of_book_replaces_the_side() -> None:
    book = OrderBook("EURUSD", style=BookStyle.TOP_OF_BOOK)
    snap = [entry(BID, "98", 1), entry(BID, "99", 2), entry(BID, "97", 3), entry(BID, "99", 1)]
    assert book.apply_snapshot([*snap, entry(OFFER, "101", 5)]) is None
    assert book.top() == TopOfBook(Level(d(99), d(3)), Level(d(101), d(5)))
    assert (
        book.apply_updates([update(CHANGE, BID, "99.5", 7), update(NEW, OFFER, "100", 1)]) is None
    )
    assert prices(book) == (["99.5x7"], ["100x1"])
    assert book.apply_updates([update(DELETE, BID, "99.5"), update(NEW, TRADE, "99", 1)]) is None
    assert book.top().bid is None
    assert book.apply_updates([update(NEW, BID, "99", 0)]) is None  # empty New on an empty side
    assert book.apply_updates([update(CHANGE, OFFER, "100", 0)]) is None  # size 0 clears
    assert book.depth() == Depth((), ())


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (update(DELETE, BID), K.UNKNOWN_LEVEL),
        (update(CHANGE, BID, None, 1), K.MISSING_FIELD),
        (update(CHANGE, OFFER, "1", None), K.MISSING_FIELD),
        (update(CHANGE, OFFER, "1", -1), K.NEGATIVE_SIZE),
        (update(CHANGE, OFFER, "1", 1), K.CROSSED),
    ],
)
def test_top_of_book_inconsistencies(bad: object, kind: InconsistencyKind) -> None:
    book = OrderBook("EURUSD", style=BookStyle.TOP_OF_BOOK)
    assert book.apply_snapshot([entry(OFFER, "101", 5)]) is None
    if kind is K.CROSSED:
        book.apply_updates([update(NEW, BID, "50", 1)])
        bad = update(CHANGE, BID, "101", 1)
    found = book.apply_updates([bad])  # type: ignore[list-item]
    assert found is not None
    assert found.kind is kind

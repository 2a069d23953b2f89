"""mdwire: reading W and X entries straight from received messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.trading.mdfixtures import (
    BID,
    CHANGE,
    DELETE,
    NEW,
    OFFER,
    entry,
    incremental_message,
    over_the_wire,
    snapshot_message,
    update,
)
from trifix.core.errors import FieldValueError
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.trading import mdwire
from trifix.trading.book import BookEntry, BookUpdate
from trifix.trading.mdwire import read_incremental, read_snapshot


def test_incremental_entries_by_symbol_in_order() -> None:
    msg = incremental_message(
        [
            (None, update(NEW, BID, "1.1", 5)),  # before any Symbol: the subscription's own
            ("EURUSD", update(CHANGE, OFFER, "1.2", 6, "e1", 3, "e0")),
            (None, update(DELETE, BID, "1.0")),  # no Symbol: the entry before's
            ("GBPUSD", update(NEW, BID, "1.3", 7)),
        ],
        req_id="M7",
    )
    req_id, by_symbol = read_incremental(over_the_wire(msg))
    assert req_id == "M7"
    assert by_symbol == {
        None: [BookUpdate(NEW, BID, Decimal("1.1"), Decimal(5))],
        "EURUSD": [
            BookUpdate(CHANGE, OFFER, Decimal("1.2"), Decimal(6), "e1", 3, "e0"),
            BookUpdate(DELETE, BID, Decimal("1.0")),
        ],
        "GBPUSD": [BookUpdate(NEW, BID, Decimal("1.3"), Decimal(7))],
    }


def test_incremental_without_md_req_id() -> None:
    msg = incremental_message([("EURUSD", update(NEW, BID, "1", 1))], req_id=None)
    assert read_incremental(msg)[0] is None


def test_snapshot_symbol_and_entries_including_entry_ids() -> None:
    entries = [entry(BID, "1.1", 5, "b1", 1), entry(OFFER, "1.2", None), entry(BID, None, None)]
    req_id, symbol, parsed = read_snapshot(over_the_wire(snapshot_message("USDJPY", entries)))
    assert (req_id, symbol) == ("R1", "USDJPY")
    assert parsed == [
        BookEntry(BID, Decimal("1.1"), Decimal(5), "b1", 1),
        BookEntry(OFFER, Decimal("1.2")),
        BookEntry(BID),
    ]


def test_snapshot_without_symbol_or_req_id() -> None:
    msg = Message.new(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH)
    msg.add_group(Tag.NO_MD_ENTRIES, [[(Tag.MD_ENTRY_TYPE, "0"), (Tag.SYMBOL, "IGNORED")]])
    assert read_snapshot(msg) == (None, None, [BookEntry(BID)])


def _x(*fields: tuple[int, object]) -> Message:
    return Message.new(MsgType.MARKET_DATA_INCREMENTAL_REFRESH, *fields)


@pytest.mark.parametrize(
    ("msg", "tag", "words"),
    [
        (_x((Tag.MD_REQ_ID, "R")), Tag.NO_MD_ENTRIES, "NoMDEntries (268) is missing"),
        (
            _x((Tag.NO_MD_ENTRIES, 2), (279, "0"), (269, "0")),
            Tag.NO_MD_ENTRIES,
            "is '2' but 1 entr",
        ),
        (_x((Tag.NO_MD_ENTRIES, "x"), (279, "0"), (269, "0")), Tag.NO_MD_ENTRIES, "is 'x'"),
        (_x((Tag.NO_MD_ENTRIES, 1), (279, "7"), (269, "0")), Tag.MD_UPDATE_ACTION, "b'7'"),
        (_x((Tag.NO_MD_ENTRIES, 1), (279, "0")), Tag.MD_ENTRY_TYPE, "missing"),
        (_x((Tag.NO_MD_ENTRIES, 1), (279, "0"), (269, "0"), (270, "1e5")), 270, "b'1e5'"),
        (_x((Tag.NO_MD_ENTRIES, 1), (279, "0"), (269, "0"), (271, "NaN")), 271, "b'NaN'"),
        (_x((Tag.NO_MD_ENTRIES, 1), (279, "0"), (269, "0"), (290, "1.5")), 290, "b'1.5'"),
    ],
)
def test_bad_incrementals_name_the_tag(msg: Message, tag: int, words: str) -> None:
    with pytest.raises(FieldValueError) as info:
        read_incremental(msg)
    assert info.value.tag == tag
    assert words in str(info.value)


def test_bad_snapshot_entry_type() -> None:
    msg = Message.new(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, (Tag.SYMBOL, "X"))
    msg.add_group(Tag.NO_MD_ENTRIES, [[(Tag.MD_ENTRY_TYPE, "Z")]])
    with pytest.raises(FieldValueError, match="b'Z' is not a valid value") as info:
        read_snapshot(msg)
    assert info.value.tag == Tag.MD_ENTRY_TYPE


def test_the_decimal_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mdwire, "_DECIMALS", {})
    monkeypatch.setattr(mdwire, "_DECIMAL_CACHE_SIZE", 3)
    for i in range(7):
        msg = incremental_message([("S", update(NEW, BID, f"1.{i}", i + 1))])
        (got,) = read_incremental(msg)[1]["S"]
        assert (got.price, got.size) == (Decimal(f"1.{i}"), Decimal(i + 1))
        assert len(mdwire._DECIMALS) <= 3

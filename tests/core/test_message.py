"""Message: construction, typed getters, modification, groups, encoding and the checksum."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from tests.core.frames import HEADER, frame, message
from trifix.core.errors import FieldValueError, GarbledMessageError, LocalProtocolError
from trifix.core.fields import MonthYear
from trifix.core.message import FieldMap, Group, Message, checksum, read_group, tag_key
from trifix.core.tags import MsgType, OrdStatus, SessionRejectReason, Side, Tag
from trifix.core.validate import Validator

TYPED = message(
    "35=8|"
    + HEADER
    + "37=O1|17=E1|150=F|39=2|54=1|151=0|14=1000000|6=1.08525|31=1.08525|32=1000000|"
    + "38=1000000|44=-0.00012|211=.5|43=Y|97=N|60=20240304-05:06:07|"
    + "122=20240304-05:06:07.123456|75=20240304|200=202406|541=20241231|"
    + "313=202409w2|18=1 2 G|373=13|336=TRADING|58=caf\xe9|"
)


def raw_of(msg: Message) -> bytes | None:
    """msg.raw, read through a call so that an earlier assert does not narrow it for mypy."""
    return msg.raw


# -- tag_key and checksum --------------------------------------------------------------------------


def test_tag_key() -> None:
    assert tag_key(34) == b"34"
    assert tag_key(Tag.MSG_SEQ_NUM) == b"34"
    assert tag_key(Tag.MSG_SEQ_NUM) is tag_key(34)  # cached
    assert tag_key(123456) == b"123456"
    for bad in (0, -1):
        with pytest.raises(LocalProtocolError, match="positive"):
            tag_key(bad)


@pytest.mark.parametrize(
    "length", [0, 1, 2, 7, 255, 256, 257, 300, 511, 512, 513, 1000, 4096, 65535, 65536, 70001]
)
def test_checksum_is_the_byte_sum_modulo_256(length: int) -> None:
    rng = random.Random(length)
    for data in (
        bytes(rng.randrange(256) for _ in range(length)),
        b"\xff" * length,
        b"\x00" * length,
        bytes(i % 256 for i in range(length)),
    ):
        expected = sum(data) % 256
        assert checksum(data) == expected
        assert checksum(bytearray(data)) == expected
        assert checksum(memoryview(data)) == expected


def test_checksum_of_all_ones_bytes_past_adler_modulus() -> None:
    # 0xff * 257 = 65535 > 65521 (Adler-32's modulus): chunking must keep sums exact.
    assert checksum(b"\xff" * 257) == (255 * 257) % 256
    assert checksum(b"\xff" * 100_000) == (255 * 100_000) % 256


# -- construction ----------------------------------------------------------------------------------


def test_new_puts_header_fields_after_msg_type() -> None:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "A1"),
        (Tag.SENDER_COMP_ID, "ME"),
        (Tag.SIDE, Side.BUY),
        (Tag.MSG_SEQ_NUM, 5),
        (Tag.ORDER_QTY, Decimal("1.50")),
        (Tag.TARGET_COMP_ID, "YOU"),
    )
    assert list(msg.fields()) == [
        (35, b"D"),
        (49, b"ME"),
        (34, b"5"),
        (56, b"YOU"),
        (11, b"A1"),
        (54, b"1"),
        (38, b"1.50"),
    ]
    assert msg.msg_type == "D"
    assert msg.raw is None
    assert msg.begin_string == b"FIX.4.4"


def test_new_formats_every_value_kind() -> None:
    msg = Message.new(
        "8",
        (Tag.CUM_QTY, 0),
        (Tag.AVG_PX, Decimal("1.10")),
        (Tag.POSS_DUP_FLAG, True),
        (Tag.TRANSACT_TIME, datetime(2024, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)),
        (Tag.TRADE_DATE, date(2024, 3, 4)),
        (Tag.MATURITY_MONTH_YEAR, MonthYear(2024, 6)),
        (Tag.ORD_STATUS, OrdStatus.FILLED),
        (Tag.SESSION_REJECT_REASON, SessionRejectReason.OTHER),
        (Tag.TEXT, b"raw"),
        (Tag.LAST_PX, 1.5),
    )
    assert [v for _, v in msg.fields()][1:] == [
        b"Y",  # PossDupFlag is a header field
        b"0",
        b"1.10",
        b"20240304-05:06:07.891",
        b"20240304",
        b"202406",
        b"2",
        b"99",
        b"raw",
        b"1.5",
    ]


def test_new_rejects_values_it_cannot_format() -> None:
    with pytest.raises(TypeError, match="cannot format"):
        Message.new("D", (Tag.TEXT, object()))


def test_from_frame_keeps_the_frame_and_begin_string() -> None:
    data = frame(f"35=0|{HEADER}", begin_string=b"FIXT.1.1")
    msg = Message.from_frame(data)
    assert msg.raw == data
    assert msg.begin_string == b"FIXT.1.1"
    assert msg.encode() == data


def test_from_frame_with_empty_values() -> None:
    msg = Message.from_frame(frame(f"35=0|{HEADER}58=|"))
    assert msg.get(Tag.TEXT) == b""
    assert Tag.TEXT in msg


def test_from_frame_slow_path_splits_values_with_equals_signs() -> None:
    msg = Message.from_frame(frame(f"35=0|{HEADER}58=a=b==c|"))
    assert msg.get(Tag.TEXT) == b"a=b==c"
    assert msg.tag_keys() == [b"35", b"49", b"56", b"34", b"52", b"58"]


def test_from_frame_length_field_not_followed_by_its_data_field() -> None:
    msg = Message.from_frame(frame(f"35=A|{HEADER}95=3|58=abc|96=xyz|"))
    assert list(msg.fields())[-3:] == [(95, b"3"), (58, b"abc"), (96, b"xyz")]
    msg = Message.from_frame(frame(f"35=A|{HEADER}95=x|96=xyz|"))
    assert msg.get(Tag.RAW_DATA) == b"xyz"


def test_from_frame_unterminated_last_field() -> None:
    # The framer refuses this frame; from_frame, called directly, reports it too.
    data = frame(f"35=0|{HEADER}58=ok")
    with pytest.raises(GarbledMessageError, match=r"field b'58' is not terminated"):
        Message.from_frame(data)


def test_from_frame_field_without_equals_sign_at_the_end() -> None:
    data = frame(f"35=0|{HEADER}58=ok|xyz|")
    with pytest.raises(GarbledMessageError, match="field without '='"):
        Message.from_frame(data)


# -- raw access ------------------------------------------------------------------------------------


def test_raw_access() -> None:
    msg = message(f"35=0|{HEADER}112=T1|")
    assert msg[Tag.TEST_REQ_ID] == b"T1"
    assert msg[112] == b"T1"
    with pytest.raises(KeyError) as info:
        msg[Tag.TEXT]
    assert info.value.args == (Tag.TEXT,)
    assert msg.get(Tag.TEXT) is None
    assert msg.get(Tag.TEXT, b"dflt") == b"dflt"
    assert Tag.TEST_REQ_ID in msg
    assert 58 not in msg
    assert len(msg) == 6
    assert msg.tag_keys() == [b"35", b"49", b"56", b"34", b"52", b"112"]
    assert msg.raw_values()[-1] == b"T1"
    assert msg.seq_num == 2
    assert msg.is_admin()


def test_fields_reports_non_numeric_tags_as_minus_one() -> None:
    msg = message(f"35=0|{HEADER}abc=1|")
    assert list(msg.fields())[-1] == (-1, b"1")


def test_repeated_tag_lookup_returns_the_last_occurrence() -> None:
    msg = message(f"35=D|{HEADER}453=2|448=P1|448=P2|")
    assert msg.get(Tag.PARTY_ID) == b"P2"


@pytest.mark.parametrize(
    ("msg_type", "admin"),
    [(t, True) for t in "012345A"] + [(t, False) for t in ("D", "8", "W", "j", "ZZ")],
)
def test_is_admin(msg_type: str, admin: bool) -> None:
    assert Message.new(msg_type).is_admin() is admin


def test_msg_type_empty_when_35_is_not_first() -> None:
    msg = Message([b"49"], [b"X"])
    assert msg.msg_type == ""
    assert not msg.is_admin()
    assert Message([], []).msg_type == ""


# -- typed getters ---------------------------------------------------------------------------------


def test_get_int() -> None:
    assert TYPED.get_int(Tag.MSG_SEQ_NUM) == 2
    assert TYPED.get_int(Tag.SESSION_REJECT_REASON) == 13
    assert message(f"35=0|{HEADER}383=-7|").get_int(383) == -7
    assert TYPED.get_int(Tag.HEART_BT_INT, None) is None
    assert TYPED.get_int(Tag.HEART_BT_INT, 30) == 30


def test_get_decimal_is_exact() -> None:
    assert TYPED.get_decimal(Tag.AVG_PX) == Decimal("1.08525")
    assert str(TYPED.get_decimal(Tag.AVG_PX)) == "1.08525"
    assert str(TYPED.get_decimal(Tag.PRICE)) == "-0.00012"
    assert str(TYPED.get_decimal(Tag.CUM_QTY)) == "1000000"
    assert TYPED.get_decimal(211) == Decimal("0.5")
    assert TYPED.get_decimal(Tag.ORDER_QTY) == 1_000_000
    # 0.1 + 0.2 style sums stay exact.
    m = message(f"35=0|{HEADER}44=0.1|6=0.2|")
    assert m.get_decimal(44) + m.get_decimal(6) == Decimal("0.3")
    assert TYPED.get_decimal(Tag.STOP_PX, Decimal(0)) == Decimal(0)


def test_get_bool() -> None:
    assert TYPED.get_bool(Tag.POSS_DUP_FLAG) is True
    assert TYPED.get_bool(Tag.POSS_RESEND) is False
    assert TYPED.get_bool(Tag.GAP_FILL_FLAG, False) is False


def test_get_utc_timestamp_precisions() -> None:
    assert TYPED.get_utc_timestamp(Tag.SENDING_TIME) == datetime(
        2024, 3, 4, 5, 6, 7, 891000, tzinfo=UTC
    )
    assert TYPED.get_utc_timestamp(Tag.TRANSACT_TIME) == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert TYPED.get_utc_timestamp(Tag.ORIG_SENDING_TIME) == datetime(
        2024, 3, 4, 5, 6, 7, 123456, tzinfo=UTC
    )
    assert TYPED.get_utc_timestamp(Tag.SENDING_TIME).tzinfo is UTC


def test_get_utc_time_only() -> None:
    m = message(f"35=0|{HEADER}273=05:06:07.5|")
    with pytest.raises(FieldValueError):
        m.get_utc_time_only(273)
    m = message(f"35=0|{HEADER}273=05:06:07.500|")
    assert m.get_utc_time_only(273) == time(5, 6, 7, 500000, tzinfo=UTC)
    assert m.get_utc_time_only(274, None) is None


def test_get_date() -> None:
    assert TYPED.get_date(Tag.TRADE_DATE) == date(2024, 3, 4)
    assert TYPED.get_local_mkt_date(Tag.MATURITY_DATE) == date(2024, 12, 31)
    assert TYPED.get_date(Tag.SETTL_DATE, None) is None


def test_get_month_year() -> None:
    assert TYPED.get_month_year(Tag.MATURITY_MONTH_YEAR) == MonthYear(2024, 6)
    assert TYPED.get_month_year(313) == MonthYear(2024, 9, week=2)
    assert message(f"35=0|{HEADER}200=20240615|").get_month_year(200) == MonthYear(2024, 6, 15)
    assert TYPED.get_month_year(Tag.CONTRACT_SETTL_MONTH, None) is None


def test_get_char_multi_enum_str() -> None:
    assert TYPED.get_char(Tag.EXEC_TYPE) == "F"
    assert TYPED.get_multi(Tag.EXEC_INST) == ["1", "2", "G"]
    assert TYPED.get_enum(Tag.ORD_STATUS, OrdStatus) is OrdStatus.FILLED
    assert TYPED.get_enum(Tag.SIDE, Side) is Side.BUY
    assert (
        TYPED.get_enum(Tag.SESSION_REJECT_REASON, SessionRejectReason)
        is SessionRejectReason.TAG_APPEARS_MORE_THAN_ONCE
    )
    assert TYPED.get_enum(Tag.ORD_TYPE, Side, None) is None
    assert TYPED.get_str(Tag.TRADING_SESSION_ID) == "TRADING"
    assert TYPED.get_str(Tag.TEXT) == "caf\udce9"  # latin-1 byte kept as a surrogate escape
    assert TYPED.get_str(Tag.TEXT).encode("utf-8", "surrogateescape") == b"caf\xe9"
    assert message(f"35=0|{HEADER}58=caf\xc3\xa9|").get_str(Tag.TEXT) == "caf\xe9"
    assert TYPED.get_str(Tag.CL_ORD_ID, "none") == "none"


GETTERS = [
    "get_str",
    "get_int",
    "get_decimal",
    "get_bool",
    "get_utc_timestamp",
    "get_utc_time_only",
    "get_date",
    "get_local_mkt_date",
    "get_month_year",
    "get_char",
    "get_multi",
]


@pytest.mark.parametrize("getter", GETTERS)
def test_missing_field_raises_field_value_error(getter: str) -> None:
    with pytest.raises(FieldValueError, match="tag 1 is missing") as info:
        getattr(TYPED, getter)(Tag.ACCOUNT)
    assert info.value.tag == Tag.ACCOUNT
    assert info.value.missing is True


def test_missing_enum_raises_field_value_error() -> None:
    with pytest.raises(FieldValueError) as info:
        TYPED.get_enum(Tag.ACCOUNT, Side)
    assert (info.value.tag, info.value.missing) == (1, True)


@pytest.mark.parametrize(
    ("getter", "raw"),
    [
        ("get_int", "1.5"),
        ("get_int", "1e3"),
        ("get_int", ""),
        ("get_int", " 1"),
        ("get_int", "+1"),
        ("get_decimal", "1e3"),
        ("get_decimal", "NaN"),
        ("get_decimal", "Infinity"),
        ("get_decimal", "-"),
        ("get_decimal", "1.2.3"),
        ("get_bool", "y"),
        ("get_bool", "YES"),
        ("get_bool", "1"),
        ("get_utc_timestamp", "20240304"),
        ("get_utc_timestamp", "20240230-05:06:07"),
        ("get_utc_timestamp", "20240304-24:00:00"),
        ("get_utc_timestamp", "20240304-05:06:07.12"),
        ("get_utc_time_only", "25:00:00"),
        ("get_date", "20240230"),
        ("get_date", "2024034"),
        ("get_month_year", "202400"),
        ("get_month_year", "202413"),
        ("get_month_year", "20240230"),
        ("get_month_year", "202406w0"),
        ("get_month_year", "202406w6"),
        ("get_char", "AB"),
        ("get_char", ""),
        ("get_multi", "1  2"),
        ("get_multi", " 1"),
        ("get_multi", ""),
    ],
)
def test_invalid_value_raises_field_value_error(getter: str, raw: str) -> None:
    msg = message(f"35=0|{HEADER}5000={raw}|")
    with pytest.raises(FieldValueError, match="tag 5000: ") as info:
        getattr(msg, getter)(5000)
    assert info.value.tag == 5000
    assert info.value.missing is False
    # A default applies only to a missing field, never to a malformed one.
    with pytest.raises(FieldValueError):
        getattr(msg, getter)(5000, None)


@pytest.mark.parametrize(("raw", "enum"), [("Z", Side), ("x", SessionRejectReason), ("", Side)])
def test_invalid_enum_value(raw: str, enum: type[Side] | type[SessionRejectReason]) -> None:
    msg = message(f"35=0|{HEADER}5000={raw}|")
    with pytest.raises(FieldValueError, match=f"is not a valid {enum.__name__}") as info:
        msg.get_enum(5000, enum)
    assert (info.value.tag, info.value.missing) == (5000, False)


@pytest.mark.parametrize("raw", ["1_0", " 5", "+5", "5 ", "5.0", "0x5"])
def test_enum_of_ints_reads_only_fix_ints(raw: str) -> None:
    # get_enum must agree with get_int on what an int is on the wire.
    msg = message(f"35=3|{HEADER}45=1|373={raw}|")
    with pytest.raises(FieldValueError):
        msg.get_int(Tag.SESSION_REJECT_REASON)
    with pytest.raises(FieldValueError) as info:
        msg.get_enum(Tag.SESSION_REJECT_REASON, SessionRejectReason)
    assert (info.value.tag, info.value.missing) == (373, False)


def test_enum_of_ints_accepts_leading_zeros() -> None:
    msg = message(f"35=3|{HEADER}45=1|373=05|")
    assert msg.get_int(Tag.SESSION_REJECT_REASON) == 5
    assert (
        msg.get_enum(Tag.SESSION_REJECT_REASON, SessionRejectReason)
        is SessionRejectReason.VALUE_IS_INCORRECT
    )


def test_leap_second_is_read_as_59() -> None:
    msg = message(f"35=0|{HEADER}60=20161231-23:59:60.500|")
    assert msg.get_utc_timestamp(60) == datetime(2016, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)


# -- modification ----------------------------------------------------------------------------------


def test_set_replaces_in_place_and_clears_raw() -> None:
    msg = message(f"35=0|{HEADER}112=T1|")
    assert msg.raw == frame(f"35=0|{HEADER}112=T1|")
    assert msg.set(Tag.MSG_SEQ_NUM, 9) is msg
    assert raw_of(msg) is None
    assert msg.tag_keys() == [b"35", b"49", b"56", b"34", b"52", b"112"]
    assert msg.get_int(34) == 9


def test_set_adds_header_fields_to_the_header_and_others_to_the_body() -> None:
    msg = Message.new("D", (Tag.CL_ORD_ID, "A"))
    msg.set(Tag.SENDER_COMP_ID, "ME").set(Tag.SYMBOL, "X").set(Tag.TARGET_COMP_ID, "YOU")
    assert msg.tag_keys() == [b"35", b"49", b"56", b"11", b"55"]
    assert msg.get(56) == b"YOU"
    msg.set(Tag.POSS_DUP_FLAG, True)
    assert msg.tag_keys() == [b"35", b"49", b"56", b"43", b"11", b"55"]


def test_set_on_an_empty_header() -> None:
    msg = Message.new("0")
    msg.set(Tag.MSG_SEQ_NUM, 1)
    assert msg.tag_keys() == [b"35", b"34"]


def test_append_allows_repeats_and_routes_header_fields() -> None:
    msg = Message.new("D", (Tag.CL_ORD_ID, "A"))
    msg.append(Tag.PARTY_ID, "P1").append(Tag.PARTY_ID, "P2").append(Tag.MSG_SEQ_NUM, 3)
    assert list(msg.fields()) == [
        (35, b"D"),
        (34, b"3"),
        (11, b"A"),
        (448, b"P1"),
        (448, b"P2"),
    ]
    # Appending a header field that is there already replaces it (header fields never repeat).
    msg.append(Tag.MSG_SEQ_NUM, 4)
    assert msg.tag_keys().count(b"34") == 1
    assert msg.get_int(34) == 4


def test_lookup_after_append_matches_lookup_after_a_round_trip() -> None:
    # FieldMap promises the last occurrence of a repeated tag, however the message was made.
    built = Message.new("D", (Tag.CL_ORD_ID, "A"))
    built.add_group(Tag.NO_PARTY_IDS, [[(Tag.PARTY_ID, "P1")], [(Tag.PARTY_ID, "P2")]])
    parsed = Message.from_frame(built.encode())
    assert parsed.get(Tag.PARTY_ID) == b"P2"
    assert built.get(Tag.PARTY_ID) == b"P2"
    assert Message.new("D", (448, "P1"), (448, "P2")).get(448) == b"P2"


def test_append_msg_type_goes_to_the_end() -> None:
    msg = Message.new("0")
    msg.append(Tag.MSG_TYPE, "1")
    assert msg.tag_keys() == [b"35", b"35"]


def test_remove() -> None:
    msg = message(f"35=D|{HEADER}453=2|448=P1|448=P2|58=x|")
    assert msg.remove(Tag.PARTY_ID) is True
    assert msg.raw is None
    assert msg.tag_keys() == [b"35", b"49", b"56", b"34", b"52", b"453", b"58"]
    assert Tag.PARTY_ID not in msg
    assert msg.remove(Tag.PARTY_ID) is False
    assert msg.remove(Tag.SENDER_COMP_ID) is True
    assert msg.get(49) is None
    assert msg.encode() == frame("35=D|56=BROKER|34=2|52=20240304-05:06:07.891|453=2|58=x|")


def test_remove_leaves_raw_when_nothing_removed() -> None:
    msg = message(f"35=0|{HEADER}")
    assert msg.remove(Tag.TEXT) is False
    assert msg.raw is not None


def test_copy_is_independent() -> None:
    original = message(f"35=D|{HEADER}11=A|453=1|448=P1|")
    copy = original.copy()
    assert copy.raw == original.raw
    assert copy.begin_string == original.begin_string
    copy.set(Tag.CL_ORD_ID, "B").append(Tag.TEXT, "new").remove(Tag.PARTY_ID)
    copy.set(Tag.MSG_SEQ_NUM, 99)
    assert original.get(11) == b"A"
    assert original.get(58) is None
    assert original.get(448) == b"P1"
    assert original.get_int(34) == 2
    assert original.tag_keys() == [b"35", b"49", b"56", b"34", b"52", b"11", b"453", b"448"]
    assert original.encode() == original.raw
    assert copy.get(11) == b"B"
    assert copy.tag_keys() == [b"35", b"49", b"56", b"34", b"52", b"11", b"453", b"58"]
    original.set(Tag.SYMBOL, "X")
    assert Tag.SYMBOL not in copy


# -- groups ----------------------------------------------------------------------------------------


def test_group_flat() -> None:
    msg = message(
        f"35=W|{HEADER}262=R|268=3|269=0|270=1.1|271=5|269=1|270=1.2|269=2|270=1.15|271=7|55=X|"
    )
    entries = msg.group(Tag.NO_MD_ENTRIES)
    assert [str(e) for e in entries] == [
        "269=0|270=1.1|271=5",
        "269=1|270=1.2",
        "269=2|270=1.15|271=7",
    ]
    assert all(isinstance(e, Group) for e in entries)
    assert entries[2].get_decimal(Tag.MD_ENTRY_SIZE) == 7
    assert entries[1].get(Tag.MD_ENTRY_SIZE) is None
    assert entries[0].definition.count_tag == 268
    assert msg.group(Tag.NO_SECURITY_ALT_ID) == []  # defined for W, absent here


def test_group_not_defined_for_the_message() -> None:
    msg = message(f"35=0|{HEADER}")
    with pytest.raises(LocalProtocolError, match="not a repeating group"):
        msg.group(Tag.NO_MD_ENTRIES)
    with pytest.raises(LocalProtocolError):
        message(f"35=D|{HEADER}").group(Tag.SYMBOL)


def test_group_of_an_unknown_message_type_uses_the_header() -> None:
    msg = message("35=ZZ|49=A|56=B|34=1|52=20240304-05:06:07|627=1|628=H|")
    assert [str(e) for e in msg.group(Tag.NO_HOPS)] == ["628=H"]
    with pytest.raises(LocalProtocolError):
        msg.group(Tag.NO_PARTY_IDS)


def test_group_nested() -> None:
    msg = message(
        f"35=D|{HEADER}11=A|453=2|448=P1|447=D|452=1|802=2|523=S1|803=1|523=S2|803=2|"
        "448=P2|447=D|452=3|55=EUR/USD|"
    )
    parties = msg.group(Tag.NO_PARTY_IDS)
    assert [p.get_str(Tag.PARTY_ID) for p in parties] == ["P1", "P2"]
    assert str(parties[0]) == "448=P1|447=D|452=1|802=2|523=S1|803=1|523=S2|803=2"
    subs = parties[0].group(Tag.NO_PARTY_SUB_IDS)
    assert [str(s) for s in subs] == ["523=S1|803=1", "523=S2|803=2"]
    assert subs[1].get_int(Tag.PARTY_SUB_ID_TYPE) == 2
    assert parties[1].group(Tag.NO_PARTY_SUB_IDS) == []
    with pytest.raises(LocalProtocolError):
        parties[0].group(Tag.NO_MD_ENTRIES)
    assert msg.get(Tag.SYMBOL) == b"EUR/USD"


def test_group_after_another_group_skips_its_entries() -> None:
    # NoPartyIDs entries hold a field with the same number as nothing at top level, but the
    # count tag of the second group is found only at the top level, past the first group.
    msg = message(f"35=D|{HEADER}11=A|453=1|448=P1|802=1|523=S1|78=2|79=ACC1|80=10|79=ACC2|80=20|")
    allocs = msg.group(Tag.NO_ALLOCS)
    assert [str(a) for a in allocs] == ["79=ACC1|80=10", "79=ACC2|80=20"]


def test_group_entries_end_at_a_repeated_field() -> None:
    # Without the delimiter, a repeated member ends the entry and the group.
    msg = message(f"35=D|{HEADER}453=2|448=P1|447=D|447=D|")
    assert [str(p) for p in msg.group(Tag.NO_PARTY_IDS)] == ["448=P1|447=D"]


def test_header_group_no_hops_from_the_wire() -> None:
    msg = message(
        "35=0|49=A|56=B|34=1|52=20240304-05:06:07|627=2|628=H1|629=20240304-05:06:06|630=7|"
        "628=H2|112=T|"
    )
    hops = msg.group(Tag.NO_HOPS)
    assert [str(h) for h in hops] == ["628=H1|629=20240304-05:06:06|630=7", "628=H2"]
    assert hops[0].get_utc_timestamp(Tag.HOP_SENDING_TIME) == datetime(
        2024, 3, 4, 5, 6, 6, tzinfo=UTC
    )


def test_add_group_flat_and_nested() -> None:
    msg = Message.new("D", (Tag.CL_ORD_ID, "A"))
    msg.add_group(
        Tag.NO_PARTY_IDS,
        [
            [
                (Tag.PARTY_ID, "P1"),
                (Tag.PARTY_ROLE, 1),
                (Tag.NO_PARTY_SUB_IDS, [[(Tag.PARTY_SUB_ID, "S1")], [(Tag.PARTY_SUB_ID, "S2")]]),
            ],
            [(Tag.PARTY_ID, "P2")],
        ],
    ).append(Tag.SYMBOL, "X")
    assert str(msg) == ("35=D|11=A|453=2|448=P1|452=1|802=2|523=S1|523=S2|448=P2|55=X")
    parties = msg.group(Tag.NO_PARTY_IDS)
    assert [str(s) for s in parties[0].group(Tag.NO_PARTY_SUB_IDS)] == ["523=S1", "523=S2"]
    assert msg.add_group(Tag.NO_ALLOCS, []) is msg
    assert msg.tag_keys()[-1] == b"78"
    assert msg.get_int(78) == 0


def test_add_group_header_group_stays_in_the_header() -> None:
    msg = Message.new(
        MsgType.HEARTBEAT,
        (Tag.SENDER_COMP_ID, "A"),
        (Tag.TARGET_COMP_ID, "B"),
        (Tag.MSG_SEQ_NUM, 1),
        (Tag.SENDING_TIME, "20240304-05:06:07"),
        (Tag.TEST_REQ_ID, "T"),
    )
    msg.add_group(
        Tag.NO_HOPS, [[(Tag.HOP_COMP_ID, "H1"), (Tag.HOP_REF_ID, 3)], [(Tag.HOP_COMP_ID, "H2")]]
    )
    assert str(msg) == "35=0|49=A|56=B|34=1|52=20240304-05:06:07|627=2|628=H1|630=3|628=H2|112=T"
    assert [str(h) for h in msg.group(Tag.NO_HOPS)] == ["628=H1|630=3", "628=H2"]
    assert Validator().validate(msg) is None
    # A header field set afterwards still lands in the header, not inside the body.
    msg.set(Tag.POSS_DUP_FLAG, True)
    assert msg.tag_keys().index(b"43") < msg.tag_keys().index(b"112")
    assert [str(h) for h in msg.group(Tag.NO_HOPS)] == ["628=H1|630=3", "628=H2"]
    assert Validator().validate(Message.from_frame(msg.encode())) is None


def test_new_puts_header_group_fields_in_the_header() -> None:
    msg = Message.new(
        "0",
        (Tag.TEST_REQ_ID, "T"),
        (Tag.SENDER_COMP_ID, "A"),
        (Tag.NO_HOPS, 1),
        (Tag.HOP_COMP_ID, "H1"),
    )
    assert str(msg) == "35=0|49=A|627=1|628=H1|112=T"
    assert [str(h) for h in msg.group(Tag.NO_HOPS)] == ["628=H1"]


def test_read_group_directly() -> None:
    msg = message(f"35=W|{HEADER}268=2|269=0|270=1|269=1|270=2|55=X|")
    gdef = msg.group(Tag.NO_MD_ENTRIES)[0].definition
    tags, values = msg.tag_keys(), msg.raw_values()
    start = tags.index(b"268") + 1
    entries, end = read_group(tags, values, start, gdef)
    assert [str(e) for e in entries] == ["269=0|270=1", "269=1|270=2"]
    assert tags[end] == b"55"
    assert read_group(tags, values, end, gdef) == ([], end)


def test_field_map_base_has_no_structure() -> None:
    with pytest.raises(NotImplementedError):
        FieldMap([b"1"], [b"x"]).group(78)


# -- str, repr and encode --------------------------------------------------------------------------


def test_str_and_repr() -> None:
    msg = message(f"35=0|{HEADER}58=caf\xe9|")
    assert str(msg) == "35=0|49=CLIENT|56=BROKER|34=2|52=20240304-05:06:07.891|58=caf\xe9"
    assert repr(msg) == f"<Message {msg}>"
    entry = message(f"35=W|{HEADER}268=1|269=0|").group(268)[0]
    assert repr(entry) == "<Group 269=0>"


def test_encode_exact_bytes() -> None:
    msg = Message.new("0", (Tag.SENDER_COMP_ID, "A"), (Tag.TARGET_COMP_ID, "B"))
    body = b"35=0\x0149=A\x0156=B\x01"
    head = b"8=FIX.4.4\x019=%d\x01" % len(body)
    assert msg.encode() == head + body + b"10=%03d\x01" % (sum(head + body) % 256)
    other = msg.encode(b"FIXT.1.1")
    head = b"8=FIXT.1.1\x019=%d\x01" % len(body)
    assert other == head + body + b"10=%03d\x01" % (sum(head + body) % 256)


def test_encode_requires_msg_type_first() -> None:
    with pytest.raises(LocalProtocolError, match="MsgType"):
        Message([b"49"], [b"A"]).encode()
    with pytest.raises(LocalProtocolError):
        Message([], []).encode()


def test_encode_of_a_parsed_message_is_the_frame() -> None:
    data = frame(f"35=D|{HEADER}11=A|453=1|448=P1|58=a=b|")
    assert Message.from_frame(data).encode() == data


# -- the session's raw fast paths ------------------------------------------------------------------


def test_stamp_header_inserts_in_order_after_msg_type() -> None:
    msg = Message.new("D", (Tag.CL_ORD_ID, "A"))
    msg.stamp_header(
        [(b"49", b"ME"), (b"56", b"YOU"), (b"34", b"7"), (b"52", b"20240304-05:06:07")]
    )
    assert str(msg) == "35=D|49=ME|56=YOU|34=7|52=20240304-05:06:07|11=A"
    assert msg.get_int(Tag.MSG_SEQ_NUM) == 7
    assert msg.raw is None


def test_stamp_header_replaces_existing_fields_in_place() -> None:
    msg = message(f"35=0|{HEADER}112=T|")
    assert msg.raw == frame(f"35=0|{HEADER}112=T|")
    msg.stamp_header([(b"34", b"8"), (b"43", b"Y"), (b"52", b"20240304-05:06:08.000")])
    assert str(msg) == "35=0|43=Y|49=CLIENT|56=BROKER|34=8|52=20240304-05:06:08.000|112=T"
    assert msg.get_bool(Tag.POSS_DUP_FLAG) is True
    assert raw_of(msg) is None
    assert Message.from_frame(msg.encode()).get_int(34) == 8


def test_get_key() -> None:
    msg = message(f"35=0|{HEADER}")
    assert msg.get_key(b"34") == b"2"
    assert msg.get_key(b"112") is None

"""The bundled FIX 4.4 dictionary: counts, known definitions and lookups."""

from __future__ import annotations

import pytest

from trifix.core.dictionary import Dictionary, FieldDef, GroupDef, MessageDef, Structure
from trifix.core.fields import FORMAT_CHECKS
from trifix.core.tags import ADMIN_MSG_TYPES, MsgType, Tag

D = Dictionary.fix44()


def test_fix44_is_built_once() -> None:
    assert Dictionary.fix44() is D


def test_counts() -> None:
    assert D.begin_string == "FIX.4.4"
    assert len(D.fields) == 912
    assert len(D.messages) == 93
    assert len(D.fields_by_key) == 912
    assert len(D.fields_by_name) == 912
    assert repr(D) == "<Dictionary FIX.4.4: 912 fields, 93 messages>"
    # QuickFIX's dictionary files XMLnonFIX (n) with the admin messages; the session layer's
    # ADMIN_MSG_TYPES are the seven of FIX 4.4 vol. 2.
    admin = {m.msg_type for m in D.messages.values() if m.is_admin}
    assert admin == ADMIN_MSG_TYPES | {"n"}


def test_every_tag_enum_member_is_a_dictionary_field() -> None:
    assert {int(t) for t in Tag} == set(D.fields)
    assert all(D.fields[t].name for t in Tag)
    assert {str(m) for m in MsgType} == set(D.messages)


def test_field_definitions() -> None:
    side = D.field(Tag.SIDE)
    assert side is not None
    assert (side.tag, side.name, side.type) == (54, "Side", "CHAR")
    assert side.values is not None
    assert side.values["1"] == "BUY"
    assert side.key == b"54"
    assert side.value_keys is not None
    assert b"1" in side.value_keys
    assert b"Z" not in side.value_keys
    assert side.check is FORMAT_CHECKS["CHAR"]
    assert not side.is_multiple_value
    text = D.fields[Tag.TEXT]
    assert (text.type, text.values, text.value_keys, text.check) == ("STRING", None, None, None)
    assert D.field(957) is None
    assert D.fields_by_key[b"35"].name == "MsgType"
    assert D.fields_by_name["MsgSeqNum"].tag == 34
    assert D.fields[Tag.EXEC_INST].is_multiple_value


def test_field_def_equality_ignores_derived_attributes() -> None:
    a = FieldDef(1, "Account", "STRING")
    assert a == FieldDef(1, "Account", "STRING")
    assert a.key == b"1"
    assert a.check is None
    assert FieldDef(34, "MsgSeqNum", "SEQNUM").check is FORMAT_CHECKS["SEQNUM"]


def test_describe() -> None:
    assert D.fields[Tag.ORD_STATUS].describe(b"2") == "FILLED"
    assert D.fields[Tag.SIDE].describe(b"1") == "BUY"
    assert D.fields[Tag.SIDE].describe(b"Z") is None
    assert D.fields[Tag.TEXT].describe(b"anything") is None
    assert D.fields[Tag.SESSION_REJECT_REASON].describe(b"5") == "VALUE_IS_INCORRECT"
    exec_inst = D.fields[Tag.EXEC_INST]
    assert exec_inst.describe(b"1") == "NOT_HELD"
    assert exec_inst.describe(b"1 2 G") == "NOT_HELD WORK ALL_OR_NONE"
    assert exec_inst.describe(b"1 q") is None
    assert exec_inst.describe(b"1  2") is None


def test_name() -> None:
    assert D.name(35) == "MsgType"
    assert D.name(Tag.NO_MD_ENTRIES) == "NoMDEntries"
    assert D.name(5001) == "5001"
    assert D.name(0) == "0"


def test_message_lookup() -> None:
    logon = D.message("A")
    assert isinstance(logon, MessageDef)
    assert (logon.name, logon.category, logon.is_admin) == ("Logon", "admin", True)
    order = D.message(MsgType.NEW_ORDER_SINGLE)
    assert order is not None
    assert (order.name, order.category, order.is_admin) == ("NewOrderSingle", "app", False)
    assert D.message("ZZ") is None


def test_new_order_single_definition() -> None:
    body = D.messages["D"].body
    assert body.required == frozenset({11, 54, 60, 40})
    assert body.required_keys == (b"11", b"54", b"60", b"40")
    assert body.fields[:4] == (11, 526, 583, 453)
    assert len(body.fields) == len(set(body.fields))
    assert body.keys[b"11"] == 0
    assert body.keys[b"453"] == 3
    assert set(body.groups) == {453, 78, 386, 454, 864, 711, 232}
    parties = body.groups[453]
    assert (parties.count_tag, parties.name, parties.required) == (453, "NoPartyIDs", False)
    assert parties.delimiter == 448
    assert parties.delimiter_key == b"448"
    assert parties.entry.fields == (448, 447, 452, 802)
    sub = parties.entry.groups[802]
    assert (sub.name, sub.delimiter, sub.entry.fields) == ("NoPartySubIDs", 523, (523, 803))
    assert parties.entry.group_keys[b"802"] is sub


def test_required_fields_of_admin_messages() -> None:
    expected = {
        "0": set(),
        "1": {112},
        "2": {7, 16},
        "3": {45},
        "4": {36},
        "5": set(),
        "A": {98, 108},
    }
    assert {t: set(D.messages[t].body.required) for t in expected} == expected


def test_header_and_trailer() -> None:
    assert D.header.fields[:5] == (8, 9, 35, 49, 56)
    assert D.header.required == frozenset({8, 9, 35, 49, 56, 34, 52})
    assert D.header.fields[-1] == 627
    hops = D.header.groups[627]
    assert (hops.name, hops.delimiter, hops.entry.fields) == ("NoHops", 628, (628, 629, 630))
    assert D.trailer.fields == (93, 89, 10)
    assert D.trailer.required == frozenset({10})
    assert D.trailer.groups == {}


def test_market_data_groups_differ_between_w_and_x() -> None:
    w = D.messages["W"].body.groups[268]
    x = D.messages["X"].body.groups[268]
    assert w.name == x.name == "NoMDEntries"
    assert (w.required, x.required) == (True, True)
    assert w.delimiter == 269  # snapshot: entries start with MDEntryType
    assert x.delimiter == 279  # incremental: entries start with MDUpdateAction
    assert w.entry.fields[:4] == (269, 270, 15, 271)
    assert x.entry.fields[:4] == (279, 285, 269, 278)
    assert w.entry.required == frozenset({269})
    assert x.entry.required == frozenset({279})
    assert 55 in x.entry.fields  # the instrument is per entry in X...
    assert 55 not in w.entry.fields  # ...and per message in W
    assert 55 in D.messages["W"].body.fields
    assert w != x


def test_required_field_inside_a_group_entry() -> None:
    orders = D.messages["E"].body.groups[73]
    assert orders.delimiter == 11
    assert orders.entry.required == frozenset({11, 67, 54})


def test_group_lookup() -> None:
    parties = D.group("D", Tag.NO_PARTY_IDS)
    assert isinstance(parties, GroupDef)
    assert parties is D.messages["D"].body.groups[453]
    assert D.group("W", 268) is D.messages["W"].body.groups[268]
    assert D.group("0", Tag.NO_HOPS) is D.header.groups[627]  # header groups in any message
    assert D.group("D", Tag.NO_HOPS) is D.header.groups[627]
    assert D.group("ZZ", Tag.NO_HOPS) is D.header.groups[627]
    assert D.group("0", 268) is None
    assert D.group("D", 802) is None  # nested, not top-level
    assert D.group("D", Tag.SYMBOL) is None


@pytest.mark.parametrize(
    ("length", "data"),
    [
        (90, 91),
        (93, 89),
        (95, 96),
        (212, 213),
        (348, 349),
        (350, 351),
        (352, 353),
        (354, 355),
        (356, 357),
        (358, 359),
        (360, 361),
        (362, 363),
        (364, 365),
        (445, 446),
        (618, 619),
        (621, 622),
    ],
)
def test_length_fields(length: int, data: int) -> None:
    assert D.length_fields[length] == data
    assert D.fields[length].type == "LENGTH"
    assert D.fields[data].type == "DATA"


def test_length_fields_are_exactly_the_data_prefixes() -> None:
    assert len(D.length_fields) == 16
    assert {f.tag for f in D.fields.values() if f.type == "DATA"} == set(D.length_fields.values())
    # BodyLength (9) is a LENGTH field but prefixes no data field.
    assert 9 not in D.length_fields


def test_structure_lookup_tables() -> None:
    s = Structure((1, 2, 3), frozenset({2}), {})
    assert s.keys == {b"1": 0, b"2": 1, b"3": 2}
    assert s.required_keys == (b"2",)
    assert s.group_keys == {}
    assert s == Structure((1, 2, 3), frozenset({2}), {})


def test_small_custom_dictionary() -> None:
    d = Dictionary(
        "FIX.4.4",
        {
            8: ("BeginString", "STRING", None),
            9: ("BodyLength", "LENGTH", None),
            10: ("CheckSum", "STRING", None),
            35: ("MsgType", "STRING", {"0": "HEARTBEAT", "U1": "CUSTOM"}),
            58: ("Text", "STRING", None),
            1000: ("BlobLen", "LENGTH", None),
            1001: ("Blob", "DATA", None),
            1002: ("NoThings", "NUMINGROUP", None),
            1003: ("Thing", "STRING", None),
            1004: ("OddLength", "LENGTH", None),
        },
        [(8, True), (9, True), (35, True)],
        [(10, True)],
        {
            "0": ("Heartbeat", "admin", ()),
            "U1": (
                "Custom",
                "app",
                ((58, True), (1000, False), (1001, False), (1002, False, ((1003, True),))),
            ),
        },
    )
    assert repr(d) == "<Dictionary FIX.4.4: 10 fields, 2 messages>"
    assert d.length_fields == {1000: 1001}  # "Blob" + "Len"; "Odd" is no DATA field
    custom = d.messages["U1"]
    assert (custom.category, custom.is_admin) == ("app", False)
    assert custom.body.required == frozenset({58})
    assert d.group("U1", 1002) is not None
    assert d.group("U1", 1002).entry.fields == (1003,)  # type: ignore[union-attr]
    assert d.messages["0"].is_admin

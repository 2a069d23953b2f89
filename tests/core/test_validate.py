"""Validation against the FIX 4.4 dictionary: the exact Reject for every SessionRejectReason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.core.frames import HEADER, message
from trifix.core.dictionary import Dictionary
from trifix.core.errors import FixError
from trifix.core.message import Message
from trifix.core.tags import MsgType, SessionRejectReason, Tag
from trifix.core.validate import (
    REASON_TEXT,
    ValidationError,
    ValidationOptions,
    Validator,
    check_comp_ids,
    check_sending_time,
)

R = SessionRejectReason
STRICT = Validator()

ORDER = "11=ORD1|21=1|55=EUR/USD|54=1|60=20240304-05:06:07.891|38=1000000|40=2|44=1.08525|59=0|"
"""The body of a valid NewOrderSingle."""

EXEC_REPORT = (
    "37=O1|11=ORD1|17=E1|150=0|39=0|55=EUR/USD|54=1|38=1000000|40=2|44=1.08525|"
    "151=1000000|14=0|6=0|60=20240304-05:06:07.891|"
)
"""The body of a valid ExecutionReport (new)."""


def order(extra: str = "", *, body: str = ORDER) -> str:
    return "35=D|" + HEADER + body + extra


def reject(
    body: str, options: ValidationOptions | None = None, validator: Validator | None = None
) -> ValidationError:
    v = validator or (Validator(options=options) if options else STRICT)
    err = v.validate(message(body))
    assert err is not None, f"accepted: {body}"
    return err


def assert_reject(
    body: str,
    reason: SessionRejectReason,
    ref_tag: int | None,
    ref_msg_type: str,
    options: ValidationOptions | None = None,
) -> ValidationError:
    err = reject(body, options)
    assert (err.reason, err.ref_tag, err.ref_msg_type) == (reason, ref_tag, ref_msg_type), err
    return err


def assert_valid(body: str, options: ValidationOptions | None = None) -> None:
    v = Validator(options=options) if options else STRICT
    assert v.validate(message(body)) is None


# -- valid messages --------------------------------------------------------------------------------


def md_snapshot(entries: int) -> str:
    md = "".join(f"269={i % 2}|270=1.08{500 + i}|271={(i + 1) * 1000000}|" for i in range(entries))
    return f"35=W|{HEADER}262=REQ1|55=EUR/USD|268={entries}|{md}"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(order(), id="NewOrderSingle"),
        pytest.param(order("18=1 2 G|453=0|"), id="NewOrderSingle-multi-value-and-empty-group"),
        pytest.param(f"35=8|{HEADER}{EXEC_REPORT}", id="ExecutionReport"),
        pytest.param(md_snapshot(10), id="MarketDataSnapshotFullRefresh-10-entries"),
        pytest.param(f"35=A|{HEADER}98=0|108=30|141=Y|", id="Logon"),
        pytest.param(f"35=A|{HEADER}98=0|108=30|95=7|96=a|b=c|d|", id="Logon-with-RawData"),
        pytest.param(f"35=0|{HEADER}", id="Heartbeat"),
        pytest.param(f"35=0|{HEADER}112=TEST1|", id="Heartbeat-answering-TestRequest"),
        pytest.param(f"35=1|{HEADER}112=TEST1|", id="TestRequest"),
        pytest.param(f"35=2|{HEADER}7=1|16=0|", id="ResendRequest"),
        pytest.param(f"35=4|{HEADER}123=Y|36=10|", id="SequenceReset"),
        pytest.param(f"35=3|{HEADER}45=3|371=11|372=D|373=1|58=Required tag missing|", id="Reject"),
        pytest.param(f"35=5|{HEADER}58=bye|", id="Logout"),
        pytest.param(f"35=5|{HEADER}93=3|89=s|g|", id="Logout-with-signature"),
        pytest.param(
            "35=0|49=CLIENT|56=BROKER|34=2|52=20240304-05:06:07|627=2|628=HOP1|629=20240304-05:06:07|"
            "630=1|628=HOP2|",
            id="Heartbeat-with-NoHops",
        ),
    ],
)
def test_valid_messages_pass(body: str) -> None:
    assert_valid(body)


def test_market_data_snapshot_reads_all_ten_entries() -> None:
    msg = message(md_snapshot(10))
    entries = msg.group(Tag.NO_MD_ENTRIES)
    assert [e.get_char(Tag.MD_ENTRY_TYPE) for e in entries] == ["0", "1"] * 5
    assert [str(e.get_decimal(Tag.MD_ENTRY_PX)) for e in entries] == [
        f"1.08{500 + i}" for i in range(10)
    ]


def test_valid_messages_built_with_the_encoder_pass() -> None:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.SENDER_COMP_ID, "CLIENT"),
        (Tag.TARGET_COMP_ID, "BROKER"),
        (Tag.MSG_SEQ_NUM, 7),
        (Tag.SENDING_TIME, datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)),
        (Tag.CL_ORD_ID, "ORD7"),
        (Tag.SYMBOL, "EUR/USD"),
        (Tag.SIDE, "2"),
        (Tag.TRANSACT_TIME, datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)),
        (Tag.ORDER_QTY, 100),
        (Tag.ORD_TYPE, "1"),
    )
    msg.add_group(
        Tag.NO_PARTY_IDS,
        [
            [(Tag.PARTY_ID, "DESK1"), (Tag.PARTY_ID_SOURCE, "D"), (Tag.PARTY_ROLE, 1)],
            [
                (Tag.PARTY_ID, "TRADER9"),
                (Tag.PARTY_ID_SOURCE, "D"),
                (Tag.PARTY_ROLE, 12),
                (Tag.NO_PARTY_SUB_IDS, [[(Tag.PARTY_SUB_ID, "X"), (Tag.PARTY_SUB_ID_TYPE, 1)]]),
            ],
        ],
    )
    assert STRICT.validate(msg) is None
    assert STRICT.validate(Message.from_frame(msg.encode())) is None


# -- 0: invalid tag number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "ref_tag"),
    [("abc=1", 0), ("0=1", 0), ("055=EUR/USD", 55), ("-5=1", 0), ("=1", 0), ("1a=1", 0)],
)
def test_invalid_tag_number(field: str, ref_tag: int) -> None:
    err = assert_reject(order(field + "|"), R.INVALID_TAG_NUMBER, ref_tag, "D")
    assert err.reject_fields()[:3] == [(371, ref_tag), (372, "D"), (373, 0)]


def test_invalid_tag_number_in_the_header() -> None:
    assert_reject(
        "35=0|49=CLIENT|x9=1|56=BROKER|34=2|52=20240304-05:06:07|", R.INVALID_TAG_NUMBER, 0, "0"
    )


# -- 1: required tag missing -----------------------------------------------------------------------


def test_required_tag_missing_in_the_body() -> None:
    err = assert_reject(
        "35=D|" + HEADER + ORDER.replace("11=ORD1|", ""), R.REQUIRED_TAG_MISSING, 11, "D"
    )
    assert err.text == "Required tag missing, field=11"
    assert err.reject_fields() == [
        (Tag.REF_TAG_ID, 11),
        (Tag.REF_MSG_TYPE, "D"),
        (Tag.SESSION_REJECT_REASON, 1),
        (Tag.TEXT, "Required tag missing, field=11"),
    ]


def test_required_tag_missing_reports_the_lowest_missing_tag() -> None:
    body = ORDER.replace("11=ORD1|", "").replace("40=2|", "").replace("54=1|", "")
    assert_reject("35=D|" + HEADER + body, R.REQUIRED_TAG_MISSING, 11, "D")
    body = ORDER.replace("40=2|", "").replace("60=20240304-05:06:07.891|", "")
    assert_reject("35=D|" + HEADER + body, R.REQUIRED_TAG_MISSING, 40, "D")


@pytest.mark.parametrize("tag", [49, 56, 34, 52])
def test_required_header_tag_missing(tag: int) -> None:
    header = "|".join(f for f in HEADER.split("|") if f and not f.startswith(f"{tag}=")) + "|"
    assert_reject(f"35=0|{header}", R.REQUIRED_TAG_MISSING, tag, "0")


def test_required_group_missing() -> None:
    assert_reject(f"35=W|{HEADER}262=REQ1|55=EUR/USD|", R.REQUIRED_TAG_MISSING, 268, "W")


def test_required_field_inside_a_group_entry() -> None:
    # NewOrderList: every NoOrders (73) entry needs ListSeqNo (67) and Side (54).
    head = f"35=E|{HEADER}66=LIST1|394=3|68=2|73=2|"
    first = "11=A|67=1|55=EUR/USD|54=1|40=1|"
    assert_valid(head + first + "11=B|67=2|55=EUR/USD|54=2|40=1|")
    assert_reject(head + first + "11=B|55=EUR/USD|54=2|40=1|", R.REQUIRED_TAG_MISSING, 67, "E")
    assert_reject(head + first + "11=B|67=2|55=EUR/USD|40=1|", R.REQUIRED_TAG_MISSING, 54, "E")


def test_a_required_field_inside_a_group_does_not_count_at_top_level() -> None:
    # ClOrdID (11) appears only inside the NoOrders entries of this NewOrderList; the
    # message-level check must not see it. ListID (66) is the top-level required tag here.
    body = f"35=E|{HEADER}394=3|68=1|73=1|11=A|67=1|54=1|66=LIST1|"
    assert_valid(body)
    body = f"35=E|{HEADER}394=3|68=1|73=1|11=A|67=1|54=1|"
    assert_reject(body, R.REQUIRED_TAG_MISSING, 66, "E")


def test_message_without_msg_type_first() -> None:
    msg = Message([b"49", b"35"], [b"CLIENT", b"0"])
    err = STRICT.validate(msg)
    assert err is not None
    assert (err.reason, err.ref_tag, err.ref_msg_type) == (R.REQUIRED_TAG_MISSING, 35, "")
    assert err.reject_fields() == [(371, 35), (373, 1), (58, "Required tag missing, field=35")]
    err = STRICT.validate(Message([], []))
    assert err is not None
    assert (err.reason, err.ref_tag) == (R.REQUIRED_TAG_MISSING, 35)


# -- 2: tag not defined for this message type ------------------------------------------------------


def test_tag_not_defined_for_this_message_type() -> None:
    assert_reject(f"35=0|{HEADER}11=ORD1|", R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE, 11, "0")
    assert_reject(order("112=T|"), R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE, 112, "D")


def test_allow_unknown_message_fields() -> None:
    lax = ValidationOptions(allow_unknown_message_fields=True)
    assert_valid(f"35=0|{HEADER}11=ORD1|", lax)
    assert_valid(order("112=T|"), lax)
    # Only fields the dictionary knows: an undefined tag is still rejected.
    assert_reject(order("1000=x|"), R.UNDEFINED_TAG, 1000, "D", lax)
    # And the checks of the field's own value still apply where the message defines it.
    assert_reject(order("112=T|54=Z|"), R.VALUE_IS_INCORRECT, 54, "D", lax)


# -- 3: undefined tag ------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", [957, 1000, 4999])
def test_undefined_tag(tag: int) -> None:
    assert Dictionary.fix44().field(tag) is None
    assert_reject(order(f"{tag}=x|"), R.UNDEFINED_TAG, tag, "D")


@pytest.mark.parametrize("tag", [5000, 5001, 9999, 20000])
def test_user_defined_tags_accepted_by_default(tag: int) -> None:
    assert_valid(order(f"{tag}=x|"))
    assert_valid(f"35=0|{HEADER}{tag}=x|")


@pytest.mark.parametrize("tag", [5000, 5001, 9999])
def test_user_defined_tags_rejected_when_validated(tag: int) -> None:
    opts = ValidationOptions(user_defined_fields=True)
    assert_reject(order(f"{tag}=x|"), R.UNDEFINED_TAG, tag, "D", opts)


# -- 4: tag specified without a value --------------------------------------------------------------


def test_tag_without_value() -> None:
    err = assert_reject(order("58=|"), R.TAG_SPECIFIED_WITHOUT_A_VALUE, 58, "D")
    assert err.text == "Tag specified without a value, field=58"
    assert_reject(f"35=0|{HEADER}112=|", R.TAG_SPECIFIED_WITHOUT_A_VALUE, 112, "0")
    assert_reject(
        "35=0|49=CLIENT|56=|34=2|52=20240304-05:06:07|", R.TAG_SPECIFIED_WITHOUT_A_VALUE, 56, "0"
    )


def test_tag_without_value_inside_a_group() -> None:
    assert_reject(order("453=1|448=P1|447=|452=1|"), R.TAG_SPECIFIED_WITHOUT_A_VALUE, 447, "D")


def test_empty_values_accepted_when_not_validated() -> None:
    opts = ValidationOptions(fields_have_values=False)
    assert_valid(order("58=|"), opts)
    assert_valid(order("453=1|448=P1|447=|452=1|"), opts)
    # An empty value skips the format checks too.
    assert_valid("35=D|" + HEADER + ORDER.replace("44=1.08525", "44="), opts)


# -- 5: value is incorrect -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ref_tag", "msg_type"),
    [
        pytest.param(ORDER.replace("54=1", "54=Z"), 54, "D", id="Side=Z"),
        pytest.param(ORDER.replace("40=2", "40=Z"), 40, "D", id="OrdType=Z"),
        pytest.param(ORDER + "18=1 2 q|", 18, "D", id="ExecInst-one-bad-token"),
        pytest.param(ORDER + "18=q 1|", 18, "D", id="ExecInst-first-token-bad"),
        pytest.param(ORDER + "453=1|448=P1|447=D|452=99999|", 452, "D", id="PartyRole-in-group"),
    ],
)
def test_value_is_incorrect(body: str, ref_tag: int, msg_type: str) -> None:
    err = assert_reject(f"35={msg_type}|{HEADER}{body}", R.VALUE_IS_INCORRECT, ref_tag, msg_type)
    assert err.text == f"Value is incorrect (out of range) for this tag, field={ref_tag}"


def test_value_is_incorrect_in_admin_messages() -> None:
    assert_reject(f"35=A|{HEADER}98=9|108=30|", R.VALUE_IS_INCORRECT, 98, "A")
    assert_reject(f"35=3|{HEADER}45=1|373=18|", R.VALUE_IS_INCORRECT, 373, "3")


# -- 6: incorrect data format ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg_type", "body", "ref_tag"),
    [
        pytest.param("D", ORDER + "226=1.5|", 226, id="int-with-fraction"),
        pytest.param("D", ORDER + "226=x|", 226, id="int-letters"),
        pytest.param("A", "98=0|108=3x|", 108, id="int-HeartBtInt"),
        pytest.param("2", "7=1|16=-1|", 16, id="seqnum-negative"),
        pytest.param("D", ORDER.replace("38=1000000", "38=1e6"), 38, id="qty-exponent"),
        pytest.param("D", ORDER.replace("44=1.08525", "44=1.2.3"), 44, id="price-two-points"),
        pytest.param("D", ORDER.replace("44=1.08525", "44=NaN"), 44, id="price-nan"),
        pytest.param("D", ORDER.replace("44=1.08525", "44=1,5"), 44, id="price-comma"),
        pytest.param("D", ORDER.replace(".891", ".8912"), 60, id="timestamp-4-digit-fraction"),
        pytest.param("D", ORDER.replace("05:06:07", "25:06:07"), 60, id="timestamp-hour-25"),
        pytest.param("D", ORDER.replace("20240304-", "20241304-"), 60, id="timestamp-month-13"),
        pytest.param("D", ORDER.replace("20240304-", "2024-03-04T"), 60, id="timestamp-iso"),
        pytest.param("A", "98=0|108=30|141=X|", 141, id="boolean-enumerated"),
        pytest.param("A", "98=0|108=30|141=yes|", 141, id="boolean-word"),
        pytest.param("8", EXEC_REPORT + "912=X|", 912, id="boolean-not-enumerated"),
        pytest.param("D", ORDER.replace("54=1", "54=12"), 54, id="char-enumerated-two-chars"),
        pytest.param("D", ORDER + "206=AB|", 206, id="char-two-chars"),
        pytest.param("D", ORDER + "206= |", 206, id="char-space"),
        pytest.param("D", ORDER + "18=1  2|", 18, id="multi-double-space"),
        pytest.param("D", ORDER + "18=1 |", 18, id="multi-trailing-space"),
        pytest.param("D", ORDER + "75=20240230x|", 75, id="localmktdate"),
        pytest.param("D", ORDER + "200=202413|", 200, id="monthyear-month-13"),
        pytest.param("D", ORDER + "200=202403w6|", 200, id="monthyear-week-6"),
        pytest.param("D", ORDER + "453=x|", 453, id="numingroup"),
        pytest.param("D", ORDER + "453=1|448=P1|447=D|452=x|", 452, id="int-in-group"),
    ],
)
def test_incorrect_data_format(msg_type: str, body: str, ref_tag: int) -> None:
    err = assert_reject(
        f"35={msg_type}|{HEADER}{body}", R.INCORRECT_DATA_FORMAT_FOR_VALUE, ref_tag, msg_type
    )
    assert err.text == f"Incorrect data format for value, field={ref_tag}"


@pytest.mark.parametrize("sending_time", ["20240304-05:06:07", "20240304-05:06:07.891123"])
def test_timestamp_precisions_are_well_formed(sending_time: str) -> None:
    assert_valid(f"35=0|49=CLIENT|56=BROKER|34=2|52={sending_time}|")


def test_incorrect_data_format_in_the_header() -> None:
    assert_reject(
        "35=0|49=CLIENT|56=BROKER|34=two|52=20240304-05:06:07|",
        R.INCORRECT_DATA_FORMAT_FOR_VALUE,
        34,
        "0",
    )
    assert_reject(
        "35=0|49=CLIENT|56=BROKER|34=2|52=20240304|",
        R.INCORRECT_DATA_FORMAT_FOR_VALUE,
        52,
        "0",
    )


# -- 9: CompID problem -----------------------------------------------------------------------------


def test_comp_ids_match() -> None:
    msg = message(f"35=0|{HEADER}")
    assert check_comp_ids(msg, sender_comp_id="BROKER", target_comp_id="CLIENT") is None


@pytest.mark.parametrize(
    ("header", "ref_tag"),
    [
        ("49=OTHER|56=BROKER|", 49),
        ("49=CLIENT|56=OTHER|", 56),
        ("49=BROKER|56=CLIENT|", 49),  # our own identity reflected back
        ("56=BROKER|", 49),
        ("49=CLIENT|", 56),
        ("49=client|56=BROKER|", 49),  # CompIDs are case-sensitive
    ],
)
def test_comp_id_problem(header: str, ref_tag: int) -> None:
    msg = message(f"35=0|{header}34=2|52=20240304-05:06:07|")
    err = check_comp_ids(msg, sender_comp_id="BROKER", target_comp_id="CLIENT")
    assert err is not None
    assert (err.reason, err.ref_tag, err.ref_msg_type) == (R.COMP_ID_PROBLEM, ref_tag, "0")
    assert err.reject_fields() == [
        (371, ref_tag),
        (372, "0"),
        (373, 9),
        (58, f"CompID problem, field={ref_tag}"),
    ]


# -- 10: SendingTime accuracy ----------------------------------------------------------------------

SENT = datetime(2024, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), timedelta(seconds=120), -timedelta(seconds=120), timedelta(seconds=-1)],
)
def test_sending_time_within_latency(offset: timedelta) -> None:
    msg = message(f"35=0|{HEADER}")
    assert check_sending_time(msg, SENT + offset) is None


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(timedelta(seconds=120, microseconds=1), id="message-too-old"),
        pytest.param(-timedelta(seconds=120, microseconds=1), id="message-from-the-future"),
        pytest.param(timedelta(days=1), id="a-day-late"),
    ],
)
def test_sending_time_accuracy_problem(offset: timedelta) -> None:
    msg = message(f"35=D|{HEADER}{ORDER}")
    err = check_sending_time(msg, SENT + offset)
    assert err is not None
    assert (err.reason, err.ref_tag, err.ref_msg_type) == (R.SENDING_TIME_ACCURACY_PROBLEM, 52, "D")
    assert err.reject_fields()[:3] == [(371, 52), (372, "D"), (373, 10)]


def test_sending_time_custom_latency() -> None:
    msg = message(f"35=0|{HEADER}")
    assert check_sending_time(msg, SENT + timedelta(seconds=5), timedelta(seconds=5)) is None
    err = check_sending_time(msg, SENT + timedelta(seconds=6), timedelta(seconds=5))
    assert err is not None
    assert err.reason == R.SENDING_TIME_ACCURACY_PROBLEM
    err = check_sending_time(msg, SENT - timedelta(seconds=6), timedelta(seconds=5))
    assert err is not None
    assert err.reason == R.SENDING_TIME_ACCURACY_PROBLEM


def test_sending_time_missing_or_malformed() -> None:
    msg = message("35=0|49=CLIENT|56=BROKER|34=2|")
    err = check_sending_time(msg, SENT)
    assert err is not None
    assert (err.reason, err.ref_tag, err.ref_msg_type) == (R.REQUIRED_TAG_MISSING, 52, "0")
    msg = message("35=0|49=CLIENT|56=BROKER|34=2|52=yesterday|")
    err = check_sending_time(msg, SENT)
    assert err is not None
    assert (err.reason, err.ref_tag) == (R.INCORRECT_DATA_FORMAT_FOR_VALUE, 52)


# -- 11: invalid MsgType ---------------------------------------------------------------------------


@pytest.mark.parametrize("msg_type", ["ZZ", "DD", "U", "BZ", "0 ", " 0"])
def test_invalid_msg_type(msg_type: str) -> None:
    err = assert_reject(f"35={msg_type}|{HEADER}", R.INVALID_MSG_TYPE, 35, msg_type)
    assert err.reject_fields() == [
        (371, 35),
        (372, msg_type),
        (373, 11),
        (58, "Invalid MsgType, field=35"),
    ]


def test_known_application_messages_are_valid_even_if_unsupported() -> None:
    # A MsgType the dictionary knows is not reason 11: the application answers it (35=j).
    assert_valid(f"35=BE|{HEADER}923=U1|924=1|553=user|")


# -- 13: tag appears more than once ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ref_tag"),
    [
        pytest.param(order("55=GBP/USD|"), 55, id="body"),
        pytest.param(order("11=ORD2|"), 11, id="body-required"),
        pytest.param(
            "35=0|49=CLIENT|56=BROKER|49=CLIENT|34=2|52=20240304-05:06:07|", 49, id="header"
        ),
        pytest.param(order("453=1|448=P1|447=D|452=1|55=GBP/USD|"), 55, id="after-a-group"),
        pytest.param(order("453=1|448=P1|447=D|452=1|453=1|448=P2|"), 453, id="group-twice"),
        pytest.param(order("453=1|448=P1|447=D|447=D|452=1|"), 447, id="inside-an-entry"),
    ],
)
def test_tag_appears_more_than_once(body: str, ref_tag: int) -> None:
    assert_reject(body, R.TAG_APPEARS_MORE_THAN_ONCE, ref_tag, "D" if "35=D" in body else "0")


def test_group_fields_may_repeat_across_entries() -> None:
    assert_valid(order("453=2|448=P1|447=D|452=1|448=P2|447=D|452=3|"))


# -- 14: tag specified out of required order -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ref_tag"),
    [
        pytest.param(order("50=DESK|"), 50, id="header-field-after-body"),
        pytest.param(
            "35=D|49=CLIENT|56=BROKER|34=2|11=ORD1|52=20240304-05:06:07|"
            + ORDER.replace("11=ORD1|", ""),
            52,
            id="required-header-field-after-body",
        ),
        pytest.param(order("93=2|89=ab|58=late|"), 58, id="body-field-after-trailer"),
        pytest.param(
            "35=0|49=CLIENT|56=BROKER|93=2|89=ab|34=2|52=20240304-05:06:07|",
            34,
            id="header-field-after-trailer",
        ),
    ],
)
def test_tag_out_of_required_order(body: str, ref_tag: int) -> None:
    msg_type = body[3]
    assert_reject(body, R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, ref_tag, msg_type)
    assert_valid(body, ValidationOptions(fields_out_of_order=False))


@pytest.mark.parametrize(
    ("body", "ref_tag"),
    [
        pytest.param(order("8=FIX.4.4|"), 8, id="BeginString-in-the-body"),
        pytest.param(order("9=12|"), 9, id="BodyLength-in-the-body"),
        pytest.param("35=D|" + HEADER + "10=123|" + ORDER, 10, id="CheckSum-in-the-body"),
        pytest.param("35=D|8=FIX.4.4|" + HEADER + ORDER, 8, id="BeginString-again-in-the-header"),
    ],
)
def test_framing_fields_inside_the_message_are_out_of_order(body: str, ref_tag: int) -> None:
    # 8 and 9 must be the first two fields and 10 the last: the framer has read those, so any
    # other one is out of order (14), not a tag the message type lacks (2).
    assert_reject(body, R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, ref_tag, "D")
    assert_valid(body, ValidationOptions(fields_out_of_order=False))


def test_header_fields_in_any_order_within_the_header() -> None:
    assert_valid("35=0|52=20240304-05:06:07|34=2|56=BROKER|49=CLIENT|")


def test_trailer_fields_are_accepted_at_the_end() -> None:
    assert_valid(order("93=4|89=a|=b|"))


# -- 15: repeating group fields out of order -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ref_tag"),
    [
        pytest.param(
            order("453=1|447=D|448=P1|452=1|"), 447, id="entry-not-starting-with-delimiter"
        ),
        pytest.param(order("453=1|448=P1|452=1|447=D|"), 447, id="fields-out-of-order"),
        pytest.param(order("453=2|448=P1|447=D|452=1|448=P2|452=3|447=D|"), 447, id="second-entry"),
        pytest.param(order("448=P1|447=D|"), 448, id="group-field-without-count"),
        pytest.param(
            order("453=1|448=P1|447=D|452=1|55=X|447=D|"),
            447,
            id="group-field-after-the-group-ended",
        ),
    ],
)
def test_repeating_group_fields_out_of_order(body: str, ref_tag: int) -> None:
    assert_reject(body, R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, ref_tag, "D")


def test_header_group_field_outside_its_group() -> None:
    assert_reject(f"35=0|{HEADER}628=HOP1|", R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 628, "0")


# -- 16: incorrect NumInGroup count ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "declared", "found"),
    [
        pytest.param(order("453=2|448=P1|447=D|452=1|"), 2, 1, id="count-too-high"),
        pytest.param(order("453=1|448=P1|447=D|452=1|448=P2|447=D|452=3|"), 1, 2, id="too-low"),
        pytest.param(order("453=1|"), 1, 0, id="no-entries-at-end"),
        pytest.param(order("453=1|58=text|"), 1, 0, id="no-entries-before-field"),
        pytest.param(order("453=0|448=P1|"), 0, 1, id="zero-count-with-entry"),
    ],
)
def test_incorrect_num_in_group(body: str, declared: int, found: int) -> None:
    err = assert_reject(body, R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP, 453, "D")
    assert err.text == (
        f"Incorrect NumInGroup count for repeating group, field=453 "
        f"(NumInGroup says {declared}, found {found})"
    )


def test_incorrect_num_in_group_market_data() -> None:
    body = md_snapshot(10).replace("268=10|", "268=11|")
    assert_reject(body, R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP, 268, "W")
    body = md_snapshot(10).replace("268=10|", "268=9|")
    assert_reject(body, R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP, 268, "W")


def test_group_entry_values_are_checked() -> None:
    body = md_snapshot(2)
    assert_valid(body)
    multi = body + "276=A B|"  # QuoteCondition, in the last entry
    assert_valid(multi)
    assert_reject(
        body.replace("270=1.08501", "270=abc"), R.INCORRECT_DATA_FORMAT_FOR_VALUE, 270, "W"
    )
    assert_reject(body + "276=A Q|", R.VALUE_IS_INCORRECT, 276, "W")


def test_nested_group_count_at_the_end_of_the_message() -> None:
    assert_valid(order("453=1|448=P1|802=0|"))
    assert_reject(
        order("453=1|448=P1|802=1|"), R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP, 802, "D"
    )


def test_incorrect_num_in_header_group() -> None:
    body = "35=0|49=CLIENT|56=BROKER|34=2|52=20240304-05:06:07|627=3|628=H1|628=H2|"
    assert_reject(body, R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP, 627, "0")


# -- nested groups: NoPartyIDs (453) holding NoPartySubIDs (802) -----------------------------------

PARTIES = "453=2|448=P1|447=D|452=1|802=2|523=SUB1|803=1|523=SUB2|803=2|448=P2|447=D|452=3|"


def test_nested_groups_valid() -> None:
    assert_valid(order(PARTIES))
    assert_valid(order(PARTIES + "58=after the groups|"))
    # The nested group in the last entry, with the message ending right after it.
    assert_valid(order("453=1|448=P1|447=D|452=1|802=1|523=SUB1|803=1|"))
    assert_valid(order("453=1|448=P1|802=1|523=SUB1|"))


@pytest.mark.parametrize(
    ("parties", "reason", "ref_tag"),
    [
        pytest.param(
            PARTIES.replace("802=2", "802=3"),
            R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP,
            802,
            id="nested-count-too-high",
        ),
        pytest.param(
            PARTIES.replace("802=2", "802=1"),
            R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP,
            802,
            id="nested-count-too-low",
        ),
        pytest.param(
            PARTIES.replace("523=SUB1|803=1", "803=1|523=SUB1"),
            R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
            803,
            id="nested-entry-not-starting-with-delimiter",
        ),
        pytest.param(
            PARTIES.replace("803=1|", "803=1|803=3|"),
            R.TAG_APPEARS_MORE_THAN_ONCE,
            803,
            id="nested-duplicate",
        ),
        pytest.param(
            PARTIES.replace("452=1|802=2|523=SUB1|803=1|523=SUB2|803=2|", "802=1|523=S|452=1|"),
            R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
            452,
            id="outer-field-out-of-order-after-nested",
        ),
        pytest.param(
            PARTIES.replace("803=2|", "803=2|447=D|"),
            R.TAG_APPEARS_MORE_THAN_ONCE,
            447,
            id="outer-field-repeated-after-nested",
        ),
        pytest.param(
            PARTIES.replace("803=2", "803=x"),
            R.INCORRECT_DATA_FORMAT_FOR_VALUE,
            803,
            id="nested-bad-format",
        ),
        pytest.param(
            PARTIES.replace("802=2", "802="),
            R.TAG_SPECIFIED_WITHOUT_A_VALUE,
            802,
            id="nested-count-without-value",
        ),
        pytest.param(
            PARTIES.replace("453=2", "453=3"),
            R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP,
            453,
            id="outer-count-too-high",
        ),
    ],
)
def test_nested_groups_invalid(parties: str, reason: SessionRejectReason, ref_tag: int) -> None:
    assert_reject(order(parties), reason, ref_tag, "D")


def test_nested_group_field_outside_its_group() -> None:
    assert_reject(order("523=SUB1|"), R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 523, "D")


# -- the error value -------------------------------------------------------------------------------


def test_validation_error_value() -> None:
    err = ValidationError(R.VALUE_IS_INCORRECT, 54, "D", "Z is not a Side")
    assert isinstance(err, FixError)
    assert (
        str(err)
        == err.text
        == "Value is incorrect (out of range) for this tag, field=54 (Z is not a Side)"
    )
    assert repr(err) == "ValidationError(VALUE_IS_INCORRECT, ref_tag=54, ref_msg_type='D')"
    err = ValidationError(R.OTHER, None, "")
    assert err.text == "OTHER"
    assert err.reject_fields() == [(373, 99), (58, "OTHER")]


def test_every_reason_the_validator_produces_has_a_text() -> None:
    produced = {
        R.INVALID_TAG_NUMBER,
        R.REQUIRED_TAG_MISSING,
        R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE,
        R.UNDEFINED_TAG,
        R.TAG_SPECIFIED_WITHOUT_A_VALUE,
        R.VALUE_IS_INCORRECT,
        R.INCORRECT_DATA_FORMAT_FOR_VALUE,
        R.COMP_ID_PROBLEM,
        R.SENDING_TIME_ACCURACY_PROBLEM,
        R.INVALID_MSG_TYPE,
        R.TAG_APPEARS_MORE_THAN_ONCE,
        R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
        R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
        R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP,
    }
    assert set(REASON_TEXT) == produced


def test_validator_is_reusable_across_message_types() -> None:
    v = Validator()
    for _ in range(2):  # second round uses the compiled tables
        assert v.validate(message(order())) is None
        assert v.validate(message(md_snapshot(3))) is None
        err = v.validate(message(order("54=Z|")))
        assert err is not None
        # Value checks run in the pass over the fields, before the duplicate check.
        assert (err.reason, err.ref_tag) == (R.VALUE_IS_INCORRECT, 54)

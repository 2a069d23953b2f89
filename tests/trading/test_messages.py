"""Typed messages: wire round trips, validity against the dictionary, extras kept, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trifix.core.message import Message
from trifix.core.tags import (
    BusinessRejectReason,
    CxlRejReason,
    CxlRejResponseTo,
    ExecType,
    MassStatusReqType,
    MDEntryType,
    MDReqRejReason,
    MDUpdateAction,
    MsgType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    QuoteCancelType,
    QuoteType,
    Side,
    SubscriptionRequestType,
    Tag,
    TimeInForce,
)
from trifix.core.validate import Validator
from trifix.trading.errors import TradingMessageError
from trifix.trading.messages import (
    MESSAGE_CLASSES,
    BusinessMessageReject,
    ExecutionReport,
    MarketDataIncrementalRefresh,
    MarketDataRequest,
    MarketDataRequestReject,
    MarketDataSnapshotFullRefresh,
    MDEntry,
    MDIncrement,
    NewOrderSingle,
    OrderCancelReject,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrderMassStatusRequest,
    OrderStatusRequest,
    Quote,
    QuoteCancel,
    QuoteRequest,
    WireEntry,
    WireMessage,
    decode,
    from_dict,
    to_dict,
)
from trifix.trading.messages._wire import fix

T = datetime(2026, 11, 25, 9, 30, 15, 123000, tzinfo=UTC)
D = Decimal
VALIDATOR = Validator()

SAMPLES: list[WireMessage] = [
    NewOrderSingle(
        cl_ord_id="A1",
        symbol="EURUSD",
        side=Side.BUY,
        order_qty=D(1000000),
        ord_type=OrdType.LIMIT,
        price=D("1.0850"),
        time_in_force=TimeInForce.DAY,
        transact_time=T,
        account="ACC-1",
        currency="EUR",
        text="hello",
    ),
    OrderCancelRequest(
        cl_ord_id="A2", orig_cl_ord_id="A1", symbol="EURUSD", side=Side.BUY, transact_time=T
    ),
    OrderCancelReplaceRequest(
        cl_ord_id="A3",
        orig_cl_ord_id="A2",
        symbol="EURUSD",
        side=Side.SELL,
        ord_type=OrdType.LIMIT,
        order_qty=D(500),
        price=D("1.09"),
        order_id="O1",
        transact_time=T,
    ),
    ExecutionReport(
        order_id="O1",
        exec_id="E1",
        exec_type=ExecType.TRADE,
        ord_status=OrdStatus.PARTIALLY_FILLED,
        symbol="EURUSD",
        side=Side.BUY,
        leaves_qty=D(400),
        cum_qty=D(600),
        avg_px=D("1.0849"),
        cl_ord_id="A1",
        order_qty=D(1000),
        price=D("1.0850"),
        ord_type=OrdType.LIMIT,
        last_qty=D(600),
        last_px=D("1.0849"),
        transact_time=T,
        last_rpt_requested=True,
        tot_num_reports=3,
    ),
    ExecutionReport(
        order_id="NONE",
        exec_id="E2",
        exec_type=ExecType.REJECTED,
        ord_status=OrdStatus.REJECTED,
        symbol="XXX",
        side=Side.SELL,
        leaves_qty=D(0),
        cum_qty=D(0),
        avg_px=D(0),
        ord_rej_reason=OrdRejReason.UNKNOWN_SYMBOL,
        text="unknown symbol",
    ),
    OrderCancelReject(
        order_id="O1",
        cl_ord_id="A2",
        orig_cl_ord_id="A1",
        ord_status=OrdStatus.FILLED,
        cxl_rej_response_to=CxlRejResponseTo.ORDER_CANCEL_REQUEST,
        cxl_rej_reason=CxlRejReason.TOO_LATE_TO_CANCEL,
    ),
    OrderStatusRequest(cl_ord_id="A1", symbol="EURUSD", side=Side.BUY, order_id="O1"),
    OrderMassStatusRequest(
        mass_status_req_id="M1",
        mass_status_req_type=MassStatusReqType.STATUS_FOR_ALL_ORDERS,
        side=Side.BUY,
    ),
    MarketDataRequest(
        md_req_id="R1",
        subscription_request_type=SubscriptionRequestType.SNAPSHOT_AND_UPDATES,
        market_depth=5,
        entry_types=(MDEntryType.BID, MDEntryType.OFFER, MDEntryType.TRADE),
        symbols=("EURUSD", "GBPUSD"),
        aggregated_book=True,
    ),
    MarketDataSnapshotFullRefresh(
        symbol="EURUSD",
        md_req_id="R1",
        entries=(
            MDEntry(entry_type=MDEntryType.BID, price=D("1.0849"), size=D(1000000)),
            MDEntry(entry_type=MDEntryType.OFFER, price=D("1.0851"), size=D(2000000)),
            MDEntry(entry_type=MDEntryType.TRADE, price=D("1.0850"), size=D(5), time=T.timetz()),
        ),
    ),
    MarketDataIncrementalRefresh(
        md_req_id="R1",
        entries=(
            MDIncrement(
                update_action=MDUpdateAction.NEW,
                entry_type=MDEntryType.BID,
                symbol="EURUSD",
                price=D("1.0848"),
                size=D(3),
                entry_id="b1",
            ),
            MDIncrement(
                update_action=MDUpdateAction.DELETE,
                entry_type=MDEntryType.OFFER,
                symbol="EURUSD",
                entry_id="o7",
            ),
        ),
    ),
    MarketDataRequestReject(
        md_req_id="R9", reason=MDReqRejReason.UNKNOWN_SYMBOL, text="no such symbol"
    ),
    QuoteRequest(
        quote_req_id="Q1",
        symbol="EURUSD",
        side=Side.BUY,
        order_qty=D(1000000),
        quote_type=QuoteType.TRADEABLE,
        valid_until_time=T,
    ),
    Quote(
        quote_id="S1",
        quote_req_id="Q1",
        symbol="EURUSD",
        quote_type=QuoteType.TRADEABLE,
        bid_px=D("1.0849"),
        offer_px=D("1.0851"),
        bid_size=D(5000000),
        offer_size=D(5000000),
        min_bid_size=D(1000),
        min_offer_size=D(1000),
        valid_until_time=T,
    ),
    QuoteCancel(
        quote_id="S1",
        quote_cancel_type=QuoteCancelType.CANCEL_FOR_ONE_OR_MORE_SECURITIES,
        symbol="EURUSD",
    ),
    BusinessMessageReject(
        ref_msg_type=MsgType.QUOTE_STATUS_REQUEST,
        business_reject_reason=BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE,
        ref_seq_num=7,
        text="not supported",
    ),
]


def wire(msg: Message) -> Message:
    """`msg` with a standard header, encoded and read back as a receiver would."""
    msg.stamp_header(
        [(b"49", b"GW"), (b"56", b"LP"), (b"34", b"2"), (b"52", b"20261125-09:30:15.123")]
    )
    return Message.from_frame(msg.encode())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_wire_round_trip_is_exact_and_valid(sample: WireMessage) -> None:
    received = wire(sample.to_message())
    assert VALIDATOR.validate(received) is None, received
    assert decode(received) == sample
    assert type(sample).from_message(received) == sample


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_dict_round_trip_goes_through_json(sample: WireMessage) -> None:
    data = json.loads(json.dumps(to_dict(sample)))
    assert from_dict(type(sample), data) == sample


def test_every_typed_class_is_registered_by_msg_type() -> None:
    assert {type(s) for s in SAMPLES} == set(MESSAGE_CLASSES.values())
    assert all(MESSAGE_CLASSES[cls.MSG_TYPE] is cls for cls in MESSAGE_CLASSES.values())


def test_unmodelled_fields_and_groups_survive_in_wire_order() -> None:
    raw = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "A1"),
        (Tag.HANDL_INST, "1"),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, T),
        (Tag.ORDER_QTY, 10),
        (Tag.ORD_TYPE, "1"),
        (5001, "custom"),
    )
    raw.add_group(Tag.NO_PARTY_IDS, [[(Tag.PARTY_ID, "DESK"), (Tag.PARTY_ID_SOURCE, "D")]])
    order = NewOrderSingle.from_message(wire(raw))
    assert order.extra == ((21, "1"), (5001, "custom"), (453, "1"), (448, "DESK"), (447, "D"))
    again = wire(order.to_message())
    assert VALIDATOR.validate(again) is None
    assert NewOrderSingle.from_message(again) == order
    assert [g.get_str(Tag.PARTY_ID) for g in again.group(Tag.NO_PARTY_IDS)] == ["DESK"]


def test_unmodelled_fields_of_a_group_entry_stay_with_their_entry() -> None:
    raw = Message.new(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, (Tag.SYMBOL, "EURUSD"))
    raw.add_group(
        Tag.NO_MD_ENTRIES,
        [
            [(Tag.MD_ENTRY_TYPE, "0"), (Tag.MD_ENTRY_PX, "1.1"), (Tag.MD_ENTRY_DATE, "20261125")],
            [(Tag.MD_ENTRY_TYPE, "1"), (Tag.MD_ENTRY_PX, "1.2")],
        ],
    )
    snapshot = MarketDataSnapshotFullRefresh.from_message(wire(raw))
    assert snapshot.extra == ()
    assert snapshot.entries[0].extra == ((Tag.MD_ENTRY_DATE, "20261125"),)
    assert snapshot.entries[1].extra == ()
    assert wire(snapshot.to_message()).get_str(Tag.MD_ENTRY_DATE) == "20261125"


def test_transact_time_is_stamped_when_left_out() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    msg = NewOrderSingle(
        cl_ord_id="A", symbol="S", side=Side.BUY, order_qty=D(1), ord_type=OrdType.MARKET
    ).to_message()
    assert msg.get_utc_timestamp(Tag.TRANSACT_TIME) >= before


def test_missing_required_field_names_the_tag() -> None:
    raw = wire(Message.new(MsgType.EXECUTION_REPORT, (Tag.ORDER_ID, "O1")))
    with pytest.raises(TradingMessageError) as err:
        ExecutionReport.from_message(raw)
    assert err.value.tag == Tag.EXEC_ID
    assert err.value.msg_type == MsgType.EXECUTION_REPORT
    assert "required field missing" in str(err.value)


def test_bad_values_name_the_tag() -> None:
    good = wire(SAMPLES[0].to_message())
    for tag, bad in [(Tag.SIDE, "Q"), (Tag.ORDER_QTY, "ten"), (Tag.TRANSACT_TIME, "yesterday")]:
        msg = good.copy()
        msg.set(tag, bad)
        with pytest.raises(TradingMessageError) as err:
            decode(msg)
        assert err.value.tag == tag, bad


def test_a_message_of_another_type_is_refused() -> None:
    with pytest.raises(TradingMessageError, match="is not a NewOrderSingle"):
        NewOrderSingle.from_message(wire(SAMPLES[1].to_message()))


def test_unsupported_msg_types_decode_to_none() -> None:
    assert decode(wire(Message.new(MsgType.NEWS, (Tag.HEADLINE, "hi")))) is None


def test_quote_request_with_two_instruments_is_refused_not_half_read() -> None:
    raw = Message.new(MsgType.QUOTE_REQUEST, (Tag.QUOTE_REQ_ID, "Q"))
    raw.add_group(Tag.NO_RELATED_SYM, [[(Tag.SYMBOL, "A")], [(Tag.SYMBOL, "B")]])
    with pytest.raises(TradingMessageError, match="2 entries where one is supported"):
        decode(wire(raw))


def test_quote_request_without_its_instrument_group() -> None:
    with pytest.raises(TradingMessageError) as err:
        decode(wire(Message.new(MsgType.QUOTE_REQUEST, (Tag.QUOTE_REQ_ID, "Q"))))
    assert err.value.tag == Tag.SYMBOL


def test_a_required_group_without_entries_is_refused() -> None:
    raw = Message.new(MsgType.MARKET_DATA_INCREMENTAL_REFRESH, (Tag.MD_REQ_ID, "R"))
    with pytest.raises(TradingMessageError) as err:
        decode(wire(raw))
    assert err.value.tag == Tag.NO_MD_ENTRIES


def test_a_group_count_that_does_not_match_is_refused() -> None:
    raw = Message.new(
        MsgType.MARKET_DATA_REQUEST,
        (Tag.MD_REQ_ID, "R"),
        (Tag.SUBSCRIPTION_REQUEST_TYPE, "0"),
        (Tag.MARKET_DEPTH, 1),
        (Tag.NO_MD_ENTRY_TYPES, "x"),
    )
    with pytest.raises(TradingMessageError) as err:
        decode(wire(raw))
    assert err.value.tag == Tag.NO_MD_ENTRY_TYPES


def test_from_dict_names_every_problem() -> None:
    with pytest.raises(TradingMessageError) as err:
        from_dict(NewOrderSingle, {"cl_ord_id": "A", "side": "1", "bogus": 1})
    text = str(err.value)
    for expected in ("missing 'symbol'", "missing 'order_qty'", "unknown key(s) ['bogus']"):
        assert expected in text
    with pytest.raises(TradingMessageError, match="order_qty: not a decimal number"):
        from_dict(
            NewOrderSingle,
            {"cl_ord_id": "A", "side": "1", "symbol": "S", "order_qty": "ten", "ord_type": "1"},
        )
    with pytest.raises(TradingMessageError, match="not a finite number"):
        from_dict(
            NewOrderSingle,
            {"cl_ord_id": "A", "side": "1", "symbol": "S", "order_qty": "NaN", "ord_type": "1"},
        )
    with pytest.raises(TradingMessageError, match="ISO 8601"):
        from_dict(
            NewOrderSingle,
            {
                "cl_ord_id": "A",
                "side": "1",
                "symbol": "S",
                "order_qty": 1,
                "ord_type": "1",
                "transact_time": 5,
            },
        )


def test_from_dict_reads_floats_by_their_text_and_naive_times_as_utc() -> None:
    order = from_dict(
        NewOrderSingle,
        {
            "cl_ord_id": "A",
            "side": "1",
            "symbol": "S",
            "order_qty": 0.1,
            "ord_type": "1",
            "transact_time": "2026-11-25T10:30:15+01:00",
            "expire_time": "2026-11-25T18:00:00",
        },
    )
    assert order.order_qty == D("0.1")
    assert order.transact_time == datetime(2026, 11, 25, 9, 30, 15, tzinfo=UTC)
    assert order.expire_time == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def test_bad_entries_in_nested_dicts_are_located() -> None:
    with pytest.raises(TradingMessageError, match=r"entries: \[1\]"):
        from_dict(
            MarketDataSnapshotFullRefresh,
            {"symbol": "S", "entries": [{"entry_type": "0"}, {"entry_type": "nope"}]},
        )


def test_class_definitions_with_unsupported_types_fail_on_first_use() -> None:
    @attrs.frozen(kw_only=True)
    class Weird(WireEntry):
        symbol: list[str]
        extra: tuple[tuple[int, str], ...] = ()

    @attrs.frozen(kw_only=True)
    class NoItem(WireEntry):
        symbols: tuple[str, ...] = attrs.field(metadata=fix(Tag.NO_RELATED_SYM))
        extra: tuple[tuple[int, str], ...] = ()

    for cls in (Weird, NoItem):
        with pytest.raises(TypeError):
            cls.from_fields(Message.new(MsgType.NEWS))


prices = st.decimals(min_value=D("0.00001"), max_value=D(100000), places=5)
quantities = st.decimals(min_value=D(1), max_value=D(10**9), places=2)
ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


@given(
    cl_ord_id=ids,
    symbol=ids,
    side=st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT]),
    qty=quantities,
    ord_type=st.sampled_from([OrdType.MARKET, OrdType.LIMIT, OrdType.STOP]),
    price=st.none() | prices,
    when=times,
    extra=st.lists(st.tuples(st.integers(5000, 9999), ids), max_size=3),
)
def test_any_new_order_round_trips(
    cl_ord_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    ord_type: OrdType,
    price: Decimal | None,
    when: datetime,
    extra: list[tuple[int, str]],
) -> None:
    order = NewOrderSingle(
        cl_ord_id=cl_ord_id,
        symbol=symbol,
        side=side,
        order_qty=qty,
        ord_type=ord_type,
        price=price,
        transact_time=when,
        extra=tuple(extra),
    )
    assert decode(wire(order.to_message())) == order
    assert from_dict(NewOrderSingle, json.loads(json.dumps(to_dict(order)))) == order


increments = st.builds(
    MDIncrement,
    update_action=st.sampled_from(list(MDUpdateAction)),
    entry_type=st.sampled_from([MDEntryType.BID, MDEntryType.OFFER, MDEntryType.TRADE]),
    symbol=st.none() | ids,
    price=st.none() | prices,
    size=st.none() | quantities,
    entry_id=st.none() | ids,
)


@given(entries=st.lists(increments, min_size=1, max_size=8), req=st.none() | ids)
def test_any_incremental_refresh_round_trips(entries: list[MDIncrement], req: Any) -> None:
    refresh = MarketDataIncrementalRefresh(entries=tuple(entries), md_req_id=req)
    received = wire(refresh.to_message())
    assert VALIDATOR.validate(received) is None
    assert decode(received) == refresh

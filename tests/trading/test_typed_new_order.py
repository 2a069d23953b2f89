"""A typed NewOrderSingle is read as it is (no re-parse) only when that gives what its wire form
would: the checks' `OrderRequest` and the tracker's record are the same either way."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from tests.trading.gatewayfixtures import fake_desk
from tests.trading.orderfixtures import er
from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    ExecType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    Side,
    Tag,
    TimeInForce,
)
from trifix.trading import _order_record
from trifix.trading._order_record import OrderRecord
from trifix.trading.checkvalues import OrderRequest
from trifix.trading.messages import NewOrderSingle
from trifix.trading.order_state import MachineState, OrderEvent, OrderState
from trifix.trading.order_views import Fill, OrderView, PendingRequest
from trifix.trading.orders import DuplicateClOrdIDError, OrderTracker
from trifix.trading.routing import LPConfig

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def order(**changes: Any) -> NewOrderSingle:
    fields: dict[str, Any] = {
        "cl_ord_id": "C1",
        "symbol": "EURUSD",
        "side": Side.SELL,
        "order_qty": Decimal("1000"),
        "ord_type": OrdType.STOP_LIMIT,
        "price": Decimal("1.08500"),
        "stop_px": Decimal("1.08400"),
        "time_in_force": TimeInForce.IMMEDIATE_OR_CANCEL,
        "account": "ACC",
        "transact_time": NOW,
    }
    fields.update(changes)
    return NewOrderSingle(**fields)


NOT_PLAIN = {
    "extra field": {"extra": ((Tag.TEXT, "x"),)},
    "exponent quantity": {"order_qty": Decimal("1E+3")},
    "exponent price": {"price": Decimal("1.1E-7")},
    "exponent stop": {"stop_px": Decimal("1.1E-7")},
    "raw side": {"side": "2"},
    "raw ord type": {"ord_type": "4"},
    "raw time in force": {"time_in_force": "3"},
    "int quantity": {"order_qty": 1000},
    "str subclass account": {"account": Side.BUY},
}


def test_a_plain_order_gives_what_its_wire_form_gives() -> None:
    o = order()
    assert OrderRequest.plain(o)
    assert OrderRequest.of_new_order(o) == OrderRequest.of(o.to_message())
    assert OrderRequest.of_new_order(order(price=None, stop_px=None, account=None)) is not None


@pytest.mark.parametrize("changes", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_an_order_not_read_back_alike_is_left_to_the_wire_form(changes: dict[str, Any]) -> None:
    o = order(**changes)
    assert not OrderRequest.plain(o)
    assert OrderRequest.of_new_order(o) is None


@pytest.mark.parametrize("changes", [{}, *NOT_PLAIN.values()], ids=["plain", *NOT_PLAIN.keys()])
def test_the_tracker_records_a_typed_order_as_its_wire_form(changes: dict[str, Any]) -> None:
    o = order(**changes)
    typed, wire = OrderTracker(), OrderTracker()
    from_typed = typed.on_sent_new(o, o.to_message(), NOW)
    from_wire = wire.on_sent(o.to_message(), NOW)
    assert from_wire is not None
    assert from_typed == from_wire
    assert str(from_typed.order.order_qty) == str(from_wire.order.order_qty)
    with pytest.raises(DuplicateClOrdIDError):
        typed.on_sent_new(o, o.to_message(), NOW)
    assert len(typed) == 1


def written_field_by_field(o: NewOrderSingle) -> Message:
    """What `to_message` wrote before its one-call path: `wire_fields`, one append each."""
    msg = Message.new(o.MSG_TYPE)
    for tag, value in o.wire_fields():
        if isinstance(value, list):
            msg.add_group(tag, value)
        else:
            msg.append(tag, value)
    return msg


@pytest.mark.parametrize(
    "changes",
    [{}, {"price": None, "account": None}, {"extra": ((Tag.SENDER_SUB_ID, "DESK"),)}],
    ids=["full", "sparse", "header extra"],
)
def test_a_flat_message_is_written_as_field_by_field(changes: dict[str, Any]) -> None:
    o = order(**changes)
    assert str(o.to_message()) == str(written_field_by_field(o))


def test_a_list_value_is_still_written_as_a_group() -> None:
    o = order(text=[[(Tag.TEXT, "a")]])
    assert str(o.to_message()) == str(written_field_by_field(o))


async def test_the_gateway_places_typed_and_wire_orders_alike(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with fake_desk([LPConfig("A", "LPA")]) as desk:
        plain = await desk.gw.place(order(cl_ord_id="T1", symbol="EURUSD"), lp="A")
        spelled = await desk.gw.place(order(cl_ord_id="T2", order_qty=Decimal("1E+3")), lp="A")
        wire = await desk.gw.place(order(cl_ord_id="T3").to_message(), lp="A")
        for view in (plain, spelled, wire):
            assert view.state is OrderState.PENDING_NEW
        assert replace(spelled, cl_ord_id="T1", chain=("T1",)) == plain
        assert replace(wire, cl_ord_id="T1", chain=("T1",)) == plain
        assert str(spelled.order_qty) == str(plain.order_qty) == "1000"
        with pytest.raises(DuplicateClOrdIDError):
            await desk.gw.place(order(cl_ord_id="T1"), lp="A")
        with pytest.raises(DuplicateClOrdIDError):
            await desk.gw.place(order(cl_ord_id="T3").to_message(), lp="A")


def test_a_records_view_puts_every_field_where_it_belongs() -> None:
    fill = Fill("E1", Decimal(40), Decimal("1.5"), NOW)
    record = OrderRecord(
        cl_ord_id="C2",
        symbol="GBPUSD",
        side=Side.SELL,
        ord_type=OrdType.STOP_LIMIT,
        order_qty=Decimal(100),
        price=Decimal("1.6"),
        created_at=NOW,
        updated_at=NOW + timedelta(seconds=1),
        machine=MachineState(OrderState.PARTIALLY_FILLED),
        stop_px=Decimal("1.7"),
        time_in_force=TimeInForce.DAY,
        account="ACC",
        order_id="O1",
        chain=["C1", "C2"],
        pending=PendingRequest(OrderEvent.SEND_CANCEL, "C3", NOW),
        text="why",
        ord_rej_reason=OrdRejReason.UNKNOWN_SYMBOL,
        cxl_rej_reason=CxlRejReason.BROKER_CREDIT,
    )
    record.add_fill(fill)
    view = record.view()
    computed = {"chain": ("C1", "C2"), "fills": (fill,), "state": OrderState.PARTIALLY_FILLED}
    computed |= {"leaves_qty": Decimal(60), "avg_px": Decimal("1.5")}
    for f in fields(OrderView):
        expected = computed[f.name] if f.name in computed else getattr(record, f.name)
        assert getattr(view, f.name) == expected, f.name


def test_the_report_decimal_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_order_record, "_DECIMALS", {})
    monkeypatch.setattr(_order_record, "_DECIMALS_MAX", 3)
    for n in range(10):
        report = er(
            "C1", f"E{n}", ExecType.NEW, OrdStatus.NEW, leaves=1000 + n, cum=n, avg=f"1.{n}"
        )
        read = _order_record.Report.read(report)
        assert (read.leaves_qty, read.cum_qty, read.avg_px) == (1000 + n, n, Decimal(f"1.{n}"))
        assert read == _order_record.Report._read_typed(report)
        assert len(_order_record._DECIMALS) <= 3

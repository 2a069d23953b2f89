"""The validator's compiled message shapes must accept exactly what the field-by-field check
accepts: after a valid message of a shape has been seen, any message with the same tags gets
the same verdict as from a validator that has never seen it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.core.validate import Validator

HEADER = (
    (Tag.SENDER_COMP_ID, "LP"),
    (Tag.TARGET_COMP_ID, "GW"),
    (Tag.MSG_SEQ_NUM, 7),
    (Tag.SENDING_TIME, "20261125-09:00:00.000"),
)
SNAPSHOT = [
    (Tag.SYMBOL, "EURUSD"),
    (Tag.NO_MD_ENTRIES, 2),
    (Tag.MD_ENTRY_TYPE, "0"),
    (Tag.MD_ENTRY_PX, "1.1"),
    (Tag.MD_ENTRY_SIZE, "5"),
    (Tag.MD_ENTRY_TYPE, "1"),
    (Tag.MD_ENTRY_PX, "1.2"),
    (Tag.QUOTE_CONDITION, "A B"),
]
ORDER = [
    (Tag.CL_ORD_ID, "C1"),
    (Tag.SIDE, "1"),
    (Tag.TRANSACT_TIME, "20261125-09:00:00.000"),
    (Tag.ORD_TYPE, "2"),
    (Tag.PRICE, "1.25"),
    (Tag.ORDER_QTY, "100"),
    (Tag.SYMBOL, "EURUSD"),
    (Tag.HANDL_INST, "1"),
]
CANDIDATES = [
    b"0",
    b"1",
    b"2",
    b"3",
    b"Z",
    b"1.5",
    b"-2",
    b"x y",
    b"A B",
    b"A",
    b"",
    b"20261125-09:00:00",
    b"20261325-09:00:00",
    b"Y",
    b"100",
    b"1.",
    b".5",
    b"1e5",
    b"EURUSD",
]


def _frame(msg_type: str, body: list[tuple[int, object]]) -> Message:
    msg = Message.new(msg_type, *HEADER)
    for tag, value in body:
        msg.append(tag, value)
    return Message.from_frame(msg.encode())


def _verdict(validator: Validator, msg: Message) -> tuple[object, ...] | None:
    error = validator.validate(msg)
    return None if error is None else (error.reason, error.ref_tag)


@settings(max_examples=300, deadline=None)
@given(
    which=st.sampled_from(
        [(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, SNAPSHOT), (MsgType.NEW_ORDER_SINGLE, ORDER)]
    ),
    position=st.integers(0, 11),
    value=st.sampled_from(CANDIDATES),
)
def test_shape_path_agrees_with_a_fresh_check(
    which: tuple[str, list[tuple[int, object]]], position: int, value: bytes
) -> None:
    msg_type, body = which
    warm = Validator()
    assert warm.validate(_frame(msg_type, body)) is None  # compiles the shape
    header = [(int(t), v) for t, v in HEADER]
    fields = header + list(body)
    tag, _ = fields[position % len(fields)]
    if tag == Tag.MSG_SEQ_NUM:
        return
    changed = list(body)
    if position % len(fields) >= len(header):
        changed[position % len(fields) - len(header)] = (tag, value)
    mutated = _frame(msg_type, changed) if changed != body else _frame(msg_type, body)
    assert _verdict(warm, mutated) == _verdict(Validator(), mutated)


def test_a_seen_shape_is_checked_by_one_match() -> None:
    validator = Validator()
    first = _frame(MsgType.NEW_ORDER_SINGLE, ORDER)
    assert validator.validate(first) is None
    assert len(validator._shapes) == 1
    again = _frame(MsgType.NEW_ORDER_SINGLE, [(Tag.CL_ORD_ID, "C2"), *ORDER[1:]])
    assert validator.validate(again) is None
    bad = _frame(MsgType.NEW_ORDER_SINGLE, [*ORDER[:1], (Tag.SIDE, "Z"), *ORDER[2:]])
    error = validator.validate(bad)
    assert error is not None
    assert (error.reason, error.ref_tag) == (5, Tag.SIDE)
    assert len(validator._shapes) == 1

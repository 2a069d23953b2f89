"""The order state machine: every (state, event) pair, against a grid written out by hand."""

from __future__ import annotations

import itertools

import pytest

from trifix.core.tags import ExecType, OrdStatus
from trifix.trading.order_state import (
    ENDED,
    PENDING_REQUEST,
    START,
    TRANSITIONS,
    IllegalTransitionError,
    MachineState,
    OrderEvent,
    OrderState,
    apply,
    classify,
    state_from_ord_status,
)

S = OrderState
E = OrderEvent

# The legal moves, one state per line: EVENT>RESULT. Context: pending states have prior NEW;
# a STATUS report names the state itself (NEW for REPLACED, which has no OrdStatus), a
# restatement names NEW, a trade correction or bust names PARTIALLY_FILLED.
GRID = """
PENDING_NEW: ACK_PENDING_NEW>PENDING_NEW ACK_NEW>NEW PARTIAL_FILL>PARTIALLY_FILLED FILL>FILLED
    REJECTED>REJECTED CANCELED>CANCELED EXPIRED>EXPIRED STATUS>PENDING_NEW
    SEND_CANCEL>PENDING_CANCEL
NEW: PARTIAL_FILL>PARTIALLY_FILLED FILL>FILLED CANCELED>CANCELED EXPIRED>EXPIRED
    DONE_FOR_DAY>DONE_FOR_DAY SUSPENDED>SUSPENDED STOPPED>STOPPED RESTATED>NEW STATUS>NEW
    TRADE_CORRECTED>PARTIALLY_FILLED TRADE_BUSTED>PARTIALLY_FILLED
    SEND_CANCEL>PENDING_CANCEL SEND_REPLACE>PENDING_REPLACE
PARTIALLY_FILLED: PARTIAL_FILL>PARTIALLY_FILLED FILL>FILLED CANCELED>CANCELED EXPIRED>EXPIRED
    DONE_FOR_DAY>DONE_FOR_DAY SUSPENDED>SUSPENDED STOPPED>STOPPED RESTATED>NEW
    STATUS>PARTIALLY_FILLED TRADE_CORRECTED>PARTIALLY_FILLED TRADE_BUSTED>PARTIALLY_FILLED
    SEND_CANCEL>PENDING_CANCEL SEND_REPLACE>PENDING_REPLACE
REPLACED: PARTIAL_FILL>PARTIALLY_FILLED FILL>FILLED CANCELED>CANCELED EXPIRED>EXPIRED
    DONE_FOR_DAY>DONE_FOR_DAY SUSPENDED>SUSPENDED STOPPED>STOPPED RESTATED>NEW STATUS>NEW
    TRADE_CORRECTED>PARTIALLY_FILLED TRADE_BUSTED>PARTIALLY_FILLED
    SEND_CANCEL>PENDING_CANCEL SEND_REPLACE>PENDING_REPLACE
STOPPED: PARTIAL_FILL>PARTIALLY_FILLED FILL>FILLED CANCELED>CANCELED EXPIRED>EXPIRED
    DONE_FOR_DAY>DONE_FOR_DAY SUSPENDED>SUSPENDED STOPPED>STOPPED RESTATED>NEW STATUS>STOPPED
    TRADE_CORRECTED>PARTIALLY_FILLED TRADE_BUSTED>PARTIALLY_FILLED
    SEND_CANCEL>PENDING_CANCEL SEND_REPLACE>PENDING_REPLACE
PENDING_CANCEL: ACK_PENDING_CANCEL>PENDING_CANCEL CANCELED>CANCELED CANCEL_REJECTED>NEW
    PARTIAL_FILL>PENDING_CANCEL FILL>FILLED EXPIRED>EXPIRED DONE_FOR_DAY>PENDING_CANCEL
    SUSPENDED>PENDING_CANCEL STOPPED>PENDING_CANCEL RESTATED>PENDING_CANCEL
    STATUS>PENDING_CANCEL TRADE_CORRECTED>PENDING_CANCEL TRADE_BUSTED>PENDING_CANCEL
PENDING_REPLACE: ACK_PENDING_REPLACE>PENDING_REPLACE REPLACED>REPLACED CANCEL_REJECTED>NEW
    CANCELED>CANCELED PARTIAL_FILL>PENDING_REPLACE FILL>FILLED EXPIRED>EXPIRED
    DONE_FOR_DAY>PENDING_REPLACE SUSPENDED>PENDING_REPLACE STOPPED>PENDING_REPLACE
    RESTATED>PENDING_REPLACE STATUS>PENDING_REPLACE TRADE_CORRECTED>PENDING_REPLACE
    TRADE_BUSTED>PENDING_REPLACE
DONE_FOR_DAY: RESTATED>NEW STATUS>DONE_FOR_DAY CANCELED>CANCELED EXPIRED>EXPIRED
    SEND_CANCEL>PENDING_CANCEL
SUSPENDED: RESTATED>NEW STATUS>SUSPENDED CANCELED>CANCELED EXPIRED>EXPIRED
    SEND_CANCEL>PENDING_CANCEL
FILLED: STATUS>FILLED CANCEL_REJECTED>FILLED TRADE_CORRECTED>PARTIALLY_FILLED
    TRADE_BUSTED>PARTIALLY_FILLED
CANCELED: STATUS>CANCELED CANCEL_REJECTED>CANCELED
REJECTED: STATUS>REJECTED CANCEL_REJECTED>REJECTED
EXPIRED: STATUS>EXPIRED CANCEL_REJECTED>EXPIRED
"""


def parse_grid(text: str) -> dict[tuple[OrderState, OrderEvent], OrderState]:
    legal: dict[tuple[OrderState, OrderEvent], OrderState] = {}
    state: OrderState | None = None
    for word in text.split():
        if word.endswith(":"):
            state = OrderState[word[:-1]]
            continue
        assert state is not None
        event, result = word.split(">")
        legal[(state, OrderEvent[event])] = OrderState[result]
    return legal


LEGAL = parse_grid(GRID)


def context(state: OrderState, event: OrderEvent) -> tuple[MachineState, OrdStatus | None]:
    machine = MachineState(state, S.NEW if state in PENDING_REQUEST else None)
    reported: OrdStatus | None = None
    if event is E.STATUS:
        reported = OrdStatus.NEW if state is S.REPLACED else OrdStatus[state.name]
    elif event is E.RESTATED:
        reported = OrdStatus.NEW
    elif event in (E.TRADE_CORRECTED, E.TRADE_BUSTED):
        reported = OrdStatus.PARTIALLY_FILLED
    return machine, reported


ALL_PAIRS = list(itertools.product(OrderState, OrderEvent))


def test_grid_names_every_state() -> None:
    assert {state for state, _ in LEGAL} == set(OrderState)


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=lambda v: v.name)
def test_every_pair(state: OrderState, event: OrderEvent) -> None:
    machine, reported = context(state, event)
    expected = LEGAL.get((state, event))
    if expected is None:
        with pytest.raises(IllegalTransitionError) as info:
            apply(machine, event, reported)
        assert info.value.state is state
        assert info.value.event is event
        assert state.name in str(info.value)
        assert event.name in str(info.value)
    else:
        assert apply(machine, event, reported).state is expected


def test_table_has_no_pair_the_grid_lacks() -> None:
    # A pair in the table that the grid calls illegal under its context must still refuse
    # there (prior-dependent pairs); none may be missing from the grid altogether.
    for state, event in TRANSITIONS:
        if (state, event) in LEGAL:
            continue
        machine, reported = context(state, event)
        with pytest.raises(IllegalTransitionError):
            apply(machine, event, reported)
    assert set(LEGAL) <= set(TRANSITIONS)


def test_send_new_is_never_legal() -> None:
    assert MachineState(S.PENDING_NEW) == START
    for state in OrderState:
        with pytest.raises(IllegalTransitionError, match="SEND_NEW"):
            apply(MachineState(state), E.SEND_NEW)


@pytest.mark.parametrize(
    ("state", "event", "pending"),
    [
        (S.NEW, E.SEND_CANCEL, S.PENDING_CANCEL),
        (S.PARTIALLY_FILLED, E.SEND_REPLACE, S.PENDING_REPLACE),
        (S.PENDING_NEW, E.SEND_CANCEL, S.PENDING_CANCEL),
        (S.DONE_FOR_DAY, E.SEND_CANCEL, S.PENDING_CANCEL),
    ],
)
def test_a_request_remembers_where_it_left(
    state: OrderState, event: OrderEvent, pending: OrderState
) -> None:
    after = apply(MachineState(state), event)
    assert after == MachineState(pending, state)
    ack = E.ACK_PENDING_CANCEL if pending is S.PENDING_CANCEL else E.ACK_PENDING_REPLACE
    assert apply(after, ack) == after
    assert apply(after, E.CANCEL_REJECTED) == MachineState(state)


def test_one_request_at_a_time() -> None:
    pending = MachineState(S.PENDING_CANCEL, S.NEW)
    for event in (E.SEND_CANCEL, E.SEND_REPLACE, E.SEND_NEW):
        with pytest.raises(IllegalTransitionError):
            apply(pending, event)
    with pytest.raises(IllegalTransitionError):
        apply(MachineState(S.PENDING_NEW), E.SEND_REPLACE)


def test_reports_while_pending_move_the_prior() -> None:
    cancel = MachineState(S.PENDING_CANCEL, S.PENDING_NEW)
    acked = apply(cancel, E.ACK_NEW)
    assert acked == MachineState(S.PENDING_CANCEL, S.NEW)
    filled = apply(acked, E.PARTIAL_FILL)
    assert filled == MachineState(S.PENDING_CANCEL, S.PARTIALLY_FILLED)
    assert apply(filled, E.CANCEL_REJECTED) == MachineState(S.PARTIALLY_FILLED)
    assert apply(filled, E.FILL) == MachineState(S.FILLED)
    held = apply(filled, E.DONE_FOR_DAY)
    assert held == MachineState(S.PENDING_CANCEL, S.DONE_FOR_DAY)
    assert apply(held, E.CANCEL_REJECTED) == MachineState(S.DONE_FOR_DAY)


def test_a_reject_ends_a_pending_order_only_if_it_was_never_acknowledged() -> None:
    assert apply(MachineState(S.PENDING_CANCEL, S.PENDING_NEW), E.REJECTED).state is S.REJECTED
    with pytest.raises(IllegalTransitionError) as info:
        apply(MachineState(S.PENDING_CANCEL, S.NEW), E.REJECTED)
    assert info.value.state is S.PENDING_CANCEL  # reported against the outer state


def test_a_fill_reported_with_the_pending_status_still_ends_the_order() -> None:
    # FIX 4.4 OrdStatus precedence: PendingCancel outranks Filled in the fill's report.
    pending = MachineState(S.PENDING_CANCEL, S.NEW)
    assert apply(pending, E.FILL, OrdStatus.PENDING_CANCEL) == MachineState(S.FILLED)
    assert apply(pending, E.PARTIAL_FILL, OrdStatus.PENDING_CANCEL) == MachineState(
        S.PENDING_CANCEL, S.PARTIALLY_FILLED
    )


def test_status_while_pending() -> None:
    pending = MachineState(S.PENDING_REPLACE, S.PARTIALLY_FILLED)
    assert apply(pending, E.STATUS, OrdStatus.PENDING_REPLACE) == pending
    assert apply(pending, E.STATUS, OrdStatus.FILLED) == MachineState(S.FILLED)
    assert apply(pending, E.STATUS, OrdStatus.PARTIALLY_FILLED) == pending
    with pytest.raises(IllegalTransitionError):
        apply(pending, E.STATUS, OrdStatus.PENDING_NEW)


@pytest.mark.parametrize(
    ("state", "event", "reported"),
    [
        (S.CANCELED, E.STATUS, OrdStatus.NEW),  # a status report cannot revive an order
        (S.FILLED, E.STATUS, OrdStatus.PARTIALLY_FILLED),
        (S.NEW, E.STATUS, OrdStatus.PENDING_NEW),
        (S.NEW, E.STATUS, OrdStatus.CALCULATED),
        (S.NEW, E.RESTATED, OrdStatus.REJECTED),
        (S.NEW, E.STATUS, None),
        (S.FILLED, E.TRADE_BUSTED, OrdStatus.EXPIRED),
    ],
)
def test_snapshots_are_bounded(
    state: OrderState, event: OrderEvent, reported: OrdStatus | None
) -> None:
    with pytest.raises(IllegalTransitionError):
        apply(MachineState(state), event, reported)


def test_pending_new_status_may_say_rejected() -> None:
    # FIX 4.4: a status request for an order the LP never got is answered OrdStatus=Rejected.
    assert apply(START, E.STATUS, OrdStatus.REJECTED).state is S.REJECTED


def test_ended_states_accept_only_status_and_late_rejects() -> None:
    for state in ENDED:
        legal = {event for (s, event) in LEGAL if s is state}
        assert legal >= {E.STATUS, E.CANCEL_REJECTED}
        assert legal <= {E.STATUS, E.CANCEL_REJECTED, E.TRADE_CORRECTED, E.TRADE_BUSTED}


def test_error_names_the_reported_status() -> None:
    with pytest.raises(IllegalTransitionError, match="reported OrdStatus FILLED") as info:
        apply(MachineState(S.CANCELED), E.FILL, OrdStatus.FILLED)
    assert info.value.reported is OrdStatus.FILLED


@pytest.mark.parametrize(
    ("exec_type", "ord_status", "leaves_zero", "event"),
    [
        (ExecType.TRADE, OrdStatus.PARTIALLY_FILLED, False, E.PARTIAL_FILL),
        (ExecType.TRADE, OrdStatus.FILLED, True, E.FILL),
        (ExecType.TRADE, OrdStatus.PENDING_CANCEL, True, E.FILL),
        (ExecType.TRADE, OrdStatus.PENDING_CANCEL, False, E.PARTIAL_FILL),
        (ExecType.NEW, OrdStatus.NEW, False, E.ACK_NEW),
        (ExecType.PENDING_NEW, OrdStatus.PENDING_NEW, False, E.ACK_PENDING_NEW),
        (ExecType.PENDING_CANCEL, OrdStatus.PENDING_CANCEL, False, E.ACK_PENDING_CANCEL),
        (ExecType.PENDING_REPLACE, OrdStatus.PENDING_REPLACE, False, E.ACK_PENDING_REPLACE),
        (ExecType.CANCELED, OrdStatus.CANCELED, True, E.CANCELED),
        (ExecType.REPLACED, OrdStatus.NEW, False, E.REPLACED),
        (ExecType.REJECTED, OrdStatus.REJECTED, True, E.REJECTED),
        (ExecType.EXPIRED, OrdStatus.EXPIRED, True, E.EXPIRED),
        (ExecType.DONE_FOR_DAY, OrdStatus.DONE_FOR_DAY, True, E.DONE_FOR_DAY),
        (ExecType.SUSPENDED, OrdStatus.SUSPENDED, False, E.SUSPENDED),
        (ExecType.STOPPED, OrdStatus.STOPPED, False, E.STOPPED),
        (ExecType.RESTATED, OrdStatus.NEW, False, E.RESTATED),
        (ExecType.CALCULATED, OrdStatus.FILLED, True, E.RESTATED),
        (ExecType.ORDER_STATUS, OrdStatus.NEW, False, E.STATUS),
        (ExecType.TRADE_CORRECT, OrdStatus.FILLED, True, E.TRADE_CORRECTED),
        (ExecType.TRADE_CANCEL, OrdStatus.NEW, False, E.TRADE_BUSTED),
    ],
)
def test_classify(
    exec_type: ExecType, ord_status: OrdStatus, leaves_zero: bool, event: OrderEvent
) -> None:
    assert classify(exec_type, ord_status, leaves_zero=leaves_zero) is event


def test_every_exec_type_is_classified() -> None:
    for exec_type in ExecType:
        assert isinstance(classify(exec_type, OrdStatus.NEW, leaves_zero=False), OrderEvent)


def test_state_from_ord_status() -> None:
    assert state_from_ord_status(OrdStatus.NEW) == MachineState(S.NEW)
    assert state_from_ord_status(OrdStatus.PENDING_CANCEL) == MachineState(S.PENDING_CANCEL, S.NEW)
    assert state_from_ord_status(OrdStatus.PENDING_REPLACE, filled=True) == MachineState(
        S.PENDING_REPLACE, S.PARTIALLY_FILLED
    )
    with pytest.raises(IllegalTransitionError, match="ACCEPTED_FOR_BIDDING"):
        state_from_ord_status(OrdStatus.ACCEPTED_FOR_BIDDING)

"""Order states and the legal moves between them, as data.

Theory of operation (FIX 4.4 Volume 4, "Order State Changes", and Appendix D, the order state
change matrices). An order is seen from the side that sends it. Three local actions drive it
(send a NewOrderSingle, an OrderCancelRequest, an OrderCancelReplaceRequest) and the LP answers
with ExecutionReports (35=8, classified by ExecType 150 and OrdStatus 39, see `classify`) and
OrderCancelRejects (35=9). The rules:

1. Sending a NewOrderSingle creates the order in PENDING_NEW (`START`). ``SEND_NEW`` on an
   order that exists is always illegal: its ClOrdID is taken.
2. Working orders (NEW, PARTIALLY_FILLED, REPLACED, STOPPED) fill, get canceled, expire or are
   done for the day as the LP reports. REPLACED is a working state: the replace was accepted
   and the order works on its new terms under its new ClOrdID.
3. One request at a time: a cancel or replace moves the order to PENDING_CANCEL or
   PENDING_REPLACE and remembers the state it left (the *prior*). A second request while one is
   pending is illegal (the LP would answer CxlRejReason 3, "already in pending status"). A
   cancel may chase an order not yet acknowledged; a replace needs an acknowledged order.
4. While a request is pending, the LP's reports about the order itself (its New ack, fills,
   a restatement...) apply to the prior (`VIA_PRIOR`): the order stays pending and the prior
   moves on (NEW -> PARTIALLY_FILLED after a fill), unless the event ends the order (a fill
   of the whole quantity, an unsolicited cancel, an expiry, a reject of a not yet acknowledged
   order), which ends the pending request too.
5. An OrderCancelReject (``CANCEL_REJECTED``) takes a pending order back to its prior
   (`PRIOR`). On an order already ended it changes nothing: that is the "too late to cancel"
   answer to a request that crossed the final fill.
6. Status reports (ExecType I), restatements (D) and trade corrections (G, H) are snapshots:
   the order takes the state the report's OrdStatus names (`Reported`), within the set the
   table allows for that state (a status report cannot revive a canceled order).
7. Ended orders (FILLED, CANCELED, REJECTED, EXPIRED) accept nothing else. A late fill after a
   cancel is illegal, which is how a tracker notices an LP (or a test) breaking the rules.

Every move goes through `apply`, which returns the new `MachineState` or raises
`IllegalTransitionError` and leaves the caller's state as it was (the values are frozen), as
h11's ``_state.py`` does. `TRANSITIONS` is the whole table; a (state, event) pair that is not in
it is illegal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from trifix.core.tags import ExecType, OrdStatus
from trifix.trading.errors import TradingError

__all__ = [
    "ENDED",
    "PENDING_REQUEST",
    "PRIOR",
    "START",
    "TRANSITIONS",
    "VIA_PRIOR",
    "WORKING",
    "IllegalTransitionError",
    "MachineState",
    "OrderEvent",
    "OrderState",
    "Reported",
    "apply",
    "classify",
    "state_from_ord_status",
]


class OrderState(enum.Enum):
    """Where an order is in its life, as its sender sees it."""

    PENDING_NEW = "pending_new"
    """Sent, not yet acknowledged by the LP."""
    NEW = "new"
    """Acknowledged and working, nothing filled."""
    PARTIALLY_FILLED = "partially_filled"
    """Working, part of the quantity filled."""
    FILLED = "filled"
    """Ended: the whole quantity filled."""
    PENDING_CANCEL = "pending_cancel"
    """A cancel request is out; the order may still fill meanwhile."""
    CANCELED = "canceled"
    """Ended: canceled (by our request, or by the LP: IOC remainder, unsolicited cancel)."""
    PENDING_REPLACE = "pending_replace"
    """A cancel/replace request is out; the order still works on its old terms."""
    REPLACED = "replaced"
    """Working on the terms of an accepted replace, under the replace's ClOrdID."""
    REJECTED = "rejected"
    """Ended: the LP refused the order."""
    EXPIRED = "expired"
    """Ended: its time in force ran out."""
    DONE_FOR_DAY = "done_for_day"
    """No more executions today; a GTC order may be restated as working tomorrow."""
    SUSPENDED = "suspended"
    """Held by the LP: not working until restated."""
    STOPPED = "stopped"
    """Guaranteed an execution price by the LP; fills follow."""


class OrderEvent(enum.Enum):
    """What moves an order: a local action or what the LP reported."""

    SEND_NEW = "send_new"
    """NewOrderSingle (D) sent: creates the order (see `START`)."""
    SEND_CANCEL = "send_cancel"
    """OrderCancelRequest (F) sent."""
    SEND_REPLACE = "send_replace"
    """OrderCancelReplaceRequest (G) sent."""
    ACK_PENDING_NEW = "ack_pending_new"
    """ExecutionReport ExecType A (PendingNew)."""
    ACK_NEW = "ack_new"
    """ExecutionReport ExecType 0 (New)."""
    ACK_PENDING_CANCEL = "ack_pending_cancel"
    """ExecutionReport ExecType 6 (PendingCancel)."""
    ACK_PENDING_REPLACE = "ack_pending_replace"
    """ExecutionReport ExecType E (PendingReplace)."""
    PARTIAL_FILL = "partial_fill"
    """ExecutionReport ExecType F (Trade) leaving quantity open."""
    FILL = "fill"
    """ExecutionReport ExecType F (Trade) completing the order (OrdStatus 2 or LeavesQty 0)."""
    CANCELED = "canceled"
    """ExecutionReport ExecType 4 (Canceled)."""
    REPLACED = "replaced"
    """ExecutionReport ExecType 5 (Replaced)."""
    REJECTED = "rejected"
    """ExecutionReport ExecType 8 (Rejected)."""
    EXPIRED = "expired"
    """ExecutionReport ExecType C (Expired)."""
    DONE_FOR_DAY = "done_for_day"
    """ExecutionReport ExecType 3 (DoneForDay)."""
    SUSPENDED = "suspended"
    """ExecutionReport ExecType 9 (Suspended)."""
    STOPPED = "stopped"
    """ExecutionReport ExecType 7 (Stopped)."""
    RESTATED = "restated"
    """ExecutionReport ExecType D (Restated) or B (Calculated): a snapshot."""
    STATUS = "status"
    """ExecutionReport ExecType I (OrderStatus): an answer to H or AF, a snapshot."""
    TRADE_CORRECTED = "trade_corrected"
    """ExecutionReport ExecType G (TradeCorrect): a fill's quantity or price changed."""
    TRADE_BUSTED = "trade_busted"
    """ExecutionReport ExecType H (TradeCancel): a fill was undone."""
    CANCEL_REJECTED = "cancel_rejected"
    """OrderCancelReject (9): the pending cancel or replace was refused."""


S = OrderState
E = OrderEvent


class _Target(enum.Enum):
    """Table targets that depend on more than (state, event)."""

    PRIOR = "prior"
    VIA_PRIOR = "via_prior"


PRIOR: Final = _Target.PRIOR
"""Target: back to the state the pending request left."""
VIA_PRIOR: Final = _Target.VIA_PRIOR
"""Target: the event applies to the prior; the order stays pending unless the event ends it."""


@dataclass(frozen=True, slots=True)
class Reported:
    """Target: the state the report's OrdStatus names, which must be one of `allowed`."""

    allowed: frozenset[OrderState]


ENDED: Final = frozenset({S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED})
"""States an order never leaves."""
PENDING_REQUEST: Final = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE})
"""States with a cancel or replace request awaiting its answer."""
WORKING: Final = frozenset({S.NEW, S.PARTIALLY_FILLED, S.REPLACED, S.STOPPED})
"""States in which the order may fill and accepts a cancel or replace."""

_SNAPSHOT_OPEN: Final = frozenset(
    {
        S.NEW,
        S.PARTIALLY_FILLED,
        S.FILLED,
        S.CANCELED,
        S.EXPIRED,
        S.DONE_FOR_DAY,
        S.SUSPENDED,
        S.STOPPED,
    }
)
# A correction or bust may reopen a filled order or end a working one.
_CORRECTION: Final = Reported(frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED}))
_SNAPSHOT: Final = Reported(_SNAPSHOT_OPEN)
_SNAPSHOT_PENDING_NEW: Final = Reported(_SNAPSHOT_OPEN | {S.PENDING_NEW, S.REJECTED})

_SNAPSHOT_EVENTS: Final = frozenset({E.STATUS, E.RESTATED, E.TRADE_CORRECTED, E.TRADE_BUSTED})

Target = OrderState | _Target | Reported


def _working(state: OrderState) -> dict[tuple[OrderState, OrderEvent], Target]:
    """The moves every working state shares."""
    return {
        (state, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
        (state, E.FILL): S.FILLED,
        (state, E.CANCELED): S.CANCELED,
        (state, E.EXPIRED): S.EXPIRED,
        (state, E.DONE_FOR_DAY): S.DONE_FOR_DAY,
        (state, E.SUSPENDED): S.SUSPENDED,
        (state, E.STOPPED): S.STOPPED,
        (state, E.RESTATED): _SNAPSHOT,
        (state, E.STATUS): _SNAPSHOT,
        (state, E.TRADE_CORRECTED): _CORRECTION,
        (state, E.TRADE_BUSTED): _CORRECTION,
        (state, E.SEND_CANCEL): S.PENDING_CANCEL,
        (state, E.SEND_REPLACE): S.PENDING_REPLACE,
    }


def _pending(
    state: OrderState, ack: OrderEvent, answer: OrderEvent
) -> dict[tuple[OrderState, OrderEvent], Target]:
    """The moves of a state awaiting the answer to a cancel or replace request."""
    moves: dict[tuple[OrderState, OrderEvent], Target] = {
        (state, event): VIA_PRIOR
        for event in (
            E.ACK_PENDING_NEW,
            E.ACK_NEW,
            E.PARTIAL_FILL,
            E.FILL,
            E.REJECTED,
            E.EXPIRED,
            E.DONE_FOR_DAY,
            E.SUSPENDED,
            E.STOPPED,
            E.RESTATED,
            E.STATUS,
            E.TRADE_CORRECTED,
            E.TRADE_BUSTED,
            E.CANCELED,
        )
    }
    moves[(state, ack)] = state
    moves[(state, answer)] = S.CANCELED if answer is E.CANCELED else S.REPLACED
    moves[(state, E.CANCEL_REJECTED)] = PRIOR
    return moves


def _ended(state: OrderState) -> dict[tuple[OrderState, OrderEvent], Target]:
    """An ended order only answers a status query and a too-late cancel reject."""
    moves: dict[tuple[OrderState, OrderEvent], Target] = {
        (state, E.STATUS): Reported(frozenset({state})),
        (state, E.CANCEL_REJECTED): state,
    }
    if state is S.FILLED:  # a bust or correction may reopen a filled order
        moves[(state, E.TRADE_CORRECTED)] = _CORRECTION
        moves[(state, E.TRADE_BUSTED)] = _CORRECTION
    return moves


TRANSITIONS: Final[dict[tuple[OrderState, OrderEvent], Target]] = {
    # Sent, not yet acknowledged: the LP may skip the ack and fill, cancel (IOC) or expire.
    (S.PENDING_NEW, E.ACK_PENDING_NEW): S.PENDING_NEW,
    (S.PENDING_NEW, E.ACK_NEW): S.NEW,
    (S.PENDING_NEW, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PENDING_NEW, E.FILL): S.FILLED,
    (S.PENDING_NEW, E.REJECTED): S.REJECTED,
    (S.PENDING_NEW, E.CANCELED): S.CANCELED,
    (S.PENDING_NEW, E.EXPIRED): S.EXPIRED,
    (S.PENDING_NEW, E.STATUS): _SNAPSHOT_PENDING_NEW,
    (S.PENDING_NEW, E.SEND_CANCEL): S.PENDING_CANCEL,
    **_working(S.NEW),
    **_working(S.PARTIALLY_FILLED),
    **_working(S.REPLACED),
    **_working(S.STOPPED),
    **_pending(S.PENDING_CANCEL, E.ACK_PENDING_CANCEL, E.CANCELED),
    **_pending(S.PENDING_REPLACE, E.ACK_PENDING_REPLACE, E.REPLACED),
    # Not working, not ended: the LP restates it (or the day ends it), we may cancel it.
    (S.DONE_FOR_DAY, E.RESTATED): _SNAPSHOT,
    (S.DONE_FOR_DAY, E.STATUS): _SNAPSHOT,
    (S.DONE_FOR_DAY, E.CANCELED): S.CANCELED,
    (S.DONE_FOR_DAY, E.EXPIRED): S.EXPIRED,
    (S.DONE_FOR_DAY, E.SEND_CANCEL): S.PENDING_CANCEL,
    (S.SUSPENDED, E.RESTATED): _SNAPSHOT,
    (S.SUSPENDED, E.STATUS): _SNAPSHOT,
    (S.SUSPENDED, E.CANCELED): S.CANCELED,
    (S.SUSPENDED, E.EXPIRED): S.EXPIRED,
    (S.SUSPENDED, E.SEND_CANCEL): S.PENDING_CANCEL,
    **_ended(S.FILLED),
    **_ended(S.CANCELED),
    **_ended(S.REJECTED),
    **_ended(S.EXPIRED),
}
"""Every legal (state, event) pair and where it leads; any other pair is illegal."""


@dataclass(frozen=True, slots=True)
class MachineState:
    """The whole state of one order's machine.

    Attributes:
        state: the order's state.
        prior: while a cancel or replace is pending, the state the order would be in without
            it (what an OrderCancelReject returns to); None otherwise.
    """

    state: OrderState
    prior: OrderState | None = None


START: Final = MachineState(S.PENDING_NEW)
"""The state ``SEND_NEW`` creates an order in."""


class IllegalTransitionError(TradingError):
    """An event the order's state does not allow; the state is left as it was.

    Attributes:
        state: the state the order was in.
        event: the event refused.
        reported: the OrdStatus of the report, when one drove the event.
    """

    def __init__(
        self, state: OrderState, event: OrderEvent, reported: OrdStatus | None = None
    ) -> None:
        extra = f" (reported OrdStatus {reported.name})" if reported is not None else ""
        super().__init__(f"illegal order transition: {event.name} in state {state.name}{extra}")
        self.state = state
        self.event = event
        self.reported = reported


_FROM_ORD_STATUS: Final[dict[OrdStatus, OrderState]] = {
    OrdStatus.NEW: S.NEW,
    OrdStatus.PARTIALLY_FILLED: S.PARTIALLY_FILLED,
    OrdStatus.FILLED: S.FILLED,
    OrdStatus.DONE_FOR_DAY: S.DONE_FOR_DAY,
    OrdStatus.CANCELED: S.CANCELED,
    OrdStatus.PENDING_CANCEL: S.PENDING_CANCEL,
    OrdStatus.STOPPED: S.STOPPED,
    OrdStatus.REJECTED: S.REJECTED,
    OrdStatus.SUSPENDED: S.SUSPENDED,
    OrdStatus.PENDING_NEW: S.PENDING_NEW,
    OrdStatus.EXPIRED: S.EXPIRED,
    OrdStatus.PENDING_REPLACE: S.PENDING_REPLACE,
}


def state_from_ord_status(status: OrdStatus, *, filled: bool = False) -> MachineState:
    """The machine state an OrdStatus describes, for an order first seen in a report.

    Args:
        status: the report's OrdStatus.
        filled: whether part of the order is filled; it picks the prior of a pending state.

    Raises:
        IllegalTransitionError: for an OrdStatus with no order state (Calculated,
            AcceptedForBidding).
    """
    state = _FROM_ORD_STATUS.get(status)
    if state is None:
        raise IllegalTransitionError(S.PENDING_NEW, E.STATUS, status)
    if state in PENDING_REQUEST:
        return MachineState(state, S.PARTIALLY_FILLED if filled else S.NEW)
    return MachineState(state)


def apply(
    current: MachineState, event: OrderEvent, reported: OrdStatus | None = None
) -> MachineState:
    """The machine state after `event`.

    Args:
        current: the order's machine state.
        event: what happened.
        reported: the OrdStatus of the report behind the event (needed for snapshots).

    Raises:
        IllegalTransitionError: the table does not allow `event` in `current`.
    """
    state = current.state
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise IllegalTransitionError(state, event, reported)
    if isinstance(target, OrderState):
        if target in PENDING_REQUEST:
            # A request remembers where it left from; its ack keeps what was remembered.
            local = event in (E.SEND_CANCEL, E.SEND_REPLACE)
            return MachineState(target, state if local else current.prior)
        return MachineState(target)
    if isinstance(target, Reported):
        resolved = _FROM_ORD_STATUS.get(reported) if reported is not None else None
        if resolved is None or resolved not in target.allowed:
            raise IllegalTransitionError(state, event, reported)
        return MachineState(resolved)
    assert current.prior is not None, "a pending state always has a prior"
    if target is PRIOR:
        return MachineState(current.prior)
    # VIA_PRIOR: a snapshot naming the pending state itself confirms it. (A fill's OrdStatus
    # may name it too, by precedence, and still end the order: only snapshots confirm.)
    if (
        event in _SNAPSHOT_EVENTS
        and reported is not None
        and _FROM_ORD_STATUS.get(reported) is state
    ):
        return current
    try:
        inner = apply(MachineState(current.prior), event, reported)
    except IllegalTransitionError:
        raise IllegalTransitionError(state, event, reported) from None
    if inner.state in ENDED:
        return inner
    return MachineState(state, inner.state)


_CLASSIFY: Final[dict[ExecType, OrderEvent]] = {
    ExecType.NEW: E.ACK_NEW,
    ExecType.PENDING_NEW: E.ACK_PENDING_NEW,
    ExecType.PENDING_CANCEL: E.ACK_PENDING_CANCEL,
    ExecType.PENDING_REPLACE: E.ACK_PENDING_REPLACE,
    ExecType.CANCELED: E.CANCELED,
    ExecType.REPLACED: E.REPLACED,
    ExecType.REJECTED: E.REJECTED,
    ExecType.EXPIRED: E.EXPIRED,
    ExecType.DONE_FOR_DAY: E.DONE_FOR_DAY,
    ExecType.SUSPENDED: E.SUSPENDED,
    ExecType.STOPPED: E.STOPPED,
    ExecType.RESTATED: E.RESTATED,
    ExecType.CALCULATED: E.RESTATED,
    ExecType.ORDER_STATUS: E.STATUS,
    ExecType.TRADE_CORRECT: E.TRADE_CORRECTED,
    ExecType.TRADE_CANCEL: E.TRADE_BUSTED,
}


def classify(exec_type: ExecType, ord_status: OrdStatus, *, leaves_zero: bool) -> OrderEvent:
    """The event an ExecutionReport stands for.

    A Trade (ExecType F) completes the order when OrdStatus is Filled or nothing is left:
    under FIX 4.4's OrdStatus precedence a fill while a cancel is pending may still say
    PendingCancel, so LeavesQty decides.

    Args:
        exec_type: ExecType (150).
        ord_status: OrdStatus (39).
        leaves_zero: whether LeavesQty (151) is zero.
    """
    if exec_type is ExecType.TRADE:
        return E.FILL if ord_status is OrdStatus.FILLED or leaves_zero else E.PARTIAL_FILL
    return _CLASSIFY[exec_type]

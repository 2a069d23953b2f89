"""The tracker's mutable order record and the ExecutionReport fields it reads (internal)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Final, NamedTuple, TypeVar

from trifix.core.fieldmap import tag_key
from trifix.core.fields import parse_decimal, parse_int, parse_utc_timestamp
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
from trifix.trading.errors import TradingError
from trifix.trading.order_state import ENDED, START, MachineState, OrderState
from trifix.trading.order_views import Fill, OrderView, PendingRequest

ZERO: Final = Decimal(0)
_ZERO_LEAVES: Final = ENDED | {OrderState.DONE_FOR_DAY}


class RecoveryError(TradingError):
    """A stored message cannot be placed in time (no SendingTime or TransactTime)."""


@dataclass(slots=True)
class OrderRecord:
    """The mutable record behind an `OrderView`."""

    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    order_qty: Decimal
    price: Decimal | None
    created_at: datetime
    updated_at: datetime
    machine: MachineState = START
    stop_px: Decimal | None = None
    time_in_force: TimeInForce | None = None
    account: str | None = None
    order_id: str | None = None
    chain: list[str] = field(default_factory=list)
    pending: PendingRequest | None = None
    fills: list[Fill] = field(default_factory=list)
    cum_qty: Decimal = ZERO
    traded_value: Decimal = ZERO  # sum of qty * price over the fills
    text: str | None = None
    ord_rej_reason: OrdRejReason | None = None
    cxl_rej_reason: CxlRejReason | None = None

    def add_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        self.cum_qty += fill.qty
        self.traded_value += fill.qty * fill.price

    def recompute(self) -> None:
        self.cum_qty = sum((f.qty for f in self.fills), ZERO)
        self.traded_value = sum((f.qty * f.price for f in self.fills), ZERO)

    @property
    def avg_px(self) -> Decimal:
        return self.traded_value / self.cum_qty if self.cum_qty else ZERO

    @property
    def leaves_qty(self) -> Decimal:
        if self.machine.state in _ZERO_LEAVES:
            return ZERO
        return max(self.order_qty - self.cum_qty, ZERO)

    def view(self) -> OrderView:
        # Positional, in `OrderView`'s field order: made twice per order round trip, and
        # keywords cost a third of the call (tests check every field lands where it belongs).
        state = self.machine.state
        cum_qty = self.cum_qty
        return OrderView(
            self.cl_ord_id,
            tuple(self.chain),
            self.order_id,
            self.symbol,
            self.side,
            self.ord_type,
            self.order_qty,
            self.price,
            self.stop_px,
            self.time_in_force,
            self.account,
            state,
            self.pending,
            cum_qty,
            ZERO if state in _ZERO_LEAVES else max(self.order_qty - cum_qty, ZERO),
            self.traded_value / cum_qty if cum_qty else ZERO,
            tuple(self.fills),
            self.created_at,
            self.updated_at,
            self.text,
            self.ord_rej_reason,
            self.cxl_rej_reason,
        )


@dataclass(slots=True)
class MassStatusRun:
    req_id: str
    sent_at: datetime
    symbol: str | None
    side: Side | None
    reported: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    received: int = 0


class Report(NamedTuple):
    """The fields of an ExecutionReport the tracker reads, converted once (a tuple: one is
    made per report received, and a tuple is the cheapest immutable record to build)."""

    exec_id: str
    exec_type: ExecType
    ord_status: OrdStatus
    order_id: str
    cl_ord_id: str | None
    orig_cl_ord_id: str | None
    symbol: str | None
    side: Side | None
    order_qty: Decimal | None
    price: Decimal | None
    ord_type: OrdType | None
    leaves_qty: Decimal
    cum_qty: Decimal
    avg_px: Decimal
    last_qty: Decimal | None
    last_px: Decimal | None
    exec_ref_id: str | None
    text: str | None
    ord_rej_reason: OrdRejReason | None
    transact_time: datetime | None
    mass_status_req_id: str | None
    tot_num_reports: int | None
    last_rpt_requested: bool

    @classmethod
    def read(cls, m: Message) -> Report:
        """The report's fields, in one pass over the message.

        Raises:
            FieldValueError: a required field is missing, or a value cannot be read.
        """
        f = dict(zip(m.tag_keys(), m.raw_values(), strict=True))  # last occurrence wins
        get = f.get
        try:
            raw = get(_K_TRANSACT_TIME)
            transact_time = None if raw is None else parse_utc_timestamp(raw)
            raw = get(_K_TOT_NUM_REPORTS)
            tot_num_reports = None if raw is None else parse_int(raw)
            raw = get(_K_LAST_RPT_REQUESTED)
            return cls(
                exec_id=f[_K_EXEC_ID].decode("utf-8", "surrogateescape"),
                exec_type=_EXEC_TYPES[f[_K_EXEC_TYPE]],
                ord_status=_ORD_STATUSES[f[_K_ORD_STATUS]],
                order_id=f[_K_ORDER_ID].decode("utf-8", "surrogateescape"),
                cl_ord_id=_text(get(_K_CL_ORD_ID)),
                orig_cl_ord_id=_text(get(_K_ORIG_CL_ORD_ID)),
                symbol=_text(get(_K_SYMBOL)),
                side=_member(_SIDES, get(_K_SIDE)),
                order_qty=_decimal(get(_K_ORDER_QTY)),
                price=_decimal(get(_K_PRICE)),
                ord_type=_member(_ORD_TYPES, get(_K_ORD_TYPE)),
                leaves_qty=_required_decimal(f[_K_LEAVES_QTY]),
                cum_qty=_required_decimal(f[_K_CUM_QTY]),
                avg_px=_required_decimal(f[_K_AVG_PX]),
                last_qty=_decimal(get(_K_LAST_QTY)),
                last_px=_decimal(get(_K_LAST_PX)),
                exec_ref_id=_text(get(_K_EXEC_REF_ID)),
                text=_text(get(_K_TEXT)),
                ord_rej_reason=_member(_ORD_REJ_REASONS, get(_K_ORD_REJ_REASON)),
                transact_time=transact_time,
                mass_status_req_id=_text(get(_K_MASS_STATUS_REQ_ID)),
                tot_num_reports=tot_num_reports,
                last_rpt_requested=False if raw is None else _BOOLS[raw],
            )
        except (KeyError, ValueError):
            pass  # missing, unusual or invalid: the typed getters say which, and why
        return cls._read_typed(m)

    @classmethod
    def _read_typed(cls, m: Message) -> Report:
        """`read` with the typed getters: slower, and raises the precise `FieldValueError`."""
        return cls(
            exec_id=m.get_str(Tag.EXEC_ID),
            exec_type=m.get_enum(Tag.EXEC_TYPE, ExecType),
            ord_status=m.get_enum(Tag.ORD_STATUS, OrdStatus),
            order_id=m.get_str(Tag.ORDER_ID),
            cl_ord_id=m.get_str(Tag.CL_ORD_ID, None),
            orig_cl_ord_id=m.get_str(Tag.ORIG_CL_ORD_ID, None),
            symbol=m.get_str(Tag.SYMBOL, None),
            side=m.get_enum(Tag.SIDE, Side, None),
            order_qty=m.get_decimal(Tag.ORDER_QTY, None),
            price=m.get_decimal(Tag.PRICE, None),
            ord_type=m.get_enum(Tag.ORD_TYPE, OrdType, None),
            leaves_qty=m.get_decimal(Tag.LEAVES_QTY),
            cum_qty=m.get_decimal(Tag.CUM_QTY),
            avg_px=m.get_decimal(Tag.AVG_PX),
            last_qty=m.get_decimal(Tag.LAST_QTY, None),
            last_px=m.get_decimal(Tag.LAST_PX, None),
            exec_ref_id=m.get_str(Tag.EXEC_REF_ID, None),
            text=m.get_str(Tag.TEXT, None),
            ord_rej_reason=m.get_enum(Tag.ORD_REJ_REASON, OrdRejReason, None),
            transact_time=m.get_utc_timestamp(Tag.TRANSACT_TIME, None),
            mass_status_req_id=m.get_str(Tag.MASS_STATUS_REQ_ID, None),
            tot_num_reports=m.get_int(Tag.TOT_NUM_REPORTS, None),
            last_rpt_requested=m.get_bool(Tag.LAST_RPT_REQUESTED, False),
        )


# -- the one-pass reading of `Report.read` ---------------------------------------------------
_K_EXEC_ID: Final = tag_key(Tag.EXEC_ID)
_K_EXEC_TYPE: Final = tag_key(Tag.EXEC_TYPE)
_K_ORD_STATUS: Final = tag_key(Tag.ORD_STATUS)
_K_ORDER_ID: Final = tag_key(Tag.ORDER_ID)
_K_CL_ORD_ID: Final = tag_key(Tag.CL_ORD_ID)
_K_ORIG_CL_ORD_ID: Final = tag_key(Tag.ORIG_CL_ORD_ID)
_K_SYMBOL: Final = tag_key(Tag.SYMBOL)
_K_SIDE: Final = tag_key(Tag.SIDE)
_K_ORDER_QTY: Final = tag_key(Tag.ORDER_QTY)
_K_PRICE: Final = tag_key(Tag.PRICE)
_K_ORD_TYPE: Final = tag_key(Tag.ORD_TYPE)
_K_LEAVES_QTY: Final = tag_key(Tag.LEAVES_QTY)
_K_CUM_QTY: Final = tag_key(Tag.CUM_QTY)
_K_AVG_PX: Final = tag_key(Tag.AVG_PX)
_K_LAST_QTY: Final = tag_key(Tag.LAST_QTY)
_K_LAST_PX: Final = tag_key(Tag.LAST_PX)
_K_EXEC_REF_ID: Final = tag_key(Tag.EXEC_REF_ID)
_K_TEXT: Final = tag_key(Tag.TEXT)
_K_ORD_REJ_REASON: Final = tag_key(Tag.ORD_REJ_REASON)
_K_TRANSACT_TIME: Final = tag_key(Tag.TRANSACT_TIME)
_K_MASS_STATUS_REQ_ID: Final = tag_key(Tag.MASS_STATUS_REQ_ID)
_K_TOT_NUM_REPORTS: Final = tag_key(Tag.TOT_NUM_REPORTS)
_K_LAST_RPT_REQUESTED: Final = tag_key(Tag.LAST_RPT_REQUESTED)

_E = TypeVar("_E", bound=Enum)


def _members(enum: type[_E]) -> dict[bytes, _E]:
    """The members of `enum` by their wire form (a value written otherwise is not found)."""
    return {str(member.value).encode("latin-1"): member for member in enum}


_EXEC_TYPES: Final = _members(ExecType)
_ORD_STATUSES: Final = _members(OrdStatus)
_SIDES: Final = _members(Side)
_ORD_TYPES: Final = _members(OrdType)
_ORD_REJ_REASONS: Final = _members(OrdRejReason)
_BOOLS: Final = {b"Y": True, b"N": False}

# Decimals by their wire form: quantities and prices repeat (0, the order sizes, the prices of
# the day), and a Decimal is immutable. Cleared when full rather than evicting one by one.
_DECIMALS: dict[bytes, Decimal] = {}
_DECIMALS_MAX: Final = 4096


def _required_decimal(raw: bytes) -> Decimal:
    value = _DECIMALS.get(raw)
    if value is None:
        value = parse_decimal(raw)  # ValueError when invalid
        if len(_DECIMALS) >= _DECIMALS_MAX:
            _DECIMALS.clear()
        _DECIMALS[raw] = value
    return value


def _decimal(raw: bytes | None) -> Decimal | None:
    return None if raw is None else _required_decimal(raw)


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "surrogateescape")


def _member(members: dict[bytes, _E], raw: bytes | None) -> _E | None:
    return None if raw is None else members[raw]  # KeyError: unusual or invalid


def timed(
    messages: Iterable[Message], direction: int
) -> Iterator[tuple[datetime, int, int, Message]]:
    for n, msg in zip(itertools.count(), messages):
        at = msg.get_utc_timestamp(Tag.SENDING_TIME, None) or msg.get_utc_timestamp(
            Tag.TRANSACT_TIME, None
        )
        if at is None:
            raise RecoveryError(
                f"stored message {msg.msg_type} (MsgSeqNum {msg.get_int(Tag.MSG_SEQ_NUM, 0)}) "
                "has neither SendingTime nor TransactTime"
            )
        yield at, direction, n, msg

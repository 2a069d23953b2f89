"""Typed application messages: attrs classes converted to and from wire `Message`s.

Each class has ``MSG_TYPE``, ``to_message()`` and ``from_message(msg)``; `decode(msg)` picks
the class by MsgType. Prices and quantities are `Decimal`, enumerated fields are the enums of
`trifix.core.tags`, and every field a class does not model is kept in its ``extra``, so nothing
is lost on the way through. `to_dict` and `from_dict` (cattrs) give JSON-ready dictionaries:
Decimals as strings (never floats), timestamps in ISO 8601, enums as their FIX values.

    >>> order = NewOrderSingle(cl_ord_id="A1", symbol="EURUSD", side=Side.BUY,
    ...                        order_qty=Decimal(1000000), ord_type=OrdType.LIMIT,
    ...                        price=Decimal("1.0850"))
    >>> msg = order.to_message()                  # hand to SessionHandle.send
    >>> report = decode(received)                 # an ExecutionReport, a Quote... or None
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

import cattrs

from trifix.core import tags
from trifix.core.message import Message
from trifix.trading.errors import TradingMessageError
from trifix.trading.messages._wire import WireEntry, WireMessage
from trifix.trading.messages.market_data import (
    MarketDataIncrementalRefresh,
    MarketDataRequest,
    MarketDataRequestReject,
    MarketDataSnapshotFullRefresh,
    MDEntry,
    MDIncrement,
)
from trifix.trading.messages.orders import (
    ExecutionReport,
    NewOrderSingle,
    OrderCancelReject,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrderMassStatusRequest,
    OrderStatusRequest,
)
from trifix.trading.messages.quotes import BusinessMessageReject, Quote, QuoteCancel, QuoteRequest

__all__ = [
    "MESSAGE_CLASSES",
    "BusinessMessageReject",
    "ExecutionReport",
    "MDEntry",
    "MDIncrement",
    "MarketDataIncrementalRefresh",
    "MarketDataRequest",
    "MarketDataRequestReject",
    "MarketDataSnapshotFullRefresh",
    "NewOrderSingle",
    "OrderCancelReject",
    "OrderCancelReplaceRequest",
    "OrderCancelRequest",
    "OrderMassStatusRequest",
    "OrderStatusRequest",
    "Quote",
    "QuoteCancel",
    "QuoteRequest",
    "TypedMessage",
    "WireEntry",
    "WireMessage",
    "decode",
    "from_dict",
    "to_dict",
]

TypedMessage = (
    NewOrderSingle
    | OrderCancelRequest
    | OrderCancelReplaceRequest
    | ExecutionReport
    | OrderCancelReject
    | OrderStatusRequest
    | OrderMassStatusRequest
    | MarketDataRequest
    | MarketDataSnapshotFullRefresh
    | MarketDataIncrementalRefresh
    | MarketDataRequestReject
    | QuoteRequest
    | Quote
    | QuoteCancel
    | BusinessMessageReject
)

MESSAGE_CLASSES: Mapping[str, type[WireMessage]] = {
    cls.MSG_TYPE: cls
    for cls in (
        NewOrderSingle,
        OrderCancelRequest,
        OrderCancelReplaceRequest,
        ExecutionReport,
        OrderCancelReject,
        OrderStatusRequest,
        OrderMassStatusRequest,
        MarketDataRequest,
        MarketDataSnapshotFullRefresh,
        MarketDataIncrementalRefresh,
        MarketDataRequestReject,
        QuoteRequest,
        Quote,
        QuoteCancel,
        BusinessMessageReject,
    )
}
"""The typed class for each supported MsgType."""


def decode(msg: Message) -> TypedMessage | None:
    """The typed form of `msg`, or None when its MsgType has no typed class.

    Raises:
        TradingMessageError: a required field is missing or a value cannot be read.
    """
    cls = MESSAGE_CLASSES.get(msg.msg_type)
    if cls is None:
        return None
    return cls.from_message(msg)  # type: ignore[return-value]


def _decimal(value: object, _: object) -> Decimal:
    if isinstance(value, float):
        value = repr(value)  # the shortest text that round-trips, not the binary expansion
    try:
        result = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _enum_value(member: Enum) -> object:
    return member.value


def _datetime(value: object, _: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    result = datetime.fromisoformat(value)
    return result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)


def _time(value: object, _: object) -> time:
    if not isinstance(value, str):
        raise ValueError(f"not an ISO 8601 time: {value!r}")
    return time.fromisoformat(value)


_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_unstructure_hook(Decimal, str)
_converter.register_structure_hook(Decimal, _decimal)
_converter.register_unstructure_hook(datetime, datetime.isoformat)
for _enum in vars(tags).values():
    # One hook per enum: StrEnums are also str, whose pass-through hook would otherwise win.
    if isinstance(_enum, type) and issubclass(_enum, Enum):
        _converter.register_unstructure_hook(_enum, _enum_value)
_converter.register_structure_hook(datetime, _datetime)
_converter.register_unstructure_hook(time, time.isoformat)
_converter.register_structure_hook(time, _time)

W = TypeVar("W", bound=WireEntry)


def to_dict(obj: WireEntry) -> dict[str, Any]:
    """A JSON-ready dictionary of a typed message (None attributes left out)."""
    return _prune(_converter.unstructure(obj))  # type: ignore[no-any-return]


def _prune(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _prune(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [_prune(value) for value in data]
    return data


def from_dict(cls: type[W], data: Mapping[str, Any]) -> W:
    """A typed message from a dictionary such as `to_dict` gives.

    Raises:
        TradingMessageError: a key is unknown or missing, or a value has the wrong type; the
            message names every problem with its key.
    """
    try:
        return _converter.structure(dict(data), cls)
    except Exception as exc:  # cattrs raises ClassValidationError groups and plain errors
        problems = _describe(exc)
        msg_type = getattr(cls, "MSG_TYPE", cls.__name__)
        raise TradingMessageError(msg_type, "; ".join(problems)) from exc


def _describe(exc: BaseException) -> list[str]:
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        notes: list[str] = []
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            where = getattr(note, "name", None)
            if where is None:
                where = f"[{getattr(note, 'index', '?')}]"
            notes.extend(f"{where}: {text}" for text in _describe(inner))
        for inner in without:
            notes.extend(_describe(inner))
        return notes or [str(exc)]
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return [f"unknown key(s) {sorted(exc.extra_fields)}"]
    if isinstance(exc, KeyError):
        return [f"missing {exc.args[0]!r}"]
    return [str(exc) or type(exc).__name__]

"""Checks the schema's classes run on their values; each raises `InvalidValue` naming its key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from trifix.config.errors import InvalidValue
from trifix.core.errors import StoreError
from trifix.core.tags import MsgType
from trifix.store.base import check_session_id

_MSG_TYPES = frozenset(m.value for m in MsgType)

T = TypeVar("T")
Validator = Callable[[Any, "attrs.Attribute[T]", T], None]


def between(low: float | None, high: float | None = None) -> Validator[Any]:
    """A number (or a duration, in seconds) from `low` to `high`; None passes."""

    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        number = value.total_seconds() if isinstance(value, timedelta) else value
        if (low is not None and number < low) or (high is not None and number > high):
            if high is None:
                expected = f"at least {low:g}"
            else:
                expected = f"from {low:g} to {high:g}"
            unit = " seconds" if isinstance(value, timedelta) else ""
            raise InvalidValue(f"expected {expected}{unit}", key=(attribute.name,), got=number)

    return check


def positive(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A number (or a duration) above zero; None passes."""
    if value is None:
        return
    number = value.total_seconds() if isinstance(value, timedelta) else value
    if not number > 0:
        if isinstance(number, Decimal):  # shown as the number written, not Decimal('0')
            number = int(number) if number == number.to_integral_value() else float(number)
        unit = " seconds" if isinstance(value, timedelta) else ""
        raise InvalidValue(f"expected a number above 0{unit}", key=(attribute.name,), got=number)


def name(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    """A non-empty identifier with no control characters (SOH would break a FIX message)."""
    if value is None:
        return
    if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidValue(
            "expected a non-empty name without control characters",
            key=(attribute.name,),
            got=value,
        )


def session_id(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    name(_, attribute, value)
    try:
        check_session_id(value)
    except StoreError as exc:
        raise InvalidValue(str(exc), key=(attribute.name,)) from None


def one_of(*choices: str) -> Validator[str]:
    def check(_: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in choices:
            shown = ", ".join(choices)
            raise InvalidValue(f"expected one of {shown}", key=(attribute.name,), got=value)

    return check


def weekday(key: tuple[str | int, ...], day: int) -> None:
    if not 1 <= day <= 7:
        raise InvalidValue("expected an ISO weekday, 1 (Monday) to 7 (Sunday)", key=key, got=day)


def msg_types(_: object, attribute: attrs.Attribute[Any], value: tuple[str, ...] | None) -> None:
    for index, msg_type in enumerate(value or ()):
        if msg_type not in _MSG_TYPES:
            raise InvalidValue(
                "not a FIX 4.4 MsgType",
                key=(attribute.name, index),
                got=msg_type,
                hint='write the MsgType value, such as "D" for NewOrderSingle',
            )

"""FIX field value formats: parse wire bytes into Python values and format them back.

Every FIX 4.4 data type maps to one Python type: int (INT, SEQNUM, LENGTH, NUMINGROUP),
`Decimal` (PRICE, QTY, AMT, FLOAT, PRICEOFFSET, PERCENTAGE: never float, so prices round-trip
exactly), bool (BOOLEAN Y/N), aware UTC `datetime` (UTCTIMESTAMP with seconds, milliseconds or
microseconds), `date` (LOCALMKTDATE, UTCDATEONLY), `time` (UTCTIMEONLY), `MonthYear`
(MONTHYEAR: YYYYMM, YYYYMMDD or YYYYMMwN), str (CHAR, STRING and the rest).
The `is_valid_*` checks are what the validator uses for "incorrect data format" (373=6).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Final

Check = Callable[[bytes], object]

_INT_RE: Final = re.compile(rb"-?[0-9]+\Z")
_DECIMAL_RE: Final = re.compile(rb"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_TIMESTAMP_RE: Final = re.compile(
    rb"([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}|[0-9]{6}))?\Z"
)
_TIME_RE: Final = re.compile(rb"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}|[0-9]{6}))?\Z")
_DATE_RE: Final = re.compile(rb"([0-9]{4})([0-9]{2})([0-9]{2})\Z")
_MONTH_YEAR_RE: Final = re.compile(rb"([0-9]{4})([0-9]{2})(?:([0-9]{2})|w([1-5]))?\Z")


@dataclass(frozen=True, slots=True)
class MonthYear:
    """A FIX MonthYear: a month, optionally narrowed to a day or to a week (w1..w5)."""

    year: int
    month: int
    day: int | None = None
    week: int | None = None

    def __str__(self) -> str:
        if self.day is not None:
            return f"{self.year:04d}{self.month:02d}{self.day:02d}"
        if self.week is not None:
            return f"{self.year:04d}{self.month:02d}w{self.week}"
        return f"{self.year:04d}{self.month:02d}"


def parse_int(raw: bytes) -> int:
    """Parse a FIX int (optional minus sign, digits only). Raises ValueError."""
    if _INT_RE.match(raw) is None:
        raise ValueError(f"not a FIX int: {raw!r}")
    return int(raw)


def parse_decimal(raw: bytes) -> Decimal:
    """Parse a FIX float/price/qty exactly (no exponent, no NaN). Raises ValueError."""
    if _DECIMAL_RE.match(raw) is None:
        raise ValueError(f"not a FIX decimal: {raw!r}")
    return Decimal(raw.decode("ascii"))


def parse_bool(raw: bytes) -> bool:
    """Parse a FIX Boolean: Y or N. Raises ValueError."""
    if raw == b"Y":
        return True
    if raw == b"N":
        return False
    raise ValueError(f"not a FIX boolean (Y/N): {raw!r}")


def _fraction(frac: bytes | None) -> int:
    if not frac:
        return 0
    return int(frac) * 1000 if len(frac) == 3 else int(frac)


def parse_utc_timestamp(raw: bytes) -> datetime:
    """Parse YYYYMMDD-HH:MM:SS[.sss|.ssssss] into an aware UTC datetime. Raises ValueError."""
    m = _TIMESTAMP_RE.match(raw)
    if m is None:
        raise ValueError(f"not a FIX UTCTimestamp: {raw!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    sec = int(s)
    if sec == 60:  # a leap second is legal on the wire; Python cannot hold it
        sec = 59
    return datetime(int(y), int(mo), int(d), int(h), int(mi), sec, _fraction(frac), tzinfo=UTC)


def parse_utc_time_only(raw: bytes) -> time:
    """Parse HH:MM:SS[.sss|.ssssss] (UTCTimeOnly). Raises ValueError."""
    m = _TIME_RE.match(raw)
    if m is None:
        raise ValueError(f"not a FIX UTCTimeOnly: {raw!r}")
    h, mi, s, frac = m.groups()
    return time(int(h), int(mi), min(int(s), 59), _fraction(frac), tzinfo=UTC)


def parse_date(raw: bytes) -> date:
    """Parse YYYYMMDD (LocalMktDate, UTCDateOnly). Raises ValueError."""
    m = _DATE_RE.match(raw)
    if m is None:
        raise ValueError(f"not a FIX date (YYYYMMDD): {raw!r}")
    return date(int(m[1]), int(m[2]), int(m[3]))


def parse_month_year(raw: bytes) -> MonthYear:
    """Parse YYYYMM, YYYYMMDD or YYYYMMwN. Raises ValueError."""
    m = _MONTH_YEAR_RE.match(raw)
    if m is None or not 1 <= int(m[2]) <= 12:
        raise ValueError(f"not a FIX MonthYear: {raw!r}")
    day = int(m[3]) if m[3] else None
    if day is not None:
        date(int(m[1]), int(m[2]), day)  # raises ValueError for a day the month lacks
    return MonthYear(int(m[1]), int(m[2]), day, int(m[4]) if m[4] else None)


_MILLIS: Final = [b".%03d" % n for n in range(1000)]
# A memo of the last formatted second, swapped as one tuple (safe to share between threads).
# Keyed by the exact calendar second: a float timestamp truncates towards zero before 1970 and
# rounds microseconds up into the next second after 2242, so it cannot name the second.
_last_second: list[tuple[tuple[int, int, int, int], bytes]] = [((-1, 0, 0, 0), b"")]


def format_utc_timestamp(value: datetime, precision: int = 3) -> bytes:
    """Format a datetime as a FIX UTCTimestamp with 0, 3 or 6 fractional digits.

    A naive datetime is taken to be UTC already; an aware one is converted.
    """
    if value.tzinfo is UTC and precision == 3:
        # Hot path (every SendingTime): reuse the formatted second while it lasts.
        second = (value.toordinal(), value.hour, value.minute, value.second)
        cached = _last_second[0]
        if cached[0] != second:
            cached = _last_second[0] = (second, format_utc_timestamp(value, 0))
        return cached[1] + _MILLIS[value.microsecond // 1000]
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    base = b"%04d%02d%02d-%02d:%02d:%02d" % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
    )
    if precision == 3:
        return base + b".%03d" % (value.microsecond // 1000)
    if precision == 6:
        return base + b".%06d" % value.microsecond
    if precision == 0:
        return base
    raise ValueError("timestamp precision must be 0, 3 or 6")


def _format_decimal(value: Decimal) -> bytes:
    text = str(value)
    if "E" in text or "N" in text or "n" in text:  # exponent form, NaN, Infinity
        if not value.is_finite():
            raise ValueError(f"cannot send a non-finite decimal: {value}")
        text = format(value, "f")
    return text.encode()


def _format_date(value: date) -> bytes:
    return b"%04d%02d%02d" % (value.year, value.month, value.day)


def _format_time(value: time) -> bytes:
    return b"%02d:%02d:%02d.%03d" % (
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )


_FORMATTERS: Final[dict[type, Callable[[Any], bytes]]] = {
    bytes: bytes,
    str: str.encode,
    bool: lambda v: b"Y" if v else b"N",
    int: b"%d".__mod__,
    Decimal: _format_decimal,
    float: lambda v: _format_decimal(Decimal(repr(v))),
    datetime: format_utc_timestamp,
    date: _format_date,
    time: _format_time,
    MonthYear: lambda v: str(v).encode(),
    bytearray: bytes,
    memoryview: bytes,
}


def format_value(value: object) -> bytes:
    """Format a Python value for the wire (the inverse of the parse_* functions).

    Accepts bytes (as is), str, bool (Y/N), int, Decimal (never in exponent form), float
    (shortest round-trip repr), datetime (UTCTimestamp in ms), date (YYYYMMDD), time
    (HH:MM:SS.sss), MonthYear and enum members (their value).
    """
    fmt = _FORMATTERS.get(type(value))
    if fmt is not None:
        return fmt(value)
    if isinstance(value, Enum):
        return format_value(value.value)
    for kind, fmt in _FORMATTERS.items():  # subclasses (IntEnum aside) of the known types
        if isinstance(value, kind):
            return fmt(value)
    raise TypeError(f"cannot format {type(value).__name__} as a FIX value: {value!r}")


# Format checks by FIX type name: compiled regular expressions, so a check is one C call.
_YMD = rb"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_HMS = rb"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)"
_FRAC = rb"(?:\.[0-9]{3}|\.[0-9]{6})?"


def _regex_check(pattern: bytes) -> Check:
    return re.compile(pattern + rb"\Z", re.DOTALL).match


FORMAT_CHECKS: Final[dict[str, Check]] = {
    "INT": _INT_RE.match,
    "LENGTH": bytes.isdigit,
    "NUMINGROUP": bytes.isdigit,
    "SEQNUM": bytes.isdigit,
    "DAYOFMONTH": _regex_check(rb"(?:0?[1-9]|[12][0-9]|3[01])"),
    "FLOAT": _DECIMAL_RE.match,
    "PRICE": _DECIMAL_RE.match,
    "QTY": _DECIMAL_RE.match,
    "AMT": _DECIMAL_RE.match,
    "PRICEOFFSET": _DECIMAL_RE.match,
    "PERCENTAGE": _DECIMAL_RE.match,
    "BOOLEAN": frozenset({b"Y", b"N"}).__contains__,
    "CHAR": _regex_check(rb"[^\x01 ]"),
    "UTCTIMESTAMP": _regex_check(_YMD + b"-" + _HMS + _FRAC),
    "UTCTIMEONLY": _regex_check(_HMS + _FRAC),
    "UTCDATEONLY": _regex_check(_YMD),
    "LOCALMKTDATE": _regex_check(_YMD),
    "MONTHYEAR": _regex_check(rb"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]|w[1-5])?"),
    "MULTIPLEVALUESTRING": _regex_check(rb"[^ ]+(?: [^ ]+)*"),
}
"""Format check per FIX type (truthy result = well formed).

A type absent here (STRING, DATA, CURRENCY...) takes any bytes."""

FORMAT_PATTERNS: Final[dict[str, bytes]] = {
    "INT": rb"-?[0-9]+",
    "LENGTH": rb"[0-9]+",
    "NUMINGROUP": rb"[0-9]+",
    "SEQNUM": rb"[0-9]+",
    "DAYOFMONTH": rb"(?:0?[1-9]|[12][0-9]|3[01])",
    **dict.fromkeys(
        ("FLOAT", "PRICE", "QTY", "AMT", "PRICEOFFSET", "PERCENTAGE"),
        rb"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)",
    ),
    "BOOLEAN": rb"[YN]",
    "CHAR": rb"[^\x01 ]",
    "UTCTIMESTAMP": _YMD + b"-" + _HMS + _FRAC,
    "UTCTIMEONLY": _HMS + _FRAC,
    "UTCDATEONLY": _YMD,
    "LOCALMKTDATE": _YMD,
    "MONTHYEAR": rb"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]|w[1-5])?",
    "MULTIPLEVALUESTRING": rb"[^ \x01]+(?: [^ \x01]+)*",
}
"""The formats of `FORMAT_CHECKS` as regular-expression sources for one value (no anchors),
for checks compiled over a whole message; any other type is one or more non-SOH bytes."""

"""Field value formats: parse_* and format_value, and the format checks the validator uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum

import pytest

from trifix.core.fields import (
    FORMAT_CHECKS,
    MonthYear,
    format_utc_timestamp,
    format_value,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_month_year,
    parse_utc_time_only,
    parse_utc_timestamp,
)
from trifix.core.tags import OrdStatus, SessionRejectReason, Side

# -- parse -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"), [(b"0", 0), (b"42", 42), (b"-7", -7), (b"007", 7), (b"-0", 0)]
)
def test_parse_int(raw: bytes, value: int) -> None:
    assert parse_int(raw) == value


@pytest.mark.parametrize(
    "raw", [b"", b"-", b"+1", b"1.0", b" 1", b"1 ", b"1e3", b"0x1", b"\xd9\xa1"]
)
def test_parse_int_rejects(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a FIX int"):
        parse_int(raw)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"0", "0"),
        (b"1.08525", "1.08525"),
        (b"-0.00012", "-0.00012"),
        (b"100.000", "100.000"),  # trailing zeros kept: the value is exact
        (b".5", "0.5"),
        (b"5.", "5"),
        (b"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
    ],
)
def test_parse_decimal_is_exact(raw: bytes, text: str) -> None:
    value = parse_decimal(raw)
    assert isinstance(value, Decimal)
    assert value == Decimal(text)
    assert str(value) == text


def test_parse_decimal_keeps_digits() -> None:
    assert str(parse_decimal(b"1.08525")) == "1.08525"
    assert str(parse_decimal(b"100.000")) == "100.000"
    assert str(parse_decimal(b"-0.00012")) == "-0.00012"
    assert parse_decimal(b"0.1") + parse_decimal(b"0.2") == Decimal("0.3")


@pytest.mark.parametrize(
    "raw", [b"", b".", b"-", b"1e3", b"1E3", b"NaN", b"inf", b"Infinity", b"+1", b"1,5", b"1.2.3"]
)
def test_parse_decimal_rejects(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a FIX decimal"):
        parse_decimal(raw)


def test_parse_bool() -> None:
    assert parse_bool(b"Y") is True
    assert parse_bool(b"N") is False
    for raw in (b"y", b"n", b"", b"YES", b"1", b"0", b"T"):
        with pytest.raises(ValueError, match="not a FIX boolean"):
            parse_bool(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"20240304-05:06:07", datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)),
        (b"20240304-05:06:07.891", datetime(2024, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)),
        (b"20240304-05:06:07.000001", datetime(2024, 3, 4, 5, 6, 7, 1, tzinfo=UTC)),
        (b"20240304-05:06:07.891234", datetime(2024, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)),
        (b"19691231-23:59:59.999", datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        (b"20240229-23:59:60", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),  # leap second
    ],
)
def test_parse_utc_timestamp(raw: bytes, value: datetime) -> None:
    parsed = parse_utc_timestamp(raw)
    assert parsed == value
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "raw",
    [
        b"20240304",
        b"20240304-05:06",
        b"20240304 05:06:07",
        b"20240304-05:06:07.",
        b"20240304-05:06:07.8",
        b"20240304-05:06:07.8912",
        b"20240304-05:06:07.123456789",
        b"20240230-05:06:07",
        b"20241301-05:06:07",
        b"20240304-24:00:00",
        b"20240304-05:60:00",
        b"20240304-05:06:61",
        b"2024-03-04T05:06:07Z",
        b"",
    ],
)
def test_parse_utc_timestamp_rejects(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_utc_timestamp(raw)


def test_parse_utc_time_only() -> None:
    assert parse_utc_time_only(b"05:06:07") == time(5, 6, 7, tzinfo=UTC)
    assert parse_utc_time_only(b"05:06:07.891") == time(5, 6, 7, 891000, tzinfo=UTC)
    assert parse_utc_time_only(b"05:06:07.891234") == time(5, 6, 7, 891234, tzinfo=UTC)
    assert parse_utc_time_only(b"23:59:60") == time(23, 59, 59, tzinfo=UTC)
    for raw in (b"5:06:07", b"05:06", b"24:00:00", b"05:06:07.8", b""):
        with pytest.raises(ValueError):
            parse_utc_time_only(raw)


def test_parse_date() -> None:
    assert parse_date(b"20240304") == date(2024, 3, 4)
    assert parse_date(b"20240229") == date(2024, 2, 29)
    for raw in (b"20230229", b"2024034", b"2024-03-04", b"20240300", b"202403041", b""):
        with pytest.raises(ValueError):
            parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "value", "text"),
    [
        (b"202406", MonthYear(2024, 6), "202406"),
        (b"20240615", MonthYear(2024, 6, day=15), "20240615"),
        (b"20240229", MonthYear(2024, 2, day=29), "20240229"),
        (b"202406w1", MonthYear(2024, 6, week=1), "202406w1"),
        (b"202412w5", MonthYear(2024, 12, week=5), "202412w5"),
    ],
)
def test_month_year(raw: bytes, value: MonthYear, text: str) -> None:
    assert parse_month_year(raw) == value
    assert str(value) == text
    assert format_value(value) == raw


@pytest.mark.parametrize(
    "raw",
    [
        b"202400",
        b"202413",
        b"20230229",
        b"20240631",
        b"202406w0",
        b"202406w6",
        b"202406W1",
        b"2024",
    ],
)
def test_month_year_rejects(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_month_year(raw)


def test_month_year_is_a_frozen_value() -> None:
    my = MonthYear(2024, 6)
    assert (my.day, my.week) == (None, None)
    assert my == MonthYear(2024, 6, None, None)
    assert hash(my) == hash(MonthYear(2024, 6))
    with pytest.raises(AttributeError):
        my.year = 2025  # type: ignore[misc]


# -- format ----------------------------------------------------------------------------------------


class Colour(Enum):
    RED = "R"


class Level(IntEnum):
    HIGH = 3


class Letter(StrEnum):
    A = "a"


class MyInt(int):
    pass


class MyStr(str):
    __slots__ = ()


class MyDecimal(Decimal):
    pass


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        (b"raw\x01bytes", b"raw\x01bytes"),
        (bytearray(b"ba"), b"ba"),
        (memoryview(b"mv"), b"mv"),
        ("text", b"text"),
        ("caf\xe9", b"caf\xc3\xa9"),
        ("", b""),
        (True, b"Y"),
        (False, b"N"),
        (0, b"0"),
        (-42, b"-42"),
        (10**30, b"1" + b"0" * 30),
        (Decimal("1.08525"), b"1.08525"),
        (Decimal("100.000"), b"100.000"),
        (Decimal("-0.00012"), b"-0.00012"),
        (Decimal("1E+3"), b"1000"),
        (Decimal("1.5E-7"), b"0.00000015"),
        (Decimal("-0"), b"-0"),
        (1.5, b"1.5"),
        (0.1, b"0.1"),
        (1e20, b"100000000000000000000"),
        (1e-7, b"0.0000001"),
        (datetime(2024, 3, 4, 5, 6, 7, 891234, tzinfo=UTC), b"20240304-05:06:07.891"),
        (datetime(2024, 3, 4, 5, 6, 7), b"20240304-05:06:07.000"),  # naive: taken as UTC
        (
            datetime(2024, 3, 4, 7, 6, 7, 5000, tzinfo=timezone(timedelta(hours=2))),
            b"20240304-05:06:07.005",
        ),
        (date(2024, 3, 4), b"20240304"),
        (date(1, 1, 1), b"00010101"),
        (time(5, 6, 7, 891234), b"05:06:07.891"),
        (MonthYear(2024, 6), b"202406"),
        (Side.BUY, b"1"),
        (OrdStatus.FILLED, b"2"),
        (SessionRejectReason.OTHER, b"99"),
        (Colour.RED, b"R"),
        (Level.HIGH, b"3"),
        (Letter.A, b"a"),
        (MyInt(7), b"7"),
        (MyStr("sub"), b"sub"),
        (MyDecimal("2.50"), b"2.50"),
    ],
)
def test_format_value(value: object, raw: bytes) -> None:
    assert format_value(value) == raw


@pytest.mark.parametrize("value", [None, object(), [1], (1,), {"a": 1}, 1j, timedelta(1)])
def test_format_value_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError, match=f"cannot format {type(value).__name__} as a FIX value"):
        format_value(value)


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")]
)
def test_format_value_rejects_non_finite_decimals(value: Decimal) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        format_value(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_format_value_rejects_non_finite_floats(value: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        format_value(value)


@pytest.mark.parametrize(
    ("precision", "raw"),
    [(0, b"20240304-05:06:07"), (3, b"20240304-05:06:07.891"), (6, b"20240304-05:06:07.891234")],
)
def test_format_utc_timestamp_precisions(precision: int, raw: bytes) -> None:
    aware = datetime(2024, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
    assert format_utc_timestamp(aware, precision) == raw
    assert format_utc_timestamp(aware.replace(tzinfo=None), precision) == raw
    other = aware.astimezone(timezone(timedelta(hours=-5, minutes=-30)))
    assert format_utc_timestamp(other, precision) == raw


def test_format_utc_timestamp_rejects_other_precisions() -> None:
    value = datetime(2024, 3, 4, tzinfo=UTC)
    for precision in (1, 2, 9, -1):
        with pytest.raises(ValueError, match="precision must be 0, 3 or 6"):
            format_utc_timestamp(value, precision)


def test_format_utc_timestamp_within_one_second() -> None:
    # The formatter reuses the text of the last second: each call still gets its own ms.
    base = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    for ms in (0, 1, 999, 500, 0):
        value = base + timedelta(milliseconds=ms)
        assert format_utc_timestamp(value) == b"20240304-05:06:07.%03d" % ms
    assert format_utc_timestamp(base + timedelta(seconds=1)) == b"20240304-05:06:08.000"
    assert format_utc_timestamp(base - timedelta(microseconds=1)) == b"20240304-05:06:06.999"


@pytest.mark.parametrize(
    "first",
    [
        datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 0, 100000, tzinfo=UTC),
        datetime(1900, 1, 1, 0, 0, 0, 700000, tzinfo=UTC),
        datetime(3000, 1, 1, 0, 0, 0, 999999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 57, 999999, tzinfo=UTC),
    ],
)
def test_format_utc_timestamp_is_exact_for_any_date(first: datetime) -> None:
    # Each second formats to its own text whatever was formatted just before it, including
    # seconds before 1970 (negative timestamps) and far-future ones (where a float timestamp
    # cannot hold microseconds).
    steps = (0, 1, 1_000_000, 0, -1_000_000, 1_000_001, 0)
    for value in (first + timedelta(microseconds=us) for us in steps):
        expected = b"%04d%02d%02d-%02d:%02d:%02d.%03d" % (
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond // 1000,
        )
        assert format_utc_timestamp(value) == expected, value
        assert parse_utc_timestamp(expected) == value.replace(
            microsecond=value.microsecond // 1000 * 1000
        )


# -- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parse"),
    [
        (0, parse_int),
        (-123456789, parse_int),
        (Decimal("1.08525"), parse_decimal),
        (Decimal("-99.000"), parse_decimal),
        (True, parse_bool),
        (False, parse_bool),
        (datetime(2024, 3, 4, 5, 6, 7, 891000, tzinfo=UTC), parse_utc_timestamp),
        (date(2024, 2, 29), parse_date),
        (time(5, 6, 7, 891000, tzinfo=UTC), parse_utc_time_only),
        (MonthYear(2024, 6, week=3), parse_month_year),
        (MonthYear(2024, 6, day=30), parse_month_year),
    ],
)
def test_parse_format_round_trip(value: object, parse: object) -> None:
    assert callable(parse)
    raw = format_value(value)
    assert parse(raw) == value
    assert format_value(parse(raw)) == raw


# -- format checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ftype", "good", "bad"),
    [
        ("INT", [b"0", b"-5", b"123"], [b"", b"1.0", b"+1", b"a", b"1 "]),
        ("LENGTH", [b"0", b"42"], [b"-1", b"", b"1.0"]),
        ("NUMINGROUP", [b"0", b"10"], [b"-1", b"", b"x"]),
        ("SEQNUM", [b"1", b"123456789"], [b"-1", b"", b"1e3"]),
        ("DAYOFMONTH", [b"1", b"01", b"9", b"10", b"29", b"31"], [b"0", b"00", b"32", b"1a"]),
        ("FLOAT", [b"1", b"-1.5", b".5", b"5."], [b"", b"1e5", b"NaN", b"."]),
        ("PRICE", [b"1.08525"], [b"1,08"]),
        ("QTY", [b"1000000"], [b"1M"]),
        ("AMT", [b"-3.50"], [b"$3"]),
        ("PRICEOFFSET", [b"-0.0001"], [b"--1"]),
        ("PERCENTAGE", [b"0.05"], [b"5%"]),
        ("BOOLEAN", [b"Y", b"N"], [b"y", b"", b"YN"]),
        ("CHAR", [b"A", b"1", b"=", b"\xff"], [b"", b"AB", b" ", b"\x01"]),
        (
            "UTCTIMESTAMP",
            [b"20240304-05:06:07", b"20240304-23:59:60.123", b"20240304-05:06:07.123456"],
            [b"20240304-05:06:07.1", b"20240304-24:00:00", b"20241304-05:06:07", b"20240304"],
        ),
        ("UTCTIMEONLY", [b"05:06:07", b"05:06:07.891"], [b"5:06:07", b"05:06:07.8", b"25:00:00"]),
        ("UTCDATEONLY", [b"20240304", b"20241231"], [b"20240332", b"2024034", b"20240004"]),
        ("LOCALMKTDATE", [b"20240304"], [b"20240300", b"240304"]),
        (
            "MONTHYEAR",
            [b"202406", b"20240615", b"202406w1", b"202406w5"],
            [b"202413", b"202406w6", b"20240632", b"2024"],
        ),
        ("MULTIPLEVALUESTRING", [b"A", b"1 2 G"], [b"", b" A", b"A ", b"A  B"]),
    ],
)
def test_format_checks(ftype: str, good: list[bytes], bad: list[bytes]) -> None:
    check = FORMAT_CHECKS[ftype]
    for raw in good:
        assert check(raw), (ftype, raw)
    for raw in bad:
        assert not check(raw), (ftype, raw)


def test_types_without_a_format_check() -> None:
    for ftype in ("STRING", "DATA", "CURRENCY", "EXCHANGE", "COUNTRY"):
        assert ftype not in FORMAT_CHECKS

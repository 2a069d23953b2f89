"""Reading WebSocket API requests: every error kind names what is wrong; the schema follows the
field table; nothing a client sends makes the parser raise anything but `ApiError`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trifix.core.tags import OrdType, Side, TimeInForce
from trifix.trading.order_state import OrderState
from trifix.web import REQUESTS, ApiError, ErrorCode, json_schema, parse_request
from trifix.web.protocol import dumps, error_reply, ok_reply, push


def fails(text: str | bytes) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse_request(text)
    return info.value


def req(**fields: Any) -> str:
    return json.dumps({"id": 1, **fields})


ORDER = {"type": "place_order", "symbol": "EURUSD", "side": "buy", "order_qty": "1000"}


def test_a_valid_order_is_read_into_python_types() -> None:
    parsed = parse_request(
        req(**ORDER, price=1.0850, ord_type="limit", time_in_force="immediate_or_cancel")
    )
    assert parsed.id == 1
    assert parsed.type == "place_order"
    assert parsed.spec.changes_state
    assert parsed.args == {
        "symbol": "EURUSD",
        "side": Side.BUY,
        "order_qty": Decimal(1000),
        "price": Decimal("1.0850"),  # exact: numbers are read as decimals, not floats
        "ord_type": OrdType.LIMIT,
        "time_in_force": TimeInForce.IMMEDIATE_OR_CANCEL,
    }


def test_optional_fields_left_out_or_null_are_absent() -> None:
    parsed = parse_request(req(**ORDER, price=None))
    assert "price" not in parsed.args
    assert parse_request(json.dumps({"id": "a", "type": "get_sessions"})).args == {}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", ErrorCode.BAD_JSON),
        ("[1, 2]", ErrorCode.BAD_JSON),
        ('"subscribe"', ErrorCode.BAD_JSON),
        (b'{"id": 1, "type": "get_sessions"}', ErrorCode.BAD_JSON),
    ],
)
def test_messages_that_are_not_json_objects(text: str | bytes, code: ErrorCode) -> None:
    error = fails(text)
    assert error.code is code
    assert error.request_id is None
    assert json.loads(error_reply(error)) == {
        "id": None,
        "ok": False,
        "error": {"code": code.value, "message": error.message},
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "get_sessions"}, "id"),
        ({"id": True}, "id"),
        ({"id": 1.5}, "id"),
        ({"id": ""}, "id"),
    ],
)
def test_the_id_is_checked_first(data: dict[str, Any], field: str) -> None:
    error = fails(json.dumps(data))
    assert error.field == field
    assert error.code in (ErrorCode.MISSING_FIELD, ErrorCode.INVALID_FIELD)
    assert error.request_id is None


def test_a_missing_or_unknown_type_echoes_the_id() -> None:
    error = fails(json.dumps({"id": "x1"}))
    assert (error.code, error.field, error.request_id) == (ErrorCode.MISSING_FIELD, "type", "x1")
    error = fails(json.dumps({"id": "x2", "type": "launch_rocket"}))
    assert error.code is ErrorCode.UNKNOWN_TYPE
    assert "launch_rocket" in error.message
    assert "place_order" in error.message
    assert json.loads(error_reply(error))["id"] == "x2"


def test_unknown_field_is_named() -> None:
    error = fails(req(**ORDER, colour="blue"))
    assert (error.code, error.field) == (ErrorCode.UNKNOWN_FIELD, "colour")
    assert "order_qty" in error.message  # lists the fields the type has


@pytest.mark.parametrize("missing", ["symbol", "side", "order_qty"])
def test_missing_required_field_is_named(missing: str) -> None:
    fields = {k: v for k, v in ORDER.items() if k != missing}
    error = fails(req(**fields))
    assert (error.code, error.field) == (ErrorCode.MISSING_FIELD, missing)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("side", "up", "expected one of buy, sell"),
        ("side", 1, "expected one of"),
        ("order_qty", "-5", "must be positive"),
        ("order_qty", "lots", "not a decimal number"),
        ("order_qty", "NaN", "not a finite number"),
        ("order_qty", True, "expected a decimal number"),
        ("order_qty", [1], "expected a decimal number"),
        ("symbol", "", "non-empty string"),
        ("symbol", "X" * 65, "longer than 64"),
        ("symbol", "EUR\nUSD", "control characters"),
        ("symbol", 7, "non-empty string"),
    ],
)
def test_invalid_field_values_say_what_is_expected(field: str, value: Any, expected: str) -> None:
    error = fails(req(**{**ORDER, field: value}))
    assert (error.code, error.field) == (ErrorCode.INVALID_FIELD, field)
    assert error.message.startswith(f"{field}: ")
    assert expected in error.message


def test_integers_and_booleans() -> None:
    book = {"type": "subscribe_book", "symbol": "EURUSD"}
    assert parse_request(req(**book, depth=5)).args["depth"] == 5
    for bad in (0, 51, "5", True):
        assert fails(req(**book, depth=bad)).field == "depth"
    orders = {"type": "get_orders", "open_only": True, "state": "partially_filled"}
    assert parse_request(req(**orders)).args == {
        "open_only": True,
        "state": OrderState.PARTIALLY_FILLED,
    }
    assert fails(req(type="get_orders", open_only="yes")).field == "open_only"


def test_replies_and_pushes_are_compact_json_with_decimals_as_strings() -> None:
    result = {"px": Decimal("1.10"), "state": OrderState.PENDING_NEW}
    assert json.loads(ok_reply("a", result)) == {
        "id": "a",
        "ok": True,
        "result": {"px": "1.10", "state": "pending_new"},
    }
    assert json.loads(push("alert", {"text": "x"})) == {"type": "alert", "text": "x"}
    with pytest.raises(TypeError):
        dumps({"x": object()})
    error = ApiError(ErrorCode.CHECK_FAILED, "no", field="price", details={"n": 1})
    assert error.to_json() == {
        "code": "check_failed",
        "message": "no",
        "field": "price",
        "details": {"n": 1},
    }


def test_the_schema_follows_the_field_table() -> None:
    schema = json_schema()
    variants = {v["title"]: v for v in schema["oneOf"]}  # type: ignore[attr-defined]
    assert set(variants) == set(REQUESTS)
    for name, spec in REQUESTS.items():
        variant = variants[name]
        assert variant["properties"]["type"] == {"const": name}
        assert set(variant["properties"]) == {"id", "type", *(f.name for f in spec.fields)}
        assert variant["required"] == ["id", "type", *(f.name for f in spec.fields if f.required)]
        assert variant["additionalProperties"] is False
    side = variants["place_order"]["properties"]["side"]
    assert side["enum"][:2] == ["buy", "sell"]
    json.dumps(schema)  # JSON-ready


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@given(
    st.fixed_dictionaries(
        {"id": st.one_of(st.integers(), st.text(max_size=70), st.none())},
        optional={"type": st.sampled_from([*REQUESTS, "other"]) | st.text(max_size=5)},
    ),
    st.dictionaries(
        st.sampled_from(["symbol", "side", "order_qty", "price", "depth", "lp", "token", "x"]),
        json_values,
        max_size=5,
    ),
)
def test_any_json_either_parses_or_raises_api_error(
    head: dict[str, Any], fields: dict[str, Any]
) -> None:
    text = json.dumps({**fields, **head})
    try:
        parsed = parse_request(text)
    except ApiError as error:
        json.loads(error_reply(error))
    else:
        assert parsed.type in REQUESTS


def test_the_committed_schema_file_is_up_to_date() -> None:
    path = Path(__file__).parents[2] / "trifix/web/static/websocket-api.schema.json"
    assert json.loads(path.read_text()) == json_schema(), (
        "regenerate it: python -c 'import json; from trifix.web import json_schema; "
        "print(json.dumps(json_schema(), indent=2))' > trifix/web/static/websocket-api.schema.json"
    )

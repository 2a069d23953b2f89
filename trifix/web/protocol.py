"""The WebSocket API's messages: requests read and checked, replies and errors built (sans-IO).

Theory of operation. A client sends JSON objects, one per WebSocket text message, each with an
``id`` (a string or an integer the reply echoes) and a ``type``; the other keys are the
request's fields. `parse_request` turns the text into a `ParsedRequest` whose ``args`` hold
the fields converted to their Python types (Decimals, enums), or raises `ApiError` naming what
is wrong: bad JSON, an unknown type, a missing, unknown or invalid field. The field table
`REQUESTS` drives both the checks and the JSON Schema (`json_schema`), so the two cannot drift.

Numbers are read as `Decimal` (``json.loads(parse_float=Decimal)``): ``1.0850`` arrives exactly,
never as a binary float; prices and quantities may also be sent as strings. Enumerated fields
(side, order type, time in force, order state) take the lower-case names of the FIX enums
(``"buy"``, ``"limit"``, ``"immediate_or_cancel"``). Nothing here does I/O.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from trifix.core.tags import OrdType, Side, TimeInForce
from trifix.trading.order_state import OrderState

__all__ = [
    "REQUESTS",
    "ApiError",
    "ErrorCode",
    "FieldSpec",
    "ParsedRequest",
    "RequestSpec",
    "error_reply",
    "json_schema",
    "ok_reply",
    "parse_request",
    "push",
]

MAX_ID_LENGTH: Final = 64
MAX_TEXT_LENGTH: Final = 64


class ErrorCode(enum.StrEnum):
    """The ``error.code`` of a refused request."""

    BAD_JSON = "bad_json"
    """The message is not a JSON object (or not text)."""
    UNKNOWN_TYPE = "unknown_type"
    """No request has this ``type``."""
    MISSING_FIELD = "missing_field"
    """A required field is absent (``error.field`` names it)."""
    INVALID_FIELD = "invalid_field"
    """A field has a wrong type or value (``error.field`` names it)."""
    UNKNOWN_FIELD = "unknown_field"
    """The request carries a field its type does not have (``error.field`` names it)."""
    UNAUTHORIZED = "unauthorized"
    """A state-changing request without the token (or, with no token set, not from loopback)."""
    CHECK_FAILED = "check_failed"
    """A pre-send check refused the order (``error.details.failures``)."""
    BREAKER_OPEN = "breaker_open"
    """The LP's circuit breaker refuses orders for now (``error.details.retry_at``)."""
    NOT_LOGGED_ON = "not_logged_on"
    """The LP's session is not logged on."""
    THROTTLED = "throttled"
    """The session's outbound rate limit refused the message."""
    NO_ROUTE = "no_route"
    """No LP can take the order (unknown LP, none logged on, no price to route on)."""
    DUPLICATE_CL_ORD_ID = "duplicate_cl_ord_id"
    """The ClOrdID was used already."""
    UNKNOWN_ORDER = "unknown_order"
    """No order has this ClOrdID (or it cannot be cancelled/replaced now)."""
    QUOTE_REFUSED = "quote_refused"
    """The quote request or the order on a quote was refused before sending."""
    LIMIT = "limit"
    """A limit of the API or of the gateway was reached (subscriptions, market data)."""
    REFUSED = "refused"
    """The gateway refused the request for another reason (the message says why)."""


class ApiError(Exception):
    """A request refused, with what the reply's ``error`` object says.

    Args:
        code: the error code.
        message: the explanation, in words, with the values involved.
        field: the request field at fault, for field errors.
        details: more machine-readable facts (check failures, retry times...).
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = dict(details) if details else {}
        self.request_id: str | int | None = None
        """The ``id`` of the request, when it could be read."""

    def with_id(self, request_id: str | int) -> ApiError:
        """Set the ``id`` of the request refused; returns the error itself."""
        self.request_id = request_id
        return self

    def to_json(self) -> dict[str, object]:
        """The reply's ``error`` object."""
        out: dict[str, object] = {"code": self.code.value, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.details:
            out["details"] = self.details
        return out


Parser = Callable[[object], object]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a request: its name, whether it is required, how it is read.

    Attributes:
        name: the JSON key.
        parse: converts the JSON value; raises ValueError saying what is expected.
        schema: the field's JSON Schema.
        required: the request is refused without it.
        doc: what it means, for the documentation and the schema.
    """

    name: str
    parse: Parser
    schema: Mapping[str, object]
    required: bool = False
    doc: str = ""


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request type.

    Attributes:
        type: the ``type`` value.
        fields: its fields (``id`` and ``type`` excluded).
        changes_state: needs authorization (orders, quotes).
        doc: what it does.
    """

    type: str
    fields: tuple[FieldSpec, ...] = ()
    changes_state: bool = False
    doc: str = ""


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A request that passed the checks.

    Attributes:
        id: the client's ``id``, echoed in the reply.
        spec: its type.
        args: its fields, converted, by name (absent optional fields left out).
    """

    id: str | int
    spec: RequestSpec
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        """The request's ``type``."""
        return self.spec.type


# -- field readers -----------------------------------------------------------------------------


def _text(max_length: int = MAX_TEXT_LENGTH) -> tuple[Parser, dict[str, object]]:
    def parse(value: object) -> object:
        if not isinstance(value, str) or not value:
            raise ValueError("expected a non-empty string")
        if len(value) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        if not value.isprintable():
            raise ValueError("contains control characters")
        return value

    return parse, {"type": "string", "minLength": 1, "maxLength": max_length}


def _decimal(*, positive: bool = True) -> tuple[Parser, dict[str, object]]:
    def parse(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError("expected a decimal number (a JSON number or a string)")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        if positive and number <= 0:
            raise ValueError(f"must be positive, not {number}")
        return number

    schema: dict[str, object] = {
        "oneOf": [
            {"type": "number", "exclusiveMinimum": 0} if positive else {"type": "number"},
            {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
        ]
    }
    return parse, schema


def _integer(minimum: int, maximum: int) -> tuple[Parser, dict[str, object]]:
    def parse(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected an integer")
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}, not {value}")
        return value

    return parse, {"type": "integer", "minimum": minimum, "maximum": maximum}


def _boolean() -> tuple[Parser, dict[str, object]]:
    def parse(value: object) -> object:
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value

    return parse, {"type": "boolean"}


def enum_name(member: enum.Enum) -> str:
    """The API's name of an enum member: its Python name in lower case (``Side.BUY`` -> buy)."""
    return member.name.lower()


def _choice(cls: type[enum.Enum]) -> tuple[Parser, dict[str, object]]:
    by_name = {enum_name(m): m for m in cls}

    def parse(value: object) -> object:
        member = by_name.get(value) if isinstance(value, str) else None
        if member is None:
            raise ValueError(f"expected one of {', '.join(by_name)}, not {value!r}")
        return member

    return parse, {"type": "string", "enum": list(by_name)}


def _field(name: str, reader: tuple[Parser, dict[str, object]], doc: str, **kw: bool) -> FieldSpec:
    parse, schema = reader
    return FieldSpec(name, parse, {**schema, "description": doc}, doc=doc, **kw)


# -- the requests --------------------------------------------------------------------------------

_LP = _field("lp", _text(), "an LP name (see get_sessions)")
_SYMBOL = _field("symbol", _text(), "the instrument, e.g. EURUSD", required=True)
_CL_ORD_ID = _field(
    "cl_ord_id", _text(), "the order's ClOrdID (any of a replace chain)", required=True
)

REQUESTS: Final[Mapping[str, RequestSpec]] = {
    spec.type: spec
    for spec in (
        RequestSpec(
            "auth",
            (_field("token", _text(256), "the API token", required=True),),
            doc="Present the token (when the handshake carried no Authorization header).",
        ),
        RequestSpec(
            "subscribe_book",
            (
                _SYMBOL,
                _field("lp", _text(), "an LP name; absent: the consolidated book (bbo pushes)"),
                _field("depth", _integer(1, 50), "levels per side (default 1)"),
            ),
            doc="Push the book of one LP (book) or the consolidated best prices (bbo).",
        ),
        RequestSpec(
            "unsubscribe_book",
            (_SYMBOL, _field("lp", _text(), "the LP given to subscribe_book, if any")),
            doc="Stop a book subscription.",
        ),
        RequestSpec("subscribe_sessions", doc="Push session events, statistics and alerts."),
        RequestSpec("unsubscribe_sessions", doc="Stop session pushes."),
        RequestSpec(
            "subscribe_orders",
            (_field("lp", _text(), "only this LP's orders and quotes"),),
            doc="Push order changes (execution reports), quotes and alerts.",
        ),
        RequestSpec("unsubscribe_orders", doc="Stop order pushes."),
        RequestSpec(
            "place_order",
            (
                _field("cl_ord_id", _text(), "ClOrdID; absent: the gateway makes a unique one"),
                _SYMBOL,
                _field("side", _choice(Side), "buy, sell...", required=True),
                _field("order_qty", _decimal(), "the quantity", required=True),
                _field("ord_type", _choice(OrdType), "default: limit with a price, else market"),
                _field("price", _decimal(), "the limit price"),
                _field("stop_px", _decimal(), "the stop price"),
                _field("time_in_force", _choice(TimeInForce), "day, immediate_or_cancel..."),
                _field("account", _text(), "the Account (1)"),
                _field("lp", _text(), 'an LP name, or "best" (default) for best-price routing'),
            ),
            changes_state=True,
            doc="Send a NewOrderSingle after the pre-send checks and the breaker.",
        ),
        RequestSpec("cancel_order", (_CL_ORD_ID,), changes_state=True, doc="Cancel an order."),
        RequestSpec(
            "replace_order",
            (
                _CL_ORD_ID,
                _field("order_qty", _decimal(), "the new total quantity"),
                _field("price", _decimal(), "the new price"),
            ),
            changes_state=True,
            doc="Change an order's quantity and/or price (cancel/replace).",
        ),
        RequestSpec(
            "request_quote",
            (
                _SYMBOL,
                _field("lp", _text(), "the LP asked", required=True),
                _field("side", _choice(Side), "the side wanted (absent: two-way)"),
                _field("order_qty", _decimal(), "the quantity wanted"),
            ),
            changes_state=True,
            doc="Send a QuoteRequest; quotes arrive as quote pushes (subscribe_orders).",
        ),
        RequestSpec(
            "trade_quote",
            (
                _field("quote_id", _text(), "the QuoteID", required=True),
                _field("lp", _text(), "the LP that quoted", required=True),
                _field("side", _choice(Side), "buy or sell", required=True),
                _field("order_qty", _decimal(), "the quantity", required=True),
                _field("cl_ord_id", _text(), "ClOrdID; absent: the gateway makes one"),
            ),
            changes_state=True,
            doc="Send an order on a firm quote (OrdType previously quoted).",
        ),
        RequestSpec(
            "get_orders",
            (
                _field("lp", _text(), "only this LP's orders"),
                _field("symbol", _text(), "only this symbol"),
                _field("side", _choice(Side), "only this side"),
                _field("state", _choice(OrderState), "only orders in this state"),
                _field("open_only", _boolean(), "only orders not ended"),
                _field("limit", _integer(1, 1000), "at most this many, newest first (100)"),
            ),
            doc="The gateway's orders, newest first.",
        ),
        RequestSpec("get_sessions", doc="Every LP: its sessions, sequence numbers, breaker."),
    )
}
"""Every request type, by ``type``."""


# -- reading and writing -----------------------------------------------------------------------


def _read_id(data: Mapping[str, object]) -> str | int:
    if "id" not in data:
        raise ApiError(ErrorCode.MISSING_FIELD, "every request needs an id", field="id")
    value = data["id"]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ApiError(ErrorCode.INVALID_FIELD, "id: expected a string or an integer", field="id")
    if isinstance(value, str) and not 0 < len(value) <= MAX_ID_LENGTH:
        raise ApiError(
            ErrorCode.INVALID_FIELD, f"id: expected 1 to {MAX_ID_LENGTH} characters", field="id"
        )
    return value


def parse_request(text: str | bytes) -> ParsedRequest:
    """Read and check one request message.

    Raises:
        ApiError: the message is not a valid request; its ``request_id`` is set when the
            ``id`` could be read, so the error reply can echo it.
    """
    if isinstance(text, bytes):
        raise ApiError(ErrorCode.BAD_JSON, "send requests as text messages, not binary")
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise ApiError(ErrorCode.BAD_JSON, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.BAD_JSON, "a request must be a JSON object")
    request_id = _read_id(data)
    try:
        return _parse_fields(request_id, data)
    except ApiError as exc:
        raise exc.with_id(request_id) from None


def _parse_fields(request_id: str | int, data: Mapping[str, object]) -> ParsedRequest:
    kind = data.get("type")
    if kind is None:
        raise ApiError(ErrorCode.MISSING_FIELD, "every request needs a type", field="type")
    spec = REQUESTS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise ApiError(
            ErrorCode.UNKNOWN_TYPE,
            f"unknown request type {kind!r}; known: {', '.join(REQUESTS)}",
            field="type",
        )
    known = {f.name: f for f in spec.fields}
    for key in data:
        if key not in known and key not in ("id", "type"):
            raise ApiError(
                ErrorCode.UNKNOWN_FIELD,
                f"{spec.type} has no field {key!r}; its fields: {', '.join(known) or 'none'}",
                field=key,
            )
    args: dict[str, object] = {}
    for name, fspec in known.items():
        value = data.get(name)
        if value is None:
            if fspec.required:
                raise ApiError(
                    ErrorCode.MISSING_FIELD, f"{spec.type} needs {name} ({fspec.doc})", field=name
                )
            continue
        try:
            args[name] = fspec.parse(value)
        except ValueError as exc:
            raise ApiError(ErrorCode.INVALID_FIELD, f"{name}: {exc}", field=name) from None
    return ParsedRequest(request_id, spec, args)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return enum_name(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def dumps(data: Mapping[str, object]) -> str:
    """`data` as compact JSON text (Decimals as strings, enums by their API names)."""
    return json.dumps(data, default=_default, separators=(",", ":"))


def ok_reply(request_id: str | int, result: object) -> str:
    """The reply to a request that succeeded."""
    return dumps({"id": request_id, "ok": True, "result": result})


def error_reply(error: ApiError) -> str:
    """The reply to a request refused with `error` (``id`` null when it was unreadable)."""
    return dumps({"id": error.request_id, "ok": False, "error": error.to_json()})


def push(kind: str, payload: Mapping[str, object]) -> str:
    """A pushed message: ``{"type": kind, ...payload}``."""
    return dumps({"type": kind, **payload})


def json_schema() -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of every request, built from `REQUESTS`."""
    variants = []
    for spec in REQUESTS.values():
        properties: dict[str, object] = {
            "id": {"oneOf": [{"type": "string", "maxLength": MAX_ID_LENGTH}, {"type": "integer"}]},
            "type": {"const": spec.type},
        }
        properties.update({f.name: dict(f.schema) for f in spec.fields})
        variants.append(
            {
                "title": spec.type,
                "description": spec.doc,
                "type": "object",
                "properties": properties,
                "required": ["id", "type", *(f.name for f in spec.fields if f.required)],
                "additionalProperties": False,
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "trifix WebSocket API request",
        "oneOf": variants,
    }

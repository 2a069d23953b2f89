"""Refusals of the trading layer and the runtime as the WebSocket API's error replies."""

from __future__ import annotations

from trifix.runtime import NotLoggedOnError, ThrottledError
from trifix.trading.breaker import CircuitOpenError
from trifix.trading.checks import PreTradeCheckError
from trifix.trading.marketdata import SubscriptionLimitError
from trifix.trading.orders import DuplicateClOrdIDError, UnknownOrderError
from trifix.trading.quotes import QuoteError
from trifix.trading.routing import NoRouteError
from trifix.web.protocol import ApiError, ErrorCode
from trifix.web.views import iso

__all__ = ["trading_error"]


def trading_error(exc: Exception) -> ApiError:
    """The error reply for an exception of the gateway (in the order of specificity)."""
    if isinstance(exc, PreTradeCheckError):
        failures = [
            {"check": f.check, "reason": f.reason, "values": {k: str(v) for k, v in f.values}}
            for f in exc.failures
        ]
        return ApiError(ErrorCode.CHECK_FAILED, str(exc), details={"failures": failures})
    if isinstance(exc, CircuitOpenError):
        details = {"lp": exc.name, "state": exc.state.value, "retry_at": iso(exc.retry_at)}
        return ApiError(ErrorCode.BREAKER_OPEN, str(exc), details=details)
    table: tuple[tuple[type[Exception], ErrorCode], ...] = (
        (NotLoggedOnError, ErrorCode.NOT_LOGGED_ON),
        (ThrottledError, ErrorCode.THROTTLED),
        (NoRouteError, ErrorCode.NO_ROUTE),
        (DuplicateClOrdIDError, ErrorCode.DUPLICATE_CL_ORD_ID),
        (UnknownOrderError, ErrorCode.UNKNOWN_ORDER),
        (QuoteError, ErrorCode.QUOTE_REFUSED),
        (SubscriptionLimitError, ErrorCode.LIMIT),
    )
    for cls, code in table:
        if isinstance(exc, cls):
            return ApiError(code, str(exc))
    return ApiError(ErrorCode.REFUSED, str(exc))

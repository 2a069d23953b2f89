"""The web layer: the WebSocket API for downstream applications and the operations dashboard.

It sits above the trading layer and observability: `serve_websocket_api` serves the gateway's
orders, quotes, books and session events as JSON over WebSocket (docs/websocket-api.md);
`add_dashboard` registers the dashboard's page and ``/api/...`` endpoints on the operations
`HttpApp`; `serve_web` starts both in one call (docs/dashboard.md).
"""

from trifix.web.context import CLOSE_AUTH, CLOSE_SLOW, ApiLimits
from trifix.web.dashboard import RecentAlerts, add_dashboard
from trifix.web.protocol import REQUESTS, ApiError, ErrorCode, json_schema, parse_request
from trifix.web.serve import WebPorts, serve_web
from trifix.web.websocket import WebSocketApi, WebSocketApiStatistics, serve_websocket_api

__all__ = [
    "CLOSE_AUTH",
    "CLOSE_SLOW",
    "REQUESTS",
    "ApiError",
    "ApiLimits",
    "ErrorCode",
    "RecentAlerts",
    "WebPorts",
    "WebSocketApi",
    "WebSocketApiStatistics",
    "add_dashboard",
    "json_schema",
    "parse_request",
    "serve_web",
    "serve_websocket_api",
]

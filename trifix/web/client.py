"""One WebSocket client: its authorization and subscriptions, its requests and its pushes.

`Client` answers the requests of one connection (`on_message`, one at a time, in order) and
turns the gateway's updates into the pushes that client subscribed to (`on_update`). All it
writes goes through the connection's `Outbox`: replies and event pushes queue (bounded; a full
queue cuts the client off), book and BBO pushes are conflated per subscription.

Errors of the trading layer become error replies with a code (see `ErrorCode`); anything else
escaping a request is a bug, left to the connection to log and close with 1011.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import trio

from trifix.core.errors import LocalProtocolError
from trifix.core.tags import OrdType
from trifix.trading.errors import TradingError
from trifix.trading.messages import NewOrderSingle
from trifix.trading.order_views import OrderView
from trifix.trading.routing import Route
from trifix.trading.updates import (
    Alert,
    AlertKind,
    BboChanged,
    BookChanged,
    GatewayUpdate,
    OrderChanged,
    QuoteChanged,
    SessionChanged,
)
from trifix.web.context import CLOSE_AUTH, ApiContext
from trifix.web.errors import trading_error
from trifix.web.outbox import Outbox
from trifix.web.protocol import (
    ApiError,
    ErrorCode,
    ParsedRequest,
    error_reply,
    ok_reply,
    parse_request,
    push,
)
from trifix.web.snapshots import lp_sessions, orders_json, session_push
from trifix.web.surface import GatewaySurface
from trifix.web.views import alert_json, book_json, consolidated_json, iso, order_json, quote_json

__all__ = ["Client", "SlowClientError"]

_log = logging.getLogger("trifix.web")


class SlowClientError(Exception):
    """The client's outbox is full: it is cut off."""


BookKey = tuple[str, str | None]
"""A book subscription: (symbol, LP), LP None for the consolidated book."""


class Client:
    """The state and the request handling of one connection (see the module docs).

    Args:
        ctx: what the server's clients share.
        outbox: where replies and pushes go.
        authorized: whether state-changing requests are allowed from the start (a valid
            token in the handshake, or no token configured and a trusted loopback client).
        peer: the client's address, for logs.
    """

    def __init__(self, ctx: ApiContext, outbox: Outbox, *, authorized: bool, peer: str) -> None:
        self.ctx = ctx
        self.outbox = outbox
        self.authorized = authorized
        self.peer = peer
        self.books: dict[BookKey, int] = {}
        self.sessions = False
        self.orders = False
        self.orders_lp: str | None = None
        self.auth_failures = 0
        self.wants_updates = trio.Event()
        """Set at the first subscription: the connection then opens its gateway consumer."""
        self._handlers: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
            name.removeprefix("_do_"): getattr(self, name)
            for name in dir(self)
            if name.startswith("_do_")
        }

    @property
    def gateway(self) -> GatewaySurface:
        """The gateway."""
        return self.ctx.gateway

    @property
    def subscriptions(self) -> int:
        """How many subscriptions the client holds."""
        return len(self.books) + int(self.sessions) + int(self.orders)

    # -- requests ------------------------------------------------------------------------------

    async def on_message(self, text: str | bytes) -> None:
        """Answer one request message (a reply, ok or error, always goes out).

        Raises:
            SlowClientError: the reply found the outbox full.
        """
        try:
            request = parse_request(text)
            result = await self._dispatch(request)
        except ApiError as exc:
            self._send(error_reply(exc))
            return
        self._send(ok_reply(request.id, result))
        if request.type == "subscribe_book":
            self._push_book_snapshot(request.args["symbol"], request.args.get("lp"))

    async def _dispatch(self, request: ParsedRequest) -> Any:
        if request.spec.changes_state and not self.authorized:
            raise ApiError(
                ErrorCode.UNAUTHORIZED,
                f"{request.type} changes state: send the API token (an 'auth' request or an "
                "'Authorization: Bearer' header); without a token configured, only loopback "
                "clients that are not browser pages from other origins may",
            ).with_id(request.id)
        handler = self._handlers[request.type]
        try:
            return await handler(request.args)
        except ApiError as exc:
            raise exc.with_id(request.id) from None
        except (TradingError, LocalProtocolError) as exc:  # refusals, not bugs
            raise trading_error(exc).with_id(request.id) from None

    def _send(self, text: str) -> None:
        if not self.outbox.put(text):
            raise SlowClientError(f"{self.outbox.limit} messages queued")

    def _check_lp(self, lp: str | None, field: str = "lp") -> None:
        if lp is not None and lp not in self.gateway.lp_names:
            known = ", ".join(self.gateway.lp_names) or "none"
            raise ApiError(ErrorCode.INVALID_FIELD, f"unknown LP {lp!r}; LPs: {known}", field=field)

    def _order_result(self, view: OrderView) -> dict[str, object]:
        return {"order": order_json(view, self.gateway.lp_of(view.cl_ord_id))}

    async def _do_auth(self, args: Mapping[str, Any]) -> object:
        token = self.ctx.token
        if token is None:
            if not self.authorized:
                raise ApiError(
                    ErrorCode.UNAUTHORIZED,
                    "no token is configured: only trusted loopback clients may change state",
                )
            return {"authorized": True}
        if _same(args["token"], token):
            self.authorized = True
            return {"authorized": True}
        self.auth_failures += 1
        if self.auth_failures >= self.ctx.limits.max_auth_failures:
            self.outbox.close(CLOSE_AUTH, "too many failed auth requests")
        raise ApiError(ErrorCode.UNAUTHORIZED, "wrong token", field="token")

    def _need_room(self) -> None:
        if self.subscriptions >= self.ctx.limits.max_subscriptions:
            raise ApiError(
                ErrorCode.LIMIT,
                f"at most {self.ctx.limits.max_subscriptions} subscriptions per client",
            )

    async def _do_subscribe_book(self, args: Mapping[str, Any]) -> object:
        symbol: str = args["symbol"]
        lp: str | None = args.get("lp")
        depth: int = args.get("depth", 1)
        self._check_lp(lp)
        if depth > self.ctx.limits.book_depth:
            raise ApiError(
                ErrorCode.INVALID_FIELD,
                f"depth: at most {self.ctx.limits.book_depth} levels",
                field="depth",
            )
        key = (symbol, lp)
        if key not in self.books:
            self._need_room()
            await self.ctx.market_data.acquire(symbol)
        self.books[key] = depth
        self.wants_updates.set()
        return {"symbol": symbol, "lp": lp, "depth": depth}

    async def _do_unsubscribe_book(self, args: Mapping[str, Any]) -> object:
        key = (args["symbol"], args.get("lp"))
        if self.books.pop(key, None) is None:
            where = "consolidated" if key[1] is None else key[1]
            raise ApiError(
                ErrorCode.INVALID_FIELD,
                f"no book subscription to {key[0]} ({where})",
                field="symbol",
            )
        await self.ctx.market_data.release(key[0])
        return {"symbol": key[0], "lp": key[1]}

    async def _do_subscribe_sessions(self, _args: Mapping[str, Any]) -> object:
        if not self.sessions:
            self._need_room()
        self.sessions = True
        self.wants_updates.set()
        return {"lps": lp_sessions(self.gateway, self.ctx.engine)}

    async def _do_unsubscribe_sessions(self, _args: Mapping[str, Any]) -> object:
        self.sessions = False
        return {}

    async def _do_subscribe_orders(self, args: Mapping[str, Any]) -> object:
        lp: str | None = args.get("lp")
        self._check_lp(lp)
        if not self.orders:
            self._need_room()
        self.orders = True
        self.orders_lp = lp
        self.wants_updates.set()
        return {"orders": orders_json(self.gateway, lp=lp, open_only=True)}

    async def _do_unsubscribe_orders(self, _args: Mapping[str, Any]) -> object:
        self.orders = False
        self.orders_lp = None
        return {}

    async def _do_place_order(self, args: Mapping[str, Any]) -> object:
        lp: str | None = args.get("lp")
        if lp != Route.BEST_PRICE.value:
            self._check_lp(lp)
        price: Decimal | None = args.get("price")
        default_type = OrdType.MARKET if price is None else OrdType.LIMIT
        order = NewOrderSingle(
            cl_ord_id=args.get("cl_ord_id") or self.gateway.new_cl_ord_id(),
            symbol=args["symbol"],
            side=args["side"],
            order_qty=args["order_qty"],
            ord_type=args.get("ord_type", default_type),
            price=price,
            stop_px=args.get("stop_px"),
            time_in_force=args.get("time_in_force"),
            account=args.get("account"),
        )
        route: str | Route = Route.BEST_PRICE if lp in (None, Route.BEST_PRICE.value) else lp
        view = await self.gateway.place(order, lp=route)
        return self._order_result(view)

    async def _do_cancel_order(self, args: Mapping[str, Any]) -> object:
        return self._order_result(await self.gateway.cancel(args["cl_ord_id"]))

    async def _do_replace_order(self, args: Mapping[str, Any]) -> object:
        qty, price = args.get("order_qty"), args.get("price")
        if qty is None and price is None:
            raise ApiError(
                ErrorCode.MISSING_FIELD,
                "replace_order needs order_qty, price or both",
                field="price",
            )
        view = await self.gateway.replace(args["cl_ord_id"], order_qty=qty, price=price)
        return self._order_result(view)

    async def _do_request_quote(self, args: Mapping[str, Any]) -> object:
        lp: str = args["lp"]
        self._check_lp(lp)
        request = await self.gateway.request_quote(
            args["symbol"], lp=lp, side=args.get("side"), order_qty=args.get("order_qty")
        )
        return {"quote_req_id": request.quote_req_id, "symbol": request.symbol, "lp": lp}

    async def _do_trade_quote(self, args: Mapping[str, Any]) -> object:
        lp: str = args["lp"]
        self._check_lp(lp)
        view = await self.gateway.trade_quote(
            args["quote_id"],
            lp=lp,
            side=args["side"],
            order_qty=args["order_qty"],
            cl_ord_id=args.get("cl_ord_id"),
        )
        return {"order": order_json(view, lp)}

    async def _do_get_orders(self, args: Mapping[str, Any]) -> object:
        self._check_lp(args.get("lp"))
        return {
            "orders": orders_json(
                self.gateway,
                lp=args.get("lp"),
                symbol=args.get("symbol"),
                side=args.get("side"),
                state=args.get("state"),
                open_only=args.get("open_only", False),
                limit=args.get("limit", 100),
            )
        }

    async def _do_get_sessions(self, _args: Mapping[str, Any]) -> object:
        return {"lps": lp_sessions(self.gateway, self.ctx.engine)}

    async def release(self) -> None:
        """Give back the client's market data subscriptions (the connection ended)."""
        symbols = [symbol for symbol, _ in self.books]
        self.books.clear()
        for symbol in symbols:
            await self.ctx.market_data.release(symbol)

    # -- pushes --------------------------------------------------------------------------------

    def on_update(self, update: GatewayUpdate) -> None:
        """Push what `update` means to this client, if it subscribed to it.

        Raises:
            SlowClientError: the outbox is full.
        """
        if isinstance(update, BookChanged):
            self._on_book(update.symbol, update.lp)
        elif isinstance(update, BboChanged):
            if (update.symbol, None) in self.books:
                self._push_consolidated(update.symbol)
        elif isinstance(update, OrderChanged):
            if self._wants_orders(update.lp):
                payload = {
                    "lp": update.lp,
                    "event": update.event.value,
                    "order": order_json(update.view, update.lp),
                    "fill": None
                    if update.fill is None
                    else {
                        "exec_id": update.fill.exec_id,
                        "qty": str(update.fill.qty),
                        "price": str(update.fill.price),
                        "time": iso(update.fill.time),
                    },
                    "text": update.text,
                }
                self._send(push("order", payload))
        elif isinstance(update, QuoteChanged):
            if self._wants_orders(update.lp):
                self._send(push("quote", quote_json(update.view, update.lp)))
        elif isinstance(update, SessionChanged):
            if self.sessions:
                self._send(push("session", session_push(update, self.ctx.engine)))
        elif (
            isinstance(update, Alert)
            and update.kind is not AlertKind.OVERFLOW
            and (self.sessions or self._wants_orders(update.lp))
        ):
            self._send(push("alert", alert_json(update)))

    def _wants_orders(self, lp: str | None) -> bool:
        return self.orders and (self.orders_lp is None or lp is None or lp == self.orders_lp)

    def _on_book(self, symbol: str, lp: str) -> None:
        depth = self.books.get((symbol, lp))
        if depth is not None:
            book = self.gateway.book(symbol, lp)
            if book is not None:
                self.outbox.put_latest(("book", symbol, lp), push("book", book_json(book, depth)))
        if self.books.get((symbol, None), 1) > 1:
            self._push_consolidated(symbol)

    def _push_consolidated(self, symbol: str) -> None:
        depth = self.books[(symbol, None)]
        books = [self.gateway.book(symbol, lp) for lp in self.gateway.lp_names]
        payload = consolidated_json(
            symbol, self.gateway.bbo(symbol), [b for b in books if b is not None], depth
        )
        self.outbox.put_latest(("bbo", symbol), push("bbo", payload))

    def _push_book_snapshot(self, symbol: str, lp: str | None) -> None:
        if lp is None:
            if self.gateway.bbo(symbol) is not None:
                self._push_consolidated(symbol)
        else:
            self._on_book(symbol, lp)

    def push_statistics(self) -> None:
        """Push every session's statistics (conflated per session) if subscribed."""
        if not self.sessions:
            return
        for entry in lp_sessions(self.gateway, self.ctx.engine):
            for session in entry["sessions"]:
                payload = {
                    "lp": entry["lp"],
                    "session_id": session["session_id"],
                    "event": "statistics",
                    "statistics": session,
                }
                key = ("session", entry["lp"], session["session_id"])
                self.outbox.put_latest(key, push("session", payload))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())

"""Running e2e scripts: the simulator and a trifix gateway in this process, over loopback TCP.

Each script gets a fresh world (`conformance.e2e_env.open_e2e_env`): a simulator built from the
script's ``simulator:`` header and a gateway whose one initiator session dials it. Steps act
through the gateway's public API (place, cancel, replace, subscribe, quotes...), the simulator's
controls (``sim``), or wait for a state; ``assert`` steps check what must hold at the end
(`conformance.e2e_checks`). Results are the runner's `ScriptResult`s, so the report (PASS/FAIL
lines, the tally, JUnit) is the one session scripts use; the transcript tells what each step did.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import trio

from conformance.e2e_checks import run_check, stat_value
from conformance.e2e_env import E2EEnv, open_e2e_env
from conformance.e2e_script import Comparison, E2EScript, E2EStep
from conformance.runner import RunOptions, ScriptResult
from conformance.simcontrol import simulator_control
from trifix.core.errors import FixError
from trifix.core.tags import OrdType
from trifix.trading import NewOrderSingle, OrderState, QuoteChanged

__all__ = ["run_e2e_script", "run_e2e_scripts"]

_POLL = 0.01


class _StepFailed(Exception):
    """The current step failed; the message says why."""


def _first(group: BaseExceptionGroup[Exception]) -> Exception:
    """The first leaf exception of a (nested) group."""
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    assert isinstance(first, Exception)
    return first


async def run_e2e_scripts(
    scripts: Sequence[E2EScript],
    options: RunOptions | None = None,
    on_result: Callable[[ScriptResult], None] | None = None,
) -> list[ScriptResult]:
    """Run e2e `scripts` one after the other, each in a fresh simulator and gateway."""
    results = []
    for script in scripts:
        result = await run_e2e_script(script, options)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


async def run_e2e_script(script: E2EScript, options: RunOptions | None = None) -> ScriptResult:
    """Run one e2e script; never raises for what the gateway or simulator do (a failed result)."""
    options = options or RunOptions()
    run = _E2ERun(script, options)
    return await run.run()


class _E2ERun:
    """One script's run: the world, the script's names (quotes) and the transcript."""

    def __init__(self, script: E2EScript, options: RunOptions) -> None:
        self.script = script
        self.options = options
        self.transcript: list[str] = []
        self.quotes: dict[str, str] = {}
        self.background: list[tuple[E2EStep, trio.Event, list[str]]] = []

    async def run(self) -> ScriptResult:
        start = trio.current_time()
        cap = self.script.timeout or self.options.script_timeout
        self.failed_step: E2EStep | None = None
        reason = ""
        assert self.script.simulator is not None
        try:
            with trio.move_on_after(cap) as scope:
                async with open_e2e_env(self.script.simulator, self.script.gateway) as env:
                    reason = await self._steps(env)
            if scope.cancelled_caught:
                reason = f"the script ran over its {cap:g} s cap"
        except* (FixError, ValueError, KeyError, TypeError, OSError) as group:
            first = _first(group)
            reason = f"{type(first).__name__}: {first}"
        duration = trio.current_time() - start
        transcript = tuple(self.transcript)
        if reason:
            step = self.failed_step
            return ScriptResult(self.script, "failed", duration, step, reason, transcript)
        return ScriptResult(self.script, "passed", duration, None, "", transcript)

    async def _steps(self, env: E2EEnv) -> str:
        """Run every step; the reason of the first failure, or "" when all passed."""
        for step in self.script.steps:
            assert isinstance(step, E2EStep)
            self.failed_step = step
            try:
                await self._run_step(env, step)
            except _StepFailed as exc:
                return str(exc)
        self.failed_step = None
        self._note_memory(env)
        return ""

    def _timeout(self, value: float | None) -> float:
        if value is not None:
            return value
        return self.script.step_timeout or self.options.step_timeout

    def _log(self, line: str) -> None:
        self.transcript.append(line)

    def _note_memory(self, env: E2EEnv) -> None:
        if env.memory.available:
            self._log(f"= memory: RSS grew {env.memory.growth() / 1e6:.1f} MB at most")

    async def _poll(
        self, condition: Callable[[], str | None], within: float | None, what: str
    ) -> None:
        """Wait until `condition()` returns None; fail with its last answer at the timeout.

        Polling, not events: the conditions read state the gateway and simulator keep (order
        views, books, statistics) and no event announces every change of it."""
        wait = self._timeout(within)
        last: str | None = None
        with trio.move_on_after(wait):
            while (last := condition()) is not None:  # noqa: ASYNC110 - see the docstring
                await trio.sleep(_POLL)
            return
        raise _StepFailed(f"{what}: not within {wait:g} s: {last}")

    # -- steps ------------------------------------------------------------------------------
    async def _run_step(self, env: E2EEnv, step: E2EStep) -> None:
        handler = _HANDLERS[step.action]
        try:
            await handler(self, env, step.args)
        except _StepFailed:
            raise
        except (FixError, ValueError, KeyError) as exc:  # the API refused the action
            raise _StepFailed(f"{step.action}: {type(exc).__name__}: {exc}") from None

    async def _wait_logged_on(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        def check() -> str | None:
            return None if env.handle.is_logged_on else f"session {env.handle.state.value}"

        await self._poll(check, args["timeout"], "the gateway's session logged on")
        self._log(f"= logged on (seq out {env.handle.statistics().next_sender_seq})")

    async def _wait_disconnected(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        def check() -> str | None:
            return "still connected" if env.handle.connection is not None else None

        await self._poll(check, args["timeout"], "the gateway's session disconnected")
        self._log("= disconnected")

    async def _subscribe(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.gw.subscribe(args["symbols"], depth=args["depth"])
        self._log(f"> subscribe {', '.join(args['symbols'])} depth {args['depth']}")

    async def _unsubscribe(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.gw.unsubscribe(args["symbol"])
        self._log(f"> unsubscribe {args['symbol']}")

    def _new_order(self, cl_ord_id: str, args: Mapping[str, Any]) -> NewOrderSingle:
        price = args["price"]
        return NewOrderSingle(
            cl_ord_id=cl_ord_id,
            symbol=args["symbol"],
            side=args["side"],
            order_qty=args["qty"],
            ord_type=OrdType.LIMIT if price is not None else OrdType.MARKET,
            price=price,
        )

    async def _place(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.gw.place(self._new_order(args["id"], args), lp=env.lp)
        shown = "market" if args["price"] is None else f"@ {args['price']}"
        self._log(
            f"> place {args['id']}: {args['side'].name} {args['qty']} {args['symbol']} {shown}"
        )

    async def _burst(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        began = time.perf_counter()
        for i in range(1, args["count"] + 1):
            await env.gw.place(self._new_order(f"{args['prefix']}{i}", args), lp=env.lp)
        took = time.perf_counter() - began
        self._log(
            f"> burst: {args['count']} orders placed in {took:.2f} s "
            f"({args['count'] / max(took, 1e-9):.0f}/s)"
        )

    async def _cancel(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.gw.cancel(args["id"])
        self._log(f"> cancel {args['id']}")

    async def _replace(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.gw.replace(args["id"], order_qty=args["qty"], price=args["price"])
        self._log(f"> replace {args['id']}: qty {args['qty']}, price {args['price']}")

    async def _request_status(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.gw.request_status(args["id"])
        self._log(f"> status request {args['id']}")

    async def _request_quote(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        seen = len(env.updates.kept)
        request = await env.gw.request_quote(
            args["symbol"], lp=env.lp, side=args["side"], order_qty=args["qty"]
        )
        found: list[str] = []

        def check() -> str | None:
            for update in env.updates.kept[seen:]:
                if (
                    isinstance(update, QuoteChanged)
                    and update.view.quote.quote_req_id == request.quote_req_id
                ):
                    found.append(update.view.quote_id)
                    return None
            return "no Quote yet"

        await self._poll(check, None, f"a Quote for QuoteReqID {request.quote_req_id}")
        self.quotes[args["as"]] = found[0]
        self._log(f"> quote request {args['symbol']}: quote {found[0]} as {args['as']}")

    async def _trade_quote(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        quote_id = self.quotes.get(args["quote"])
        if quote_id is None:
            raise _StepFailed(f"trade_quote: no quote named {args['quote']!r}: request_quote first")
        await env.gw.trade_quote(
            quote_id, lp=env.lp, side=args["side"], order_qty=args["qty"], cl_ord_id=args["id"]
        )
        self._log(f"> trade quote {quote_id} as order {args['id']}")

    async def _wait_order(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        statuses: frozenset[OrderState] = args["status"]

        def check() -> str | None:
            view = env.gw.order(args["id"])
            if view is None:
                return "unknown order"
            return None if view.state in statuses else f"it is {view.state.value}"

        wanted = " or ".join(sorted(s.value for s in statuses))
        await self._poll(check, args["timeout"], f"order {args['id']} {wanted}")
        self._log(f"= order {args['id']} {wanted}")

    async def _wait_orders(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        statuses: frozenset[OrderState] = args["status"]

        def check() -> str | None:
            views = [v for v in env.gw.orders() if v.chain[0].startswith(args["prefix"])]
            if args["count"] is not None and len(views) != args["count"]:
                return f"{len(views)} orders, not {args['count']}"
            waiting = [v for v in views if v.state not in statuses]
            return f"{len(waiting)} of {len(views)} not yet" if waiting else None

        wanted = " or ".join(sorted(s.value for s in statuses))
        await self._poll(check, args["timeout"], f"orders {args['prefix']}* {wanted}")
        self._log(f"= orders {args['prefix']}* {wanted}")

    async def _wait_book(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await self._poll(
            lambda: run_check(env, "book", args), args["timeout"], f"book {args['symbol']}"
        )
        self._log(f"= book {args['symbol']} equals the simulator's")

    async def _wait_session(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        fields: Mapping[str, Comparison] = args["fields"]
        of_gateway = args["of"] == "gateway"

        def check() -> str | None:
            stats = env.handle.statistics() if of_gateway else env.sim_session.statistics()
            for name, wanted in fields.items():
                got = stat_value(stats, name)
                if got is None:
                    raise _StepFailed(f"wait_session: no statistic {name!r}")
                if not wanted.holds(got):
                    return f"{name} is {got}, not {wanted}"
            return None

        await self._poll(check, args["timeout"], f"{args['of']} session statistics")
        shown = ", ".join(f"{k} {v}" for k, v in fields.items())
        self._log(f"= {args['of']} session: {shown}")

    async def _sim(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        control = simulator_control(env.sim, env.sim_session.id)
        call: Callable[[], Awaitable[object]] = lambda: control(  # noqa: E731
            "", args["action"], args["args"]
        )
        shown = f"sim {args['action']} {dict(args['args']) or ''}".rstrip()
        if not args["background"]:
            began = time.perf_counter()
            result = await call()
            self._sim_result(args, result, shown, time.perf_counter() - began)
            return
        done = trio.Event()
        errors: list[str] = []

        async def background() -> None:
            began = time.perf_counter()
            try:
                result = await call()
                self._sim_result(args, result, shown, time.perf_counter() - began)
            except (_StepFailed, FixError, ValueError, TypeError) as exc:
                errors.append(str(exc))
            finally:
                done.set()

        env.nursery.start_soon(background)
        self._log(f"> {shown} (in the background)")
        step = E2EStep(0, 0, None, action="sim", args=args)
        self.background.append((step, done, errors))

    def _sim_result(self, args: Mapping[str, Any], result: object, shown: str, took: float) -> None:
        text = "" if result is None else f" -> {result}"
        self._log(f"> {shown}{text} ({took:.2f} s)")
        expect: Comparison | None = args["expect"]
        if expect is None:
            return
        if not isinstance(result, int) or not expect.holds(Decimal(result)):
            raise _StepFailed(f"sim {args['action']}: expected a result {expect}, got {result!r}")

    async def _join(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        wait = self._timeout(args["timeout"])
        with trio.move_on_after(wait):
            for _, done, _ in self.background:
                await done.wait()
        pending = sum(not done.is_set() for _, done, _ in self.background)
        errors = [e for _, _, errs in self.background for e in errs]
        self.background.clear()
        if errors:
            raise _StepFailed(f"a background sim step failed: {errors[0]}")
        if pending:
            raise _StepFailed(f"{pending} background sim step(s) still running after {wait:g} s")
        self._log("= background steps done")

    async def _wait(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await trio.sleep(args["seconds"])

    async def _reset_memory(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        env.memory.reset()
        self._log("= memory baseline taken")

    async def _assert(self, env: E2EEnv, args: Mapping[str, Any]) -> None:
        await env.updates.caught_up()
        for name, check_args in args["checks"]:
            await self._poll(functools.partial(run_check, env, name, check_args), None, name)
            self._log(f"= {name} holds")


_Handler = Callable[[_E2ERun, E2EEnv, Mapping[str, Any]], Awaitable[None]]

_HANDLERS: dict[str, _Handler] = {
    "wait_logged_on": _E2ERun._wait_logged_on,
    "wait_disconnected": _E2ERun._wait_disconnected,
    "subscribe": _E2ERun._subscribe,
    "unsubscribe": _E2ERun._unsubscribe,
    "place": _E2ERun._place,
    "cancel": _E2ERun._cancel,
    "replace": _E2ERun._replace,
    "request_status": _E2ERun._request_status,
    "request_quote": _E2ERun._request_quote,
    "trade_quote": _E2ERun._trade_quote,
    "burst": _E2ERun._burst,
    "wait_order": _E2ERun._wait_order,
    "wait_orders": _E2ERun._wait_orders,
    "wait_book": _E2ERun._wait_book,
    "wait_session": _E2ERun._wait_session,
    "sim": _E2ERun._sim,
    "join": _E2ERun._join,
    "wait": _E2ERun._wait,
    "reset_memory": _E2ERun._reset_memory,
    "assert": _E2ERun._assert,
}

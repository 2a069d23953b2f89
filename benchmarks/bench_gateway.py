"""Order place -> ack through the trading gateway, against the bare session underneath.

Run ``python benchmarks/bench_gateway.py`` (about 10 s) or ``--quick`` (about 2 s).

Two trifix engines in this process over an in-memory stream pair (no sockets, memory stores),
on trio's real clock: the LP engine's session is served by a task answering every
NewOrderSingle with an ExecutionReport New. Two ways to place the same orders:

* session: `SessionHandle.send` of a prebuilt NewOrderSingle, then wait for the
  ExecutionReport with its ClOrdID on `SessionHandle.events()` (what an application without
  the gateway would do, minus any order tracking);
* gateway: `Gateway.place` of a typed NewOrderSingle (routing to the named LP, pre-send checks
  with instrument reference data, the breaker, the tracker), then wait until the order is NEW
  (the gateway's reader applied the ack: tracker, breaker, the ack-latency callback and an
  `OrderChanged` to one update consumer).

Each is run one order at a time (latency, p50 and p99 of place -> ack) and with up to 100
orders in flight (orders acknowledged per second). Both engines and the LP share one core, so
the figures are the whole round trip's CPU, both sides; the gateway's own cost is the
difference between the rows. The last line is the summary::

    gateway_p50_us=N session_p50_us=M gateway_orders_per_s=R

Measurements, not tests: the script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import trio
import trio.testing

from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import ExecType, MsgType, OrdStatus, OrdType, Side, Tag
from trifix.runtime import Engine, EngineSpec, SessionHandle, SessionSpec, open_engine
from trifix.trading import Instrument, LPConfig, NewOrderSingle, OrderState, open_gateway


async def serve_acks(handle: SessionHandle) -> None:
    """The LP: an ExecutionReport New for every NewOrderSingle."""
    n = 0
    async for event in handle.events():
        if not isinstance(event, AppMessageReceived):
            continue
        msg = event.message
        if msg.msg_type != MsgType.NEW_ORDER_SINGLE:
            continue
        n += 1
        await handle.send(
            Message.new(
                MsgType.EXECUTION_REPORT,
                (Tag.ORDER_ID, f"O{n}"),
                (Tag.CL_ORD_ID, msg.get_str(Tag.CL_ORD_ID)),
                (Tag.EXEC_ID, f"E{n}"),
                (Tag.EXEC_TYPE, ExecType.NEW),
                (Tag.ORD_STATUS, OrdStatus.NEW),
                (Tag.SYMBOL, msg.get_str(Tag.SYMBOL)),
                (Tag.SIDE, msg.get_str(Tag.SIDE)),
                (Tag.ORDER_QTY, msg.get_str(Tag.ORDER_QTY)),
                (Tag.LEAVES_QTY, msg.get_str(Tag.ORDER_QTY)),
                (Tag.CUM_QTY, 0),
                (Tag.AVG_PX, 0),
            )
        )


@asynccontextmanager
async def pair() -> AsyncIterator[Engine]:
    """A gateway engine (session "LP") logged on to an LP engine that acks every order."""
    gw_spec = EngineSpec([SessionSpec("LP", SessionSettings("GW", "LP", Role.INITIATOR))])
    lp_spec = EngineSpec([SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR))])
    a, b = trio.testing.memory_stream_pair()
    async with (
        open_engine(gw_spec) as gw,
        open_engine(lp_spec) as lp,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(gw.run_connection, "LP", a)
        nursery.start_soon(lp.run_connection, "GW", b)
        nursery.start_soon(serve_acks, lp.session("GW"))
        await gw.session("LP").wait_logged_on()
        yield gw
        nursery.cancel_scope.cancel()


def order(n: int) -> NewOrderSingle:
    return NewOrderSingle(
        cl_ord_id=f"C{n}", symbol="EURUSD", side=Side.BUY, order_qty=Decimal(1000),
        ord_type=OrdType.LIMIT, price=Decimal("1.08500"), transact_time=datetime.now(UTC),
    )  # fmt: skip


async def run_session(count: int, window: int) -> list[float]:
    """Latencies (s) of `count` orders through the bare session, `window` in flight."""
    async with pair() as engine:
        handle = engine.session("LP")
        events = handle.events()
        sent: dict[str, float] = {}
        latencies: list[float] = []
        messages = [order(n).to_message() for n in range(count)]
        next_order = 0
        while len(latencies) < count:
            while next_order < count and len(sent) < window:
                msg = messages[next_order]
                sent[msg.get_str(Tag.CL_ORD_ID)] = time.perf_counter()
                await handle.send(msg)
                next_order += 1
            event = await events.receive()
            if isinstance(event, AppMessageReceived):
                start = sent.pop(event.message.get_str(Tag.CL_ORD_ID))
                latencies.append(time.perf_counter() - start)
        return latencies


async def run_gateway(count: int, window: int) -> list[float]:
    """Latencies (s) of `count` orders through `Gateway.place`, `window` in flight."""
    async with pair() as engine:
        eur = Instrument("EURUSD", tick_size=Decimal("0.00001"), lot_size=Decimal(1000))
        config = LPConfig("LP", "LP", instruments=[eur])
        acks: list[float] = []
        async with (
            open_gateway(engine, [config], on_order_ack=lambda lp, s: acks.append(s)) as gw,
            gw.open_updates(buffer=10 * window + 10) as updates,
        ):
            sent: dict[str, float] = {}
            latencies: list[float] = []
            orders = [order(n) for n in range(count)]
            next_order = 0
            while len(latencies) < count:
                while next_order < count and len(sent) < window:
                    o = orders[next_order]
                    sent[o.cl_ord_id] = time.perf_counter()
                    await gw.place(o, lp="LP")
                    next_order += 1
                update = await updates.receive()
                view = getattr(update, "view", None)
                if view is not None and view.state is OrderState.NEW:
                    latencies.append(time.perf_counter() - sent.pop(view.cl_ord_id))
            assert len(acks) == count
            return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Runner = Callable[[int, int], Awaitable[list[float]]]


async def measure(name: str, run: Runner, count: int) -> tuple[float, float]:
    latencies = await run(count, 1)
    start = time.perf_counter()
    await run(count, 100)
    rate = count / (time.perf_counter() - start)
    p50 = statistics.median(latencies) * 1e6
    p99 = percentile(latencies, 0.99) * 1e6
    print(f"{name:<10} {p50:>12,.0f} {p99:>12,.0f} {rate:>16,.0f}")
    return p50, rate


async def main(quick: bool) -> None:
    count = 500 if quick else 3000
    print(f"{count} orders per row; one at a time for latency, 100 in flight for the rate")
    print(f"{'path':<10} {'p50 µs':>12} {'p99 µs':>12} {'orders/s (100)':>16}")
    print("-" * 54)
    await run_session(200, 1)  # warm-up
    session_p50, _ = await measure("session", run_session, count)
    gateway_p50, gateway_rate = await measure("gateway", run_gateway, count)
    print()
    print(
        f"gateway_p50_us={gateway_p50:.0f} session_p50_us={session_p50:.0f} "
        f"gateway_orders_per_s={gateway_rate:.0f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer orders (a smoke run)")
    trio.run(main, parser.parse_args().quick)

"""Order round trip over TCP on 127.0.0.1: a trifix initiator and a trifix acceptor.

Run ``python benchmarks/bench_roundtrip.py`` (about 3 minutes) or ``--quick`` (about 30 s).

The script is the initiator (the gateway). It starts the acceptor (the LP) as a child process,
``bench_roundtrip.py --serve acceptor``, so the two sides run on the machine's two cores. The
acceptor answers every NewOrderSingle with an ExecutionReport (ExecType New); the initiator
takes the time just before `SessionHandle.send` and again when the ExecutionReport with the
same ClOrdID comes out of `SessionHandle.events()`: that difference is the order-to-ack
latency, the whole way through both engines (encode, store commit, write, read, parse,
validate, the application, and the same back). Both sides use an LMDB store: ``durable`` (an
fsync per group commit) or ``os`` (syncing off: the OS writes back later).

Loads, each on a fresh pair of processes and stores, after a warm-up of 2,000 orders:

* flood: orders go out as fast as the initiator can send them, with at most `--window`
  unacknowledged; the rate is orders acknowledged per second, from the first send to the last
  ack. Its latency is mostly queueing.
* paced at 1,000 and 5,000 orders/s: orders are due at even intervals; the sender sleeps until
  the next one is due and sends every order that is due. trio's timers wake at millisecond
  resolution, so at 5,000/s orders leave in small bursts. Latency is counted from the actual
  send; "sched p99" says how late sends were against the schedule (a sender that falls
  behind would otherwise hide it).

The ceiling: bare trio in the same two processes' places, an echo server in the child and
200-byte messages from this process: one at a time back to back (ping-pong), one at a time at
1,000/s (the latency floor for the paced rows: an idle process has to wake up for each
message), pipelined with one `send_all` per message, and pipelined with 50 per `send_all`
(up to `--window` in flight). No FIX, no store: what the transport and trio allow.

The floor, under the paced rows, one operation each millisecond: an `LmdbStore.write` of one
message (durable, and syncing off), a `trio.to_thread.run_sync` of a no-op, and the paced echo
where each side first commits the message to its own LMDB store (durable: in a worker thread;
syncing off: in place), as trifix does before it writes. That echo is the least a round trip
that stores before it writes can take on this machine, with no FIX work at all.

CPU per order (flood rows) is each process's CPU time during the measured phase divided by
the orders: what one round trip costs each side (the design's budget is 50 µs per side). It
is not shown for the paced rows: this kernel accounts CPU time by timer ticks, which a process
that wakes for every order is charged far too much of.

QuickFIX: when quickfix-py is installed, the same three loads run with QuickFIX on both sides
(its Python binding, the application in Python callbacks, FileStore). QuickFIX's FileStore
does not fsync, so its rows compare with trifix's ``os`` rows. Without quickfix-py the header
says so and there are no QuickFIX rows.

The last line is the summary::

    flood_orders_per_s=N p99_ms_at_1000=X ceiling_ratio=Y.YY

N is the flood rate with the durable store; X the p99 latency paced at 1,000/s with the
durable store; ceiling_ratio = N / the rate of the pipelined echo with one write per message
(one echo is one round trip of a 200-byte message, as one order and its ack are).
Measurements, not tests: the script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib.metadata
import itertools
import os
import platform
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio
import trio.lowlevel

from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, SessionHandle, SessionSpec, open_engine
from trifix.store import LmdbStore, SessionUpdate

FLOOD_TARGET = 15_000  # orders/s acknowledged, durable store
P99_DURABLE_TARGET_MS = 1.0  # paced at 1,000/s
P99_OS_TARGET_MS = 0.4  # paced, syncing off
ECHO_SIZE = 200
PROFILE_DIR: Path | None = None  # --profile: where the child writes its stats too
ALL_CASES = [f"{sync}:{load}" for sync in ("durable", "os") for load in ("flood", "1000", "5000")]
WARMUP = 2_000

# -- the child process: acceptor or echo server ---------------------------------------------


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def control(scope: trio.CancelScope) -> None:
    """Answer the parent on stdin: ``cpu`` asks for our CPU time; end of input stops us."""
    while True:
        line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
        if not line:
            scope.cancel()
            return
        if line.strip() == "cpu":
            say(f"CPU {time.process_time()}")


def ack(order: Message, n: int) -> Message:
    """The ExecutionReport (New) answering `order`."""
    qty = order.get(Tag.ORDER_QTY) or b"0"
    return Message.new(
        MsgType.EXECUTION_REPORT,
        (Tag.ORDER_ID, b"LP%d" % n),
        (Tag.CL_ORD_ID, order.get(Tag.CL_ORD_ID) or b""),
        (Tag.EXEC_ID, b"X%d" % n),
        (Tag.EXEC_TYPE, b"0"),
        (Tag.ORD_STATUS, b"0"),
        (Tag.SYMBOL, order.get(Tag.SYMBOL) or b""),
        (Tag.SIDE, order.get(Tag.SIDE) or b"1"),
        (Tag.ORDER_QTY, qty),
        (Tag.ORD_TYPE, order.get(Tag.ORD_TYPE) or b"2"),
        (Tag.PRICE, order.get(Tag.PRICE) or b"0"),
        (Tag.LEAVES_QTY, qty),
        (Tag.CUM_QTY, b"0"),
        (Tag.AVG_PX, b"0"),
        (Tag.TRANSACT_TIME, datetime.now(UTC)),
    )


async def serve_acceptor(store: Path, sync: str) -> None:
    settings = SessionSettings("LP", "GW", Role.ACCEPTOR)
    spec = EngineSpec(
        [SessionSpec("GW", settings)],
        store_path=store,
        store_sync=sync,  # type: ignore[arg-type]
        listen_port=0,
    )
    async with open_engine(spec) as engine, trio.open_nursery() as nursery:
        nursery.start_soon(control, nursery.cancel_scope)
        say(f"PORT {engine.listen_port}")
        handle = engine.session("GW")
        n = 0
        async for event in handle.events():
            if type(event) is AppMessageReceived and event.message.msg_type == "D":
                n += 1
                await handle.send(ack(event.message, n))


async def serve_echo(store_path: Path | None = None, sync: str = "durable") -> None:
    """Echo server; with `store_path`, every echo is first committed to an LmdbStore."""
    commit = None if store_path is None else store_committer(store_path, sync, "ECHO")

    async def echo(stream: trio.SocketStream) -> None:
        try:
            while data := await stream.receive_some(65536):
                if commit is not None:
                    await commit(bytes(data))
                await stream.send_all(data)
        except trio.BrokenResourceError:
            pass

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, host="127.0.0.1"), echo, 0
        )
        say(f"PORT {listeners[0].socket.getsockname()[1]}")
        await control(nursery.cancel_scope)


def store_committer(path: Path, sync: str, session: str) -> Callable[[bytes], Awaitable[None]]:
    """A commit of one message as the engine makes it: `LmdbStore.write` in a worker thread
    (durable) or in place (os)."""
    store = LmdbStore(path, sync=sync)  # type: ignore[arg-type]
    store.open_session(session, datetime.now(UTC))
    seq = itertools.count(1)

    def write(data: bytes) -> None:
        n = next(seq)
        store.write([SessionUpdate(session, [(n, data)], next_sender_seq=n + 1)])

    async def commit(data: bytes) -> None:
        if sync == "os":
            write(data)
        else:
            await trio.to_thread.run_sync(write, data)

    return commit


# -- the parent: the initiator and the echo client ---------------------------------------------


class Child:
    """The other process: started with a role, answers on its stdout."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.port = 0
        self._lines_in, self._lines_out = trio.open_memory_channel[str](100)

    @classmethod
    async def start(cls, nursery: trio.Nursery, *args: str) -> Child:
        command = [sys.executable, __file__, "--serve", *args]
        if PROFILE_DIR is not None:
            command += ["--profile", str(PROFILE_DIR)]
        process = await trio.lowlevel.open_process(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        child = cls(process)
        nursery.start_soon(child._read)
        child.port = int((await child._expect("PORT")).split()[1])
        return child

    async def _read(self) -> None:
        assert self.process.stdout is not None
        pending = b""
        async with self._lines_in:
            while chunk := await self.process.stdout.receive_some():
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    await self._lines_in.send(line.decode())

    async def _expect(self, word: str) -> str:
        with trio.fail_after(30):
            async for line in self._lines_out:
                if line.startswith(word):
                    return line
        raise RuntimeError(f"the child ended without saying {word} (exit {self.process.poll()})")

    async def cpu(self) -> float:
        assert self.process.stdin is not None
        await self.process.stdin.send_all(b"cpu\n")
        return float((await self._expect("CPU")).split()[1])

    async def stop(self) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.aclose()
        with trio.move_on_after(10):
            await self.process.wait()
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


@dataclass
class Result:
    name: str
    count: int
    rate: float  # orders (or messages) per second
    latencies_us: list[float]
    lag_us: list[float]  # paced: how late each send was against its schedule
    cpu_here_us: float  # CPU µs per order: this process
    cpu_child_us: float  # and the child

    def p(self, q: float) -> float:
        return percentile(self.latencies_us, q) / 1000


class Tracker:
    """Matches ExecutionReports to the orders' send times."""

    def __init__(self) -> None:
        self.sent_at: dict[bytes, int] = {}
        self.latencies_ns: list[int] = []
        self.acked = 0
        self.wanted = 0
        self.reached = trio.Event()

    def want(self, acked: int) -> trio.Event:
        """An event set once `acked` acks have come in."""
        self.wanted = acked
        self.reached = trio.Event()
        if self.acked >= acked:
            self.reached.set()
        return self.reached

    async def consume(self, handle: SessionHandle) -> None:
        clock = time.perf_counter_ns
        sent_at = self.sent_at
        latencies = self.latencies_ns
        async for event in handle.events():
            if type(event) is AppMessageReceived:
                got = clock()
                clordid = event.message.get(Tag.CL_ORD_ID)
                start = sent_at.pop(clordid, None) if clordid else None
                if start is None:
                    continue
                latencies.append(got - start)
                self.acked += 1
                if self.acked >= self.wanted:
                    self.reached.set()


def new_order(clordid: bytes) -> Message:
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.ACCOUNT, b"ACCT0001"),
        (Tag.CL_ORD_ID, clordid),
        (Tag.HANDL_INST, b"1"),
        (Tag.SYMBOL, b"EURUSD"),
        (Tag.SIDE, b"1"),
        (Tag.TRANSACT_TIME, datetime.now(UTC)),
        (Tag.ORDER_QTY, b"1000000"),
        (Tag.ORD_TYPE, b"2"),
        (Tag.PRICE, b"1.08500"),
        (Tag.TIME_IN_FORCE, b"0"),
    )


class Sender:
    def __init__(self, handle: SessionHandle, tracker: Tracker, prefix: str) -> None:
        self.handle = handle
        self.tracker = tracker
        self.prefix = prefix.encode()
        self.sent = 0

    async def send(self) -> None:
        clordid = b"%s%d" % (self.prefix, self.sent)
        msg = new_order(clordid)
        self.tracker.sent_at[clordid] = time.perf_counter_ns()
        await self.handle.send(msg)
        self.sent += 1

    async def flood(self, count: int, window: int, batch: int = 64) -> None:
        """Send `count` orders as fast as they go, at most `window` unacknowledged."""
        tracker = self.tracker
        end = self.sent + count
        while self.sent < end:
            room = tracker.acked + window - self.sent
            if room <= 0:
                await tracker.want(self.sent - window // 2).wait()
                continue
            for _ in range(min(room, batch, end - self.sent)):
                await self.send()
            await trio.lowlevel.checkpoint()  # let the writer take the batch
        await tracker.want(self.sent).wait()

    async def paced(self, count: int, rate: float) -> list[float]:
        """Send `count` orders due at `rate` per second; returns each send's lateness (µs)."""
        lag: list[float] = []
        end = self.sent + count
        first = self.sent
        start = trio.current_time()
        while self.sent < end:
            now = trio.current_time()
            due = min(end, first + int((now - start) * rate) + 1)
            while self.sent < due:
                lag.append((trio.current_time() - start - (self.sent - first) / rate) * 1e6)
                await self.send()
            await trio.sleep_until(start + (self.sent - first) / rate)
        await self.tracker.want(self.sent).wait()
        return lag


async def trifix_case(
    nursery: trio.Nursery, workdir: Path, sync: str, load: str, count: int, window: int
) -> Result:
    """One load on a fresh acceptor process and a fresh initiator engine."""
    tag = f"{sync}-{load}"
    child = await Child.start(
        nursery, "acceptor", "--store", str(workdir / f"lp-{tag}"), "--sync", sync
    )
    settings = SessionSettings("GW", "LP", Role.INITIATOR)
    spec = EngineSpec(
        [SessionSpec("LP", settings, hosts=[("127.0.0.1", child.port)])],
        store_path=workdir / f"gw-{tag}",
        store_sync=sync,  # type: ignore[arg-type]
    )
    try:
        async with open_engine(spec) as engine, trio.open_nursery() as inner:
            handle = engine.session("LP")
            with trio.fail_after(15):
                await handle.wait_logged_on()
            tracker = Tracker()
            inner.start_soon(tracker.consume, handle)
            sender = Sender(handle, tracker, "W")
            await sender.flood(WARMUP, window)
            tracker.latencies_ns.clear()
            sender.prefix = b"O"
            cpu_child = await child.cpu()
            cpu_here = time.process_time()
            wall = time.perf_counter()
            if load == "flood":
                await sender.flood(count, window)
                lag: list[float] = []
            else:
                lag = await sender.paced(count, float(load))
            wall = time.perf_counter() - wall
            cpu_here = time.process_time() - cpu_here
            cpu_child = await child.cpu() - cpu_child
            inner.cancel_scope.cancel()
    finally:
        await child.stop()
    return Result(
        f"{sync:<8} {'flood' if load == 'flood' else f'paced {int(load):,}/s'}",
        count,
        count / wall,
        sorted(ns / 1000 for ns in tracker.latencies_ns),
        sorted(lag),
        cpu_here / count * 1e6,
        cpu_child / count * 1e6,
    )


async def ping_pong(
    stream: trio.SocketStream,
    n: int,
    rate: float | None,
    commit: Callable[[bytes], Awaitable[None]] | None = None,
) -> list[float]:
    """`n` echoes one at a time (at `rate` per second, or back to back); sorted latencies in
    µs. With `commit`, each message is committed before it is written, as the engine does."""
    message = b"x" * ECHO_SIZE
    clock = time.perf_counter_ns
    latencies = []
    start = trio.current_time()
    for i in range(n):
        if rate is not None:
            await trio.sleep_until(start + i / rate)
        sent = clock()
        if commit is not None:
            await commit(message)
        await stream.send_all(message)
        got = 0
        while got < ECHO_SIZE:
            got += len(await stream.receive_some(65536))
        latencies.append((clock() - sent) / 1000)
    return sorted(latencies)


@dataclass
class Floor:
    """What the hardware allows before any FIX work, one operation each millisecond."""

    commit_durable: Result  # LmdbStore.write of one message, fsync
    commit_os: Result  # the same, syncing off
    to_thread: Result  # trio.to_thread.run_sync of a no-op, there and back
    echo_durable: Result  # the paced echo with a durable commit before each write, both sides
    echo_os: Result  # the same, syncing off

    def rows(self) -> list[Result]:
        return [
            self.commit_durable,
            self.commit_os,
            self.to_thread,
            self.echo_durable,
            self.echo_os,
        ]


def timed_commits(path: Path, sync: str, n: int) -> list[float]:
    """`n` commits of one 200-byte message, 1 ms apart, in this (worker) thread; µs each."""
    store = LmdbStore(path, sync=sync)  # type: ignore[arg-type]
    try:
        store.open_session("FLOOR", datetime.now(UTC))
        message = b"x" * ECHO_SIZE
        latencies = []
        for seq in range(1, n + 1):
            start = time.perf_counter_ns()
            store.write([SessionUpdate("FLOOR", [(seq, message)], next_sender_seq=seq + 1)])
            latencies.append((time.perf_counter_ns() - start) / 1000)
            time.sleep(0.001)  # noqa: TID251 - a worker thread, not trio
    finally:
        store.close()
    return sorted(latencies)


async def floor_cases(nursery: trio.Nursery, workdir: Path, count: int) -> Floor:
    """The floor under the paced rows: a store commit, a thread hop, and the paced echo with a
    commit on each side (the least a round trip that stores before it writes can take)."""
    commits = {}
    for sync in ("durable", "os"):
        latencies = await trio.to_thread.run_sync(
            timed_commits, workdir / f"floor-{sync}", sync, count
        )
        commits[sync] = Result(f"LMDB commit, {sync}", count, 1000.0, latencies, [], 0, 0)
    hops = []
    start = trio.current_time()
    for i in range(count):
        await trio.sleep_until(start + i / 1000)
        sent = time.perf_counter_ns()
        await trio.to_thread.run_sync(int)
        hops.append((time.perf_counter_ns() - sent) / 1000)
    to_thread = Result("to_thread.run_sync, no-op", count, 1000.0, sorted(hops), [], 0, 0)
    echoes = {}
    for sync in ("durable", "os"):
        where = workdir / f"floor-echo-{sync}"
        child = await Child.start(nursery, "echo", "--store", str(where / "lp"), "--sync", sync)
        try:
            stream = await trio.open_tcp_stream("127.0.0.1", child.port)
            async with stream:
                commit = store_committer(where / "gw", sync, "ECHO")
                await ping_pong(stream, WARMUP // 4, 1000.0, commit)
                latencies = await ping_pong(stream, count, 1000.0, commit)
        finally:
            await child.stop()
        name = f"echo 1,000/s, {sync} commit each side"
        echoes[sync] = Result(name, count, 1000.0, latencies, [], 0, 0)
    return Floor(commits["durable"], commits["os"], to_thread, echoes["durable"], echoes["os"])


@dataclass
class Ceiling:
    ping: Result  # one at a time, back to back
    ping_paced: Result  # one at a time, at 1,000/s
    pipelined: Result  # one send_all per message
    batched: Result  # 50 messages per send_all


async def echo_cases(nursery: trio.Nursery, count: int, window: int) -> Ceiling:
    """Echo of 200-byte messages against the child's echo server: the transport's ceiling."""
    child = await Child.start(nursery, "echo")
    message = b"x" * ECHO_SIZE
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", child.port)
        async with stream:
            await ping_pong(stream, WARMUP, None)
            latencies = await ping_pong(stream, count, None)
            ping = Result("ping-pong", count, count / (sum(latencies) / 1e6), latencies, [], 0, 0)
            paced_count = count // 4
            latencies = await ping_pong(stream, paced_count, 1000.0)
            ping_paced = Result("ping-pong 1,000/s", paced_count, 1000.0, latencies, [], 0, 0)

            async def pipelined(n: int, per_write: int) -> float:
                """Messages/s with up to `window` in flight, `per_write` per send_all."""
                data = message * per_write
                received = 0
                done = trio.Event()

                async def receive() -> None:
                    nonlocal received
                    while received < n * ECHO_SIZE:
                        received += len(await stream.receive_some(1 << 20))
                    done.set()

                wall = time.perf_counter()
                async with trio.open_nursery() as inner:
                    inner.start_soon(receive)
                    sent = 0
                    while sent < n:
                        if sent - received // ECHO_SIZE >= window:
                            await trio.lowlevel.checkpoint()
                            continue
                        await stream.send_all(data)
                        sent += per_write
                    await done.wait()
                return n / (time.perf_counter() - wall)

            n = count * 4
            one = Result("pipelined", n, await pipelined(n, 1), [], [], 0, 0)
            n = count * 20
            fifty = Result("pipelined, 50 per write", n, await pipelined(n, 50), [], [], 0, 0)
    finally:
        await child.stop()
    return Ceiling(ping, ping_paced, one, fifty)


# -- QuickFIX, when its Python binding is installed ------------------------------------------


def quickfix_version() -> str | None:
    try:
        return importlib.metadata.version("quickfix-py")
    except importlib.metadata.PackageNotFoundError:
        return None


def quickfix_settings(workdir: Path, role: str, port: int) -> Any:
    """QuickFIX settings for one side: FileStore, no logging, the bundled FIX 4.4 dictionary."""
    import quickfix as fix

    dictionary = Path(sysconfig.get_path("data")) / "share" / "quickfix" / "FIX44.xml"
    sender, target = ("GW", "LP") if role == "initiator" else ("LP", "GW")
    where = (
        f"SocketConnectHost=127.0.0.1\nSocketConnectPort={port}\n"
        if role == "initiator"
        else f"SocketAcceptPort={port}\n"
    )
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{role}.cfg"
    path.write_text(
        f"[DEFAULT]\nConnectionType={role}\nFileStorePath={workdir / 'store'}\n"
        "StartTime=00:00:00\nEndTime=00:00:00\nHeartBtInt=30\nReconnectInterval=1\n"
        f"SocketNodelay=Y\nUseDataDictionary=Y\nDataDictionary={dictionary}\n"
        f"[SESSION]\nBeginString=FIX.4.4\nSenderCompID={sender}\nTargetCompID={target}\n" + where
    )
    return fix.SessionSettings(str(path))


def quickfix_app(on_app: Callable[[Any, Any], None]) -> Any:
    """A QuickFIX Application that hands application messages to `on_app`."""
    import quickfix as fix

    class App(fix.Application):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.session_id: Any = None
            self.logged_on = threading.Event()

        def onCreate(self, session_id: Any) -> None:
            self.session_id = session_id

        def onLogon(self, session_id: Any) -> None:
            self.logged_on.set()

        def onLogout(self, session_id: Any) -> None:
            pass

        def toAdmin(self, message: Any, session_id: Any) -> None:
            pass

        def fromAdmin(self, message: Any, session_id: Any) -> None:
            pass

        def toApp(self, message: Any, session_id: Any) -> None:
            pass

        def fromApp(self, message: Any, session_id: Any) -> None:
            on_app(message, session_id)

    return App()


def serve_quickfix_acceptor(workdir: Path) -> None:
    """The LP on QuickFIX: answers each NewOrderSingle with an ExecutionReport."""
    import quickfix as fix

    count = itertools.count(1)

    def on_app(message: Any, session_id: Any) -> None:
        if message.getHeader().getField(35) != "D":
            return
        n = next(count)
        qty = message.getField(38)
        report = fix.Message()
        report.getHeader().setField(35, "8")
        for tag, value in (
            (37, f"LP{n}"),
            (11, message.getField(11)),
            (17, f"X{n}"),
            (150, "0"),
            (39, "0"),
            (55, message.getField(55)),
            (54, message.getField(54)),
            (38, qty),
            (40, message.getField(40)),
            (44, message.getField(44)),
            (151, qty),
            (14, "0"),
            (6, "0"),
            (60, utc_timestamp()),
        ):
            report.setField(tag, value)
        fix.Session.sendToTarget(report, session_id)

    with socket.socket() as probe:  # a free port (QuickFIX needs a number up front)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = quickfix_settings(workdir, "acceptor", port)
    app = quickfix_app(on_app)
    acceptor = fix.SocketAcceptor(app, fix.FileStoreFactory(settings), settings)
    acceptor.start()
    say(f"PORT {port}")
    for line in sys.stdin:
        if line.strip() == "cpu":
            say(f"CPU {time.process_time()}")
    acceptor.stop()


def utc_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def quickfix_case(workdir: Path, load: str, count: int, window: int) -> Result:
    """One load, QuickFIX on both sides (blocking: run it in a thread)."""
    import quickfix as fix

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "quickfix-acceptor", "--store", str(workdir / "lp")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    stdin, stdout = child.stdin, child.stdout

    def child_cpu() -> float:
        stdin.write("cpu\n")
        stdin.flush()
        while not (line := stdout.readline()).startswith("CPU"):
            if not line:
                raise RuntimeError("the QuickFIX acceptor ended")
        return float(line.split()[1])

    port = int(stdout.readline().split()[1])
    sent_at: dict[str, int] = {}
    latencies: list[int] = []
    acked = 0
    progress = threading.Condition()

    def on_app(message: Any, session_id: Any) -> None:
        nonlocal acked
        got = time.perf_counter_ns()
        start = sent_at.pop(message.getField(11), None)
        if start is not None:
            latencies.append(got - start)
            with progress:
                acked += 1
                progress.notify_all()

    settings = quickfix_settings(workdir / "gw", "initiator", port)
    app = quickfix_app(on_app)
    initiator = fix.SocketInitiator(app, fix.FileStoreFactory(settings), settings)
    initiator.start()
    sent = 0

    def send(prefix: str) -> None:
        nonlocal sent
        clordid = f"{prefix}{sent}"
        order = fix.Message()
        order.getHeader().setField(35, "D")
        for tag, value in (
            (1, "ACCT0001"),
            (11, clordid),
            (21, "1"),
            (55, "EURUSD"),
            (54, "1"),
            (60, utc_timestamp()),
            (38, "1000000"),
            (40, "2"),
            (44, "1.08500"),
            (59, "0"),
        ):
            order.setField(tag, value)
        sent_at[clordid] = time.perf_counter_ns()
        fix.Session.sendToTarget(order, app.session_id)
        sent += 1

    def wait_acked(target: int) -> None:
        with progress:
            progress.wait_for(lambda: acked >= target, timeout=60)

    def flood(n: int, prefix: str) -> None:
        end = sent + n
        while sent < end:
            if sent - acked >= window:
                wait_acked(sent - window // 2)
            send(prefix)
        wait_acked(sent)

    try:
        if not app.logged_on.wait(15):
            raise RuntimeError("QuickFIX did not log on")
        flood(WARMUP, "W")
        latencies.clear()
        cpu_child = child_cpu()
        cpu_here = time.process_time()
        wall = time.perf_counter()
        lag: list[float] = []
        if load == "flood":
            flood(count, "O")
        else:
            rate = float(load)
            first = sent
            start = time.perf_counter()
            for i in range(count):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # noqa: TID251 - a plain thread, not trio
                lag.append((time.perf_counter() - start - (sent - first) / rate) * 1e6)
                send("O")
            wait_acked(sent)
        wall = time.perf_counter() - wall
        cpu_here = time.process_time() - cpu_here
        cpu_child = child_cpu() - cpu_child
    finally:
        initiator.stop()
        stdin.close()
        child.wait(10)
    name = f"{'quickfix':<8} {'flood' if load == 'flood' else f'paced {int(load):,}/s'}"
    return Result(
        name,
        count,
        count / wall,
        sorted(ns / 1000 for ns in latencies),
        sorted(lag),
        cpu_here / count * 1e6,
        cpu_child / count * 1e6,
    )


def quickfix_status() -> str:
    """Whether QuickFIX's Python binding is here to compare against."""
    version = quickfix_version()
    if version is None:
        return (
            "QuickFIX: quickfix-py is not installed in this environment: no QuickFIX figures "
            "(pip install quickfix-py to add them)"
        )
    return (
        f"QuickFIX: quickfix-py {version}, both sides on QuickFIX with its FileStore (which "
        "does not fsync: compare with trifix's os rows)"
    )


def report(
    results: list[Result], ceiling: Ceiling, floor: Floor, args: argparse.Namespace
) -> list[str]:
    lines = [
        "trifix order round trip: initiator and acceptor in two processes, TCP on 127.0.0.1",
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"trio {importlib.metadata.version('trio')}, lmdb {importlib.metadata.version('lmdb')}"
        + (" (quick run: rough figures)" if args.quick else ""),
        quickfix_status(),
        "",
        f"ceiling: bare trio echo of {ECHO_SIZE}-byte messages, echo server in the other process",
        "  echo                            rate/s     p50 ms   p99 ms p99.9 ms",
    ]
    for c in (ceiling.ping, ceiling.ping_paced, ceiling.pipelined, ceiling.batched):
        if c.latencies_us:
            lat = f"{c.p(50):8.3f} {c.p(99):8.3f} {c.p(99.9):8.3f}"
        else:
            lat = "       -        -        -"
        lines.append(f"  {c.name:<26} {c.rate:>11,.0f}   {lat}")
    lines += [
        "",
        "floor: one operation each millisecond (the paced rows' best case)",
        "  operation                                 p50 ms   p99 ms p99.9 ms",
    ]
    for f in floor.rows():
        lines.append(f"  {f.name:<40} {f.p(50):8.3f} {f.p(99):8.3f} {f.p(99.9):8.3f}")
    lines += [
        "",
        "store    load            orders   acked/s    p50 ms   p99 ms p99.9 ms  sched p99 ms"
        "  CPU µs/order gw + lp",
    ]
    for r in results:
        sched = f"{percentile(r.lag_us, 99) / 1000:8.3f}" if r.lag_us else "       -"
        cpu = f"{r.cpu_here_us:5.1f} + {r.cpu_child_us:5.1f}" if not r.lag_us else "    -"
        lines.append(
            f"{r.name:<22} {r.count:>8,} {r.rate:>9,.0f} {r.p(50):8.3f} {r.p(99):8.3f} "
            f"{r.p(99.9):8.3f}      {sched}  {cpu}"
        )
    by_name = {" ".join(r.name.split()): r for r in results}
    flood = by_name["durable flood"]
    p1000 = by_name["durable paced 1,000/s"]
    os_paced = [r for r in results if r.name.startswith("os") and "paced" in r.name]
    worst_os = max(os_paced, key=lambda r: r.p(99))
    ratio = flood.rate / ceiling.pipelined.rate

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    lines += [
        "",
        "targets",
        f"  flood, durable store         {flood.rate:9,.0f} orders/s  >= {FLOOD_TARGET:,}"
        f"    {verdict(flood.rate >= FLOOD_TARGET)}",
        f"  p99 paced 1,000/s, durable   {p1000.p(99):9.3f} ms        <= {P99_DURABLE_TARGET_MS}"
        f"       {verdict(p1000.p(99) <= P99_DURABLE_TARGET_MS)}",
        f"  p99 paced, syncing off       {worst_os.p(99):9.3f} ms        <= {P99_OS_TARGET_MS}"
        f"       {verdict(worst_os.p(99) <= P99_OS_TARGET_MS)}  (worst of "
        + " and ".join(f"{r.name.split(None, 1)[1]} {r.p(99):.3f}" for r in os_paced)
        + ")",
        "",
        f"flood vs the pipelined echo (one write per message): {ratio:.2f}; against 50 per "
        f"write: {flood.rate / ceiling.batched.rate:.3f}",
        f"p50 paced 1,000/s, durable, vs the echo paced 1,000/s: "
        f"{p1000.p(50) / ceiling.ping_paced.p(50):.1f}x "
        f"({p1000.p(50):.3f} against {ceiling.ping_paced.p(50):.3f} ms)",
        f"p99 paced 1,000/s against its floor (the paced echo with a commit each side): "
        f"durable {p1000.p(99):.3f} against {floor.echo_durable.p(99):.3f} ms, syncing off "
        f"{by_name['os paced 1,000/s'].p(99):.3f} against {floor.echo_os.p(99):.3f} ms",
    ]
    if "quickfix flood" in by_name:
        qf_flood, qf_1000 = by_name["quickfix flood"], by_name["quickfix paced 1,000/s"]
        os_flood, os_1000 = by_name["os flood"], by_name["os paced 1,000/s"]
        lines.append(
            f"trifix (os) against QuickFIX: flood {os_flood.rate / qf_flood.rate:.2f}x the "
            f"rate; paced 1,000/s p50 {os_1000.p(50) / qf_1000.p(50):.1f}x and p99 "
            f"{os_1000.p(99) / qf_1000.p(99):.1f}x the latency"
        )
    lines += [
        "",
        f"flood_orders_per_s={flood.rate:.0f} p99_ms_at_1000={p1000.p(99):.3f} "
        f"ceiling_ratio={ratio:.2f}",
    ]
    return lines


async def run(args: argparse.Namespace) -> None:
    global PROFILE_DIR  # set once, before any child starts
    PROFILE_DIR = args.profile
    quick = args.quick
    flood_count = args.flood_orders or (5_000 if quick else 50_000)
    paced_seconds = args.paced_seconds or (1.5 if quick else 10.0)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-roundtrip-") as tmp:
        workdir = Path(tmp)
        async with trio.open_nursery() as nursery:
            ceiling = await echo_cases(nursery, 2_000 if quick else 20_000, args.window)
            print(f"  ... echo: {ceiling.pipelined.rate:,.0f}/s pipelined", file=sys.stderr)
            floor = await floor_cases(nursery, workdir, 500 if quick else 3_000)
            print(
                f"  ... floor: durable echo p99 {floor.echo_durable.p(99):.3f} ms", file=sys.stderr
            )
            for case in args.case or ALL_CASES:
                sync, load = case.split(":")
                count = flood_count if load == "flood" else int(paced_seconds * int(load))
                result = await trifix_case(nursery, workdir, sync, load, count, args.window)
                results.append(result)
                print(f"  ... {result.name}: {result.rate:,.0f}/s", file=sys.stderr)
            if quickfix_version() is not None and not args.case:
                for load in ("flood", "1000", "5000"):
                    count = flood_count if load == "flood" else int(paced_seconds * int(load))
                    result = await trio.to_thread.run_sync(
                        quickfix_case, workdir / f"quickfix-{load}", load, count, args.window
                    )
                    results.append(result)
                    print(f"  ... {result.name}: {result.rate:,.0f}/s", file=sys.stderr)
            nursery.cancel_scope.cancel()
    if args.case:
        for r in results:
            print(
                f"{r.name}: {r.rate:,.0f}/s p50 {r.p(50):.3f} p99 {r.p(99):.3f} ms, CPU "
                f"{r.cpu_here_us:.1f} + {r.cpu_child_us:.1f} µs/order"
            )
        return
    print("\n".join(report(results, ceiling, floor, args)))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (rough figures)")
    ap.add_argument("--flood-orders", type=int, help="orders per flood (default 50,000)")
    ap.add_argument("--paced-seconds", type=float, help="length of a paced run (default 10)")
    ap.add_argument("--window", type=int, default=2_000, help="flood: most orders unacked")
    ap.add_argument(
        "--case",
        action="append",
        choices=ALL_CASES,
        help="run only this store:load case (repeatable; the report needs all six)",
    )
    ap.add_argument(
        "--serve", choices=["acceptor", "echo", "quickfix-acceptor"], help=argparse.SUPPRESS
    )
    ap.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--sync", default="durable", help=argparse.SUPPRESS)
    ap.add_argument(
        "--profile",
        type=Path,
        help="write cProfile stats of each process (main thread) into this directory",
    )
    args = ap.parse_args(argv)
    if args.serve == "acceptor":
        job = functools.partial(trio.run, serve_acceptor, args.store, args.sync)
    elif args.serve == "quickfix-acceptor":
        job = functools.partial(serve_quickfix_acceptor, args.store)
    elif args.serve == "echo":
        job = functools.partial(trio.run, serve_echo, args.store, args.sync)
    else:
        job = functools.partial(trio.run, run, args)
    if args.profile is None:
        job()
        return 0
    args.profile.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    try:
        profiler.runcall(job)
    finally:
        name = f"{args.serve or 'initiator'}-{args.sync if args.serve else 'run'}-{os.getpid()}"
        profiler.dump_stats(args.profile / f"{name}.prof")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A gateway process for test_crash_recovery: an initiator on a durable LMDB store that sends
a stream of NewOrderSingles until it is killed.

    python tests/runtime/_crash_gateway.py --port P --store DIR --run R [--final N]

It logs on to 127.0.0.1:P without resetting sequence numbers (whatever the store holds), prints
``UP <next sender seq>``, then sends orders in small batches with ClOrdIDs ``R-<n>`` (unique
across runs, since each run has its own R). After each batch it waits until the connection's
writer has stored and written the batch, and only then prints ``SENT <clordid> <seq>`` for each
order of it: a SENT line means "in the store and handed to the socket before I could be killed".

Two options make it kill itself with SIGKILL at an exact point instead of waiting for the test:
``--die-after-commit K`` right after the K-th store commit that holds orders (stored, never
written: the next run must resend them), ``--die-mid-write K`` in the middle of its K-th socket
write (the LP gets half a frame).

With ``--final N`` it sends N orders (rounded up to batches of 8), prints ``DONE``, waits for a
line on its standard input (the test's word that the LP has everything), logs out by leaving
the engine and prints ``BYE <next sender seq> <next target seq>``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trio

from trifix.core.message import Message
from trifix.core.session import StoreUpdate
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import (
    EngineSpec,
    NotLoggedOnError,
    ReconnectPolicy,
    SessionHandle,
    SessionSpec,
    open_engine,
)
from trifix.runtime.store_writer import StoreWriter

RECONNECT = ReconnectPolicy(
    initial_delay=timedelta(milliseconds=20), max_delay=timedelta(milliseconds=100), jitter=0
)


def order(clordid: str) -> Message:
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, clordid),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, datetime.now(UTC)),
        (Tag.ORD_TYPE, "1"),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.ORDER_QTY, 100),
    )


def say(lines: list[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


async def drain(handle: SessionHandle) -> None:
    """Nobody reads this gateway's events: consume them so the reader never waits."""
    async for _event in handle.events():
        pass


async def send_batch(handle: SessionHandle, run: int, numbers: Iterator[int], size: int) -> None:
    """Send `size` orders, then report them once they are flushed."""
    sent: list[tuple[str, int]] = []
    try:
        for _ in range(size):
            clordid = f"{run}-{next(numbers)}"  # never reused, even if the send fails
            sent.append((clordid, await handle.send(order(clordid))))
    except NotLoggedOnError:
        await handle.wait_logged_on()  # the initiator reconnects; the store resends
        return
    try:
        await handle.wait_flushed()
    except NotLoggedOnError:  # the connection ended before the batch reached the socket
        await handle.wait_logged_on()
        return
    say([f"SENT {clordid} {seq}" for clordid, seq in sent])


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def die_mid_write(k: int) -> None:
    """Cut the k-th socket write in half and die (this process has one socket stream)."""
    send_all = trio.SocketStream.send_all
    writes = itertools.count(1)

    async def half_then_die(self: trio.SocketStream, data: bytes) -> None:
        if next(writes) == k:
            data = bytes(data)
            await send_all(self, data[: len(data) // 2])
            die()
        await send_all(self, data)

    trio.SocketStream.send_all = half_then_die  # type: ignore[method-assign,assignment]


def die_after_commit(writer: StoreWriter, k: int) -> None:
    """Die once the k-th commit holding orders is durable, before its bytes are written."""
    commit = writer.commit
    commits = itertools.count(1)

    async def commit_then_die(session_id: str, update: StoreUpdate, now: datetime) -> None:
        await commit(session_id, update, now)
        if update.messages and next(commits) == k:
            die()

    writer.commit = commit_then_die  # type: ignore[method-assign]


async def main(args: argparse.Namespace) -> None:
    port, store, run, final = args.port, args.store, args.run, args.final
    if args.die_mid_write is not None:
        die_mid_write(args.die_mid_write)
    settings = replace(
        SessionSettings("GW", "LP", Role.INITIATOR, heartbeat_interval=30),
        logon_timeout=timedelta(seconds=5),
    )
    session = SessionSpec("LP", settings, hosts=[("127.0.0.1", port)], reconnect=RECONNECT)
    spec = EngineSpec([session], store_path=store, store_sync="durable")
    rng = random.Random(run)
    async with open_engine(spec) as engine, trio.open_nursery() as nursery:
        if args.die_after_commit is not None:
            die_after_commit(engine.store, args.die_after_commit)
        handle = engine.session("LP")
        nursery.start_soon(drain, handle)
        await handle.wait_logged_on()
        say([f"UP {handle.core.next_sender_seq}"])
        numbers = itertools.count()
        batches = 0
        while final is None or batches * 8 < final:
            size = rng.randint(1, 8) if final is None else 8
            await send_batch(handle, run, numbers, size)
            batches += 1
            if rng.random() < 0.3:
                await trio.sleep(rng.uniform(0, 0.002))
        say(["DONE"])
        await trio.to_thread.run_sync(sys.stdin.readline)
        nursery.cancel_scope.cancel()
    core = handle.core
    say([f"BYE {core.next_sender_seq} {core.next_target_seq}"])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--final", type=int, default=None)
    parser.add_argument("--die-after-commit", type=int, default=None)
    parser.add_argument("--die-mid-write", type=int, default=None)
    return parser.parse_args()


if __name__ == "__main__":
    trio.run(main, parse_args())

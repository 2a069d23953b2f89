"""The stored inbound sequence number never counts a message the application was not handed.

The session core counts a received message as soon as it has processed it; the runtime stores
the expected inbound sequence number only up to the first application message not yet put in
the application's event channel. These tests crash an engine (its store stops taking writes and
its wire goes dead at one instant, as when the process is killed) while its application has
stopped reading, restart it on the same store, and check that the peer is asked to resend what
was never handed over; and that admin traffic, gap fills, stashed messages and the logout path
still move the stored number on, once nothing undelivered stands before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import trio
import trio.testing

from tests.runtime.conftest import ProxyStream, gw_settings, lp_settings, order, trio_wall_clock
from trifix.core.codec import Framer
from trifix.core.events import AppMessageReceived, Event, GapDetected
from trifix.core.message import Message
from trifix.core.tags import MsgType, OrdType, Side, Tag
from trifix.runtime import Engine, EngineSpec, SessionHandle, SessionSpec, open_engine
from trifix.runtime.specs import Clock
from trifix.runtime.store_writer import DEFER_SECONDS
from trifix.store import MemoryStore, SessionUpdate

ORDERS = 10
READ_BEFORE_CRASH = 3


class CrashableStore(MemoryStore):
    """A memory store that can "crash": from `crash()` until `revive()` it takes no writes,
    so it keeps exactly what was durable at that instant."""

    crashed = False

    def crash(self) -> None:
        self.crashed = True

    def revive(self) -> None:
        self.crashed = False
        for session_id in self.session_ids():
            self.close_session(session_id)  # the dead process held the locks

    def write(self, updates: Sequence[SessionUpdate]) -> None:
        if not self.crashed:
            super().write(updates)

    def reset(self, session_id: str, now: datetime) -> None:
        if not self.crashed:
            super().reset(session_id, now)


class Wire(ProxyStream):
    """One end of a connection that can be cut the way a killed process cuts it: nothing it
    writes afterwards leaves, and the other end sees the stream close."""

    dead = False

    async def cut(self) -> None:
        self.dead = True
        await self.inner.aclose()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if not self.dead:
            await self.inner.send_all(data)

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        if self.dead:
            await trio.sleep_forever()
        return await self.inner.receive_some(max_bytes)


@dataclass(frozen=True)
class Order:
    clordid: str
    seq: int
    poss_dup: bool


def as_order(event: Event) -> Order | None:
    if type(event) is not AppMessageReceived:
        return None
    msg = event.message
    return Order(msg.get_str(Tag.CL_ORD_ID) or "", msg.seq_num, event.poss_dup)


async def read_orders(handle: SessionHandle, count: int, into: list[Order]) -> None:
    """Take events until `count` more orders have been taken (and nothing after them)."""
    target = len(into) + count
    while len(into) < target:
        order_ = as_order(await handle.events().receive())
        if order_ is not None:
            into.append(order_)


def take_buffered(handle: SessionHandle, into: list[Order]) -> None:
    """Take exactly what sits in the channel's buffer (handed over before the crash)."""
    channel = handle.events()
    for _ in range(channel.statistics().current_buffer_used):
        order_ = as_order(channel.receive_nowait())
        if order_ is not None:
            into.append(order_)


def drain(handle: SessionHandle) -> list[Event]:
    """Every event waiting in the channel now."""
    events = []
    while True:
        try:
            events.append(handle.events().receive_nowait())
        except trio.WouldBlock:
            return events


@pytest.mark.parametrize("buffer", [0, 2])
async def test_messages_not_handed_over_before_a_crash_are_asked_for_again(
    autojump_clock: trio.testing.MockClock, buffer: int
) -> None:
    clock = trio_wall_clock()
    store = CrashableStore()
    lp_spec = EngineSpec([SessionSpec("GW", lp_settings())], event_buffer=buffer)
    got: list[Order] = []
    async with (
        open_engine(EngineSpec([SessionSpec("LP", gw_settings())]), clock=clock) as gw_engine,
        trio.open_nursery() as nursery,
    ):
        gw = gw_engine.session("LP")
        # -- first life of the LP: its application stops reading after a few orders
        a, b = trio.testing.memory_stream_pair()
        wire = Wire(b)
        lp_scope = trio.CancelScope()

        async def life(task_status: trio.TaskStatus[Engine]) -> None:
            with lp_scope:
                async with open_engine(lp_spec, clock=clock, store=store) as lp_engine:
                    task_status.started(lp_engine)
                    await lp_engine.run_connection("GW", wire)
                    await trio.sleep_forever()

        first_life_over = trio.Event()

        async def first_life(task_status: trio.TaskStatus[Engine]) -> None:
            try:
                await life(task_status)
            finally:
                first_life_over.set()

        lp_engine = await nursery.start(first_life)
        nursery.start_soon(gw_engine.run_connection, "LP", a)
        lp = lp_engine.session("GW")
        await gw.wait_logged_on()
        seqs = [await gw.send(order(n)) for n in range(ORDERS)]
        await gw.wait_flushed()
        await read_orders(lp, READ_BEFORE_CRASH, got)
        await trio.testing.wait_all_tasks_blocked()
        await trio.sleep(10 * DEFER_SECONDS)  # every deferred store update is committed
        # The LP's core has counted every order; the store only what was handed over.
        first_undelivered = READ_BEFORE_CRASH + buffer
        assert lp.core.next_target_seq == seqs[-1] + 1
        assert store.sequences("GW").next_target_seq == seqs[first_undelivered]

        # -- the crash: the store keeps what it has, the wire goes dead, nothing is graceful
        store.crash()
        take_buffered(lp, got)  # in the channel at the crash: the application had them
        await wire.cut()
        lp_scope.cancel()
        await first_life_over.wait()
        await gw.wait_disconnected()
        assert [o.clordid for o in got] == [f"C{n}" for n in range(first_undelivered)]
        store.revive()

        # -- second life on the same store: the gap is asked for, each order arrives once
        a2, b2 = trio.testing.memory_stream_pair()
        async with open_engine(lp_spec, clock=clock, store=store) as lp_engine2:
            lp2 = lp_engine2.session("GW")
            assert lp2.core.next_target_seq == seqs[first_undelivered]
            nursery.start_soon(lp_engine2.run_connection, "GW", b2)
            nursery.start_soon(gw_engine.run_connection, "LP", a2)
            with trio.fail_after(30):
                gaps: list[GapDetected] = []
                while len(got) < ORDERS:
                    event = await lp2.events().receive()
                    if isinstance(event, GapDetected):
                        gaps.append(event)
                    order_ = as_order(event)
                    if order_ is not None:
                        got.append(order_)
            assert gaps
            assert gaps[0].begin == seqs[first_undelivered]
            await trio.testing.wait_all_tasks_blocked()
            assert [o.clordid for o in got] == [f"C{n}" for n in range(ORDERS)]
            assert [o.seq for o in got] == seqs
            assert [o.poss_dup for o in got] == [n >= first_undelivered for n in range(ORDERS)]
            assert not [e for e in drain(lp2) if type(e) is AppMessageReceived]  # no more
            nursery.cancel_scope.cancel()


# -- a scripted peer: admin traffic, gap fills and gaps exactly where a test wants them -------


class Peer:
    """The GW side written frame by frame, against an LP engine's acceptor session."""

    def __init__(self, stream: trio.abc.Stream, clock: Clock) -> None:
        self.stream = stream
        self.clock = clock
        self.seq = 1
        self._framer = Framer()
        self._inbox: list[Message] = []

    def frame(
        self, msg_type: str, *fields: tuple[int, Any], seq: int | None = None, dup: bool = False
    ) -> bytes:
        """Encode a message as the next in sequence (or as `seq`, which then continues)."""
        seq = self.seq if seq is None else seq
        self.seq = seq + 1
        now = self.clock()
        header: list[tuple[int, Any]] = [
            (Tag.SENDER_COMP_ID, "GW"),
            (Tag.TARGET_COMP_ID, "LP"),
            (Tag.MSG_SEQ_NUM, seq),
            (Tag.SENDING_TIME, now),
        ]
        if dup:
            header += [(Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, now)]
        return Message.new(msg_type, *header, *fields).encode(b"FIX.4.4")

    def order(self, n: int, *, seq: int | None = None, dup: bool = False) -> bytes:
        return self.frame(
            MsgType.NEW_ORDER_SINGLE,
            (Tag.CL_ORD_ID, f"C{n}"),
            (Tag.SIDE, Side.BUY),
            (Tag.TRANSACT_TIME, self.clock()),
            (Tag.ORD_TYPE, OrdType.MARKET),
            (Tag.SYMBOL, "EURUSD"),
            (Tag.ORDER_QTY, 100),
            seq=seq,
            dup=dup,
        )

    def gap_fill(self, new_seq: int, *, seq: int | None = None) -> bytes:
        return self.frame(
            MsgType.SEQUENCE_RESET,
            (Tag.GAP_FILL_FLAG, True),
            (Tag.NEW_SEQ_NO, new_seq),
            seq=seq,
            dup=True,
        )

    async def send(self, *frames: bytes) -> None:
        """Write `frames` in one write: the LP's reader gets them in one receive."""
        await self.stream.send_all(b"".join(frames))

    async def expect(self, msg_type: str) -> Message:
        """The next message of `msg_type` the LP sent (others are skipped)."""
        while True:
            while self._inbox:
                msg = self._inbox.pop(0)
                if msg.msg_type == msg_type:
                    return msg
            data = await self.stream.receive_some()
            assert data, f"the LP closed the connection before sending 35={msg_type}"
            for frame in self._framer.feed(bytes(data)):
                assert isinstance(frame, Message), frame
                self._inbox.append(frame)

    async def logon(self) -> None:
        await self.send(self.frame(MsgType.LOGON, (Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30)))
        await self.expect(MsgType.LOGON)


class Application:
    """The LP's application: takes events while running; once stopped it takes nothing more
    (with an unbuffered channel the reader then waits on the next event)."""

    def __init__(self, handle: SessionHandle) -> None:
        self.handle = handle
        self.orders: list[Order] = []
        self._running = trio.Event()
        self._running.set()
        self._receiving = trio.CancelScope()

    def stop(self) -> None:
        self._running = trio.Event()
        self._receiving.cancel()  # a cancelled receive takes nothing

    def resume(self) -> None:
        self._running.set()

    async def run(self) -> None:
        while True:
            await self._running.wait()
            with trio.CancelScope() as self._receiving:
                order_ = as_order(await self.handle.events().receive())
                if order_ is not None:
                    self.orders.append(order_)


async def stored(store: MemoryStore) -> int:
    """The stored next inbound sequence number, once deferred updates are committed."""
    await trio.testing.wait_all_tasks_blocked()
    await trio.sleep(4 * DEFER_SECONDS)  # a look by the writer, then the deferred commit
    return store.sequences("GW").next_target_seq


async def test_admin_traffic_gap_fills_and_gaps_move_the_stored_number_once_delivered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = trio_wall_clock()
    store = MemoryStore()
    spec = EngineSpec([SessionSpec("GW", lp_settings())], event_buffer=0)
    async with (
        open_engine(spec, clock=clock, store=store) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        lp = lp_engine.session("GW")
        app = Application(lp)
        nursery.start_soon(app.run)
        a, b = trio.testing.memory_stream_pair()
        nursery.start_soon(lp_engine.run_connection, "GW", b)
        peer = Peer(a, clock)
        await peer.logon()
        assert await stored(store) == 2

        # Admin traffic moves it on, whether the application has taken its events or not.
        test_request = peer.frame(MsgType.TEST_REQUEST, (Tag.TEST_REQ_ID, "t"))
        await peer.send(peer.frame(MsgType.HEARTBEAT), test_request)
        await peer.expect(MsgType.HEARTBEAT)
        assert await stored(store) == 4
        app.stop()
        await peer.send(peer.frame(MsgType.HEARTBEAT))
        await trio.testing.wait_all_tasks_blocked()
        assert lp.connection is not None
        assert lp.connection._pending or lp.events().statistics().tasks_waiting_send == 1
        assert await stored(store) == 5  # its event still waits for the application
        app.resume()

        # An order the application has not taken holds back the admin messages and the gap
        # fill behind it; once it is taken, the number jumps to the gap fill's NewSeqNo.
        app.stop()
        await peer.send(
            peer.order(0),  # 5
            peer.frame(MsgType.HEARTBEAT),  # 6
            peer.gap_fill(10),  # 7
        )
        peer.seq = 10
        await trio.testing.wait_all_tasks_blocked()
        assert lp.core.next_target_seq == 10
        assert await stored(store) == 5
        app.resume()
        assert await stored(store) == 10
        assert [o.seq for o in app.orders] == [5]

        # A message above a gap is stashed: the number waits for the gap, then for delivery.
        # Filled (a gap fill and a resent order), the stash drains; the gap fill's number is
        # stored at once, though its event waits for the application too.
        await peer.send(peer.order(1, seq=12))
        resend = await peer.expect(MsgType.RESEND_REQUEST)
        assert resend.get_int(Tag.BEGIN_SEQ_NO) == 10
        assert await stored(store) == 10
        app.stop()
        await peer.send(peer.gap_fill(11, seq=10), peer.order(2, seq=11, dup=True))
        await trio.testing.wait_all_tasks_blocked()
        assert lp.core.next_target_seq == 13
        assert await stored(store) == 11  # order 11 waits for the application
        app.resume()
        assert await stored(store) == 13
        assert [o.seq for o in app.orders] == [5, 11, 12]

        # The peer logs out right after an order the application has not taken: the answer
        # goes out at once, the number waits, and the connection ends once it is delivered.
        app.stop()
        peer.seq = 13
        await peer.send(peer.order(3), peer.frame(MsgType.LOGOUT))
        await peer.expect(MsgType.LOGOUT)
        assert await stored(store) == 13
        assert lp.connection is not None  # the Disconnected event waits behind the order
        app.resume()
        await lp.wait_disconnected()
        assert await stored(store) == 15
        assert [o.seq for o in app.orders] == [5, 11, 12, 13]
        nursery.cancel_scope.cancel()


async def test_a_connection_ending_with_orders_undelivered_asks_for_them_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = trio_wall_clock()
    store = MemoryStore()
    spec = EngineSpec([SessionSpec("GW", lp_settings())], event_buffer=0)
    async with (
        open_engine(spec, clock=clock, store=store) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        lp = lp_engine.session("GW")
        app = Application(lp)
        nursery.start_soon(app.run)
        a, b = trio.testing.memory_stream_pair()
        nursery.start_soon(lp_engine.run_connection, "GW", b)
        peer = Peer(a, clock)
        await peer.logon()
        app.stop()
        await peer.send(peer.order(0), peer.order(1), peer.frame(MsgType.HEARTBEAT))  # 2, 3, 4
        await trio.testing.wait_all_tasks_blocked()
        assert lp.core.next_target_seq == 5
        connection = lp.connection
        assert connection is not None
        with trio.testing.assert_checkpoints():
            await connection.close(grace=0.5)  # the application never takes the orders
        await lp.wait_disconnected()
        # The core forgot what it could not deliver; the store never counted it.
        assert lp.core.next_target_seq == 2
        assert await stored(store) == 2

        app.resume()
        a2, b2 = trio.testing.memory_stream_pair()
        nursery.start_soon(lp_engine.run_connection, "GW", b2)
        peer = Peer(a2, clock)
        peer.seq = 5
        await peer.logon()
        resend = await peer.expect(MsgType.RESEND_REQUEST)
        assert resend.get_int(Tag.BEGIN_SEQ_NO) == 2
        await peer.send(
            peer.order(0, seq=2, dup=True),
            peer.order(1, seq=3, dup=True),
            peer.gap_fill(6, seq=4),
        )
        assert await stored(store) == 6
        assert [(o.clordid, o.seq, o.poss_dup) for o in app.orders] == [
            ("C0", 2, True),
            ("C1", 3, True),
        ]
        nursery.cancel_scope.cancel()


async def test_a_sequence_reset_is_stored_even_behind_an_undelivered_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a reset, numbers of the old period cannot be asked for again: an order of the
    old period still waiting for the application holds nothing back."""
    clock = trio_wall_clock()
    store = MemoryStore()
    spec = EngineSpec([SessionSpec("GW", lp_settings())], event_buffer=0)
    async with (
        open_engine(spec, clock=clock, store=store) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        lp = lp_engine.session("GW")
        app = Application(lp)
        nursery.start_soon(app.run)
        a, b = trio.testing.memory_stream_pair()
        nursery.start_soon(lp_engine.run_connection, "GW", b)
        peer = Peer(a, clock)
        await peer.logon()
        app.stop()
        old_period_order = peer.order(0)  # 2
        reset_logon = peer.frame(
            MsgType.LOGON,
            (Tag.ENCRYPT_METHOD, 0),
            (Tag.HEART_BT_INT, 30),
            (Tag.RESET_SEQ_NUM_FLAG, True),
            seq=1,
        )
        heartbeats = [peer.frame(MsgType.HEARTBEAT) for _ in range(2)]  # 2, 3: new period
        await peer.send(old_period_order, reset_logon, *heartbeats)
        answer = await peer.expect(MsgType.LOGON)
        assert answer.get(Tag.RESET_SEQ_NUM_FLAG) == b"Y"
        assert await stored(store) == 4
        assert store.sequences("GW").next_sender_seq == 2
        app.resume()
        await peer.send(peer.order(1))  # 4
        assert await stored(store) == 5
        assert [(o.clordid, o.seq) for o in app.orders] == [("C0", 2), ("C1", 4)]
        nursery.cancel_scope.cancel()

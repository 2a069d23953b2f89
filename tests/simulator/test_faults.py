"""Scripted misbehaviour: gaps, dropped heartbeats, disconnects, restarts and floods, seen by a
trifix initiator; and reproducibility (same seed and script, same bytes)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from simulator import Behaviour, FillModel
from tests.simulator.harness import connect, connected, sim_session, sim_spec
from tests.simulator.test_lp import md_request, new_order, spec, status
from trifix.core import events
from trifix.core.errors import LocalProtocolError
from trifix.core.events import (
    Disconnected,
    GapDetected,
    GapFilled,
    PeerTimedOut,
)
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag


async def test_induced_gap_is_detected_and_resent(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec(Behaviour(fill=FillModel.NONE))) as (gw, sim):
        sim.session("GW").induce_gap(2)
        for n in range(3):
            await gw.send(new_order(f"C{n}", price="1.0"))
        gap = await gw.event(GapDetected)
        received = [await gw.next() for _ in range(3)]
        await gw.event(GapFilled)
    assert isinstance(gap, GapDetected)
    assert (gap.begin, gap.received) == (gap.expected, gap.expected + 2)
    assert sorted(m[Tag.CL_ORD_ID] for m in received) == [b"C0", b"C1", b"C2"]
    resent = [m for m in received if m.get(Tag.POSS_DUP_FLAG) == b"Y"]
    assert len(resent) == 2
    assert sim.session("GW").faults.dropped == 2


async def test_dropped_heartbeats_make_the_peer_time_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(spec(), heartbeat_interval=5) as (gw, sim):
        sim.session("GW").drop_heartbeats()
        await gw.event(events.TestRequestSent, within=30)
        await gw.event(PeerTimedOut, within=30)
        await sim.session("GW").disconnect()  # already down: returns at once
        assert not sim.session("GW").is_logged_on
        sim.session("GW").drop_heartbeats(False)


async def test_disconnect_after_ack_keeps_the_order_for_a_status_request(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(spec(Behaviour(disconnect_after_ack=True))) as (gw, sim):
        await gw.send(new_order("C1"))
        ack = await gw.next()
        await gw.event(Disconnected)
        assert sim.session("GW").behaviour.disconnect_after_ack is False  # consumed
        async with trio.open_nursery() as nursery:
            await connect(nursery, sim, gw)
            await gw.send(status("C1"))
            report = await gw.next()
            nursery.cancel_scope.cancel()
    assert ack[Tag.EXEC_TYPE] == b"0"
    assert (report[Tag.EXEC_TYPE], report[Tag.ORD_STATUS], report[Tag.CUM_QTY]) == (
        b"I",
        b"2",
        b"1000000",
    )


async def test_restart_with_a_sequence_reset(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec(), reset_on_logon=True) as (gw, sim):
        lp = sim.session("GW")
        await gw.send(new_order("C1"))
        await gw.next()
        await gw.next()
        assert lp.statistics().next_sender_seq > 3
        await lp.restart(reset_seq=True, clear_state=True, down_for=1.0)
        assert lp.statistics().next_sender_seq == 1
        assert not lp.accepting
        await gw.event(Disconnected)
        await trio.sleep(1)
        async with trio.open_nursery() as nursery:
            await connect(nursery, sim, gw)
            await gw.send(status("C1"))
            report = await gw.next()  # the order was forgotten
            nursery.cancel_scope.cancel()
        with pytest.raises(ValueError, match="down_for"):
            await lp.restart(down_for=-1)
    assert (report[Tag.ORD_STATUS], report[Tag.ORD_REJ_REASON]) == (b"8", b"5")


async def test_flood_at_a_rate(autojump_clock: trio.testing.MockClock) -> None:
    async with connected(spec(tick_interval=1e6), heartbeat_interval=0) as (gw, sim):
        lp = sim.session("GW")
        with pytest.raises(LocalProtocolError, match="no market data subscription"):
            await lp.flood(100, 10)
        await gw.send(md_request("M1", depth=1, types=("0", "1")))
        await gw.next()
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lp.flood, 1000, 500, "EURUSD")
            got = [await gw.next() for _ in range(500)]
        elapsed = trio.current_time() - start
        with pytest.raises(LocalProtocolError, match="GBPUSD"):
            await lp.flood(1, 1, "GBPUSD")
        book = sim.book("EURUSD")
    assert all(m.msg_type == MsgType.MARKET_DATA_INCREMENTAL_REFRESH for m in got)
    assert 0.499 <= elapsed < 0.51  # 500 updates at 1,000 a second, in mock time
    last = got[-1].group(Tag.NO_MD_ENTRIES)
    assert last[0][Tag.MD_ENTRY_PX].decode() == str(book.bid)


async def test_flood_needs_an_lp(autojump_clock: trio.testing.MockClock) -> None:
    from simulator import AppMode

    async with connected(sim_spec(sim_session(AppMode.ECHO))) as (_, sim):
        with pytest.raises(LocalProtocolError, match="not an LP"):
            await sim.session("GW").flood(1, 1)
        with pytest.raises(KeyError, match="no session 'X'"):
            sim.session("X")


async def test_same_seed_same_script_same_bytes(autojump_clock: trio.testing.MockClock) -> None:
    async def run(seed: int) -> list[bytes]:
        behaviour = Behaviour(slices=2, latency_jitter=0.3)
        async with connected(spec(behaviour, seed=seed)) as (gw, sim):
            await gw.send(md_request("M1", depth=3))
            await gw.send(new_order("C1", price="1.08508"))
            await gw.send(new_order("C2", side="2"))
            sim.session("GW").induce_gap(1)
            got = await gw.collect(3.0)
        return [m.encode() for m in got]

    first, again, other = await run(5), await run(5), await run(6)
    assert len(first) > 10
    assert first == again
    assert first != other


def test_message_helper_is_valid() -> None:
    assert Message.from_frame(new_order("X").encode()).msg_type == MsgType.NEW_ORDER_SINGLE

"""Event delivery: batches go out without a task switch per event, and a full event channel
back-pressures the reader without reordering or losing anything."""

from __future__ import annotations

import trio
import trio.testing

from tests.runtime.conftest import gw_settings, lp_settings, order, trio_wall_clock
from trifix.core.events import AppMessageReceived, Event
from trifix.core.tags import Tag
from trifix.runtime import EngineSpec, SessionSpec, open_engine


def cl_ord_ids(events: list[Event]) -> list[str]:
    return [e.message.get_str(Tag.CL_ORD_ID) or "" for e in events if type(e) is AppMessageReceived]


async def test_a_full_event_channel_back_pressures_the_reader_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = trio_wall_clock()
    a, b = trio.testing.memory_stream_pair()
    gw_engine_spec = EngineSpec([SessionSpec("LP", gw_settings())])
    lp_engine_spec = EngineSpec([SessionSpec("GW", lp_settings())], event_buffer=2)
    async with (
        open_engine(gw_engine_spec, clock=clock) as gw_engine,
        open_engine(lp_engine_spec, clock=clock) as lp_engine,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(gw_engine.run_connection, "LP", a)
        nursery.start_soon(lp_engine.run_connection, "GW", b)
        gw, lp = gw_engine.session("LP"), lp_engine.session("GW")
        await gw.wait_logged_on()
        await lp.wait_logged_on()
        for n in range(20):  # one burst: the LP's reader gets them in few reads
            await gw.send(order(n))
        await gw.wait_flushed()
        await trio.testing.wait_all_tasks_blocked()
        received: list[Event] = []
        with trio.fail_after(10):
            while len(cl_ord_ids(received)) < 20:
                event = await lp.events().receive()
                received.append(event)
                if type(event) is AppMessageReceived:
                    # Answering wakes the dispatcher while the reader may hold the lock,
                    # waiting for room in the channel.
                    await lp.send(order(100 + len(received)))
        assert cl_ord_ids(received) == [f"C{n}" for n in range(20)]
        gw_events: list[Event] = []
        with trio.fail_after(10):
            while len(cl_ord_ids(gw_events)) < 20:
                gw_events.append(await gw.events().receive())
        assert len(set(cl_ord_ids(gw_events))) == 20
        assert lp.statistics().app_messages_in == 20
        nursery.cancel_scope.cancel()

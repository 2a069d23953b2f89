"""Echo mode: NewOrderSingles come back as NewOrderSingles, PossResend duplicates are dropped,
anything else gets a BusinessMessageReject reason 3."""

from __future__ import annotations

from datetime import UTC, datetime

import trio
import trio.testing

from simulator import AppMode, SimSessionSpec, SimulatorSpec, open_simulator, serve_simulator
from simulator.echo import echo_of
from tests.simulator.harness import T0, connected, sim_session, sim_spec
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, SessionSpec, open_engine

HEADER = {Tag.MSG_SEQ_NUM, Tag.SENDER_COMP_ID, Tag.TARGET_COMP_ID, Tag.SENDING_TIME}


def order(cl_ord_id: str, *, poss_resend: bool = False) -> Message:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, T0),
        (Tag.ORDER_QTY, 100),
        (Tag.ORD_TYPE, "2"),
        (Tag.PRICE, "1.5"),
    )
    if poss_resend:
        msg.set(Tag.POSS_RESEND, True)
    return msg


def body(msg: Message) -> list[tuple[int, bytes]]:
    return [(tag, value) for tag, value in msg.fields() if tag not in HEADER]


ECHO = sim_spec(sim_session(AppMode.ECHO))


async def test_new_order_single_is_echoed_with_the_same_body(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(ECHO) as (gw, _):
        sent = order("C1")
        await gw.send(sent)
        echoed = await gw.next()
    assert echoed.msg_type == MsgType.NEW_ORDER_SINGLE
    assert echoed[Tag.SENDER_COMP_ID] == b"LP"
    assert echoed[Tag.TARGET_COMP_ID] == b"GW"
    assert body(echoed) == body(order("C1"))


async def test_poss_resend_of_an_echoed_cl_ord_id_is_ignored(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(ECHO) as (gw, sim):
        await gw.send(order("C1"))
        assert (await gw.next())[Tag.CL_ORD_ID] == b"C1"
        await gw.send(order("C1", poss_resend=True))  # already echoed: dropped
        await gw.send(order("C2", poss_resend=True))  # never seen: echoed
        assert (await gw.next())[Tag.CL_ORD_ID] == b"C2"
        await gw.send(order("C1"))  # not a PossResend: echoed again
        assert (await gw.next())[Tag.CL_ORD_ID] == b"C1"
        assert await gw.collect(1) == []
        assert sim.session("GW").statistics().app_messages_in == 4


async def test_other_messages_get_business_reject_3(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with connected(ECHO) as (gw, _):
        seq = await gw.send(
            Message.new(MsgType.NEWS, (Tag.HEADLINE, "hello"), (Tag.NO_LINES_OF_TEXT, 0))
        )
        reject = await gw.next()
    assert reject.msg_type == MsgType.BUSINESS_MESSAGE_REJECT
    assert reject.get_int(Tag.REF_SEQ_NUM) == seq
    assert reject[Tag.REF_MSG_TYPE] == b"B"
    assert reject[Tag.BUSINESS_REJECT_REASON] == b"3"


def test_echo_of_keeps_the_body_in_order_and_drops_the_envelope() -> None:
    msg = order("C9", poss_resend=True)
    msg.set(Tag.SENDER_COMP_ID, "X").set(Tag.MSG_SEQ_NUM, 7)
    framed = Message.from_frame(msg.encode())
    echoed = echo_of(framed)
    assert [t for t, _ in echoed.fields()] == [
        Tag.MSG_TYPE,
        Tag.CL_ORD_ID,
        Tag.SYMBOL,
        Tag.SIDE,
        Tag.TRANSACT_TIME,
        Tag.ORDER_QTY,
        Tag.ORD_TYPE,
        Tag.PRICE,
    ]


async def test_echo_over_tcp_started_with_serve_simulator() -> None:
    spec = SimulatorSpec(
        [
            SimSessionSpec(
                SessionSpec("GW", SessionSettings("LP", "GW", Role.ACCEPTOR)), AppMode.ECHO
            )
        ]
    )
    async with trio.open_nursery() as nursery:
        sim = await nursery.start(serve_simulator, spec)
        assert sim.port
        gw_spec = EngineSpec(
            [SessionSpec("LP", SessionSettings("GW", "LP"), hosts=[("127.0.0.1", sim.port)])]
        )
        async with open_engine(gw_spec) as gw:
            handle = gw.session("LP")
            with trio.fail_after(10):
                await handle.wait_logged_on()
                await handle.send(order("T1").set(Tag.TRANSACT_TIME, datetime.now(UTC)))
                async for event in handle.events():
                    message = getattr(event, "message", None)
                    if message is not None and message.msg_type == MsgType.NEW_ORDER_SINGLE:
                        assert message[Tag.CL_ORD_ID] == b"T1"
                        break
        nursery.cancel_scope.cancel()


async def test_unknown_comp_ids_are_refused() -> None:
    async with open_simulator(SimulatorSpec([sim_session(AppMode.ECHO)])) as sim:
        assert sim.port
        gw_spec = EngineSpec(
            [SessionSpec("LP", SessionSettings("WHO", "LP"), hosts=[("127.0.0.1", sim.port)])]
        )
        async with open_engine(gw_spec):
            with trio.fail_after(10):
                while not sim.refused:  # noqa: ASYNC110 - the refusal lives in the simulator
                    await trio.sleep(0.01)
    assert "unknown CompIDs WHO->LP" in sim.refused[0]

"""In-process engines for the runner to test: a trifix acceptor with a tiny echo application
(or an initiator), reached over memory streams so that trio's MockClock drives every timer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import trio
import trio.lowlevel
import trio.testing

from trifix.core.events import AppMessageReceived
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import Engine, EngineSpec, SessionHandle, SessionSpec, open_engine

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HEADER = {Tag.MSG_SEQ_NUM, Tag.SENDER_COMP_ID, Tag.TARGET_COMP_ID, Tag.SENDING_TIME}
HEADER |= {Tag.POSS_DUP_FLAG, Tag.POSS_RESEND, Tag.ORIG_SENDING_TIME, Tag.MSG_TYPE}


def wall_clock() -> Callable[[], datetime]:
    """Wall time that follows trio's (mock) clock, starting at T0."""
    base = trio.current_time()
    return lambda: T0 + timedelta(seconds=trio.current_time() - base)


async def echo_app(handle: SessionHandle) -> None:
    """Echo each NewOrderSingle; a PossResend=Y of a ClOrdID already echoed is ignored."""
    echoed: set[str] = set()
    async for event in handle.events():
        if not isinstance(event, AppMessageReceived):
            continue
        msg = event.message
        if msg.msg_type != MsgType.NEW_ORDER_SINGLE:
            continue
        cl_ord_id = msg.get_str(Tag.CL_ORD_ID)
        if event.poss_resend and cl_ord_id in echoed:
            continue
        echoed.add(cl_ord_id)
        body = [(tag, value) for tag, value in msg.fields() if tag not in HEADER]
        await handle.send(Message.new(MsgType.NEW_ORDER_SINGLE, *body))


class InProcess:
    """A connector to one session of an in-process engine, over a fresh memory stream pair
    per `connect` step."""

    def __init__(self, engine: Engine, session_id: str, role: Role, nursery: trio.Nursery) -> None:
        self.engine = engine
        self.session_id = session_id
        self.role = role
        self.nursery = nursery

    @property
    def engine_role(self) -> Role:
        return self.role

    async def open(self) -> trio.abc.Stream:
        handle = self.engine.session(self.session_id)
        if handle.connection is not None:
            await handle.wait_disconnected()
        ours, theirs = trio.testing.memory_stream_pair()
        self.nursery.start_soon(self.engine.run_connection, self.session_id, theirs)
        await trio.lowlevel.checkpoint()
        return ours


@asynccontextmanager
async def in_process(
    role: Role = Role.ACCEPTOR,
    app: Callable[[SessionHandle], object] | None = echo_app,
    **options: object,
) -> AsyncIterator[tuple[InProcess, Callable[[], datetime]]]:
    """An engine whose one session plays `role` (LP acceptor with ResetOnLogon, or GW
    initiator with ResetOnLogon), with `app` serving it; yields the connector and the clock."""
    if role is Role.ACCEPTOR:
        settings = SessionSettings("LP", "GW", Role.ACCEPTOR, reset_on_logon=True)
        settings = replace(settings, supported_app_msg_types=frozenset({"D"}))
        session_id = "GW"
    else:
        settings = SessionSettings("GW", "LP", Role.INITIATOR, reset_on_logon=True)
        session_id = "LP"
    settings = replace(settings, **options)  # type: ignore[arg-type]
    clock = wall_clock()
    async with (
        open_engine(EngineSpec([SessionSpec(session_id, settings)]), clock=clock) as engine,
        trio.open_nursery() as nursery,
    ):
        if app is not None:
            nursery.start_soon(app, engine.session(session_id))  # type: ignore[arg-type]
        yield InProcess(engine, session_id, role, nursery), clock
        nursery.cancel_scope.cancel()

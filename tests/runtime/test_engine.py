"""End-to-end: two engines over real sockets on 127.0.0.1, or memory streams on MockClock."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.runtime.conftest import (
    ProxyStream,
    eventually,
    gw_settings,
    gw_spec,
    lp_settings,
    lp_spec,
    memory_pair,
    order,
)
from trifix.core import events as events_module
from trifix.core.events import (
    AppMessageReceived,
    Disconnected,
    HeartbeatSent,
    LoggedOn,
)
from trifix.core.state import SessionState
from trifix.core.tags import Tag
from trifix.runtime import EngineSpec, NotLoggedOnError, SessionHandle, SessionSpec, open_engine

pytestmark = pytest.mark.filterwarnings("error")


async def _next_app(handle: SessionHandle, within: float = 5) -> AppMessageReceived:
    with trio.fail_after(within):
        async for event in handle.events():
            if isinstance(event, AppMessageReceived):
                return event
    raise AssertionError("event stream ended")


async def test_logon_exchange_and_logout_over_tcp() -> None:
    async with open_engine(lp_spec()) as lp:
        port = lp.listen_port
        assert port
        async with open_engine(gw_spec([("127.0.0.1", port)])) as gw:
            gw_lp = gw.session("LP")
            with trio.fail_after(5):
                await gw_lp.wait_logged_on()
                await lp.session("GW").wait_logged_on()
            seq = await gw_lp.send(order(1))
            assert seq == 2  # the Logon was 1
            got = await _next_app(lp.session("GW"))
            assert got.message[Tag.CL_ORD_ID] == b"C1"
            assert got.message.seq_num == 2
            stats = gw_lp.statistics()
            assert stats.logged_on
            assert stats.next_sender_seq == 3
        # leaving the gateway's block logged it out gracefully
        with trio.fail_after(5):
            await lp.session("GW").wait_disconnected()
        assert lp.session("GW").state is SessionState.DISCONNECTED
        assert lp.session("GW").core.next_target_seq == 4  # Logon, order, Logout


async def test_send_before_logon_is_refused() -> None:
    async with open_engine(EngineSpec([SessionSpec("LP", gw_settings())])) as gw:
        with pytest.raises(NotLoggedOnError, match="not logged on"):
            await gw.session("LP").send(order(1))


async def test_unknown_comp_id_refused_while_another_session_stays_up() -> None:
    spec = lp_spec(
        SessionSpec("GW", lp_settings()),
        SessionSpec("OTHER", lp_settings(target="OTHER")),
    )
    async with open_engine(spec) as lp:
        port = lp.listen_port
        assert port
        async with open_engine(gw_spec([("127.0.0.1", port)])) as gw:
            with trio.fail_after(5):
                await gw.session("LP").wait_logged_on()
            stranger = gw_spec(
                [("127.0.0.1", port)], settings=gw_settings(sender_comp_id="STRANGER")
            )
            async with open_engine(stranger) as bad:
                acceptor = lp.acceptor
                assert acceptor is not None
                await eventually(lambda: any("unknown CompIDs" in r for r in acceptor.refused))
                assert not bad.session("LP").is_logged_on
            assert gw.session("LP").is_logged_on
            await gw.session("LP").send(order(7))
            got = await _next_app(lp.session("GW"))
            assert got.message[Tag.CL_ORD_ID] == b"C7"


async def test_second_connection_for_logged_on_session_refused() -> None:
    async with open_engine(lp_spec()) as lp:
        port = lp.listen_port
        assert port
        async with open_engine(gw_spec([("127.0.0.1", port)])) as gw:
            with trio.fail_after(5):
                await gw.session("LP").wait_logged_on()
            async with open_engine(gw_spec([("127.0.0.1", port)])) as twin:
                acceptor = lp.acceptor
                assert acceptor is not None
                await eventually(lambda: any("already connected" in r for r in acceptor.refused))
                assert not twin.session("LP").is_logged_on
            assert gw.session("LP").is_logged_on
            assert lp.session("GW").statistics().connects == 1


async def test_reconnects_after_the_peer_drops() -> None:
    async with open_engine(lp_spec()) as lp:
        port = lp.listen_port
        assert port
        async with open_engine(gw_spec([("127.0.0.1", port)])) as gw:
            handle = gw.session("LP")
            with trio.fail_after(5):
                await handle.wait_logged_on()
            conn = lp.session("GW").connection
            assert conn is not None
            await conn.close(grace=0)  # the LP drops the socket without a Logout
            await eventually(lambda: handle.statistics().connects >= 2 and handle.is_logged_on)
            await handle.send(order(2))
            got = await _next_app(lp.session("GW"))
            assert got.message[Tag.CL_ORD_ID] == b"C2"


async def test_fails_over_to_the_second_host() -> None:
    with trio.socket.socket() as dead:  # a port nothing listens on
        await dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
    async with open_engine(lp_spec()) as lp:
        port = lp.listen_port
        assert port
        hosts = [("127.0.0.1", dead_port), ("127.0.0.1", port)]
        async with open_engine(gw_spec(hosts)) as gw:
            handle = gw.session("LP")
            with trio.fail_after(5):
                await handle.wait_logged_on()
            stats = handle.statistics()
            assert stats.peer == f"127.0.0.1:{port}"
            assert stats.last_error is not None
            assert str(dead_port) in stats.last_error


async def test_heartbeats_every_interval_on_mock_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gw_spec_ = SessionSpec("LP", gw_settings(heartbeat_interval=10))
    async with memory_pair(gw_spec_, SessionSpec("GW", lp_settings())) as (gw, lp):
        handle = gw.session("LP")
        await handle.wait_logged_on()
        events = []
        with trio.move_on_after(35):  # mock time: instant
            async for event in handle.events():
                events.append(event)  # noqa: PERF401 - keep what came before the timeout
        beats = [e for e in events if isinstance(e, HeartbeatSent)]
        assert any(isinstance(e, LoggedOn) for e in events)
        assert len(beats) == 3  # at 10, 20 and 30 s of our silence
        assert not any(
            isinstance(e, events_module.TestRequestSent) for e in events
        )  # the LP beats too
        assert handle.is_logged_on
        assert lp.session("GW").core.next_target_seq == 5  # Logon + 3 heartbeats


async def test_peer_silence_leads_to_test_request_and_disconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lp_scope = trio.CancelScope()
    async with memory_pair(
        SessionSpec("LP", gw_settings(heartbeat_interval=10)),
        SessionSpec("GW", lp_settings()),
        lp_stream=_Hung,
        lp_scope=lp_scope,
    ) as (gw, _lp):
        handle = gw.session("LP")
        await handle.wait_logged_on()
        # The LP goes silent: freeze its tasks by cancelling its connection without closing
        # the stream it reads (a hung peer).
        lp_scope.cancel()
        reasons = []
        with trio.fail_after(120):
            async for event in handle.events():
                if isinstance(event, Disconnected):
                    reasons.append(event.reason)
                    break
        assert reasons == ["peer timed out: no answer to TestRequest"]


class _Hung(ProxyStream):
    """A stream whose close does nothing: when its user stops, the peer sees silence."""

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()


class _Breaking(ProxyStream):
    """A stream whose writes start failing on demand (a peer that vanished mid-session)."""

    broken = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self.broken:
            raise trio.BrokenResourceError("the peer is gone")
        await self.inner.send_all(data)


async def test_wait_flushed_raises_when_the_connection_ends_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    streams: list[_Breaking] = []

    def breaking(stream: trio.abc.Stream) -> trio.abc.Stream:
        streams.append(_Breaking(stream))
        return streams[0]

    gw_spec_, lp_spec_ = SessionSpec("LP", gw_settings()), SessionSpec("GW", lp_settings())
    async with memory_pair(gw_spec_, lp_spec_, gw_stream=breaking) as (gw, _lp):
        handle = gw.session("LP")
        await handle.wait_logged_on()
        await handle.send(order(1))
        await handle.wait_flushed()  # written: returns
        streams[0].broken = True
        await handle.send(order(2))
        with pytest.raises(NotLoggedOnError, match="before messages up to 3 were written"):
            await handle.wait_flushed()


def _logon_frame(*, garble: bool = False) -> bytes:
    from datetime import UTC, datetime

    from trifix.core.message import Message
    from trifix.core.tags import MsgType

    logon = Message.new(
        MsgType.LOGON,
        (Tag.SENDER_COMP_ID, "GW"),
        (Tag.TARGET_COMP_ID, "LP"),
        (Tag.MSG_SEQ_NUM, 1),
        (Tag.SENDING_TIME, datetime.now(UTC)),
        (Tag.ENCRYPT_METHOD, 0),
        (Tag.HEART_BT_INT, 30),
        (Tag.RESET_SEQ_NUM_FLAG, "Y"),
    ).encode()
    return logon[:-4] + b"000\x01" if garble else logon  # a wrong CheckSum


async def test_a_garbled_first_logon_is_ignored_and_the_next_accepted() -> None:
    """FIX 4.4 test case 1B.c over a real socket: the acceptor routes on the first whole
    message, so garbage before the Logon neither refuses the connection nor is routed."""
    from trifix.core.codec import Framer
    from trifix.core.message import Message

    async with open_engine(lp_spec()) as lp:
        assert lp.listen_port
        stream = await trio.open_tcp_stream("127.0.0.1", lp.listen_port)
        async with stream:
            await stream.send_all(b"8=FIX.4.4\x01garbage\x01" + _logon_frame(garble=True))
            with trio.move_on_after(0.3):
                assert await stream.receive_some() != b"", "the acceptor hung up"
            await stream.send_all(_logon_frame())
            framer = Framer()
            with trio.fail_after(5):
                while True:
                    frames = [f for f in framer.feed(await stream.receive_some()) if f]
                    if frames:
                        break
            answer = frames[0]
            assert isinstance(answer, Message)
            assert answer.msg_type == "A", answer
        acceptor = lp.acceptor
        assert acceptor is not None
        assert acceptor.refused == []

"""TLS, throttles, schedules on a mock clock, reloading and adding sessions."""

from __future__ import annotations

import ssl
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
import trio
import trio.testing
import trustme

from tests.runtime.conftest import (
    FAST_RECONNECT,
    eventually,
    gw_settings,
    lp_settings,
    memory_pair,
    order,
    trio_wall_clock,
)
from trifix.core.events import LoggedOn, LogoutSent, SequencesReset
from trifix.runtime import (
    EngineSpec,
    SessionSpec,
    ThrottledError,
    ThrottleSettings,
    TlsSettings,
    open_engine,
)
from trifix.runtime.schedule import Schedule


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_tls(ca: trustme.CA) -> TlsSettings:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return TlsSettings(context=ctx)


def _client_tls(ca: trustme.CA) -> TlsSettings:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return TlsSettings(context=ctx, server_hostname="localhost")


async def test_tls_logon_with_a_trusted_certificate(ca: trustme.CA) -> None:
    lp_spec = EngineSpec(
        [SessionSpec("GW", lp_settings())], listen_port=0, acceptor_tls=_server_tls(ca)
    )
    async with open_engine(lp_spec) as lp:
        assert lp.listen_port
        hosts = [("127.0.0.1", lp.listen_port)]
        gw_spec = EngineSpec([SessionSpec("LP", gw_settings(), hosts=hosts, tls=_client_tls(ca))])
        async with open_engine(gw_spec) as gw:
            with trio.fail_after(5):
                await gw.session("LP").wait_logged_on()
            await gw.session("LP").send(order(1))
            with trio.fail_after(5):
                await eventually(lambda: lp.session("GW").statistics().messages_in == 1)


async def test_tls_refuses_an_untrusted_certificate(ca: trustme.CA) -> None:
    lp_spec = EngineSpec(
        [SessionSpec("GW", lp_settings())], listen_port=0, acceptor_tls=_server_tls(ca)
    )
    stranger = trustme.CA()  # the gateway trusts another CA only
    async with open_engine(lp_spec) as lp:
        assert lp.listen_port
        hosts = [("127.0.0.1", lp.listen_port)]
        spec = SessionSpec(
            "LP", gw_settings(), hosts=hosts, tls=_client_tls(stranger), reconnect=FAST_RECONNECT
        )
        async with open_engine(EngineSpec([spec])) as gw:
            handle = gw.session("LP")
            await eventually(lambda: handle.reconnect_attempts >= 2)
            assert not handle.is_logged_on
            error = handle.statistics().last_error
            assert error is not None
            assert "CERTIFICATE_VERIFY_FAILED" in error
            assert lp.session("GW").statistics().connects == 0


async def test_throttle_waits_then_errors(autojump_clock: trio.testing.MockClock) -> None:
    waiting = SessionSpec("LP", gw_settings(), throttle=ThrottleSettings(rate=10, burst=2))
    async with memory_pair(waiting, SessionSpec("GW", lp_settings())) as (gw, _lp):
        handle = gw.session("LP")
        await handle.wait_logged_on()
        start = trio.current_time()
        for n in range(6):
            await handle.send(order(n))
        # 2 at once (burst), then 4 more at 10/s
        assert trio.current_time() - start == pytest.approx(0.4, abs=0.01)
        gw.reconfigure_session(
            replace(waiting, throttle=ThrottleSettings(rate=1, burst=1, on_limit="error"))
        )
        await handle.send(order(7))
        with pytest.raises(ThrottledError, match="over its limit of 1 messages/s"):
            await handle.send(order(8))


async def test_schedule_connects_inside_the_window_and_logs_out_at_the_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 09:00-17:00 London session on a mock clock starting at 08:00 UTC on 2026-03-27
    (a Friday; clocks go forward on Sunday 29 March): connects at 09:00 GMT, logs out at
    17:00 GMT, stays away over the weekend, then connects Monday at 09:00 BST (08:00 UTC)
    with sequence numbers reset for the new period."""
    autojump_clock.autojump_threshold = 0.02  # real sockets: let loopback I/O land first
    start = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    clock = trio_wall_clock(start)
    schedule = Schedule.daily(
        time(9), time(17), tz="Europe/London", days=frozenset({1, 2, 3, 4, 5})
    )
    lp_engine = EngineSpec([SessionSpec("GW", lp_settings(), schedule=schedule)], listen_port=0)
    async with open_engine(lp_engine, clock=clock) as lp:
        assert lp.listen_port
        hosts = [("127.0.0.1", lp.listen_port)]
        spec = SessionSpec(
            "LP",
            gw_settings(heartbeat_interval=3 * 3600),  # few heartbeats: each costs real time
            hosts=hosts,
            schedule=schedule,
            reconnect=FAST_RECONNECT,
        )
        async with open_engine(EngineSpec([spec]), clock=clock) as gw:
            handle = gw.session("LP")
            seen: list[tuple[datetime, str]] = []
            second_logon = trio.Event()

            async def record() -> None:
                async for event in handle.events():
                    if isinstance(event, LoggedOn | LogoutSent | SequencesReset):
                        seen.append((clock(), type(event).__name__))
                    if sum(kind == "LoggedOn" for _, kind in seen) == 2:
                        second_logon.set()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(record)
                with trio.fail_after(4 * 24 * 3600):
                    await second_logon.wait()
                nursery.cancel_scope.cancel()
            kinds = [(when.strftime("%a %H:%M"), kind) for when, kind in seen]
            assert kinds == [
                ("Fri 09:00", "SequencesReset"),  # the store was created before the period
                ("Fri 09:00", "LoggedOn"),
                ("Fri 17:00", "LogoutSent"),
                ("Mon 08:00", "SequencesReset"),  # 09:00 BST: a new period
                ("Mon 08:00", "LoggedOn"),
            ]
            lp_handle = lp.session("GW")
            assert lp_handle.core.next_target_seq == 2, lp_handle.statistics()

"""The initiator: connect inside the schedule, fail over across hosts, back off, reconnect."""

from __future__ import annotations

import ssl
from datetime import datetime
from typing import TYPE_CHECKING

import trio

from trifix.runtime.connection import Connection
from trifix.runtime.handle import SessionHandle

if TYPE_CHECKING:
    from trifix.runtime.engine import Engine

CONNECT_TIMEOUT = 10.0


async def sleep_until_wall(handle: SessionHandle, when: datetime) -> None:
    """Sleep until the wall clock reads `when` (trio's clock measures the wait)."""
    delay = (when - handle.clock()).total_seconds()
    if delay > 0:
        await trio.sleep(delay)


async def open_stream(handle: SessionHandle, host: str, port: int) -> trio.abc.Stream:
    """A TCP (and, when configured, TLS) connection to one host."""
    stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
    tls = handle.spec.tls
    if tls is not None:
        ssl_stream = trio.SSLStream(
            stream, tls.client_context(), server_hostname=tls.server_hostname or host
        )
        try:
            await ssl_stream.do_handshake()
        except BaseException:
            await trio.aclose_forcefully(ssl_stream)
            raise
        stream = ssl_stream
    return stream


async def run_in_window(
    handle: SessionHandle, connection: Connection, initial: bytes = b""
) -> None:
    """Run `connection`, logging out and closing when the session's schedule window ends."""

    async def close_at_end() -> None:
        close_at = handle.spec.schedule.next_close(handle.clock())
        if close_at is None:
            return
        await sleep_until_wall(handle, close_at)
        if handle.core.is_logged_on:
            await handle.logout("end of trading session")
        await connection.close()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(close_at_end)
        await connection.run(initial)
        nursery.cancel_scope.cancel()


async def reset_for_new_period(handle: SessionHandle) -> None:
    """Reset sequence numbers when the store predates the current schedule period."""
    stored = await handle.store.call(handle.store.store.sequences, handle.id)
    if handle.spec.schedule.needs_reset(stored.creation_time, handle.clock()):
        handle.core.reset_sequences("new session period")
    if handle.spec.settings.refresh_on_logon:
        handle.core.refresh(stored.next_sender_seq, stored.next_target_seq)


async def run_initiator(engine: Engine, handle: SessionHandle) -> None:
    """Keep `handle` connected while it is enabled and the engine runs (within its schedule).

    The spec is read again on every attempt, so a reloaded schedule, reconnection policy or
    enabled flag applies from the next attempt on.
    """
    handle.initiator_running = True
    try:
        await _connect_loop(engine, handle)
    finally:
        handle.initiator_running = False


async def _connect_loop(engine: Engine, handle: SessionHandle) -> None:
    failures = 0
    index = 0
    while handle.enabled:
        spec = handle.spec
        policy = spec.reconnect
        hosts = list(spec.hosts)
        schedule = spec.schedule
        now = handle.clock()
        if not schedule.is_open(now):
            await sleep_until_wall(handle, schedule.next_open(now) or now)
            continue
        await reset_for_new_period(handle)
        host, port = hosts[index % len(hosts)]
        stream: trio.abc.Stream | None = None
        try:
            with trio.fail_after(CONNECT_TIMEOUT):
                stream = await open_stream(handle, host, port)
        except (OSError, trio.TooSlowError, trio.BrokenResourceError, ssl.SSLError) as exc:
            cause: BaseException = exc.__cause__ or exc  # trio wraps TLS failures
            while isinstance(cause, BaseExceptionGroup):  # one error per address tried
                cause = cause.exceptions[0]
            handle._note_error(f"connect to {host}:{port} failed: {cause}")
        if stream is not None:
            connection = Connection(handle, stream, f"{host}:{port}")
            await run_in_window(handle, connection)
            if connection.logged_on and policy.reset_on_success:
                failures = 0
                index = 0
                handle.reconnect_attempts = 0
                await trio.sleep(policy.delay(1, engine.rng))
                continue
        failures += 1
        handle.reconnect_attempts = failures
        if policy.max_attempts is not None and failures >= policy.max_attempts:
            handle._note_error(f"gave up after {failures} failed attempts")
            return
        index = (index + 1) % len(hosts)
        await trio.sleep(policy.delay(failures, engine.rng))

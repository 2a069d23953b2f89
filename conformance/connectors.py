"""How the runner reaches the engine under test: it dials an acceptor, or it listens and the
engine (an initiator) dials in. Tests plug in their own connectors (memory streams)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import trio

from trifix.core.settings import Role

__all__ = ["Connector", "TcpListener", "TcpTarget", "open_tcp_listener"]


class Connector(Protocol):
    """Opens one connection to the engine under test per `connect` step."""

    @property
    def engine_role(self) -> Role:
        """The role of the engine under test (scripts that do not apply to it are skipped)."""
        ...

    async def open(self) -> trio.abc.Stream:
        """A new connection to the engine (the runner bounds the wait with its step timeout)."""
        ...


class TcpTarget:
    """Dial an acceptor at `host`:`port`.

    Args:
        host: the engine's host name or address.
        port: its port.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    @property
    def engine_role(self) -> Role:
        """The engine under test accepts connections."""
        return Role.ACCEPTOR

    async def open(self) -> trio.abc.Stream:
        """Connect; raises OSError when nothing listens there."""
        return await trio.open_tcp_stream(self.host, self.port)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class TcpListener:
    """Accept the engine's connections on a bound listener (use `open_tcp_listener`)."""

    def __init__(self, listener: trio.SocketListener) -> None:
        self._listener = listener

    @property
    def engine_role(self) -> Role:
        """The engine under test is the initiator: it connects to us."""
        return Role.INITIATOR

    @property
    def port(self) -> int:
        """The port bound (useful when 0 asked for any free port)."""
        port: int = self._listener.socket.getsockname()[1]
        return port

    async def open(self) -> trio.abc.Stream:
        """Wait for the engine's next connection."""
        return await self._listener.accept()


@asynccontextmanager
async def open_tcp_listener(port: int, host: str = "127.0.0.1") -> AsyncIterator[TcpListener]:
    """Listen on `host`:`port` (0 for any free port) for the engine under test to connect.

    Raises:
        OSError: the address cannot be bound (in use, no permission).
    """
    listeners = await trio.open_tcp_listeners(port, host=host)
    try:
        yield TcpListener(listeners[0])
    finally:
        with trio.CancelScope(shield=True):
            for listener in listeners:
                await listener.aclose()

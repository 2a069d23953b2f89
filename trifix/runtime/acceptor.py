"""The acceptor: one listening port for many sessions, routed by CompIDs on the Logon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import trio

from trifix.core.codec import Framer
from trifix.core.message import Message
from trifix.core.tags import Tag
from trifix.runtime.connection import _TRANSPORT_ERRORS, Connection
from trifix.runtime.handle import SessionHandle
from trifix.runtime.initiator import reset_for_new_period, run_in_window

if TYPE_CHECKING:
    from trifix.runtime.engine import Engine

FIRST_MESSAGE_TIMEOUT = 10.0
_FIRST_BYTES = 2 * 1024 * 1024  # garbage before a Logon: more than a maximal frame is refused


def _peer_name(stream: trio.abc.Stream) -> str:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if isinstance(inner, trio.SocketStream):
        host, port = inner.socket.getpeername()[:2]
        return f"{host}:{port}"
    return "unknown"


class Acceptor:
    """Serves every acceptor session of an engine on the engine's listening port."""

    def __init__(self, engine: Engine, handles: Sequence[SessionHandle]) -> None:
        self.engine = engine
        # Keyed by the *peer's* SenderCompID and TargetCompID.
        self.routes = {
            (h.spec.settings.target_comp_id, h.spec.settings.sender_comp_id): h for h in handles
        }
        self.port: int | None = None
        self.refused: list[str] = []

    def add(self, handle: SessionHandle) -> None:
        """Route a session added while running."""
        settings = handle.spec.settings
        self.routes[(settings.target_comp_id, settings.sender_comp_id)] = handle

    async def serve(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve until cancelled."""
        spec = self.engine.spec
        listeners: list[trio.abc.Listener[trio.abc.Stream]] = list(
            await trio.open_tcp_listeners(spec.listen_port or 0, host=spec.listen_host)
        )
        first = listeners[0]
        assert isinstance(first, trio.SocketListener)
        self.port = first.socket.getsockname()[1]
        if spec.acceptor_tls is not None:
            ctx = spec.acceptor_tls.server_context()
            listeners = [trio.SSLListener(listener, ctx) for listener in listeners]
        task_status.started()
        await trio.serve_listeners(self._serve_one, listeners)

    def _refuse(self, peer: str, why: str) -> None:
        self.refused.append(f"{peer}: {why}")

    async def _serve_one(self, stream: trio.abc.Stream) -> None:
        peer = _peer_name(stream)
        try:
            data, first = await self._first_message(stream)
            if first is None:
                self._refuse(peer, "no FIX Logon received")
                return
            key = (first.get_str(Tag.SENDER_COMP_ID, ""), first.get_str(Tag.TARGET_COMP_ID, ""))
            handle = self.routes.get(key)
            if handle is None:
                self._refuse(peer, f"unknown CompIDs {key[0]}->{key[1]}")
                return
            if not handle.enabled:
                self._refuse(peer, f"session {handle.id} is disabled")
                return
            if handle.connection is not None:
                self._refuse(peer, f"session {handle.id} is already connected")
                return
            if not handle.spec.schedule.is_open(handle.clock()):
                self._refuse(peer, f"session {handle.id} is outside its schedule")
                return
            await reset_for_new_period(handle)
            if handle.is_busy():  # another connection won the race meanwhile
                self._refuse(peer, f"session {handle.id} is already connected")
                return
            await run_in_window(handle, Connection(handle, stream, peer), data)
        finally:
            await trio.aclose_forcefully(stream)

    async def _first_message(self, stream: trio.abc.Stream) -> tuple[bytes, Message | None]:
        """Read until the first whole message; return every byte read and that message.

        Garbled frames before it are skipped, as a session ignores them (FIX 4.4 test case
        1B.c: a garbled Logon is ignored and the valid one after it accepted); the session is
        given every byte, so it sees them too. At most `_FIRST_BYTES` are read looking.
        """
        framer = Framer()
        data = bytearray()
        with trio.move_on_after(FIRST_MESSAGE_TIMEOUT):
            try:
                if isinstance(stream, trio.SSLStream):
                    await stream.do_handshake()
                while len(data) <= _FIRST_BYTES:
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        return bytes(data), None
                    data += chunk
                    for frame in framer.feed(chunk):
                        if isinstance(frame, Message):
                            return bytes(data), frame
            except _TRANSPORT_ERRORS:
                pass
        return bytes(data), None

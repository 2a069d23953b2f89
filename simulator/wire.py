"""Faults on the wire: a stream wrapper that drops chosen outbound frames.

The simulator's sessions run on trifix's own engine, so every message it sends is stored and
numbered by the session core as usual. Faults are injected *below* the engine, on the transport:

* an induced sequence gap drops the next N outbound application messages after the engine has
  stored them. The peer sees the numbers jump on the next message, sends a ResendRequest, and the
  engine answers it from its store (PossDupFlag=Y): a real gap, detected and recovered by FIX
  rules, not a simulated one;
* dropped heartbeats: every outbound Heartbeat (35=0) is discarded, answers to TestRequest
  included, so the peer's TestRequest and timeout path fires (the sequence numbers they carried
  are seen as a gap once anything else gets through, and gap-filled on request).

When no fault is armed, bytes go through untouched and unparsed.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message
from trifix.core.tags import ADMIN_MSG_TYPES, MsgType

__all__ = ["Faults", "FaultyStream"]

_HEARTBEAT = MsgType.HEARTBEAT.value


@dataclass(slots=True)
class Faults:
    """What to drop from one session's outbound bytes; changed at run time by the controls.

    Attributes:
        drop_app_messages: how many of the next outbound application messages to drop.
        drop_heartbeats: drop every outbound Heartbeat while True.
        dropped: how many frames have been dropped so far (all kinds).
    """

    drop_app_messages: int = 0
    drop_heartbeats: bool = False
    dropped: int = 0

    @property
    def armed(self) -> bool:
        """True while some outbound frame may be dropped."""
        return self.drop_app_messages > 0 or self.drop_heartbeats

    def keep(self, frame: Message) -> bool:
        """Whether `frame` goes out; counts and consumes the fault when it does not."""
        msg_type = frame.msg_type
        if msg_type == _HEARTBEAT and self.drop_heartbeats:
            self.dropped += 1
            return False
        if msg_type not in ADMIN_MSG_TYPES and self.drop_app_messages > 0:
            self.drop_app_messages -= 1
            self.dropped += 1
            return False
        return True


class FaultyStream(trio.abc.Stream):
    """Wraps a connected stream and applies `Faults` on send.

    Args:
        inner: the connection.
        faults: the session's faults (shared, so changes apply to the live connection).
    """

    def __init__(self, inner: trio.abc.Stream, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults
        self._framer = Framer()
        self._partial = False  # a frame is split across writes: frame everything from now on

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Write `data`, less the frames the faults drop."""
        if not (self.faults.armed or self._partial):
            await self.inner.send_all(data)
            return
        kept: list[bytes] = []
        for frame in self._framer.feed(bytes(data)):
            if isinstance(frame, GarbledFrame):
                kept.append(frame.data)  # not ours to judge: pass it on as written
            elif frame.raw is not None and self.faults.keep(frame):
                kept.append(frame.raw)
        self._partial = self._framer.buffered > 0
        if kept:
            await self.inner.send_all(b"".join(kept))

    async def wait_send_all_might_not_block(self) -> None:
        """As the wrapped stream."""
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """As the wrapped stream."""
        return await self.inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        """Close the wrapped stream."""
        await self.inner.aclose()

"""What is waiting to be written to one WebSocket client: bounded, with conflated book pushes.

Replies and event pushes (orders, sessions, alerts) queue in order, at most `limit` of them;
`put` returns False when the queue is full, and the caller cuts the client off (a client that
does not read must never make the gateway wait or hold unbounded memory). Book and BBO pushes
are conflated instead: `put_latest` keeps only the newest message per key (one per
subscription), so a client reading slowly sees fewer, fresher prices rather than falling
behind; they never count against `limit`.

One writer task calls `get` in a loop; `close` ends it (`get` returns None) and says why. No
locks: trio tasks only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

import trio

__all__ = ["Outbox"]


class Outbox:
    """A bounded queue of text messages with per-key conflation (see the module docs).

    Args:
        limit: how many queued (non-conflated) messages it holds before `put` refuses.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"an outbox needs room for at least 1 message, not {limit}")
        self.limit = limit
        self._queue: deque[str | _Key] = deque()
        self._latest: dict[Hashable, str] = {}
        self._queued = 0
        self._wakeup = trio.Event()
        self._closed = trio.Event()
        self.close_code: int | None = None
        """Set by `close`: the WebSocket close code the writer should send."""
        self.close_reason = ""

    @property
    def closed(self) -> bool:
        """True once `close` was called."""
        return self.close_code is not None

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, text: str) -> bool:
        """Queue `text`; False (nothing queued) when `limit` messages are waiting already."""
        if self.closed:
            return True  # the connection is ending: drop silently, the client was told why
        if self._queued >= self.limit:
            return False
        self._queued += 1
        self._queue.append(text)
        self._wakeup.set()
        return True

    def put_latest(self, key: Hashable, text: str) -> None:
        """Queue `text` under `key`, replacing an unsent message with the same key."""
        if self.closed:
            return
        if key not in self._latest:
            self._queue.append(_Key(key))
        self._latest[key] = text
        self._wakeup.set()

    def close(self, code: int, reason: str) -> None:
        """Drop what is queued and make `get` return None; the first call's reason stands."""
        if self.closed:
            return
        self.close_code = code
        self.close_reason = reason
        self._queue.clear()
        self._latest.clear()
        self._queued = 0
        self._wakeup.set()
        self._closed.set()

    async def wait_closed(self) -> None:
        """Wait until `close` is called."""
        await self._closed.wait()

    async def get(self) -> str | None:
        """The next message to write, waiting for one; None once closed."""
        while not self._queue and not self.closed:
            self._wakeup = trio.Event()
            await self._wakeup.wait()
        if self.closed:
            return None
        item = self._queue.popleft()
        if isinstance(item, _Key):
            return self._latest.pop(item.key)
        self._queued -= 1
        return item


class _Key:
    """A queue slot standing for the newest conflated message of `key`."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable) -> None:
        self.key = key

"""The per-client outbox: bounded queue, conflated book pushes, close."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from trifix.web.outbox import Outbox


async def drain(outbox: Outbox) -> list[str]:
    out = []
    while len(outbox):
        text = await outbox.get()
        assert text is not None
        out.append(text)
    return out


async def test_queued_messages_keep_their_order_and_the_limit_holds() -> None:
    outbox = Outbox(2)
    assert outbox.put("a")
    assert outbox.put("b")
    assert not outbox.put("c")  # full: the caller cuts the client off
    assert await drain(outbox) == ["a", "b"]
    assert outbox.put("d")


async def test_conflated_messages_keep_only_the_newest_per_key_and_do_not_count() -> None:
    outbox = Outbox(1)
    outbox.put_latest("EURUSD", "px1")
    assert outbox.put("reply")
    outbox.put_latest("GBPUSD", "gb1")
    outbox.put_latest("EURUSD", "px2")  # replaces px1 in px1's place
    assert await drain(outbox) == ["px2", "reply", "gb1"]


async def test_get_waits_for_a_message_and_close_ends_it() -> None:
    outbox = Outbox(4)
    got: list[str | None] = []

    async def writer() -> None:
        while (text := await outbox.get()) is not None:
            got.append(text)
        got.append(None)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer)
        await trio.testing.wait_all_tasks_blocked()
        outbox.put("a")
        await trio.testing.wait_all_tasks_blocked()
        outbox.put("b")
        outbox.put_latest("k", "c")
        outbox.close(4001, "too slow")  # drops b and c
        outbox.close(1000, "ignored: the first reason stands")
        await outbox.wait_closed()
    assert got == ["a", None]
    assert (outbox.close_code, outbox.close_reason) == (4001, "too slow")
    assert outbox.closed
    assert outbox.put("late")  # dropped silently once closing
    outbox.put_latest("k", "late")
    assert len(outbox) == 0


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Outbox(0)

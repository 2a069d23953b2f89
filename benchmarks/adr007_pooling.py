"""Measurements behind ADR-007 (object and buffer pooling): what reuse would save.

Run from the repository root: ``python benchmarks/adr007_pooling.py``.

Each row is the best of several `timeit` repeats, in ns per operation, on the NewOrderSingle
of ``bench_codec.py``-like size:

* the allocation a message pool would save: a new `Message` object with its five slots set,
  against setting the same slots on an object taken from (and returned to) a free list;
* `Message.from_frame` as it is, for scale;
* the writer's batch: ``b"".join`` of 50 frames into new bytes, against copying them into a
  reused `bytearray` (a pooled buffer) and handing out a `memoryview` of it;
* encoding: `Message.encode` (new bytes) against encoding into a reused `bytearray`.
"""

from __future__ import annotations

import timeit
from decimal import Decimal

from trifix.core.message import Message
from trifix.core.tags import MsgType, OrdType, Side, Tag

REPEAT = 7


def order() -> Message:
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.MSG_SEQ_NUM, 1234),
        (Tag.SENDER_COMP_ID, "GATEWAY"),
        (Tag.TARGET_COMP_ID, "LP1"),
        (Tag.SENDING_TIME, "20260312-09:30:00.000"),
        (Tag.CL_ORD_ID, "ORD-000123"),
        (Tag.ACCOUNT, "ACC-7453"),
        (Tag.SYMBOL, "EUR/USD"),
        (Tag.SIDE, Side.BUY),
        (Tag.TRANSACT_TIME, "20260312-09:30:00.000"),
        (Tag.ORDER_QTY, 1_000_000),
        (Tag.ORD_TYPE, OrdType.LIMIT),
        (Tag.PRICE, Decimal("1.08520")),
        (Tag.CURRENCY, "EUR"),
    )


def ns(stmt: object, number: int, env: dict[str, object]) -> float:
    timer = timeit.Timer(stmt, globals=env)  # type: ignore[arg-type]
    return min(timer.repeat(REPEAT, number)) / number * 1e9


def main() -> None:
    msg = order()
    frame = msg.encode()
    tags, values = msg.tag_keys(), msg.raw_values()
    pool = [Message.from_frame(frame) for _ in range(4)]
    frames = [frame] * 50
    buffer = bytearray(len(frame) * 64)
    env: dict[str, object] = {
        "Message": Message,
        "frame": frame,
        "tags": tags,
        "values": values,
        "pool": pool,
        "frames": frames,
        "buffer": buffer,
        "msg": msg,
    }
    new_object = (
        "m = Message.__new__(Message); m._tags = tags; m._values = values; "
        "m._index = None; m.begin_string = b'FIX.4.4'; m.raw = frame"
    )
    pooled_object = (
        "m = pool.pop(); m._tags = tags; m._values = values; "
        "m._index = None; m.begin_string = b'FIX.4.4'; m.raw = frame; pool.append(m)"
    )
    join = "b''.join(frames)"
    pooled_join = (
        "n = 0\n"
        "for f in frames:\n"
        "    end = n + len(f); buffer[n:end] = f; n = end\n"
        "view = memoryview(buffer)[:n]; view.release()"
    )
    encode_pooled = "b = msg.encode(); buffer[: len(b)] = b"
    rows = [
        (f"new Message object ({len(frame)}-byte frame)", ns(new_object, 200_000, env)),
        ("pooled Message object (free list)", ns(pooled_object, 200_000, env)),
        ("Message.from_frame, for scale", ns("Message.from_frame(frame)", 50_000, env)),
        ("b''.join of 50 frames (new bytes)", ns(join, 50_000, env)),
        ("50 frames into a reused bytearray", ns(pooled_join, 20_000, env)),
        ("Message.encode (new bytes)", ns("msg.encode()", 50_000, env)),
        ("encode, then copy into a reused bytearray", ns(encode_pooled, 50_000, env)),
    ]
    print(f"best of {REPEAT} repeats, ns per operation")
    for name, value in rows:
        print(f"{name:<46}{value:>10,.0f}")


if __name__ == "__main__":
    main()

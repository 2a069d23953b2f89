"""The measurements behind ADR-001 (message representation), reproducible.

Run ``python benchmarks/adr001_representation.py`` (about 1 min; ``--quick`` for a few
seconds). For the three messages of bench_codec.py it times, with timeit (best of several
repeats, nanoseconds per message or per lookup):

* building each candidate representation from the split wire bytes (every candidate starts
  from a fresh split, so bytes keys have no cached hash: the split alone is printed first);
* looking one field up in each representation;
* reading a repeating group on demand (the chosen design resolves groups lazily).

Candidates: trifix's choice (tags and values as bytes in two parallel lists plus a dict keyed by
the tag's bytes), a dict int -> bytes, a dict int -> str, a list of (bytes, bytes) tuples, a list
of (int, bytes) tuples, and simplefix's model (a list of (bytes, bytes) pairs filled by
``append_pair``, looked up by a linear scan).
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit
from typing import Any

import simplefix
from bench_codec import SPECS, trifix_builder

from trifix.core.codec import Framer
from trifix.core.message import Message, tag_key
from trifix.core.tags import Tag

SPLIT = "p = raw.replace(b'=', b'\\x01').split(b'\\x01'); "
BUILD = {
    "split only (common to all)": SPLIT + "t = p[4:-3:2]; v = p[5:-3:2]",
    "chosen: 2 bytes lists + dict[bytes, bytes]": SPLIT
    + "t = p[4:-3:2]; v = p[5:-3:2]; d = dict(zip(t, v))",
    "int() of every tag (no container)": SPLIT + "t = p[4:-3:2]; v = p[5:-3:2]; list(map(int, t))",
    "dict[int, bytes]": SPLIT + "t = p[4:-3:2]; v = p[5:-3:2]; d = dict(zip(map(int, t), v))",
    "dict[int, str]": SPLIT
    + "t = p[4:-3:2]; v = p[5:-3:2]; d = {int(k): x.decode() for k, x in zip(t, v)}",
    "list[tuple[bytes, bytes]]": SPLIT + "t = p[4:-3:2]; v = p[5:-3:2]; f = list(zip(t, v))",
    "list[tuple[int, bytes]]": SPLIT
    + "t = p[4:-3:2]; v = p[5:-3:2]; f = list(zip(map(int, t), v))",
    "simplefix model: append_pair per field": SPLIT
    + "t = p[4:-3:2]; v = p[5:-3:2]; m = FixMessage()\nfor k, x in zip(t, v): m.append_pair(k, x)",
}


def best_ns(stmt: str, env: dict[str, Any], repeat: int, min_time: float) -> float:
    timer = timeit.Timer(stmt, globals=env)
    n = 1
    while True:  # like Timer.autorange, with a configurable minimum
        t = timer.timeit(n)
        if t >= min_time:
            break
        n *= 2 if t > min_time / 10 else 10
    return min(timer.repeat(repeat, n)) / n * 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat, min_time = (3, 0.01) if args.quick else (7, 0.1)
    print(f"Python {platform.python_version()}, ns per message (best of {repeat})")

    frames = {}
    for spec in SPECS:
        raw = trifix_builder(spec)([value for _, value in spec.fields])
        frames[spec.msg_type] = (spec, raw)

    print("\nBuilding the representation from the split frame: ns per message, and the cost")
    print("over the split alone (per field in brackets)")
    names = [s.name.split(" (")[0][:24] for s, _ in frames.values()]
    print(f"{'candidate':<42}" + "".join(f"{name:>26}" for name in names))
    base: list[float] = []
    for label, stmt in BUILD.items():
        cells = []
        for i, (spec, raw) in enumerate(frames.values()):
            env = {"raw": raw, "FixMessage": simplefix.FixMessage}
            ns = best_ns(stmt, env, repeat, min_time)
            if not base or len(base) <= i:
                base.append(ns)
                cells.append(f"{ns:>7,.0f}")
                continue
            extra = ns - base[i]
            per_field = extra / (len(spec.fields) + 1)
            cells.append(f"{ns:>7,.0f} {extra:>+7,.0f} ({per_field:>3.0f}/f)")
        print(f"{label:<42}" + "".join(f"{c:>26}" for c in cells))

    # Lookups, on the NewOrderSingle: Symbol (55) sits in the middle of the message.
    spec, raw = frames["D"]
    msg = Framer().feed(raw)[0]
    assert isinstance(msg, Message)
    parts = raw.replace(b"=", b"\x01").split(b"\x01")
    tags, values = parts[4:-3:2], parts[5:-3:2]
    parser = simplefix.FixParser()
    parser.append_buffer(raw)
    sf = parser.get_message()
    env = {
        "msg": msg,
        "Tag": Tag,
        "tag_key": tag_key,
        "index": dict(zip(tags, values)),
        "by_int": dict(zip(map(int, tags), values)),
        "pairs": list(zip(tags, values)),
        "int_pairs": list(zip(map(int, tags), values)),
        "sf": sf,
    }
    lookups = {
        "chosen: msg.get(55) (int -> key cache -> dict)": "msg.get(55)",
        "chosen: msg.get(Tag.SYMBOL)": "msg.get(Tag.SYMBOL)",
        "chosen: msg.get_key(b'55') (raw key)": "msg.get_key(b'55')",
        "chosen: msg.get_decimal(44) (typed)": "msg.get_decimal(44)",
        "dict[bytes] with b'%d' % 55 per lookup": "index[b'%d' % 55]",
        "dict[bytes] with a literal key": "index[b'55']",
        "dict[int]": "by_int[55]",
        "list[tuple[bytes, bytes]]: linear scan": "next(v for k, v in pairs if k == b'55')",
        "list[tuple[int, bytes]]: linear scan": "next(v for k, v in int_pairs if k == 55)",
        "simplefix FixMessage.get(55)": "sf.get(55)",
    }
    print(f"\nLooking up Symbol (55) in the {spec.name} (ns per lookup)")
    for label, stmt in lookups.items():
        print(f"{label:<50}{best_ns(stmt, env, repeat, min_time):>10,.0f}")

    spec, raw = frames["W"]
    msg = Framer().feed(raw)[0]
    assert isinstance(msg, Message)
    env = {"msg": msg, "Message": Message, "raw": raw}
    print(f"\nRepeating groups on the {spec.name} (ns)")
    groups = {
        "parse (Message.from_frame), groups not resolved": "Message.from_frame(raw)",
        "msg.group(268): resolve 10 entries on demand": "msg.group(268)",
        "msg.group(268)[3].get(270)": "msg.group(268)[3].get(270)",
    }
    for label, stmt in groups.items():
        print(f"{label:<50}{best_ns(stmt, env, repeat, min_time):>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

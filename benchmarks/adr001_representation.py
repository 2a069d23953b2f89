"""The measurements behind ADR-001 (message representation), reproducible.

Run ``python benchmarks/adr001_representation.py`` (about 20 s; ``--quick`` for a few
seconds). For the three messages of bench_codec.py it times, in nanoseconds (best of several
interleaved passes):

* building each candidate representation from the split wire bytes (every candidate starts
  from a fresh split, so bytes keys have no cached hash: the split alone is printed first and
  the other rows give their cost over it);
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

import simplefix
from _timing import Cells
from bench_codec import SPECS, trifix_builder

from trifix.core.codec import Framer
from trifix.core.message import Message
from trifix.core.tags import Tag

SPLIT = "p = raw.replace(b'=', b'\\x01').split(b'\\x01'); t = p[4:-3:2]; v = p[5:-3:2]"
BUILD = {
    "split only (common to all)": SPLIT,
    "chosen: 2 bytes lists + dict[bytes, bytes]": SPLIT + "; d = dict(zip(t, v))",
    "int() of every tag (no container)": SPLIT + "; list(map(int, t))",
    "dict[int, bytes]": SPLIT + "; d = dict(zip(map(int, t), v))",
    "dict[int, str]": SPLIT + "; d = {int(k): x.decode() for k, x in zip(t, v)}",
    "list[tuple[bytes, bytes]]": SPLIT + "; f = list(zip(t, v))",
    "list[tuple[int, bytes]]": SPLIT + "; f = list(zip(map(int, t), v))",
    "simplefix model: append_pair per field": SPLIT
    + "; m = FixMessage()\nfor k, x in zip(t, v): m.append_pair(k, x)",
}
LOOKUPS = {
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
GROUPS = {
    "parse (Message.from_frame), groups not resolved": "Message.from_frame(raw)",
    "msg.group(268): resolve 10 entries on demand": "msg.group(268)",
    "msg.group(268)[3].get(270)": "msg.group(268)[3].get(270)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    cells = Cells(min_time=0.005, passes=3) if args.quick else Cells(min_time=0.01, passes=30)

    frames = {s.msg_type: (s, trifix_builder(s)([v for _, v in s.fields])) for s in SPECS}
    for label, stmt in BUILD.items():
        for msg_type, (_, raw) in frames.items():
            cells.add((label, msg_type), stmt, {"raw": raw, "FixMessage": simplefix.FixMessage})

    # Lookups, on the NewOrderSingle: Symbol (55) sits in the middle of the message.
    nos_spec, raw = frames["D"]
    msg = Framer().feed(raw)[0]
    assert isinstance(msg, Message)
    parts = raw.replace(b"=", b"\x01").split(b"\x01")
    tags, values = parts[4:-3:2], parts[5:-3:2]
    parser = simplefix.FixParser()
    parser.append_buffer(raw)
    env = {
        "msg": msg,
        "Tag": Tag,
        "index": dict(zip(tags, values)),
        "by_int": dict(zip(map(int, tags), values)),
        "pairs": list(zip(tags, values)),
        "int_pairs": list(zip(map(int, tags), values)),
        "sf": parser.get_message(),
    }
    for label, stmt in LOOKUPS.items():
        cells.add(label, stmt, env)

    w_spec, raw = frames["W"]
    msg = Framer().feed(raw)[0]
    assert isinstance(msg, Message)
    assert len(msg.group(268)) == 10
    for label, stmt in GROUPS.items():
        cells.add(label, stmt, {"msg": msg, "Message": Message, "raw": raw})

    cells.run()

    print(f"Python {platform.python_version()}; ns, best of {cells.passes} interleaved passes")
    print("\nBuilding the representation from the split frame: ns per message, then the cost")
    print("over the split alone (and per field)")
    names = [s.name.split(" (")[0][:24] for s, _ in frames.values()]
    print(f"{'candidate':<42}" + "".join(f"{name:>26}" for name in names))
    for label in BUILD:
        row = []
        for msg_type, (spec, _) in frames.items():
            ns = cells.ns((label, msg_type))
            if label == next(iter(BUILD)):
                row.append(f"{ns:>7,.0f}")
                continue
            extra = ns - cells.ns((next(iter(BUILD)), msg_type))
            row.append(f"{ns:>7,.0f} {extra:>+7,.0f} ({extra / (len(spec.fields) + 1):>3.0f}/f)")
        print(f"{label:<42}" + "".join(f"{c:>26}" for c in row))

    print(f"\nLooking up Symbol (55) in the {nos_spec.name} (ns per lookup)")
    for label in LOOKUPS:
        print(f"{label:<50}{cells.ns(label):>10,.0f}")
    print(f"\nRepeating groups on the {w_spec.name} (ns)")
    for label in GROUPS:
        print(f"{label:<50}{cells.ns(label):>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The measurements behind ADR-002 (parsing strategy), reproducible.

Run ``python benchmarks/adr002_parsing.py`` (about 20 s; ``--quick`` for a few seconds).
For the three messages of bench_codec.py it times, in nanoseconds per message (best of several
interleaved passes):

* the header check: one regular expression for 8=, 9= and 35=;
* the CheckSum: ``sum()`` against zlib.adler32 on chunks of at most 256 bytes (the low 16 bits of
  Adler-32 are 1 + the byte sum while that sum stays below 65521);
* splitting the fields into tag and value lists: trifix's fast path (one ``translate`` to check
  that '=' and SOH alternate exactly, then ``replace`` + ``split``), ``re.findall``, a
  ``split`` + ``partition`` loop, a per-byte scan, and trifix's field-by-field slow path (the one
  data fields take), forced on the same frames;
* the whole of ``Message.from_frame`` and ``Framer.feed`` for reference.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _timing import Cells
from bench_codec import SPECS, trifix_builder

import trifix.core.message as message_module
from trifix.core.codec import Framer, _frame_checksum
from trifix.core.message import Message, checksum

HEAD = re.compile(rb"8=FIX[^\x01]{0,27}\x019=([0-9]{1,8})\x0135=")
FIELD = re.compile(rb"([^=\x01]*)=([^\x01]*)\x01")
frame_checksum = _frame_checksum  # private: the exact call the framer makes
NOT_DELIMITERS = bytes(b for b in range(256) if b not in (0x01, 0x3D))
ALTERNATION = b"=\x01" * 4096


def checksum_ascii(data: bytes) -> int:
    """Adler-32 in chunks of 515 bytes when every byte is below 128 (515 * 127 + 1 < 65521)."""
    step = 515 if data.isascii() else 256
    if len(data) <= step:
        return ((zlib.adler32(data) & 0xFFFF) - 1) & 0xFF
    total = 0
    for i in range(0, len(data), step):
        total += (zlib.adler32(data[i : i + step]) & 0xFFFF) - 1
    return total & 0xFF


def split_fast(frame: bytes) -> tuple[list[bytes], list[bytes]] | None:
    """trifix's fast path: check the delimiters alternate, then split on both at once."""
    delims = frame.translate(None, NOT_DELIMITERS)
    if len(delims) & 1 or not ALTERNATION.startswith(delims):
        return None
    parts = frame.replace(b"=", b"\x01").split(b"\x01")
    return parts[4:-3:2], parts[5:-3:2]


def split_unchecked(frame: bytes) -> tuple[list[bytes], list[bytes]]:
    """The fast path without its check: what the translate() check costs, by difference."""
    parts = frame.replace(b"=", b"\x01").split(b"\x01")
    return parts[4:-3:2], parts[5:-3:2]


def split_findall(frame: bytes) -> tuple[list[bytes], list[bytes]]:
    pairs = FIELD.findall(frame, frame.index(b"\x0135=") + 1, len(frame) - 7)
    tags, values = zip(*pairs, strict=True)
    return list(tags), list(values)


def split_partition(frame: bytes) -> tuple[list[bytes], list[bytes]]:
    tags: list[bytes] = []
    values: list[bytes] = []
    for field in frame.split(b"\x01")[2:-2]:
        tag, eq, value = field.partition(b"=")
        if not eq:
            raise ValueError("field without '='")
        tags.append(tag)
        values.append(value)
    return tags, values


def split_per_byte(frame: bytes) -> tuple[list[bytes], list[bytes]]:
    """A per-byte state machine, as simplefix's parser does it."""
    tags: list[bytes] = []
    values: list[bytes] = []
    start = frame.index(b"\x0135=") + 1
    end = len(frame) - 7
    in_tag = True
    mark = start
    for i in range(start, end):
        b = frame[i]
        if in_tag:
            if b == 0x3D:
                tags.append(frame[mark:i])
                in_tag = False
                mark = i + 1
        elif b == 0x01:
            values.append(frame[mark:i])
            in_tag = True
            mark = i + 1
    return tags, values


@contextmanager
def slow_path_forced() -> Iterator[bool]:
    """Make `Message.from_frame` take its field-by-field path on ordinary frames, by declaring
    every tag a data-length tag for the fast path's check only (restored on exit)."""
    saved = getattr(message_module, "_LENGTH_SET", None)
    if not isinstance(saved, frozenset):
        yield False  # the module changed shape: report the slow path as not measured
        return
    message_module._LENGTH_SET = _Everything()  # type: ignore[misc]
    try:
        yield True
    finally:
        message_module._LENGTH_SET = saved  # type: ignore[misc]


class _Everything(frozenset[bytes]):
    def isdisjoint(self, other: Any) -> bool:
        return False


def on_body(fn: Callable[[bytes], object]) -> Callable[[bytes], Callable[[], object]]:
    """Time `fn` on the frame without its "10=NNN|" trailer (sliced once, outside the timing)."""

    def make(raw: bytes) -> Callable[[], object]:
        body = raw[:-7]
        return lambda: fn(body)

    return make


def from_frame_loop(raw: bytes) -> Callable[[], object]:
    return lambda: Message.from_frame(raw)


def feed_loop(raw: bytes) -> Callable[[], object]:
    feed = Framer().feed
    return lambda: feed(raw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    cells = Cells(min_time=0.005, passes=3) if args.quick else Cells(min_time=0.01, passes=30)

    frames = [(spec, trifix_builder(spec)([v for _, v in spec.fields])) for spec in SPECS]
    for _, raw in frames:
        expected = split_fast(raw)
        assert expected is not None
        for split in (split_unchecked, split_findall, split_partition, split_per_byte):
            assert split(raw) == expected, split.__name__
        body = raw[:-7]
        assert checksum(body) == checksum_ascii(body) == sum(body) % 256 == int(raw[-4:-1])
        assert frame_checksum(raw) == int(raw[-4:-1])

    rows: dict[str, Callable[[bytes], Callable[[], object]]] = {
        "header: regex for 8=, 9=, 35=": lambda raw: lambda: HEAD.match(raw),
        "checksum: sum(body) % 256": on_body(lambda b: sum(b) % 256),
        "checksum: adler32 <=256-byte chunks (chosen)": on_body(checksum),
        "checksum: the framer's call on the whole frame": lambda raw: lambda: frame_checksum(raw),
        "checksum: adler32, 515-byte chunks if isascii()": on_body(checksum_ascii),
        "checksum: one adler32 call (no chunking)": on_body(zlib.adler32),
        "split: translate check + replace/split (chosen)": lambda raw: lambda: split_fast(raw),
        "split: replace/split without the check (unsafe)": lambda raw: lambda: split_unchecked(raw),
        "split: re.findall + zip": lambda raw: lambda: split_findall(raw),
        "split: split(SOH) + partition loop": lambda raw: lambda: split_partition(raw),
        "split: per-byte scan": lambda raw: lambda: split_per_byte(raw),
        "Message.from_frame (fast path)": lambda raw: lambda: Message.from_frame(raw),
        "Framer.feed (whole: framing + checksum + parse)": feed_loop,
    }
    for label, make in rows.items():
        for spec, raw in frames:
            cells.add((label, spec.msg_type), make(raw))
    slow_label = "Message.from_frame (slow path, forced)"
    with slow_path_forced() as forced:
        if forced:
            for _, raw in frames:
                assert Message.from_frame(raw).tag_keys() == split_fast(raw)[0]  # type: ignore[index]
    if forced:
        for spec, raw in frames:
            cells.add(
                (slow_label, spec.msg_type),
                from_frame_loop(raw),
                around=slow_path_forced,
            )
        rows[slow_label] = rows["Message.from_frame (fast path)"]
    cells.run()

    print(f"Python {platform.python_version()}; ns per message, best of {cells.passes} passes")
    names = [f"{spec.name.split(' (')[0][:20]} {len(raw)}B" for spec, raw in frames]
    print(f"{'':<50}" + "".join(f"{name:>26}" for name in names))
    for label in rows:
        cells_text = [f"{cells.ns((label, spec.msg_type)):>26,.0f}" for spec, _ in frames]
        print(f"{label:<50}" + "".join(cells_text))
    if not forced:
        print(f"{slow_label:<50} not measured: trifix.core.message changed shape")
    return 0


if __name__ == "__main__":
    sys.exit(main())

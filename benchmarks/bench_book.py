"""Order book throughput: incremental updates applied per second, and the market data path.

Run ``python benchmarks/bench_book.py`` (about 8 s) or ``--quick`` (about 1 s). Two
figures are measured against the issue's targets:

* book: `OrderBook.apply_updates` on a 10-level book (10 bids, 10 offers, by price), with a
  stream of valid updates made in advance: 60% size changes, 40% a level deleted and another
  added (so the book keeps 10 levels and never crosses). Applied one update per call (one
  message of one entry: the headline, every per-message check included) and five per call. The
  same stream on a book keyed by MDEntryID and on a top-of-book book is printed for scale.
  Target: >= 200,000 updates/s.
* md path, socket bytes to book: the same stream as MarketDataIncrementalRefresh (X) messages of
  five entries (header 49/56/34/52, MDReqID, 279/269/55/270/271 per entry), encoded once and cut
  into 4 KiB reads as a socket would deliver them; each pass feeds the reads to a `Framer` and
  every message to `MarketDataManager.on_message` (routing by MDReqID and Symbol, the entries
  read straight from the message's fields, the book updated, the events made). Target: >= 50,000
  updates/s. For comparison: the same with the reader's cache of parsed prices and sizes off
  (as if no value ever repeated), and the same bytes read through the `Message.group` API and
  through the typed `MarketDataIncrementalRefresh.from_message`, each then applied to the book.
  The session core's own work per message (sequence numbers, validation) is not included.

Each pass starts from a fresh snapshot (not timed) and applies the whole stream with the
garbage collector off; contenders run in interleaved rounds and each keeps its best pass (noise
only adds time). The last line is the summary::

    book_updates_per_s=N md_path_updates_per_s=M

These are measurements, not tests: the script exits 0 whenever the measurements ran.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from trifix.core.codec import Framer
from trifix.core.message import Message
from trifix.core.tags import MDEntryType, MDUpdateAction, MsgType, Tag
from trifix.trading import mdwire
from trifix.trading.book import BookEntry, BookStyle, BookUpdate, OrderBook
from trifix.trading.marketdata import MarketDataManager
from trifix.trading.messages import MarketDataIncrementalRefresh

BOOK_TARGET = 200_000
MD_PATH_TARGET = 50_000
LEVELS = 10
PER_MESSAGE = 5
READ_SIZE = 4096
SYMBOL = "EURUSD"
TICK = Decimal("0.00001")
MID = Decimal("1.08500")
SIZES = [Decimal(n * 100_000) for n in range(1, 51)]
BID, OFFER = MDEntryType.BID, MDEntryType.OFFER
NEW, CHANGE, DELETE = MDUpdateAction.NEW, MDUpdateAction.CHANGE, MDUpdateAction.DELETE


# -- the update stream ---------------------------------------------------------------------------
@dataclass
class Stream:
    """A valid sequence of updates from a 10-level starting book, with ids for entry books."""

    start: list[BookEntry]
    updates: list[BookUpdate]


def make_stream(n: int, seed: int = 1) -> Stream:
    rng = random.Random(seed)
    span = 30  # levels live within 30 ticks of the mid, bids below and offers above
    ranges = {BID: range(-span, 0), OFFER: range(1, span + 1)}
    levels: dict[MDEntryType, dict[int, tuple[Decimal, str]]] = {BID: {}, OFFER: {}}
    next_id = 0

    def fresh_id() -> str:
        nonlocal next_id
        next_id += 1
        return f"E{next_id}"

    for side, sign in ((BID, -1), (OFFER, 1)):
        for i in range(1, LEVELS + 1):
            levels[side][sign * i] = (rng.choice(SIZES), fresh_id())
    start = [
        BookEntry(side, MID + t * TICK, size, eid)
        for side in (BID, OFFER)
        for t, (size, eid) in levels[side].items()
    ]
    updates: list[BookUpdate] = []
    while len(updates) < n:
        side = rng.choice((BID, OFFER))
        book = levels[side]
        t = rng.choice(list(book))
        _size, eid = book[t]
        if rng.random() < 0.6:
            new_size = rng.choice(SIZES)
            book[t] = (new_size, eid)
            updates.append(BookUpdate(CHANGE, side, MID + t * TICK, new_size, eid))
        else:
            del book[t]
            updates.append(BookUpdate(DELETE, side, MID + t * TICK, None, eid))
            t2 = rng.choice([x for x in ranges[side] if x not in book])
            size2, eid2 = rng.choice(SIZES), fresh_id()
            book[t2] = (size2, eid2)
            updates.append(BookUpdate(NEW, side, MID + t2 * TICK, size2, eid2))
    return Stream(start, updates[:n])


def top_stream(stream: Stream) -> list[BookUpdate]:
    """The stream as a top-of-book LP sends it: every update a Change of the side."""
    return [BookUpdate(CHANGE, u.entry_type, u.price, u.size or SIZES[0]) for u in stream.updates]


def encode_stream(updates: list[BookUpdate], req_id: str) -> bytes:
    out = []
    for seq, i in enumerate(range(0, len(updates), PER_MESSAGE), start=2):
        msg = Message.new(
            MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
            (Tag.SENDER_COMP_ID, "LPBANK01"),
            (Tag.TARGET_COMP_ID, "CLIENT01"),
            (Tag.MSG_SEQ_NUM, seq),
            (Tag.SENDING_TIME, "20261125-09:00:00.123"),
            (Tag.MD_REQ_ID, req_id),
        )
        entries = []
        for u in updates[i : i + PER_MESSAGE]:
            fields: list[tuple[int, object]] = [
                (Tag.MD_UPDATE_ACTION, u.action),
                (Tag.MD_ENTRY_TYPE, u.entry_type),
                (Tag.SYMBOL, SYMBOL),
                (Tag.MD_ENTRY_PX, u.price),
            ]
            if u.size is not None:
                fields.append((Tag.MD_ENTRY_SIZE, u.size))
            entries.append(fields)
        out.append(msg.add_group(Tag.NO_MD_ENTRIES, entries).encode())
    return b"".join(out)


# -- contenders ----------------------------------------------------------------------------------
@dataclass
class Contender:
    """One way of applying the stream: `run` applies it once and returns the seconds taken."""

    label: str
    updates: int
    run: Callable[[], float]
    best: float = float("inf")
    passes: list[float] = field(default_factory=list)

    def round(self) -> None:
        gc.collect()
        gc.disable()
        try:
            seconds = self.run()
        finally:
            gc.enable()
        self.passes.append(seconds)
        self.best = min(self.best, seconds)

    @property
    def rate(self) -> float:
        return self.updates / self.best

    def spread(self) -> float:
        ordered = sorted(self.passes)
        return ordered[len(ordered) // 2] / ordered[0] - 1


def book_contender(
    label: str, style: BookStyle, start: list[BookEntry], updates: list[BookUpdate], per_call: int
) -> Contender:
    batches = [updates[i : i + per_call] for i in range(0, len(updates), per_call)]
    book = OrderBook(SYMBOL, lp="LP", style=style)

    def run() -> float:
        book.apply_snapshot(start)
        apply = book.apply_updates
        t0 = time.perf_counter()
        for batch in batches:
            apply(batch)
        elapsed = time.perf_counter() - t0
        if book.stale is not None:
            raise SystemExit(f"{label}: the stream made the book inconsistent: {book.stale}")
        return elapsed

    return Contender(label, len(updates), run)


def md_contenders(stream: Stream) -> list[Contender]:
    manager = MarketDataManager("LP")
    manager.on_logged_on()
    sub = manager.subscribe(SYMBOL, depth=LEVELS)
    manager.data_to_send()
    data = encode_stream(stream.updates, sub.md_req_id)
    reads = [data[i : i + READ_SIZE] for i in range(0, len(data), READ_SIZE)]
    snapshot = Message.new(
        MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH,
        (Tag.MD_REQ_ID, sub.md_req_id),
        (Tag.SYMBOL, SYMBOL),
    ).add_group(
        Tag.NO_MD_ENTRIES,
        [
            [
                (Tag.MD_ENTRY_TYPE, e.entry_type),
                (Tag.MD_ENTRY_PX, e.price),
                (Tag.MD_ENTRY_SIZE, e.size),
            ]
            for e in stream.start
        ],
    )
    book = manager.book(SYMBOL)
    assert book is not None

    def check(label: str) -> None:
        if not book.usable:
            raise SystemExit(f"{label}: the book is not usable after the stream: {book.stale}")

    def raw() -> float:
        manager.on_message(snapshot)
        framer = Framer()
        on_message = manager.on_message
        t0 = time.perf_counter()
        for chunk in reads:
            for msg in framer.feed(chunk):
                on_message(msg)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
        check("raw")
        return elapsed

    def raw_uncached() -> float:
        # Every price and size parsed afresh: what a stream of never-repeating values costs.
        saved = mdwire._DECIMAL_CACHE_SIZE
        mdwire._DECIMAL_CACHE_SIZE = 0  # type: ignore[misc]
        mdwire._DECIMALS.clear()
        try:
            return raw()
        finally:
            mdwire._DECIMAL_CACHE_SIZE = saved  # type: ignore[misc]

    def via_groups() -> float:
        manager.on_message(snapshot)
        framer = Framer()
        t0 = time.perf_counter()
        for chunk in reads:
            for msg in framer.feed(chunk):
                assert isinstance(msg, Message)
                updates = [
                    BookUpdate(
                        g.get_enum(Tag.MD_UPDATE_ACTION, MDUpdateAction),
                        g.get_enum(Tag.MD_ENTRY_TYPE, MDEntryType),
                        g.get_decimal(Tag.MD_ENTRY_PX, None),
                        g.get_decimal(Tag.MD_ENTRY_SIZE, None),
                    )
                    for g in msg.group(Tag.NO_MD_ENTRIES)
                ]
                book.apply_updates(updates)
        elapsed = time.perf_counter() - t0
        check("group API")
        return elapsed

    def typed() -> float:
        manager.on_message(snapshot)
        framer = Framer()
        t0 = time.perf_counter()
        for chunk in reads:
            for msg in framer.feed(chunk):
                assert isinstance(msg, Message)
                x = MarketDataIncrementalRefresh.from_message(msg)
                book.apply_updates(
                    [
                        BookUpdate(e.update_action, e.entry_type, e.price, e.size, e.entry_id)
                        for e in x.entries
                    ]
                )
        elapsed = time.perf_counter() - t0
        check("typed")
        return elapsed

    n = len(stream.updates)
    return [
        Contender("md path: Framer + MarketDataManager.on_message (raw fields)", n, raw),
        Contender("md path: the same, decimal cache off", n, raw_uncached),
        Contender("md path: Framer + Message.group API + apply", n, via_groups),
        Contender("md path: Framer + typed from_message + apply", n, typed),
    ]


# -- main ----------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds: 2 rounds, short stream")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7)")
    ap.add_argument("--updates", type=int, default=None, help="updates per pass (default 20,000)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 7)
    n = args.updates or (4_000 if args.quick else 20_000)

    stream = make_stream(n)
    books = [
        book_contender(
            "book: by price, 1 update per call", BookStyle.BY_PRICE, stream.start, stream.updates, 1
        ),
        book_contender(
            f"book: by price, {PER_MESSAGE} updates per call",
            BookStyle.BY_PRICE,
            stream.start,
            stream.updates,
            PER_MESSAGE,
        ),
        book_contender(
            "book: by entry id, 1 update per call",
            BookStyle.BY_ENTRY_ID,
            stream.start,
            stream.updates,
            1,
        ),
        book_contender(
            "book: top of book, 1 update per call",
            BookStyle.TOP_OF_BOOK,
            stream.start[:1] + stream.start[LEVELS : LEVELS + 1],
            top_stream(stream),
            1,
        ),
    ]
    md = md_contenders(stream)
    everyone = books + md
    for r in range(rounds):
        k = r % len(everyone)  # rotate who goes first
        for contender in everyone[k:] + everyone[:k]:
            contender.round()
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)

    print(f"trifix order book benchmark: best of {rounds} interleaved passes of {n:,} updates")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(
        f"  stream: 60% size changes, 40% delete + new; {LEVELS} levels a side; "
        f"X of {PER_MESSAGE} entries"
    )
    print()
    head = f"{'contender':<62} {'updates/s':>11} {'µs/update':>10}  {'noise':>6}"
    print(head)
    print("-" * len(head))
    for c in everyone:
        print(f"{c.label:<62} {c.rate:>11,.0f} {1e6 / c.rate:>10.2f}  {c.spread():>6.1%}")
    print()
    book_rate = books[0].rate
    md_rate = md[0].rate
    print(
        f"book (by price, 1 update per call): {book_rate:,.0f}/s = "
        f"{book_rate / BOOK_TARGET:.2f}x the target {BOOK_TARGET:,}"
    )
    print(
        f"md path (socket bytes to book):     {md_rate:,.0f}/s = "
        f"{md_rate / MD_PATH_TARGET:.2f}x the target {MD_PATH_TARGET:,}"
    )
    print(f"book_updates_per_s={book_rate:.0f} md_path_updates_per_s={md_rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

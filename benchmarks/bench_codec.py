"""Codec throughput: trifix against simplefix on the same three messages.

Run ``python benchmarks/bench_codec.py`` (about 30 s) or ``--quick`` (a few seconds, for a
smoke run). For a NewOrderSingle, an ExecutionReport and a MarketDataSnapshotFullRefresh with
10 entries it measures, with both libraries given the same field values:

* parse: trifix ``Framer.feed(raw)`` (framing, BodyLength and CheckSum checks, the field index
  of a `Message`) against simplefix ``FixParser.append_buffer(raw)`` + ``get_message()``;
  a bare ``re.findall`` over the same bytes is printed for scale;
* build+encode: trifix ``Message.new(...)`` + ``encode()`` against simplefix ``FixMessage()`` +
  ``append_pair``/``append_utc_timestamp`` + ``encode()``;
* validate: trifix ``Validator().validate(msg)`` on the parsed message, as a fraction of the
  parse time (simplefix has no dictionary validation).

Every (message, operation) pair runs its contenders in interleaved rounds, alternating which
one goes first, so that machine noise falls on both sides alike. Each round runs enough
iterations to last about `--round-time` seconds, timed in `--slices` back-to-back slices, and
each contender's best slice over all rounds is used (`--stat median` for the median): noise
only ever adds time, and a burst of load spoils one slice rather than a whole round. The last
line is the summary the issue asks for::

    parse_vs_simplefix=X.XX encode_vs_simplefix=Y.YY validate_cost=Z.ZZ

each the worst of the three messages. These are measurements, not tests: the script always
exits 0 when the measurements ran, whatever the figures.

``--breakdown`` measures something else and prints no summary line: where the time of
``Framer.feed`` goes on each message. It times cumulative prefixes of the framer's fast path
(header, trailer, checksum, delimiter check, split, shape index, message), written out here as
in `trifix.core.codec`, with the same rounds and slices, and prints the difference between
consecutive prefixes; the last row is the rest of ``feed`` (the call, the loop, the output
list, the buffer). Each step includes freeing what it made, as a real parse does.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from typing import Any
from zlib import adler32

import simplefix

from trifix.core import codec, message
from trifix.core.codec import Framer
from trifix.core.message import Message, checksum
from trifix.core.validate import Validator

# Targets from the issue.
PARSE_TARGET = 15.0  # trifix parse throughput / simplefix parse throughput, at least
ENCODE_TARGET = 4.0  # trifix build+encode / simplefix build+encode, at least
VALIDATE_TARGET = 1.0  # validation time / parse time, at most
NOISY = 0.15  # median slice this far above the best slice: say the run was disturbed

BEGIN_STRING = "FIX.4.4"
HEADER_TAGS = frozenset({49, 56, 34, 52})
SENDING_TIME = datetime(2024, 3, 14, 9, 30, 15, 123000, tzinfo=UTC)
TRANSACT_TIME = datetime(2024, 3, 14, 9, 30, 15, 98000, tzinfo=UTC)
FINDALL = re.compile(rb"(\d+)=([^\x01]*)\x01").findall


# -- the three messages ------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """One message as (tag, value) pairs in wire order after MsgType: the input both libraries
    get. Values are str, except MsgSeqNum and NumInGroup (int, as both libraries take them)
    and UTCTimestamps (datetime: simplefix's append_utc_timestamp, trifix's formatter)."""

    name: str
    msg_type: str
    fields: tuple[tuple[int, Any], ...]


def _header(seq: int) -> list[tuple[int, Any]]:
    return [(49, "CLIENT01"), (56, "LPBANK01"), (34, seq), (52, SENDING_TIME)]


def new_order_single() -> Spec:
    body = [
        (11, "ORD-20240314-000123"),
        (1, "ACC-7731"),
        (21, "1"),  # HandlInst: automated, private
        (55, "EUR/USD"),
        (460, "4"),  # Product: currency
        (54, "1"),  # Side: buy
        (60, TRANSACT_TIME),
        (38, "1000000"),
        (40, "2"),  # OrdType: limit
        (44, "1.08725"),
        (15, "EUR"),
        (59, "0"),  # TimeInForce: day
    ]
    return Spec("NewOrderSingle", "D", tuple(_header(1042) + body))


def execution_report() -> Spec:
    body = [
        (37, "LP-ORD-88120931"),
        (11, "ORD-20240314-000123"),
        (17, "LP-EXEC-99120377"),
        (150, "F"),  # ExecType: trade
        (39, "1"),  # OrdStatus: partially filled
        (1, "ACC-7731"),
        (55, "EUR/USD"),
        (460, "4"),
        (54, "1"),
        (38, "1000000"),
        (40, "2"),
        (44, "1.08725"),
        (15, "EUR"),
        (59, "0"),
        (32, "250000"),
        (31, "1.08723"),
        (30, "LPBANK01"),
        (151, "750000"),
        (14, "250000"),
        (6, "1.08723"),
        (60, TRANSACT_TIME),
    ]
    return Spec("ExecutionReport", "8", tuple(_header(2077) + body))


def market_data_snapshot(levels: int = 5) -> Spec:
    body: list[tuple[int, Any]] = [
        (262, "MDREQ-EURUSD-1"),
        (55, "EUR/USD"),
        (268, 2 * levels),  # NoMDEntries: bids then offers
    ]
    for side, sign in (("0", -1), ("1", 1)):  # MDEntryType: bid, offer
        for level in range(1, levels + 1):
            px = 1.08725 + sign * (0.00002 + 0.00001 * (level - 1))
            body += [
                (269, side),
                (270, f"{px:.5f}"),
                (271, str(1_000_000 * level)),
                (290, str(level)),  # MDEntryPositionNo
            ]
    return Spec("MarketDataSnapshot W (10 entries)", "W", tuple(_header(5310) + body))


SPECS: tuple[Spec, ...] = (new_order_single(), execution_report(), market_data_snapshot())


# -- builders: straight-line code, as a user would write it by hand ---------------------------
def _compile(src: str, name: str, namespace: dict[str, Any]) -> Callable[..., bytes]:
    exec(compile(src, f"<{name}>", "exec"), namespace)  # the source is generated from SPECS
    build: Callable[..., bytes] = namespace[name]
    return build


def trifix_builder(spec: Spec) -> Callable[[Sequence[Any]], bytes]:
    """``lambda v: Message.new("D", (49, v[0]), (56, v[1]), ...).encode()``"""
    args = "".join(f", ({tag}, v[{i}])" for i, (tag, _) in enumerate(spec.fields))
    src = f"def build(v):\n    return Message.new({spec.msg_type!r}{args}).encode()\n"
    return _compile(src, "build", {"Message": Message})


def simplefix_builder(spec: Spec) -> Callable[[Sequence[Any]], bytes]:
    """``m = FixMessage(); m.append_pair(8, ...); m.append_pair(35, ...); ...; m.encode()``"""
    lines = [
        "def build(v):",
        "    m = FixMessage()",
        f"    m.append_pair(8, {BEGIN_STRING!r}, header=True)",
        f"    m.append_pair(35, {spec.msg_type!r}, header=True)",
    ]
    for i, (tag, value) in enumerate(spec.fields):
        method = "append_utc_timestamp" if isinstance(value, datetime) else "append_pair"
        header = ", header=True" if tag in HEADER_TAGS else ""
        lines.append(f"    m.{method}({tag}, v[{i}]{header})")
    lines.append("    return m.encode()")
    return _compile("\n".join(lines) + "\n", "build", {"FixMessage": simplefix.FixMessage})


# -- timed loops: each runs n iterations and returns how many results it got ------------------
Loop = Callable[[int], int]


def trifix_parse_loop(raw: bytes) -> Loop:
    feed = Framer().feed

    def run(n: int) -> int:
        got = 0
        for _ in repeat(None, n):
            got += len(feed(raw))
        return got

    return run


def simplefix_parse_loop(raw: bytes) -> Loop:
    parser = simplefix.FixParser()
    append, get = parser.append_buffer, parser.get_message

    def run(n: int) -> int:
        got = 0
        for _ in repeat(None, n):
            append(raw)
            got += get() is not None
        return got

    return run


def findall_loop(raw: bytes) -> Loop:
    def run(n: int) -> int:
        got = 0
        for _ in repeat(None, n):
            got += len(FINDALL(raw)) > 0
        return got

    return run


def build_loop(build: Callable[[Sequence[Any]], bytes], values: Sequence[Any]) -> Loop:
    def run(n: int) -> int:
        got = 0
        for _ in repeat(None, n):
            got += len(build(values)) > 0
        return got

    return run


def validate_loop(validator: Validator, msg: Message) -> Loop:
    validate = validator.validate

    def run(n: int) -> int:
        got = 0
        for _ in repeat(None, n):
            got += validate(msg) is None
        return got

    return run


# -- timing ----------------------------------------------------------------------------------
@dataclass
class Timing:
    """One contender: its loop, and its per-message times (ns), one per slice of each round.

    A round of about `round_time` seconds is timed as `slices` back-to-back slices of `n`
    iterations: a burst of load from a neighbour then spoils a slice, not a whole round.
    """

    label: str
    loop: Loop
    n: int = 0
    slices: int = 10
    samples: list[float] = field(default_factory=list)

    def run_round(self) -> None:
        n = self.n
        loop = self.loop
        clock = time.perf_counter_ns
        times = []
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for _ in range(self.slices):
                t0 = clock()
                got = loop(n)
                times.append(clock() - t0)
                if got != n:
                    raise SystemExit(f"{self.label}: {got} results for {n} iterations")
        finally:
            if gc_was_enabled:
                gc.enable()
        self.samples.extend(t / n for t in times)

    def calibrate(self, round_time: float, slices: int) -> None:
        """Find the iteration count that makes one slice last `round_time / slices` seconds."""
        self.slices = slices
        target = round_time / slices
        n = 1
        while True:
            t0 = time.perf_counter_ns()
            self.loop(n)
            elapsed = (time.perf_counter_ns() - t0) / 1e9
            if elapsed >= target / 2:
                self.n = max(1, round(n * target / elapsed))
                return
            n *= 10 if elapsed < target / 100 else 2

    def ns(self, stat: str) -> float:
        return min(self.samples) if stat == "best" else statistics.median(self.samples)

    def spread(self) -> float:
        """How far the median slice is above the best: the noise of this measurement."""
        return statistics.median(self.samples) / min(self.samples) - 1


@dataclass
class Case:
    """The measurements of one message."""

    spec: Spec
    raw: bytes
    parse_trifix: Timing
    parse_simplefix: Timing
    parse_findall: Timing
    encode_trifix: Timing
    encode_simplefix: Timing
    validate_trifix: Timing

    def groups(self) -> list[list[Timing]]:
        """Contenders compared with each other, run back to back within a round."""
        return [
            [self.parse_trifix, self.parse_simplefix, self.parse_findall],
            [self.encode_trifix, self.encode_simplefix],
            [self.validate_trifix],
        ]


def prepare(spec: Spec, validator: Validator) -> Case:
    """Build both libraries' encoders, check they agree byte for byte, parse with both and check
    the parses agree, validate, and set up the timed loops."""
    values = [value for _, value in spec.fields]
    build_t = trifix_builder(spec)
    build_s = simplefix_builder(spec)
    raw = build_t(values)
    raw_s = build_s(values)
    if raw != raw_s:
        raise SystemExit(f"{spec.name}: the libraries encode differently:\n{raw!r}\n{raw_s!r}")

    frames = Framer().feed(raw)
    if len(frames) != 1 or not isinstance(frames[0], Message):
        raise SystemExit(f"{spec.name}: the framer gave {frames!r}")
    msg = frames[0]
    parser = simplefix.FixParser()
    parser.append_buffer(raw)
    sf_msg = parser.get_message()
    if sf_msg is None:
        raise SystemExit(f"{spec.name}: simplefix did not parse the message")
    sf_fields = [(int(t), v) for t, v in sf_msg.pairs if int(t) not in (8, 9, 10)]
    if list(msg.fields()) != sf_fields:
        raise SystemExit(f"{spec.name}: the libraries parse differently")
    error = validator.validate(msg)
    if error is not None:
        raise SystemExit(f"{spec.name}: not valid FIX 4.4: {error}")

    def check_one_message(loop: Loop) -> Loop:
        # Each feed of one whole frame must yield exactly one Message (and no GarbledFrame).
        feed = Framer().feed
        for _ in range(3):
            out = feed(raw)
            if len(out) != 1 or not isinstance(out[0], Message):
                raise SystemExit(f"{spec.name}: a repeated feed gave {out!r}")
        return loop

    return Case(
        spec=spec,
        raw=raw,
        parse_trifix=Timing("trifix parse", check_one_message(trifix_parse_loop(raw))),
        parse_simplefix=Timing("simplefix parse", simplefix_parse_loop(raw)),
        parse_findall=Timing("re.findall", findall_loop(raw)),
        encode_trifix=Timing("trifix build+encode", build_loop(build_t, values)),
        encode_simplefix=Timing("simplefix build+encode", build_loop(build_s, values)),
        validate_trifix=Timing("trifix validate", validate_loop(validator, msg)),
    )


def measure(cases: list[Case], rounds: int, round_time: float, slices: int) -> None:
    groups = [group for case in cases for group in case.groups()]
    for group in groups:
        for timing in group:
            timing.calibrate(round_time, slices)
    for r in range(rounds):
        for group in groups:
            k = r % len(group)  # rotate who goes first, round by round
            for timing in group[k:] + group[:k]:
                timing.run_round()
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)


# -- breakdown: where Framer.feed's time goes ---------------------------------------------------
# Cumulative prefixes of the framer's fast path for one whole frame, as in trifix.core.codec.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("header regex + BodyLength", ("head = match(raw, 0)", "body_length = int(head[1])")),
    (
        "trailer lookup + frame slice",
        (
            "cpos = head.end() - 3 + body_length",
            "end = cpos + 7",
            "expected = SUMS.get(raw[cpos - 1 : end])",
            "frame = raw[0:end]",
        ),
    ),
    (
        "checksum (Adler-32)",
        (
            "ok = expected == (adler32(frame) & 0xFF if end <= 256 or (end <= 515 and"
            " frame.isascii()) else (checksum(frame) + 1) & 0xFF)",
        ),
    ),
    (
        "delimiter check (translate)",
        (
            "delims = frame.translate(None, NOT_DELIMITERS)",
            "ok = not len(delims) & 1 and ALTERNATION.startswith(delims)",
        ),
    ),
    ("replace + split", ("parts = frame.replace(b'=', SOH).split(SOH)",)),
    ("tags slice", ("tags = parts[4:-3:2]",)),
    ("shape index: join + lookup", ("index = SHAPES.get(b'='.join(tags))",)),
    (
        "values slice + Message",
        (
            "msg = new(Message)",
            "msg._tags = tags",
            "msg._values = parts[5:-3:2]",
            "msg._index = index",
            "msg.begin_string = parts[1]",
            "msg.raw = frame",
        ),
    ),
)


def prefix_loop(raw: bytes, lines: Sequence[str]) -> Loop:
    """A loop running `lines` (the first steps of the fast path) once per iteration."""
    body = "".join(f"        {line}\n" for line in lines) or "        pass\n"
    src = f"def run(n):\n    for _ in repeat(None, n):\n{body}    return n\n"
    namespace: dict[str, Any] = {
        "repeat": repeat,
        "raw": raw,
        "match": Framer()._match_head,
        "SUMS": codec._WHOLE_FRAME_SUM,
        "adler32": adler32,
        "checksum": checksum,
        "NOT_DELIMITERS": message._NOT_DELIMITERS,
        "ALTERNATION": message._ALTERNATION,
        "SOH": message.SOH,
        "SHAPES": message._SHAPES,
        "new": object.__new__,
        "Message": Message,
    }
    exec(compile(src, "<breakdown>", "exec"), namespace)  # the source is STEPS above
    run: Loop = namespace["run"]
    return run


def breakdown(args: argparse.Namespace) -> None:
    """Time the prefixes of Framer.feed's fast path on each message and print the steps."""
    cases = []
    for spec in SPECS:
        raw = trifix_builder(spec)([value for _, value in spec.fields])
        timings = [Timing("empty loop", prefix_loop(raw, ()))]
        lines: list[str] = []
        for label, step in STEPS:
            lines += step
            timings.append(Timing(label, prefix_loop(raw, lines)))
        timings.append(Timing("rest of Framer.feed", trifix_parse_loop(raw)))
        timings.append(Timing("simplefix parse", simplefix_parse_loop(raw)))
        cases.append((spec, raw, timings))
    for _, _, timings in cases:
        for timing in timings:
            timing.calibrate(args.round_time, args.slices)
    for r in range(args.rounds):
        for _, _, timings in cases:
            k = r % len(timings)
            for timing in timings[k:] + timings[:k]:
                timing.run_round()
        print(f"  round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(
        f"Framer.feed breakdown: {args.stat} slice of {args.rounds} interleaved rounds of "
        f"~{args.round_time}s ({args.slices} slices each), Python {platform.python_version()}"
    )
    for spec, raw, timings in cases:
        *steps, simple = timings
        ns = [t.ns(args.stat) for t in steps]
        total = ns[-1] - ns[0]
        print(f"\n{spec.name}, {len(raw)} bytes")
        print(f"  {'step':<32} {'ns':>7} {'share':>6}")
        for i in range(1, len(steps)):
            cost = ns[i] - ns[i - 1]
            print(f"  {steps[i].label:<32} {cost:>7,.0f} {cost / total:>6.0%}")
        budget = simple.ns(args.stat) / PARSE_TARGET
        print(f"  {'Framer.feed, whole':<32} {total:>7,.0f}")
        print(
            f"  {'budget: simplefix / 15':<32} {budget:>7,.0f}"
            f"   ({simple.ns(args.stat) / total:.2f}x simplefix)"
        )


# -- report ----------------------------------------------------------------------------------
def _rate(ns: float) -> str:
    return f"{1e9 / ns:>11,.0f}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(cases: list[Case], stat: str, args: argparse.Namespace) -> str:
    print(
        f"trifix codec benchmark: {stat} slice of {args.rounds} interleaved rounds of "
        f"~{args.round_time}s ({args.slices} slices each)"
    )
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"simplefix {importlib.metadata.version('simplefix')}"
    )
    print()
    for case in cases:
        n_fields = len(case.spec.fields) + 1  # + MsgType
        print(
            f"  {case.spec.name}: {len(case.raw)} bytes, {n_fields} fields after 8 and 9 "
            "(35, header, body)"
        )
    print()
    head = (
        f"{'message':<24} {'op':<13} {'trifix msg/s':>12} {'µs':>6}  "
        f"{'simplefix msg/s':>15} {'µs':>6}  {'ratio':>6}  {'target':<8} result"
    )
    print(head)
    print("-" * len(head))
    parse_worst = encode_worst = float("inf")
    validate_worst = 0.0
    for case in cases:
        name = case.spec.name.split(" (")[0][:24]
        pt, ps = case.parse_trifix.ns(stat), case.parse_simplefix.ns(stat)
        et, es = case.encode_trifix.ns(stat), case.encode_simplefix.ns(stat)
        vt = case.validate_trifix.ns(stat)
        parse_ratio, encode_ratio, cost = ps / pt, es / et, vt / pt
        parse_worst = min(parse_worst, parse_ratio)
        encode_worst = min(encode_worst, encode_ratio)
        validate_worst = max(validate_worst, cost)
        rows = [
            ("parse", pt, ps, parse_ratio, f">= {PARSE_TARGET:g}x", parse_ratio >= PARSE_TARGET),
            (
                "build+encode",
                et,
                es,
                encode_ratio,
                f">= {ENCODE_TARGET:g}x",
                encode_ratio >= ENCODE_TARGET,
            ),
        ]
        for i, (op, t_ns, s_ns, ratio, target, ok) in enumerate(rows):
            print(
                f"{name if i == 0 else '':<24} {op:<13} {_rate(t_ns):>12} {t_ns / 1000:>6.2f}  "
                f"{_rate(s_ns):>15} {s_ns / 1000:>6.2f}  {ratio:>5.2f}x  {target:<8} "
                f"{_verdict(ok)}"
            )
        print(
            f"{'':<24} {'validate':<13} {_rate(vt):>12} {vt / 1000:>6.2f}  "
            f"{'(cost/parse)':>15} {'':>6}  {cost:>5.2f}   {'<= ' + f'{VALIDATE_TARGET:.2f}':<8} "
            f"{_verdict(cost <= VALIDATE_TARGET)}"
        )
        ft = case.parse_findall.ns(stat)
        print(
            f"{'':<24} {'re.findall':<13} {_rate(ft):>12} {ft / 1000:>6.2f}  "
            f"{'(scale only)':>15} {'':>6}  {'':>6}  trifix parse at {ft / pt:.2f}x this rate"
        )
    print()
    timings = [t for case in cases for group in case.groups() for t in group]
    noisiest = max(timings, key=Timing.spread)
    noisy_case = next(c for c in cases if any(noisiest in g for g in c.groups()))
    print(
        f"noise: median slice vs best slice, worst case {noisiest.spread():.1%} "
        f"({noisy_case.spec.name}, {noisiest.label})"
    )
    if noisiest.spread() > NOISY:
        print(
            f"warning: more than {NOISY:.0%} between median and best: the machine was busy; "
            "compare ratios with care, or run again"
        )
    return (
        f"parse_vs_simplefix={parse_worst:.2f} encode_vs_simplefix={encode_worst:.2f} "
        f"validate_cost={validate_worst:.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds: 3 rounds of 0.02 s")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7)")
    ap.add_argument(
        "--round-time", type=float, default=None, help="seconds per contender per round (0.2)"
    )
    ap.add_argument("--slices", type=int, default=10, help="timed slices per round (10)")
    ap.add_argument(
        "--stat", choices=("best", "median"), default="best", help="per-contender statistic"
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="instead: where Framer.feed's time goes, step by step (no summary line)",
    )
    args = ap.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 7
    if args.round_time is None:
        args.round_time = 0.02 if args.quick else 0.2

    if args.breakdown:
        breakdown(args)
        return 0
    validator = Validator()
    cases = [prepare(spec, validator) for spec in SPECS]
    measure(cases, args.rounds, args.round_time, args.slices)
    summary = report(cases, args.stat, args)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

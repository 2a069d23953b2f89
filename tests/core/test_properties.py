"""Properties of the codec: round trips, chunking, garbage and corruption.

Each property runs a modest number of examples (the whole file takes seconds); the strategies
draw tags from the FIX 4.4 dictionary, values with '=' and any byte but SOH, and data fields
whose values hold anything at all, SOH and '=' included.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.core.frames import HEADER, frame
from trifix.core.codec import DEFAULT_MAX_BODY_LENGTH, Framer, GarbledFrame
from trifix.core.dictionary import Dictionary, Structure
from trifix.core.fields import (
    format_utc_timestamp,
    format_value,
    parse_decimal,
    parse_utc_timestamp,
)
from trifix.core.message import Message, tag_key
from trifix.core.validate import REASON_TEXT, ValidationError, ValidationOptions, Validator

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

D = Dictionary.fix44()
FRAMING = {8, 9, 10, 35}
DATA_PAIRS = sorted(D.length_fields.items())
PLAIN_TAGS = sorted(
    t
    for t in D.fields
    if t not in FRAMING and t not in D.length_fields and t not in D.length_fields.values()
)
MSG_TYPES = sorted(D.messages)

Fields = list[tuple[bytes, bytes]]

plain_value = st.binary(min_size=1, max_size=24).map(lambda b: b.replace(b"\x01", b"="))
plain_field = st.tuples(
    st.one_of(st.sampled_from(PLAIN_TAGS), st.integers(5000, 10**6)), plain_value
).map(lambda tv: [(tag_key(tv[0]), tv[1])])
data_field = st.tuples(st.sampled_from(DATA_PAIRS), st.binary(max_size=40)).map(
    lambda p: [(tag_key(p[0][0]), b"%d" % len(p[1])), (tag_key(p[0][1]), p[1])]
)
field_lists = st.lists(st.one_of(plain_field, plain_field, data_field), max_size=25).map(
    lambda groups: [f for g in groups for f in g]
)
msg_types = st.one_of(st.sampled_from(MSG_TYPES), plain_value)


def build(msg_type: bytes | str, fields: Fields) -> Message:
    mt = msg_type.encode() if isinstance(msg_type, str) else msg_type
    return Message([b"35"] + [k for k, _ in fields], [mt] + [v for _, v in fields])


messages = st.builds(build, msg_types, field_lists)


def wire_fields(msg: Message) -> Fields:
    return list(zip(msg.tag_keys(), msg.raw_values(), strict=True))


def feed_all(chunks: list[bytes], framer: Framer | None = None) -> list[Message | GarbledFrame]:
    framer = framer or Framer()
    out: list[Message | GarbledFrame] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out + framer.close()


# -- (a) parse(encode(fields)) == fields -----------------------------------------------------------


@PROPERTY
@given(msg=messages, begin_string=st.sampled_from([b"FIX.4.4", b"FIXT.1.1", b"FIX.4.2"]))
def test_encode_then_parse_gives_the_same_fields(msg: Message, begin_string: bytes) -> None:
    wire = msg.encode(begin_string)
    (got,) = feed_all([wire])
    assert isinstance(got, Message)
    assert wire_fields(got) == wire_fields(msg)
    assert got.begin_string == begin_string
    assert got.raw == wire
    assert got.encode(begin_string) == wire
    direct = Message.from_frame(wire)
    assert wire_fields(direct) == wire_fields(msg)


@PROPERTY
@given(fields=field_lists, msg_type=st.sampled_from(MSG_TYPES))
def test_message_new_round_trips_in_its_own_order(fields: Fields, msg_type: str) -> None:
    msg = Message.new(msg_type, *((int(k), v) for k, v in fields))
    (got,) = feed_all([msg.encode()])
    assert isinstance(got, Message)
    assert list(got.fields()) == list(msg.fields())
    # Every field given is there; header fields moved ahead of the body, nothing else moved.
    assert sorted(wire_fields(got)[1:]) == sorted(fields)


@PROPERTY
@given(
    data=st.binary(min_size=0, max_size=60),
    pair=st.sampled_from(DATA_PAIRS),
    before=field_lists,
    after=field_lists,
)
def test_data_fields_with_soh_and_equals_round_trip(
    data: bytes, pair: tuple[int, int], before: Fields, after: Fields
) -> None:
    data = b"=\x01" + data + b"\x01="
    fields = [*before, (tag_key(pair[0]), b"%d" % len(data)), (tag_key(pair[1]), data), *after]
    msg = build("A", fields)
    (got,) = feed_all([msg.encode()])
    assert isinstance(got, Message)
    assert wire_fields(got)[1:] == fields


# -- (b) any chunking gives the same messages ------------------------------------------------------


@PROPERTY
@given(batch=st.lists(messages, min_size=1, max_size=5), data=st.data())
def test_any_chunking_gives_the_same_messages(batch: list[Message], data: st.DataObject) -> None:
    stream = b"".join(m.encode() for m in batch)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=20), label="cuts"))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    whole = feed_all([stream])
    pieces = feed_all(chunks)
    assert [m.raw for m in whole if isinstance(m, Message)] == [m.encode() for m in batch]
    assert len(pieces) == len(whole) == len(batch)
    for a, b, m in zip(pieces, whole, batch, strict=True):
        assert isinstance(a, Message)
        assert isinstance(b, Message)
        assert a.raw == b.raw == m.encode()
        assert wire_fields(a) == wire_fields(b) == wire_fields(m)


# -- (c) arbitrary bytes: nothing raised, bounded buffer -------------------------------------------

GOOD = [
    frame(f"35=0|{HEADER}"),
    frame(f"35=D|{HEADER}11=A|453=1|448=P|58=a=b|"),
    frame(f"35=A|{HEADER}98=0|108=30|95=3|96=|=||"),
]
FRAGMENTS = [
    b"8=FIX.4.4\x01",
    b"8=FIXT.1.1\x01",
    b"8=",
    b"8",
    b"9=",
    b"9=5\x01",
    b"9=99999999\x01",
    b"\x0135=",
    b"35=0\x01",
    b"10=",
    b"10=000\x01",
    b"\x01",
    b"=",
    b"95=3\x0196=",
    *GOOD,
    *(g[:n] for g in GOOD for n in (5, 13, 20)),
    *(g[n:] for g in GOOD for n in (5, 13, 20)),
]
chunk = st.one_of(st.binary(max_size=80), st.sampled_from(FRAGMENTS))
VALIDATOR = Validator()


@PROPERTY
@given(
    chunks=st.lists(chunk, max_size=30),
    max_body=st.one_of(st.integers(1, 300), st.just(DEFAULT_MAX_BODY_LENGTH)),
)
def test_arbitrary_bytes_never_raise_and_stay_bounded(chunks: list[bytes], max_body: int) -> None:
    framer = Framer(max_body_length=max_body)
    out: list[Message | GarbledFrame] = []
    for c in chunks:
        out += framer.feed(c)
        assert framer.buffered <= framer.max_buffered
    out += framer.close()
    assert framer.buffered == 0
    consumed = 0
    for item in out:
        if isinstance(item, GarbledFrame):
            assert item.reason
            consumed += len(item.data)
            continue
        assert isinstance(item, Message)
        assert item.raw is not None
        consumed += len(item.raw)
        # What frames also re-encodes, re-parses and validates without raising.
        again = Message.from_frame(item.encode())
        assert wire_fields(again) == wire_fields(item)
        result = VALIDATOR.validate(item)
        assert result is None or isinstance(result, ValidationError)
    # Bytes are only ever reported once; skipped garbage after a refused frame is not reported.
    assert consumed <= sum(len(c) for c in chunks)


def zero_padded(data: bytes, zeros: int) -> bytes:
    """The same frame with its BodyLength zero-padded (legal for a FIX int)."""
    padded = data.replace(b"\x019=", b"\x019=" + b"0" * zeros, 1)
    return padded[:-4] + b"%03d\x01" % (sum(padded[:-7]) % 256)


PADDED = [zero_padded(g, z) for g in GOOD for z in (1, 4, 5, 6)]


@PROPERTY
@given(
    chunks=st.lists(st.one_of(chunk, st.sampled_from(PADDED)), max_size=20),
    max_body=st.one_of(st.integers(1, 300), st.sampled_from([4096, DEFAULT_MAX_BODY_LENGTH])),
    data=st.data(),
)
def test_delivered_messages_do_not_depend_on_chunking(
    chunks: list[bytes], max_body: int, data: st.DataObject
) -> None:
    stream = b"".join(chunks)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=12), label="cuts"))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    whole = feed_all([stream], Framer(max_body_length=max_body))
    split = feed_all(pieces, Framer(max_body_length=max_body))
    assert [m.raw for m in whole if isinstance(m, Message)] == [
        m.raw for m in split if isinstance(m, Message)
    ]
    # Garbage is reported in both or in neither (how much of it per report may differ).
    assert any(isinstance(f, GarbledFrame) for f in whole) == any(
        isinstance(f, GarbledFrame) for f in split
    )


# -- (d) a single flipped byte is always detected --------------------------------------------------


@PROPERTY
@given(msg=messages, data=st.data())
def test_single_byte_flip_is_always_garbled(msg: Message, data: st.DataObject) -> None:
    wire = msg.encode()
    i = data.draw(st.integers(0, len(wire) - 1), label="index")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != wire[i]), label="byte")
    flipped = wire[:i] + bytes([new]) + wire[i + 1 :]
    out = feed_all([flipped])
    assert out, "the flipped frame vanished"
    # No Message at all: a flip inside the checksummed bytes changes their sum by a nonzero
    # amount below 256, a flip in the trailer breaks its form or its value, and a flip in the
    # framing fields breaks the framing.
    assert all(isinstance(f, GarbledFrame) for f in out), out
    assert b"".join(f.data for f in out if isinstance(f, GarbledFrame)) == flipped


# A Logon whose RawData (95=10) ends in "\x0110=127": flipping BodyLength 74 -> 54 moves the
# frame's end onto that inner "10=127", and 127 is the checksum of the shortened frame. Only
# the RawData length, which runs past the shortened frame, shows the corruption.
SELF_CONSISTENT_FLIP = (
    b"8=FIX.4.4\x019=74\x0135=A\x0149=C\x0156=B\x0134=2\x0152=20240304-05:06:07\x01"
    b"95=10\x0196=abc\x0110=127\x0158=xxxxxxxxx\x0110=157\x01"
)


def test_flip_onto_a_trailer_inside_a_data_field_is_garbled() -> None:
    (msg,) = feed_all([SELF_CONSISTENT_FLIP])
    assert isinstance(msg, Message)
    assert msg.get(96) == b"abc\x0110=127"
    flipped = SELF_CONSISTENT_FLIP.replace(b"9=74", b"9=54", 1)
    shortened = flipped[: flipped.index(b"\x0158=") + 1]
    assert sum(shortened[:-7]) % 256 == 127  # the shortened frame's checksum verifies
    assert feed_all([flipped]) == [
        GarbledFrame("data field b'96' overruns its length", shortened),
        GarbledFrame("data before BeginString (8)", flipped[len(shortened) :]),
    ]


@pytest.mark.parametrize(
    "data",
    [GOOD[0], GOOD[2], SELF_CONSISTENT_FLIP],
    ids=["heartbeat", "logon-raw-data", "raw-data-holding-a-trailer"],
)
def test_every_single_byte_flip_of_these_frames_is_garbled(data: bytes) -> None:
    for i in range(len(data)):
        for new in range(256):
            if new != data[i]:
                flipped = data[:i] + bytes([new]) + data[i + 1 :]
                out = feed_all([flipped])
                assert out, (i, new)
                assert all(isinstance(f, GarbledFrame) for f in out), (i, new, out)


def declared_body_length(data: bytes) -> int | None:
    head = re.match(rb"8=FIX[^\x01]{0,27}\x019=([0-9]{1,7})\x01", data)
    return int(head[1]) if head else None


@PROPERTY
@given(msg=messages, data=st.data())
def test_good_frames_after_a_flipped_one_are_delivered(msg: Message, data: st.DataObject) -> None:
    wire = msg.encode()
    i = data.draw(st.integers(0, len(wire) - 1), label="index")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != wire[i]), label="byte")
    flipped = wire[:i] + bytes([new]) + wire[i + 1 :]
    # A flip that makes BodyLength larger claims the frames behind as its body: the framer
    # cannot tell, and waits for them. Every other flip leaves them to be delivered.
    length = declared_body_length(flipped)
    assume(length is None or length <= (declared_body_length(wire) or 0))
    stream = flipped + GOOD[0] + GOOD[1]
    cut = data.draw(st.integers(0, len(stream)), label="cut")
    out = feed_all([stream[:cut], stream[cut:]])
    assert [f.raw for f in out if isinstance(f, Message)] == [GOOD[0], GOOD[1]]
    # The corrupted frame is reported, from its first byte; garbage that runs on into the next
    # chunk is dropped quietly rather than reported twice.
    first = out[0]
    assert isinstance(first, GarbledFrame)
    assert first.data
    assert flipped.startswith(first.data)
    garbled = b"".join(f.data for f in out if isinstance(f, GarbledFrame))
    assert len(garbled) <= len(flipped)


# -- (e) the validator answers every message with a value ------------------------------------------


def _group_members(structure: Structure) -> set[int]:
    out: set[int] = set()
    for g in structure.groups.values():
        out |= set(g.entry.fields) | _group_members(g.entry)
    return out


GROUP_TAGS = sorted({t for m in D.messages.values() for t in m.body.groups} | {627})
MEMBERS = sorted(
    {t for mt in ("D", "8", "W", "X", "E", "A") for t in _group_members(D.messages[mt].body)}
    | {628, 629, 630}
)
any_tag = st.one_of(
    st.sampled_from(sorted(D.fields)),
    st.sampled_from(GROUP_TAGS),
    st.sampled_from(MEMBERS),
    st.integers(1, 6000),
).map(lambda t: b"%d" % t) | st.sampled_from([b"", b"abc", b"0", b"055", b"-1"])
any_value = st.one_of(
    st.sampled_from([b"", b"0", b"1", b"2", b"3", b"Y", b"N", b"A", b"1 2", b"20240304-05:06:07"]),
    st.binary(max_size=6),
)
any_options = st.builds(
    ValidationOptions, st.booleans(), st.booleans(), st.booleans(), st.booleans()
)


@PROPERTY
@given(
    msg_type=st.sampled_from(["D", "8", "W", "X", "E", "A", "0", "ZZ"]),
    fields=st.lists(st.tuples(any_tag, any_value), max_size=30),
    options=any_options,
)
def test_validator_answers_every_message_with_a_value(
    msg_type: str, fields: Fields, options: ValidationOptions
) -> None:
    msg = build(msg_type, fields)
    result = Validator(options=options).validate(msg)
    if result is not None:
        assert isinstance(result, ValidationError)
        assert result.reason in REASON_TEXT
        assert result.ref_msg_type == msg_type
        assert result.reject_fields()[-1] == (58, result.text)


# -- value round trips -----------------------------------------------------------------------------


@PROPERTY
@given(
    value=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 58)),
    precision=st.sampled_from([0, 3, 6]),
)
def test_timestamps_round_trip(value: datetime, precision: int) -> None:
    aware = value.replace(tzinfo=UTC)
    micro = {0: 0, 3: aware.microsecond // 1000 * 1000, 6: aware.microsecond}[precision]
    expected = aware.replace(microsecond=micro)
    for v in (aware, aware + timedelta(seconds=1), aware):  # also past the formatter's memo
        raw = format_utc_timestamp(v, precision)
        assert len(raw) == {0: 17, 3: 21, 6: 24}[precision]
        assert parse_utc_timestamp(raw) == v.replace(
            microsecond={0: 0, 3: v.microsecond // 1000 * 1000, 6: v.microsecond}[precision]
        )
    assert parse_utc_timestamp(format_utc_timestamp(aware, precision)) == expected


@PROPERTY
@given(value=st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_round_trip_exactly(value: Decimal) -> None:
    raw = format_value(value)
    assert b"E" not in raw
    assert b"e" not in raw
    parsed = parse_decimal(raw)
    assert parsed == value
    assert format_value(parsed) == raw

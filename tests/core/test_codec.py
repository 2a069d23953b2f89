"""The framer: bytes in any chunking, messages and garbled frames out, nothing raised."""

from __future__ import annotations

import pytest
import simplefix

from tests.core.frames import HEADER, frame, garbled
from trifix.core.codec import DEFAULT_MAX_BODY_LENGTH, Framer, GarbledFrame
from trifix.core.errors import LocalProtocolError
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag

HEARTBEAT = frame(f"35=0|{HEADER}")
ORDER = frame(
    f"35=D|{HEADER}11=ORD1|21=1|55=EUR/USD|54=1|60=20240304-05:06:07.891|38=1000000|40=2|"
    "44=1.08525|"
)


def fields(msg: Message) -> list[tuple[int, bytes]]:
    return list(msg.fields())


def seq_message(seq: int, text: str = "") -> bytes:
    body = f"35=0|49=CLIENT|56=BROKER|34={seq}|52=20240304-05:06:07.891|"
    return frame(body + (f"112={text}|" if text else ""))


def only_messages(out: list[Message | GarbledFrame]) -> list[Message]:
    assert all(isinstance(m, Message) for m in out), out
    return [m for m in out if isinstance(m, Message)]


# -- whole messages --------------------------------------------------------------------------------


def test_whole_message() -> None:
    framer = Framer()
    (msg,) = only_messages(framer.feed(ORDER))
    assert msg.raw == ORDER
    assert msg.begin_string == b"FIX.4.4"
    assert msg.msg_type == MsgType.NEW_ORDER_SINGLE
    assert fields(msg) == [
        (35, b"D"),
        (49, b"CLIENT"),
        (56, b"BROKER"),
        (34, b"2"),
        (52, b"20240304-05:06:07.891"),
        (11, b"ORD1"),
        (21, b"1"),
        (55, b"EUR/USD"),
        (54, b"1"),
        (60, b"20240304-05:06:07.891"),
        (38, b"1000000"),
        (40, b"2"),
        (44, b"1.08525"),
    ]
    assert framer.buffered == 0
    assert framer.close() == []


def test_framer_reads_what_simplefix_writes() -> None:
    ref = simplefix.FixMessage()
    ref.append_pair(8, "FIX.4.4")
    for tag, value in [(35, "D"), (49, "CLIENT"), (56, "BROKER"), (34, 9), (11, "X=1")]:
        ref.append_pair(tag, value)
    ref.append_data(95, 96, b"\x01raw=data\x01")
    (msg,) = only_messages(Framer().feed(ref.encode()))
    assert fields(msg) == [
        (35, b"D"),
        (49, b"CLIENT"),
        (56, b"BROKER"),
        (34, b"9"),
        (11, b"X=1"),
        (95, b"10"),
        (96, b"\x01raw=data\x01"),
    ]


def test_simplefix_reads_what_the_encoder_writes() -> None:
    msg = Message.new(MsgType.LOGON, (Tag.SENDER_COMP_ID, "A"), (Tag.ENCRYPT_METHOD, 0))
    msg.append(Tag.RAW_DATA_LENGTH, 6).append(Tag.RAW_DATA, b"a\x01b=c\x01")
    parser = simplefix.FixParser()
    parser.append_buffer(msg.encode())
    ref = parser.get_message()
    assert ref is not None
    assert ref.pairs == [
        (b"8", b"FIX.4.4"),
        (b"9", b"%d" % (len(msg.encode()) - len(b"8=FIX.4.4\x019=33\x01") - 7)),
        (b"35", b"A"),
        (b"49", b"A"),
        (b"98", b"0"),
        (b"95", b"6"),
        (b"96", b"a\x01b=c\x01"),
        (b"10", msg.encode()[-4:-1]),
    ]


@pytest.mark.parametrize("data", [HEARTBEAT, ORDER], ids=["heartbeat", "order"])
def test_split_at_every_byte_position(data: bytes) -> None:
    expected = fields(Message.from_frame(data))
    for cut in range(len(data) + 1):
        framer = Framer()
        first = framer.feed(data[:cut])
        second = framer.feed(data[cut:])
        if cut < len(data):
            assert first == [], cut
            assert framer.buffered == 0
        (msg,) = only_messages(first + second)
        assert fields(msg) == expected, cut
        assert msg.raw == data
        assert framer.close() == []


def test_one_byte_at_a_time() -> None:
    stream = HEARTBEAT + ORDER + HEARTBEAT
    framer = Framer()
    out = []
    for i in range(len(stream)):
        got = framer.feed(stream[i : i + 1])
        if got:
            assert i + 1 in (len(HEARTBEAT), len(HEARTBEAT + ORDER), len(stream)), i
        out += got
        assert framer.buffered <= len(ORDER)
    assert [m.raw for m in only_messages(out)] == [HEARTBEAT, ORDER, HEARTBEAT]


def test_many_messages_in_one_chunk() -> None:
    stream = b"".join(seq_message(seq) for seq in range(1, 201))
    msgs = only_messages(Framer().feed(stream))
    assert [m.seq_num for m in msgs] == list(range(1, 201))


def test_many_messages_with_a_partial_one_at_the_end() -> None:
    framer = Framer()
    nxt = seq_message(4)
    out = framer.feed(seq_message(1) + seq_message(2) + seq_message(3) + nxt[:10])
    assert [m.seq_num for m in only_messages(out)] == [1, 2, 3]
    assert framer.buffered == 10
    assert [m.seq_num for m in only_messages(framer.feed(nxt[10:]))] == [4]


def test_feed_accepts_bytearray_and_memoryview() -> None:
    framer = Framer()
    assert framer.feed(bytearray(ORDER[:20])) == []
    (msg,) = only_messages(framer.feed(memoryview(ORDER)[20:]))
    assert msg.raw == ORDER
    (msg,) = only_messages(Framer().feed(memoryview(HEARTBEAT)))
    assert msg.raw == HEARTBEAT


def test_empty_feed() -> None:
    framer = Framer()
    assert framer.feed(b"") == []
    assert framer.feed(ORDER[:5]) == []
    assert framer.feed(b"") == []
    assert framer.buffered == 5


def test_other_fix_begin_strings_frame() -> None:
    data = frame(f"35=0|{HEADER}", begin_string=b"FIXT.1.1")
    (msg,) = only_messages(Framer().feed(data))
    assert msg.begin_string == b"FIXT.1.1"
    # Up to 31 characters of BeginString are read (past the fast path's limit).
    long_begin = b"FIX." + b"9" * 27
    data = frame(f"35=0|{HEADER}", begin_string=long_begin)
    (msg,) = only_messages(Framer().feed(data))
    assert msg.begin_string == long_begin
    assert fields(msg) == fields(Message.from_frame(HEARTBEAT))


# -- garbage and resynchronisation -----------------------------------------------------------------

BEFORE = "data before BeginString (8)"


def test_garbage_before_a_message() -> None:
    out = Framer().feed(b"hello\r\n" + ORDER)
    assert out[0] == GarbledFrame(BEFORE, b"hello\r\n")
    assert [m.raw for m in only_messages(out[1:])] == [ORDER]


def test_garbage_between_messages() -> None:
    out = Framer().feed(HEARTBEAT + b"\x00\x01junk" + ORDER + b"8" + HEARTBEAT)
    assert len(out) == 5
    assert out[1] == GarbledFrame(BEFORE, b"\x00\x01junk")
    assert out[3] == GarbledFrame(BEFORE, b"8")
    assert [m.raw for m in only_messages(out[::2])] == [HEARTBEAT, ORDER, HEARTBEAT]


def test_garbage_split_across_chunks_is_reported_once() -> None:
    framer = Framer()
    assert framer.feed(b"abc") == [GarbledFrame(BEFORE, b"abc")]
    assert framer.feed(b"def") == []
    assert framer.feed(b"ghi8=F") == []
    assert framer.buffered == 3  # "8=F" may start the next frame
    (msg,) = only_messages(framer.feed(ORDER[3:]))
    assert msg.raw == ORDER


@pytest.mark.parametrize("tail", [b"8", b"8=", b"8=F", b"8=FI", b"8=FIX"])
def test_garbage_ending_in_a_partial_begin_string(tail: bytes) -> None:
    framer = Framer()
    assert framer.feed(b"xyz" + tail) == [GarbledFrame(BEFORE, b"xyz")]
    assert framer.buffered == len(tail)
    (msg,) = only_messages(framer.feed(HEARTBEAT[len(tail) :]))
    assert msg.raw == HEARTBEAT


def test_lone_eight_waits_for_the_next_byte() -> None:
    framer = Framer()
    assert framer.feed(b"8") == []
    assert framer.buffered == 1
    assert framer.feed(b"x") == [GarbledFrame(BEFORE, b"8x")]
    assert framer.buffered == 0


def test_garbage_only_then_close() -> None:
    framer = Framer()
    assert framer.feed(b"\x00" * 100) == [GarbledFrame(BEFORE, b"\x00" * 100)]
    assert framer.buffered == 0
    assert framer.close() == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            b"8=FOO.4.4\x019=5\x0135=0\x0110=000\x01", "BeginString (8) is not FIX", id="not-fix"
        ),
        pytest.param(b"8=" + b"F" * 40 + b"\x01", "BeginString (8) is not terminated", id="long"),
        pytest.param(
            b"8=FIX.4.4\x0135=0\x019=5\x0110=000\x01",
            "BodyLength (9) is not the second field",
            id="9-not-second",
        ),
        pytest.param(
            b"8=FIX.4.4\x019=1x\x0135=0\x0110=000\x01",
            "BodyLength (9) is not a number: b'1x'",
            id="9-not-digits",
        ),
        pytest.param(
            b"8=FIX.4.4\x019=\x0135=0\x0110=000\x01",
            "BodyLength (9) is not a number: b''",
            id="9-empty",
        ),
        pytest.param(
            b"8=FIX.4.4\x019=-5\x0135=0\x0110=000\x01",
            "BodyLength (9) is not a number: b'-5'",
            id="9-negative",
        ),
        pytest.param(
            b"8=FIX.4.4\x019=123456789\x0135=0\x01",
            "BodyLength (9) is too long",
            id="9-too-many-digits",
        ),
        pytest.param(
            frame(f"49=CLIENT|35=0|{HEADER[10:]}"),
            "MsgType (35) is not the third field",
            id="35-not-third",
        ),
    ],
)
def test_garbled_header(data: bytes, reason: str) -> None:
    g = garbled(data)
    assert g.reason == reason
    assert g.data == data


def test_leading_zeros_in_body_length_are_read_as_a_number() -> None:
    data = HEARTBEAT.replace(b"\x019=", b"\x019=00", 1)
    data = data[:-4] + b"%03d\x01" % (sum(data[:-7]) % 256)
    (msg,) = only_messages(Framer().feed(data))
    assert fields(msg) == fields(Message.from_frame(HEARTBEAT))


@pytest.mark.parametrize(
    ("limit", "zeros", "accepted"),
    [
        (DEFAULT_MAX_BODY_LENGTH, 5, True),  # 7 digits: as many as the limit has
        (DEFAULT_MAX_BODY_LENGTH, 6, False),  # 8 digits: more than 1048576 has
        (4096, 2, True),
        (4096, 3, False),
    ],
)
def test_zero_padded_body_length_is_judged_the_same_in_any_chunking(
    limit: int, zeros: int, accepted: bool
) -> None:
    # FIX ints may carry leading zeros, but the framer reads at most as many BodyLength digits
    # as its limit has; whether the frame arrives whole or in pieces must not matter.
    data = HEARTBEAT.replace(b"\x019=", b"\x019=" + b"0" * zeros, 1)
    data = data[:-4] + b"%03d\x01" % (sum(data[:-7]) % 256)
    for cut in range(len(data) + 1):
        framer = Framer(max_body_length=limit)
        out = framer.feed(data[:cut]) + framer.feed(data[cut:]) + framer.close()
        if accepted:
            (msg,) = only_messages(out)
            assert fields(msg) == fields(Message.from_frame(HEARTBEAT)), cut
        else:
            assert out[0].reason == "BodyLength (9) is too long", cut  # type: ignore[union-attr]
            assert all(isinstance(f, GarbledFrame) for f in out), cut


@pytest.mark.parametrize("delta", [-3, -1, 1, 2, 6])
def test_body_length_pointing_elsewhere(delta: int) -> None:
    length = len(HEARTBEAT) - len(b"8=FIX.4.4\x019=49\x01") - 7
    assert HEARTBEAT.startswith(b"8=FIX.4.4\x019=%d\x01" % length)
    bad = HEARTBEAT.replace(b"9=%d" % length, b"9=%d" % (length + delta), 1)
    framer = Framer()
    out = framer.feed(bad + ORDER)
    assert out[0] == GarbledFrame("CheckSum (10) is not where BodyLength (9) says", bad)
    assert [m.raw for m in only_messages(out[1:])] == [ORDER]


def test_body_length_too_long_for_the_stream_waits_then_close_reports() -> None:
    length = len(HEARTBEAT) - len(b"8=FIX.4.4\x019=49\x01") - 7
    bad = HEARTBEAT.replace(b"9=%d" % length, b"9=%d" % (length + 50), 1)
    framer = Framer()
    assert framer.feed(bad) == []
    assert framer.buffered == len(bad)
    assert framer.close() == [GarbledFrame("connection ended inside a frame", bad)]
    assert framer.buffered == 0
    assert framer.close() == []


def test_bad_checksum_value() -> None:
    good = int(HEARTBEAT[-4:-1])
    wrong = (good + 1) % 256
    bad = HEARTBEAT[:-4] + b"%03d\x01" % wrong
    out = Framer().feed(bad + ORDER)
    assert out[0] == GarbledFrame(f"CheckSum is {wrong:03d} but the bytes sum to {good:03d}", bad)
    assert [m.raw for m in only_messages(out[1:])] == [ORDER]


@pytest.mark.parametrize(
    "trailer", [b"10=99\x01x", b"10=abc\x01", b"10=1234", b"11=123\x01", b"10=123;"]
)
def test_malformed_checksum_field(trailer: bytes) -> None:
    bad = HEARTBEAT[:-7] + trailer
    assert len(bad) == len(HEARTBEAT)
    out = Framer().feed(bad + ORDER)
    assert out[0] == GarbledFrame("CheckSum (10) is not where BodyLength (9) says", bad)
    assert [m.raw for m in only_messages(out[1:])] == [ORDER]


def test_corrupt_frame_does_not_hide_the_next_one_in_the_same_chunk() -> None:
    bad = HEARTBEAT.replace(b"CLIENT", b"CLIENX")
    out = Framer().feed(bad + HEARTBEAT + bad + ORDER)
    assert [type(f).__name__ for f in out] == ["GarbledFrame", "Message"] * 2
    assert [f.raw for f in out if isinstance(f, Message)] == [HEARTBEAT, ORDER]
    assert [f.data for f in out if isinstance(f, GarbledFrame)] == [bad, bad]


# -- the body length limit -------------------------------------------------------------------------


def test_max_body_length_validation() -> None:
    with pytest.raises(LocalProtocolError):
        Framer(max_body_length=0)
    assert Framer(max_body_length=1).max_buffered == 1 + 32 + 1 + 16
    assert Framer().max_buffered == DEFAULT_MAX_BODY_LENGTH + 32 + 7 + 16
    assert DEFAULT_MAX_BODY_LENGTH == 1 << 20


def test_body_length_at_the_limit_is_accepted_and_above_it_refused() -> None:
    body_length = len(ORDER) - len(b"8=FIX.4.4\x019=123\x01") - 7
    assert ORDER.startswith(b"8=FIX.4.4\x019=%d\x01" % body_length)
    (msg,) = only_messages(Framer(max_body_length=body_length).feed(ORDER))
    assert msg.raw == ORDER
    for limit in range(body_length - 5, body_length):
        reason = f"BodyLength {body_length} exceeds the maximum {limit}"
        # Whole in one chunk (the framer's fast path): the refused frame is reported whole.
        framer = Framer(max_body_length=limit)
        assert framer.feed(ORDER + HEARTBEAT)[0] == GarbledFrame(reason, ORDER), limit
        # In pieces: refused as soon as BodyLength is read; the rest is dropped quietly.
        framer = Framer(max_body_length=limit)
        assert framer.feed(ORDER[:30]) == [GarbledFrame(reason, ORDER[:30])], limit
        assert framer.feed(ORDER[30:]) == []
        assert framer.close() == []


@pytest.mark.parametrize(
    ("limit", "size", "reason"),
    [
        (4096, 5000, "BodyLength {} exceeds the maximum 4096"),
        (9999, 1_000_000, "BodyLength (9) is too long"),  # more digits than the limit has
        (DEFAULT_MAX_BODY_LENGTH, 2_000_000, "BodyLength {} exceeds the maximum 1048576"),
    ],
)
def test_oversized_body_is_refused_without_buffering(limit: int, size: int, reason: str) -> None:
    big = frame(f"35=0|{HEADER}112={'x' * size}|")
    head = big[: big.index(b"\x0135=") + 1]
    body_length = len(big) - len(head) - 7
    assert head == b"8=FIX.4.4\x019=%d\x01" % body_length
    framer = Framer(max_body_length=limit)
    out = []
    for i in range(0, len(big), 1000):
        out += framer.feed(big[i : i + 1000])
        assert framer.buffered <= 4
    out += framer.feed(HEARTBEAT)
    assert out[0] == GarbledFrame(reason.format(body_length), big[:1000])
    assert [m.raw for m in only_messages(out[1:])] == [HEARTBEAT]
    assert framer.buffered == 0


def test_oversized_body_containing_a_frame_start_resynchronises_there() -> None:
    # A refused frame's body is skipped only up to the next "8=FIX": the framer cannot know
    # where a body it did not read ends, so a frame start inside it is taken as real.
    big = frame(f"35=0|{HEADER}112={'y' * 200}8=FIX.4.4{'y' * 300}|")
    inner = big.index(b"8=FIX", 1)
    framer = Framer(max_body_length=100)
    out = framer.feed(big[:50]) + framer.feed(big[50:] + HEARTBEAT)
    body_length = int(big[12 : big.index(b"\x0135=")])
    assert out[:2] == [
        GarbledFrame(f"BodyLength {body_length} exceeds the maximum 100", big[:50]),
        GarbledFrame("BeginString (8) is not terminated", big[inner:]),
    ]
    assert [m.raw for m in only_messages(out[2:])] == [HEARTBEAT]


# -- close() ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 5, 12, 30, len(ORDER) - 1])
def test_close_with_a_partial_frame(cut: int) -> None:
    framer = Framer()
    assert [m.raw for m in only_messages(framer.feed(HEARTBEAT + ORDER[:cut]))] == [HEARTBEAT]
    assert framer.buffered == cut
    assert framer.close() == [GarbledFrame("connection ended inside a frame", ORDER[:cut])]
    assert framer.buffered == 0
    # The framer is reset: a new stream frames from scratch.
    (msg,) = only_messages(framer.feed(ORDER))
    assert msg.raw == ORDER


def test_close_resets_garbage_skipping() -> None:
    framer = Framer()
    assert framer.feed(b"junk") == [GarbledFrame(BEFORE, b"junk")]
    assert framer.close() == []
    assert framer.feed(b"more junk") == [GarbledFrame(BEFORE, b"more junk")]


# -- data fields and sizes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"a\x01b=c",
        b"\x01",
        b"=",
        b"=\x01=\x01",
        b"\x0110=123\x01",  # looks like a trailer
        b"8=FIX.4.4\x019=5\x01",  # looks like a header
        bytes(range(256)),
    ],
)
def test_data_fields_round_trip(data: bytes) -> None:
    msg = Message.new(
        MsgType.LOGON,
        (Tag.SENDER_COMP_ID, "CLIENT"),
        (Tag.ENCRYPT_METHOD, 0),
        (Tag.HEART_BT_INT, 30),
        (Tag.RAW_DATA_LENGTH, len(data)),
        (Tag.RAW_DATA, data),
        (Tag.USERNAME, "user"),
    )
    wire = msg.encode()
    framer = Framer()
    out = framer.feed(wire) + framer.feed(wire[:7]) + framer.feed(wire[7:])
    assert len(out) == 2
    for got in only_messages(out):
        assert got.get(Tag.RAW_DATA) == data
        assert fields(got) == [
            (35, b"A"),
            (49, b"CLIENT"),
            (98, b"0"),
            (108, b"30"),
            (95, b"%d" % len(data)),
            (96, data),
            (553, b"user"),
        ]


def test_signature_in_the_trailer_round_trips() -> None:
    data = frame(b"35=0|" + HEADER.encode() + b"93=5|89=\x01=\x01=\x01|")
    (msg,) = only_messages(Framer().feed(data))
    assert msg.get(Tag.SIGNATURE) == b"\x01=\x01=\x01"
    assert msg.encode() == data


def test_several_data_fields() -> None:
    data = frame(b"35=B|" + HEADER.encode() + b"148=x|354=3|355=\x01\x01\x01|95=2|96==\x01|")
    (msg,) = only_messages(Framer().feed(data))
    assert msg.get(Tag.ENCODED_TEXT) == b"\x01\x01\x01"
    assert msg.get(Tag.RAW_DATA) == b"=\x01"
    assert msg.encode() == data


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"95=10|96=ab|", "data field b'96' overruns its length", id="past-the-end"),
        pytest.param(b"95=1|96=ab|", "data field b'96' overruns its length", id="too-short"),
        pytest.param(
            b"95=9|96=ab|",  # RawData would swallow the trailer "|10=NNN"
            "data field b'96' overruns its length",
            id="into-the-trailer",
        ),
        pytest.param(b"58=ok|noequals|98=0|", "field without '=' at byte {}", id="fast-path"),
        pytest.param(b"95=2|96=ab|noequals|", "field without '=' at byte {}", id="slow-path"),
        pytest.param(b"58=ok|noequals|", "field without '=' at byte {}", id="last-field"),
    ],
)
def test_fields_that_do_not_split_are_garbled(body: bytes, reason: str) -> None:
    data = frame(b"35=A|" + HEADER.encode() + body)
    reason = reason.format(data.find(b"noequals"))
    out = Framer().feed(data + HEARTBEAT)
    assert out[0] == GarbledFrame(reason, data)
    assert [m.raw for m in only_messages(out[1:])] == [HEARTBEAT]


def test_fields_that_do_not_split_are_garbled_on_the_slow_path_too() -> None:
    # A BeginString longer than the fast path reads sends the frame through the slow path.
    data = frame(f"35=0|{HEADER}58=ok|noequals|", begin_string=b"FIX." + b"9" * 27)
    out = Framer().feed(data + HEARTBEAT)
    assert out[0] == GarbledFrame(f"field without '=' at byte {data.index(b'noequals')}", data)
    assert [m.raw for m in only_messages(out[1:])] == [HEARTBEAT]


@pytest.mark.parametrize("last", [b"x", b"abc", b"\x00", b"x=1|abc", b"58=ok"])
def test_last_field_not_terminated_before_the_trailer(last: bytes) -> None:
    # "...|58=ok|x10=NNN|": BodyLength points at "10=", but not at a field boundary.
    data = frame(b"35=0|" + HEADER.encode() + b"58=ok|" + last)
    out = Framer().feed(data + HEARTBEAT)
    assert out[0] == GarbledFrame("CheckSum (10) is not where BodyLength (9) says", data)
    assert [m.raw for m in only_messages(out[1:])] == [HEARTBEAT]


@pytest.mark.parametrize("size", [200, 250, 257, 300, 1000, 4096, 70_000])
def test_large_messages(size: int) -> None:
    prefix = f"35=0|{HEADER}112=".encode().replace(b"|", b"\x01")
    text = bytes(range(0x20, 0x7F)) * (size // 95 + 1)
    body = prefix + text[: size - len(prefix) - 1] + b"\x01"
    assert len(body) == size
    head = b"8=FIX.4.4\x019=%d\x01" % size
    data = head + body + b"10=%03d\x01" % (sum(head + body) % 256)
    for chunking in (None, 97):
        framer = Framer()
        if chunking is None:
            out = framer.feed(data)
        else:
            out = [f for i in range(0, len(data), chunking) for f in framer.feed(data[i : i + 97])]
        (msg,) = only_messages(out)
        assert msg.get(Tag.TEST_REQ_ID) == text[: size - len(prefix) - 1]
        assert msg.encode() == data
    bad = data[:-4] + b"%03d\x01" % ((sum(head + body) + 1) % 256)
    assert isinstance(garbled(bad), GarbledFrame)


def frame_of_size(total: int, fill: int) -> bytes:
    """A Heartbeat whose whole frame is `total` bytes, its TestReqID made of `fill` bytes."""
    prefix = f"35=0|{HEADER}112=".encode().replace(b"|", b"\x01")
    for digits in (1, 2, 3, 4):
        head = b"8=FIX.4.4\x019="
        size = total - len(head) - digits - 1 - 7  # the body: everything up to "10="
        if len(b"%d" % size) == digits:
            body = prefix + bytes([fill]) * (size - len(prefix) - 1) + b"\x01"
            data = head + b"%d\x01" % size + body
            return data + b"10=%03d\x01" % (sum(data) % 256)
    raise AssertionError(total)


@pytest.mark.parametrize("total", [255, 256, 257, 300, 514, 515, 516, 600])
@pytest.mark.parametrize("fill", [0x7E, 0x80, 0xFF], ids=["ascii", "0x80", "0xff"])
def test_checksum_at_the_single_call_limits(total: int, fill: int) -> None:
    # One Adler-32 call sums a frame of up to 256 bytes, or up to 515 bytes of ASCII; anything
    # else goes through the chunked sum. Either way the verdict is the byte sum's.
    data = frame_of_size(total, fill)
    assert len(data) == total
    (msg,) = only_messages(Framer().feed(data))
    assert msg.raw == data
    good = sum(data[:-7]) % 256
    for wrong in ((good + 1) % 256, (good + 255) % 256):
        bad = data[:-4] + b"%03d\x01" % wrong
        reason = f"CheckSum is {wrong:03d} but the bytes sum to {good:03d}"
        assert Framer().feed(bad) == [GarbledFrame(reason, bad)]

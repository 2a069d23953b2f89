"""The tag index of parsed messages: one per message shape, shared, and never changed in place.

Parsed messages of the same shape (the same tags in the same order) share one index from tag to
position. These tests pin that sharing never leaks a change from one message into another, that
every way of changing a message keeps its lookups exactly as they were with a private index of
values, and that the cache of shapes stays bounded.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trifix.core.message as message_module
from tests.core.frames import HEADER, frame, message
from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message, SharedIndex, tag_key
from trifix.core.tags import Tag

ORDER = f"35=D|{HEADER}11=A|453=2|448=P1|448=P2|55=EUR/USD|"
OTHER_VALUES = "35=D|49=X|56=Y|34=7|52=20240304-05:06:08.000|11=B|453=2|448=Q1|448=Q2|55=USD/JPY|"


def index_of(msg: Message) -> dict[bytes, int] | None:
    """msg._index, read through a call so that an earlier assert does not narrow it for mypy."""
    return msg._index


def lookups(msg: Message, tags: list[int]) -> list[bytes | None]:
    return [msg.get(t) for t in tags]


ORDER_TAGS = [35, 49, 56, 34, 52, 11, 453, 448, 55, 58, 43, 97, 627, 628]


def test_messages_of_one_shape_share_one_index_built_at_parse_time() -> None:
    a = message(ORDER)
    b = message(OTHER_VALUES)
    c = Message.from_frame(frame(ORDER))
    assert type(a._index) is SharedIndex
    assert a._index is b._index is c._index
    assert a.get(11) == b"A"
    assert b.get(11) == b"B"
    assert a.get(448) == b"P2"
    assert b.get(448) == b"Q2"
    assert a.get_key(b"55") == b"EUR/USD"
    assert b.get_key(b"55") == b"USD/JPY"
    assert a[Tag.SYMBOL] == b"EUR/USD"
    assert Tag.SYMBOL in b
    assert a.get_int(34) == 2
    assert b.get_int(34) == 7
    # Another shape gets its own index.
    d = message(f"35=D|{HEADER}11=A|55=EUR/USD|")
    assert d._index is not a._index
    assert d.get(448) is None


MUTATIONS: list[tuple[str, Any]] = [
    ("set an existing field", lambda m: m.set(Tag.CL_ORD_ID, "Z")),
    ("set a repeated field", lambda m: m.set(Tag.PARTY_ID, "Z")),
    ("set a new header field", lambda m: m.set(Tag.POSS_DUP_FLAG, True)),
    ("set a new body field", lambda m: m.set(Tag.TEXT, "hello")),
    ("append", lambda m: m.append(Tag.PARTY_ID, "P3")),
    ("append a header group field", lambda m: m.append(Tag.HOP_COMP_ID, "H")),
    ("stamp the header", lambda m: m.stamp_header([(b"34", b"9"), (b"43", b"Y")])),
    ("remove", lambda m: m.remove(Tag.PARTY_ID)),
    ("remove a header field", lambda m: m.remove(Tag.SENDER_COMP_ID)),
]


@pytest.mark.parametrize("change", [m[1] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_changing_a_message_leaves_the_others_of_its_shape_alone(change: Any) -> None:
    a, b = message(ORDER), message(ORDER)
    shared = a._index
    before = lookups(b, ORDER_TAGS)
    change(a)
    assert lookups(b, ORDER_TAGS) == before
    assert b._index is shared
    assert lookups(message(ORDER), ORDER_TAGS) == before
    # The changed message answers like the same message changed after a fresh, private index.
    private = Message(list(b.tag_keys()), list(b.raw_values()))
    change(private)
    assert list(a.fields()) == list(private.fields())
    assert lookups(a, ORDER_TAGS) == lookups(private, ORDER_TAGS)


def test_set_on_a_repeated_field_is_what_a_lookup_gives_afterwards() -> None:
    # set() replaces the first occurrence; the lookup then gives the value just set, as it did
    # when the index held values, and the other messages of the shape still give their own.
    a, b = message(ORDER), message(ORDER)
    a.set(Tag.PARTY_ID, "Z")
    assert a.raw_values()[a.tag_keys().index(b"448")] == b"Z"
    assert a.get(448) == b"Z"
    assert b.get(448) == b"P2"
    a.stamp_header([(b"448", b"Y")])
    assert a.get(448) == b"Y"


def test_data_field_shapes_take_the_field_by_field_path_every_time() -> None:
    body = f"35=A|{HEADER}98=0|108=30|95=4|96=ab=c|"
    for _ in range(2):  # the second time the shape comes from the cache
        msg = message(body)
        assert type(msg._index) is not SharedIndex
        assert msg.get(96) == b"ab=c"
    plain = f"35=A|{HEADER}98=0|108=30|95=4|96=abcd|"
    short = f"35=A|{HEADER}98=0|108=30|95=3|96=abcd|"
    for _ in range(2):
        assert message(plain).get(96) == b"abcd"
        out = Framer().feed(frame(short))
        assert len(out) == 1
        assert isinstance(out[0], GarbledFrame)
        assert "overruns its length" in out[0].reason


def test_the_shape_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_module, "_MAX_SHAPES", 4)
    monkeypatch.setattr(message_module, "_SHAPES", {})
    shapes: dict[bytes, SharedIndex] = message_module._SHAPES
    monkeypatch.setattr("trifix.core.codec._SHAPES", shapes)
    framer = Framer()
    kept = []
    for i in range(10):
        out = framer.feed(frame(f"35=0|{HEADER}{5000 + i}=v{i}|"))
        assert len(out) == 1
        assert isinstance(out[0], Message)
        kept.append(out[0])
        assert 1 <= len(shapes) <= 4
    # Messages keep their index after their shape has left the cache.
    for i, msg in enumerate(kept):
        assert msg.get(5000 + i) == b"v%d" % i
        assert msg.get(34) == b"2"


# -- a property: however a message was made, changes keep its lookups as a value index would ---

POOL = [Tag.SENDER_COMP_ID, Tag.MSG_SEQ_NUM, Tag.POSS_DUP_FLAG, Tag.NO_HOPS, Tag.HOP_COMP_ID]
POOL += [Tag.CL_ORD_ID, Tag.SYMBOL, Tag.PARTY_ID, Tag.TEXT]
value = st.text(alphabet="ABCxyz019", min_size=1, max_size=3)
operation = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(POOL), value),
    st.tuples(st.just("append"), st.sampled_from(POOL), value),
    st.tuples(st.just("remove"), st.sampled_from(POOL), value),
    st.tuples(
        st.just("stamp"),
        st.lists(st.tuples(st.sampled_from(POOL), value), max_size=3, unique_by=lambda p: p[0]),
        value,
    ),
)
start = st.lists(
    st.tuples(st.sampled_from([Tag.CL_ORD_ID, Tag.SYMBOL, Tag.PARTY_ID, Tag.TEXT]), value),
    max_size=6,
)


def apply(msg: Message, op: tuple[str, Any, str]) -> None:
    kind, arg, val = op
    if kind == "set":
        msg.set(arg, val)
    elif kind == "append":
        msg.append(arg, val)
    elif kind == "remove":
        msg.remove(arg)
    else:
        msg.stamp_header([(tag_key(t), v.encode()) for t, v in arg])


def model_apply(model: dict[bytes, bytes], op: tuple[str, Any, str]) -> None:
    """What a lookup gives after `op`, written as the index of values it used to be."""
    kind, arg, val = op
    if kind == "remove":
        model.pop(tag_key(arg), None)
    elif kind == "stamp":
        model.update((tag_key(t), v.encode()) for t, v in arg)
    else:
        model[tag_key(arg)] = val.encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=start, ops=st.lists(operation, max_size=8))
def test_changes_keep_lookups_whatever_the_index(
    fields: list[tuple[int, str]], ops: list[tuple[str, Any, str]]
) -> None:
    built = Message.new("D", (Tag.SENDER_COMP_ID, "S"), (Tag.MSG_SEQ_NUM, 1), *fields)
    raw = built.encode()
    parsed = Message.from_frame(raw)  # the shared index of its shape
    sibling = Message.from_frame(raw)
    private = Message(list(parsed.tag_keys()), list(parsed.raw_values()))
    model = dict(zip(parsed.tag_keys(), parsed.raw_values()))
    variants = [built, parsed, private]
    keys = [tag_key(t) for t in POOL] + [b"35"]
    for msg in variants:
        assert [msg.get_key(k) for k in keys] == [model.get(k) for k in keys]
    for op in ops:
        for msg in variants:
            apply(msg, op)
        model_apply(model, op)
        for msg in variants:
            assert [msg.get_key(k) for k in keys] == [model.get(k) for k in keys]
            assert [k in msg for k in POOL] == [tag_key(k) in model for k in POOL]
        assert list(built.fields()) == list(parsed.fields()) == list(private.fields())
    assert [sibling.get_key(k) for k in keys] == [
        dict(zip(sibling.tag_keys(), sibling.raw_values())).get(k) for k in keys
    ]
    assert sibling.encode() == raw


def test_a_built_message_indexes_itself_on_its_first_lookup() -> None:
    for first in ("in", "[]", "get", "get_str"):
        msg = Message.new("D", (Tag.CL_ORD_ID, "A"), (Tag.PARTY_ID, "P1"), (Tag.PARTY_ID, "P2"))
        assert msg._index is None
        if first == "in":
            assert Tag.PARTY_ID in msg
            assert Tag.SYMBOL not in msg
        elif first == "[]":
            assert msg[Tag.PARTY_ID] == b"P2"
            with pytest.raises(KeyError):
                msg[Tag.SYMBOL]
        elif first == "get":
            assert msg.get(Tag.CL_ORD_ID) == b"A"
        else:
            assert msg.get_str(Tag.PARTY_ID) == "P2"
        assert index_of(msg) == {b"35": 0, b"11": 1, b"448": 3}
        assert type(index_of(msg)) is dict

"""Redaction: secrets never reach text, accounts are masked, free text is sanitised."""

from __future__ import annotations

import io
import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.observability.conftest import fake_handle
from trifix.core.events import AdminMessageReceived, GarbledMessageIgnored
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.observability import (
    LogObserver,
    RedactionPolicy,
    configure_logging,
    redact,
    redact_text,
    sanitize,
)

SECRET_ALPHABET = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="|=")
# Other fields never contain the marker, so finding it in the output can only be a leak.
PLAIN = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30).filter(
    lambda t: "PW#" not in t
)
SECRETS = st.text(SECRET_ALPHABET, min_size=1, max_size=30).map(lambda t: "PW#" + t)
OTHER_TAGS = st.sampled_from([Tag.USERNAME, Tag.TEXT, Tag.SYMBOL, Tag.CL_ORD_ID, Tag.ACCOUNT, 5000])


def logon(password: str, new_password: str | None, extra: list[tuple[int, str]]) -> Message:
    fields: list[tuple[int, object]] = [(Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30)]
    fields += extra[:3]
    fields.append((Tag.PASSWORD, password))
    if new_password is not None:
        fields.append((Tag.NEW_PASSWORD, new_password))
    fields += extra[3:]
    msg = Message.new(MsgType.LOGON, *fields)
    msg.set(Tag.SENDER_COMP_ID, "GW")
    msg.set(Tag.TARGET_COMP_ID, "LP")
    msg.set(Tag.MSG_SEQ_NUM, 1)
    return msg


@settings(max_examples=150, deadline=None)
@given(
    password=SECRETS,
    new_password=st.none() | SECRETS,
    extra=st.lists(st.tuples(OTHER_TAGS, PLAIN), max_size=6),
    fmt=st.sampled_from(["json", "console"]),
)
def test_no_password_in_any_log_output(
    password: str, new_password: str | None, extra: list[tuple[int, str]], fmt: str
) -> None:
    msg = logon(password, new_password, extra)
    frame = msg.encode()
    stream = io.StringIO()
    handler = configure_logging("DEBUG", fmt, stream=stream)  # type: ignore[arg-type]
    try:
        observer = LogObserver()
        handle = fake_handle()
        observer.on_event(handle, AdminMessageReceived(Message.from_frame(frame)))
        observer.on_sent(handle, [frame])
        observer.on_event(handle, GarbledMessageIgnored("bad checksum", frame))
        observer.on_error(handle, f"logon refused: {frame!r}")
        logging.getLogger("trifix.session").error("raw %s", frame.decode("latin-1"))
    finally:
        logging.getLogger("trifix").removeHandler(handler)
    out = stream.getvalue()
    assert out.count("\n") >= 5
    assert "PW#" not in out
    for text in (redact(msg), redact(frame), redact(frame[:-3]), redact_text(repr(frame))):
        assert "PW#" not in text


def test_fields_removed_masked_and_sanitised() -> None:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "A1"),
        (Tag.ACCOUNT, "50153123"),
        (Tag.TEXT, "line1\nline2\x07" + "x" * 300),
        (Tag.RAW_DATA_LENGTH, 3),
        (Tag.RAW_DATA, "a\x01b"),
    )
    text = redact(msg)
    assert "11=A1" in text
    assert "1=***23" in text
    assert "50153123" not in text
    assert "58=line1?line2?" in text
    assert text.endswith("...(+112)|95=3")
    assert "96=" not in text
    assert redact(Message.new(MsgType.NEW_ORDER_SINGLE, (Tag.ACCOUNT, "1234"))).endswith("1=***")


def test_bytes_that_are_not_a_frame_never_leak_pieces() -> None:
    assert redact(b"garbage\x01554=pw\x0155=EUR/USD\x01=x\x01") == "?|55=EUR/USD|?"
    assert redact(bytearray(b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")) == "8=FIX.4.4|35=0"


def test_redact_text_handles_quoted_frames_and_spaces() -> None:
    text = redact_text("refused b'35=A\\x01554=two words\\x011=998877\\x01' now\x00")
    assert text == "refused b'35=A|554=<redacted>|1=***77|' now?"
    assert redact_text("925=new secret\nnext line", keep_lines=True) == "925=<redacted>\nnext line"
    policy = RedactionPolicy(remove=frozenset(), mask=frozenset(), mask_keep=0)
    assert redact_text("554=kept", policy) == "554=kept"
    assert policy.mask_value("12345678") == "***"


def test_sanitize_cuts_and_replaces() -> None:
    assert sanitize("abc", 10) == "abc"
    assert sanitize("a\tb\u200bc", 10) == "a?b?c"
    assert sanitize("abcdef", 3) == "abc...(+3)"

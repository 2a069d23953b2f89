"""Redaction: passwords never shown, accounts masked, free text sanitised, at every level."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trifix.core.message import SOH, Message
from trifix.core.tags import MsgType, Tag
from trifix.tools.redact import TEXT_LIMIT, mask_account, redact, redact_frame, sanitize_text


def logon() -> Message:
    return Message.new(
        MsgType.LOGON,
        (Tag.MSG_SEQ_NUM, 1),
        (Tag.SENDER_COMP_ID, "GW"),
        (Tag.TARGET_COMP_ID, "LP"),
        (Tag.ENCRYPT_METHOD, 0),
        (Tag.HEART_BT_INT, 30),
        (Tag.USERNAME, "alice"),
        (Tag.PASSWORD, "hunter2"),
        (Tag.NEW_PASSWORD, "hunter3"),
    )


def test_passwords_are_removed_and_the_frame_stays_valid() -> None:
    frame = redact_frame(logon().encode())
    assert b"hunter" not in frame
    assert b"\x01554=" not in frame
    assert b"\x01925=" not in frame
    again = Message.from_frame(frame)
    assert again.get_str(Tag.USERNAME) == "alice"
    assert again.encode() == frame  # BodyLength and CheckSum were recomputed


def test_account_is_masked_keeping_the_last_two_characters() -> None:
    assert mask_account(b"ACC-7453") == b"******53"
    assert mask_account(b"1234") == b"****"
    assert mask_account(b"") == b""


def test_text_is_sanitised() -> None:
    assert sanitize_text(b"bad\x1b[31m logon\nline") == b"bad?[31m logon?line"
    assert sanitize_text(b"Invalid password=hunter2 for alice") == (
        b"Invalid password=*** for alice"
    )
    assert sanitize_text(b"pwd: s3cret") == b"pwd: ***"
    long = sanitize_text(b"x" * 1000)
    assert len(long) == TEXT_LIMIT
    assert long.endswith(b"...")
    assert sanitize_text("prix \u00e9lev\u00e9".encode()) == "prix \u00e9lev\u00e9".encode()


def test_redact_applies_inside_groups_and_leaves_the_original_alone() -> None:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "A1"),
        (Tag.ACCOUNT, "ACC-7453"),
        (Tag.TEXT, "note\x01"),
    )
    out = redact(msg)
    assert out.get_str(Tag.ACCOUNT) == "******53"
    assert out.get_str(Tag.TEXT) == "note?"
    assert msg.get_str(Tag.ACCOUNT) == "ACC-7453"


def test_a_garbled_record_is_redacted_field_by_field() -> None:
    raw = b"8=FIX.4.4\x019=5\x0135=A\x01554=hunter2\x011=ACC-7453\x01junk\x01"
    out = redact_frame(raw)
    assert b"hunter2" not in out
    assert b"1=******53" in out
    assert b"junk" in out


@given(st.binary(max_size=300))
def test_no_input_brings_a_password_through(noise: bytes) -> None:
    raw = noise + SOH + b"554=topsecret" + SOH + noise
    assert b"554=topsecret" not in redact_frame(raw)

"""Redacted frames: the observability policy, applied field by field, re-encoded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trifix.core.message import SOH, Message
from trifix.core.tags import MsgType, Tag
from trifix.observability.redact import RedactionPolicy
from trifix.tools.redact import redact_frame, redact_message


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


def test_account_masked_and_text_sanitised_leaving_the_original_alone() -> None:
    msg = Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "A1"),
        (Tag.ACCOUNT, "ACC-7453"),
        (Tag.TEXT, "note\nforged line \u00e9"),
    )
    out = redact_message(msg)
    assert out.get_str(Tag.ACCOUNT) == "***53"
    assert out.get_str(Tag.TEXT) == "note?forged line \u00e9"
    assert out.get_str(Tag.CL_ORD_ID) == "A1"
    assert msg.get_str(Tag.ACCOUNT) == "ACC-7453"


def test_another_policy_can_be_given() -> None:
    policy = RedactionPolicy(remove=frozenset({Tag.USERNAME}))
    out = redact_message(logon(), policy)
    assert Tag.USERNAME not in out
    assert out.get_str(Tag.PASSWORD) == "hunter2"


def test_a_garbled_record_is_redacted_as_text() -> None:
    raw = b"8=FIX.4.4\x019=5\x0135=A\x01554=hunter2\x011=ACC-7453\x01junk\x01"
    out = redact_frame(raw)
    assert b"hunter2" not in out
    assert b"1=***53" in out
    assert b"junk" not in out


@given(st.binary(max_size=300))
def test_no_input_brings_a_password_through(noise: bytes) -> None:
    raw = noise + SOH + b"554=topsecret" + SOH + noise
    assert b"554=topsecret" not in redact_frame(raw)

"""Redacted frames for the store tools, by the one redaction policy of `trifix.observability`.

`trifix.observability.redact` turns a message into redacted ``tag=value|...`` text for logs.
The store tools also need redacted *frames* (``trifix store dump --format soh`` is read back by
``trifix decode``), so this module applies the same `RedactionPolicy` field by field and
re-encodes the result: Password (554), NewPassword (925) and RawData (96) removed, Account (1)
and AllocAccount (79) masked, Text (58) and EncodedText (355) sanitised, at every level of the
message. BodyLength and CheckSum then match the redacted bytes.
"""

from __future__ import annotations

from trifix.core.errors import GarbledMessageError
from trifix.core.message import Message, tag_key
from trifix.observability.redact import DEFAULT_POLICY, RedactionPolicy, redact

__all__ = ["redact_frame", "redact_message"]


def redact_message(msg: Message, policy: RedactionPolicy = DEFAULT_POLICY) -> Message:
    """A redacted copy of `msg`; `msg` itself is left alone."""
    tags: list[bytes] = []
    values: list[bytes] = []
    for tag, value in msg.fields():
        shown = policy.field(tag, value)
        if shown is None:
            continue
        tags.append(tag_key(tag))
        values.append(shown.partition("=")[2].encode("utf-8"))
    return Message(tags, values, begin_string=msg.begin_string)


def redact_frame(raw: bytes, policy: RedactionPolicy = DEFAULT_POLICY) -> bytes:
    """`raw` parsed, redacted and re-encoded; bytes that are not a frame come back as the
    policy's redacted text (``tag=value|...``, ``?`` for pieces that are not fields), so even
    a corrupt stored record never shows a secret."""
    try:
        msg = Message.from_frame(raw)
    except GarbledMessageError:
        return redact(raw, policy).encode("utf-8")
    return redact_message(msg, policy).encode()

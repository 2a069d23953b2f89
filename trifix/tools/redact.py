"""Redaction of FIX messages before people see them: stored-message dumps, replays, errors.

The rules (the same as the issue's logging rules, so a dump never shows more than a log):

* Password (554) and NewPassword (925) are removed, field and value.
* Account (1) is masked: every character but the last two becomes ``*`` (a value of four
  characters or fewer is masked whole), so two accounts can still be told apart.
* Text (58) is sanitised: characters that are not printable (control characters, SOH, line
  breaks, terminal escapes) become ``?``, anything that looks like a credential
  (``password=...``, ``pwd: ...``) has its value replaced by ``***``, and the text is cut to
  `TEXT_LIMIT` characters.

The rules apply at every level of the message (a field inside a repeating group too). The result
is re-encoded, so BodyLength and CheckSum match the redacted bytes and `trifix decode` reads
them as valid frames.
"""

from __future__ import annotations

import re
from typing import Final

from trifix.core.errors import GarbledMessageError
from trifix.core.message import SOH, Message, tag_key
from trifix.core.tags import Tag

__all__ = ["TEXT_LIMIT", "mask_account", "redact", "redact_frame", "sanitize_text"]

TEXT_LIMIT: Final = 256
"""Characters of a Text (58) value kept; longer text ends with "..."."""

_REMOVED: Final = frozenset({tag_key(Tag.PASSWORD), tag_key(Tag.NEW_PASSWORD)})
_ACCOUNT: Final = tag_key(Tag.ACCOUNT)
_TEXT: Final = tag_key(Tag.TEXT)
_KEEP_CLEAR: Final = 2  # trailing characters of an account left readable
_CREDENTIAL: Final = re.compile(r"(?i)\b(pass(?:word|wd)?|pwd|secret|token)(\s*[=:]\s*|\s+)(\S+)")
_FIELD: Final = re.compile(rb"(?<![^\x01])([0-9]+)=([^\x01]*)")


def mask_account(value: bytes) -> bytes:
    """``b"ACC-7453"`` → ``b"******53"``; four characters or fewer are masked whole."""
    if len(value) <= 2 * _KEEP_CLEAR:
        return b"*" * len(value)
    return b"*" * (len(value) - _KEEP_CLEAR) + value[-_KEEP_CLEAR:]


def sanitize_text(value: bytes) -> bytes:
    """Text (58) made safe to show: printable only, credentials hidden, at most `TEXT_LIMIT`."""
    text = value.decode("utf-8", "replace")
    text = _CREDENTIAL.sub(lambda m: f"{m[1]}{m[2]}***", text)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 3] + "..."
    return text.encode("utf-8")


def _redact_field(key: bytes, value: bytes) -> bytes:
    if key == _ACCOUNT:
        return mask_account(value)
    if key == _TEXT:
        return sanitize_text(value)
    return value


def redact(msg: Message) -> Message:
    """A redacted copy of `msg` (see the module docstring); `msg` itself is left alone."""
    tags: list[bytes] = []
    values: list[bytes] = []
    for key, value in zip(msg.tag_keys(), msg.raw_values(), strict=True):
        if key in _REMOVED:
            continue
        tags.append(key)
        values.append(_redact_field(key, value))
    return Message(tags, values, begin_string=msg.begin_string)


def redact_frame(raw: bytes) -> bytes:
    """A redacted frame: parsed, redacted and re-encoded.

    Bytes that do not parse as a frame are redacted field by field as text (``tag=value``
    between SOH), so even a corrupt stored record never shows a password.
    """
    try:
        msg = Message.from_frame(raw)
    except GarbledMessageError:
        return _redact_raw(raw)
    return redact(msg).encode()


def _redact_raw(raw: bytes) -> bytes:
    out: list[bytes] = []
    for piece in raw.split(SOH):
        match = _FIELD.fullmatch(piece)
        if match is None:
            out.append(piece)
        elif match[1] not in _REMOVED:
            out.append(match[1] + b"=" + _redact_field(match[1], match[2]))
    return SOH.join(out)

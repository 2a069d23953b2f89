"""The error hierarchy.

One root, `FixError`. Protocol errors split as in h11: `LocalProtocolError` means *you* misused
the library (a bug in the caller), `RemoteProtocolError` means the peer broke the protocol and
carries the reply the session suggests sending. Routine peer faults that the session answers
itself (a Reject, a Logout) are values, not exceptions; these exceptions are for the places where
an answer is not possible or where the caller must decide.
"""

from __future__ import annotations


class FixError(Exception):
    """Root of every error trifix raises on purpose."""


class LocalProtocolError(FixError):
    """The caller misused the API (wrong state, bad argument): a bug on this side."""


class RemoteProtocolError(FixError):
    """The peer sent something the protocol does not allow."""


class CodecError(FixError):
    """Bytes could not be framed, parsed or encoded as FIX."""


class GarbledMessageError(CodecError, RemoteProtocolError):
    """A frame is not a well-formed FIX message; the spec says to ignore it."""


class FieldValueError(CodecError):
    """A field is missing, or its value does not convert to the asked type.

    Attributes:
        tag: the tag number concerned.
        missing: True when the field is absent, False when present with a bad value.
    """

    def __init__(self, tag: int, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.tag = tag
        self.missing = missing


class StoreError(FixError):
    """The message store failed or was misused."""


class StoreLockedError(StoreError):
    """The session's store is already open elsewhere (another process or object)."""


class ConfigError(FixError):
    """A configuration problem, naming the file, line and key where it can."""

"""What a bad configuration file reports: each problem with its file, line, column and key.

`ConfigFileError` is the one exception `trifix.config` raises for a file that cannot be used. It
is a `ConfigError` (and so a `FixError`), and its message lists every problem found, one a line,
in the order they appear in the file::

    gateway.yaml:14:7: sessions[0].reconnection.initial_delay: expected a duration like "1s"
    or "500ms", got "fast"

No message ever quotes a secret (a password): where the value would be shown, only its kind is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import attrs

from trifix.core.errors import ConfigError

__all__ = [
    "SECRET_KEYS",
    "ConfigFileError",
    "ConfigProblem",
    "InvalidValue",
    "KeyPath",
    "describe",
    "format_key",
    "is_secret",
]

KeyPath = tuple[str | int, ...]
"""Where a value sits in the document: mapping keys and list indexes from the top."""


def format_key(path: KeyPath) -> str:
    """The dotted form of a key path: ``sessions[0].reconnection.initial_delay``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@attrs.frozen
class ConfigProblem:
    """One thing wrong with a configuration file.

    Attributes:
        file: the file as the caller named it.
        line, column: 1-based position of the key (or list item) at fault; None when the value
            did not come from the file (an environment override) or the file could not be read.
        key: the dotted key path (``sessions[0].port``); empty for the document as a whole.
        message: what is wrong and, where it helps, what to write instead.
    """

    file: str
    line: int | None
    column: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigFileError(ConfigError):
    """A configuration file cannot be used; `problems` says everything that is wrong with it.

    Attributes:
        problems: every problem found, sorted by position in the file.
    """

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(
            sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.key, p.message))
        )
        super().__init__("\n".join(str(p) for p in self.problems))


SECRET_KEYS = frozenset({"password"})
"""Keys whose values no message or repr shows."""

_MISSING = object()


class InvalidValue(ConfigError, ValueError):
    """One value of a configuration is wrong; raised while building the schema's classes.

    `load` turns it into a located `ConfigProblem`; code that builds the classes directly sees
    it as is (a `ConfigError` and a `ValueError`).

    Attributes:
        message: what is expected.
        key: the key at fault, relative to the object being built (empty: the object itself).
        got: the value found, shown after the message unless the key is a secret.
        hint: what to write instead, appended after the value.
    """

    def __init__(
        self, message: str, *, key: KeyPath = (), got: object = _MISSING, hint: str = ""
    ) -> None:
        self.message = message
        self.key = key
        self.got = got
        self.hint = hint
        super().__init__(message)

    def text(self, *, secret: bool) -> str:
        """The message without the key; `secret` shows the value found by its kind only."""
        text = self.message
        if self.got is not _MISSING:
            text += f", got {describe(self.got, secret=secret)}"
        if self.hint and not secret:  # a hint may quote the value
            text += f"; {self.hint}"
        return text

    def __str__(self) -> str:
        text = self.text(secret=is_secret(self.key))
        return f"{format_key(self.key)}: {text}" if self.key else text


def is_secret(path: KeyPath) -> bool:
    """Whether the value at `path` must not be shown."""
    return any(isinstance(part, str) and part in SECRET_KEYS for part in path)


def describe(value: object, *, secret: bool = False) -> str:
    """A value as a message shows it: YAML-like, strings in double quotes, secrets by kind."""
    if isinstance(value, bool):
        return "a boolean" if secret else str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if secret:
        return {str: "a string", int: "an integer", float: "a number"}.get(
            type(value), type(value).__name__
        )
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 2, as written, rather than the 2.0 it was read as
    return repr(value)

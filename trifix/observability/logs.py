"""Structured logs: a JSON formatter, a console formatter, and `configure_logging`.

trifix logs through the standard `logging` module under the ``trifix`` logger tree:
``trifix.messages`` (every FIX message in and out, DEBUG), ``trifix.session`` (lifecycle, rejects,
gaps, failures) and the modules' own loggers. Structured fields travel in the record's
``fix`` attribute (``logger.info("...", extra={"fix": {...}})``); both formatters show them.

Both formatters redact the rendered line and any traceback with `redact_text`, whoever logged
it: a password quoted in an exception message never reaches the output.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal, TextIO

from trifix.observability.redact import DEFAULT_POLICY, RedactionPolicy, redact_text

__all__ = ["ConsoleFormatter", "JsonFormatter", "LogFormat", "configure_logging"]

LogFormat = Literal["console", "json"]
_LINE_LIMIT = 65536  # a market data snapshot fits; a runaway text does not


def _fields(record: logging.LogRecord) -> Mapping[str, object]:
    fields = getattr(record, "fix", None)
    return fields if isinstance(fields, Mapping) else {}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the record's ``fix`` fields and,
    when there is one, ``exception`` (all redacted)."""

    def __init__(self, policy: RedactionPolicy = DEFAULT_POLICY) -> None:
        super().__init__()
        self.policy = policy

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a JSON object."""
        out: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage(), self.policy, limit=_LINE_LIMIT),
        }
        for key, value in _fields(record).items():
            if key not in out:
                out[key] = _json_value(value, self.policy)
        if record.exc_info:
            out["exception"] = redact_text(
                self.formatException(record.exc_info), self.policy, limit=_LINE_LIMIT
            )
        return json.dumps(out, ensure_ascii=False)


def _json_value(value: object, policy: RedactionPolicy) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value), policy, limit=_LINE_LIMIT)


class ConsoleFormatter(logging.Formatter):
    """``2026-01-18T10:30:15.123Z INFO  trifix.session [LP1] logged on key=value ...``."""

    def __init__(self, policy: RedactionPolicy = DEFAULT_POLICY) -> None:
        super().__init__()
        self.policy = policy

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as one line (plus a redacted traceback when there is one)."""
        fields = dict(_fields(record))
        session = fields.pop("session", None)
        parts = [_timestamp(record), f"{record.levelname:<7}", record.name]
        if session is not None:
            parts.append(f"[{session}]")
        parts.append(record.getMessage())
        parts.extend(f"{key}={value}" for key, value in fields.items())
        line = redact_text(" ".join(parts), self.policy, limit=_LINE_LIMIT)
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            line += "\n" + redact_text(trace, self.policy, limit=_LINE_LIMIT, keep_lines=True)
        return line


def configure_logging(
    level: str | int = "INFO",
    fmt: LogFormat = "console",
    *,
    stream: TextIO | None = None,
    policy: RedactionPolicy = DEFAULT_POLICY,
) -> logging.Handler:
    """Send the ``trifix`` loggers to `stream` (stderr by default) in `fmt`, at `level`.

    Replaces a handler installed by an earlier call (so a reload can change the format), and
    stops propagation to the root logger so lines are not printed twice. Returns the handler.

    Raises:
        ValueError: an unknown level or format.
    """
    if fmt not in ("console", "json"):
        raise ValueError(f"log format {fmt!r}: use 'console' or 'json'")
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"log level {level!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    logger = logging.getLogger("trifix")
    saved = (logger.propagate, logger.level)  # what `restore_logging` puts back
    for old in [h for h in logger.handlers if getattr(h, "_trifix", False)]:
        saved = getattr(old, "_trifix_saved", saved)
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(policy) if fmt == "json" else ConsoleFormatter(policy))
    handler._trifix = True  # type: ignore[attr-defined]
    handler._trifix_saved = saved  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(numeric)
    logger.propagate = False
    return handler


def restore_logging(handler: logging.Handler) -> None:
    """Undo `configure_logging`: remove its `handler` and give the ``trifix`` logger back
    the level and propagation it had before (so an embedding application's logging, or a
    test's log capture, sees trifix's records again)."""
    logger = logging.getLogger("trifix")
    logger.removeHandler(handler)
    saved = getattr(handler, "_trifix_saved", None)
    if saved is not None:
        logger.propagate, level = saved
        logger.setLevel(level)

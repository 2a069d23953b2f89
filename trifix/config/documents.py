"""A gateway configuration file with extra top-level sections that other tools own.

`load_with_sections` reads a file the way `trifix.config.load` does (``${ENV}`` substitution,
strict types, every problem with its file, line, column and key) and also builds each extra
top-level section (e.g. the simulator's ``simulator:``) into the attrs class its caller names,
with the same strict converter and the same located messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cattrs

from trifix.config._convert import Failure, failures, structure
from trifix.config._source import read_document
from trifix.config.errors import ConfigFileError, ConfigProblem, InvalidValue, format_key
from trifix.config.schema import GatewayConfig

__all__ = ["load_with_sections"]


def load_with_sections(
    path: str | os.PathLike[str],
    sections: Mapping[str, type[Any]],
    environ: Mapping[str, str] = os.environ,
) -> tuple[GatewayConfig, dict[str, Any]]:
    """Read a gateway configuration whose top level also holds `sections`.

    Args:
        path: the YAML file; messages name it as given here.
        sections: top-level keys and the attrs class each is built into; a section left out
            of the file is built from an empty mapping (so its class gives the defaults).
        environ: the environment for ``${NAME}`` substitution and the FIX_* overrides.

    Returns:
        The gateway configuration, and each section's object by key.

    Raises:
        ConfigFileError: every problem of the file, each with file, line, column and key.
    """
    name = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        problem = ConfigProblem(name, None, None, "", f"cannot read the file: {exc.strerror}")
        raise ConfigFileError([problem]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigFileError([ConfigProblem(name, None, None, "", "not UTF-8 text")]) from None
    doc = read_document(text, name, environ)
    problems = list(doc.problems)
    if doc.data is None and problems:
        raise ConfigFileError(problems)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigFileError([doc.problem((), "expected a mapping of keys to values")])
    data = {k: v for k, v in data.items() if not k.startswith("x-")}
    reported = {p.key for p in problems}
    found: list[Failure] = []
    built: dict[str, Any] = {}
    for key, cls in sections.items():
        try:
            built[key] = structure(data.pop(key, None) or {}, cls)
        except (cattrs.BaseValidationError, InvalidValue) as exc:
            found += [Failure((key, *f.path), f.message) for f in failures(exc)]
    config: GatewayConfig | None = None
    try:
        config = structure(data, GatewayConfig)
    except (cattrs.BaseValidationError, InvalidValue) as exc:
        found += failures(exc)
    problems += [
        doc.problem(f.path, f.message) for f in found if format_key(f.path) not in reported
    ]
    if problems or config is None:
        raise ConfigFileError(problems)
    return config, built

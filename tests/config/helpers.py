"""Shared helpers for the configuration tests: YAML text in, config or problem lines out."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import pytest

from trifix.config import ConfigFileError, GatewayConfig, loads

FILE = "gateway.yaml"

SESSION = """\
sessions:
  - id: LP1
    host: lp1.example
    port: 9876
    sender_comp_id: GW
    target_comp_id: LP1
"""
"""The smallest valid file: one initiator session."""


def parse(text: str, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """The configuration of a YAML text (dedented), named gateway.yaml in messages."""
    return loads(textwrap.dedent(text), file=FILE, environ=environ or {})


def problems(text: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The problem lines a YAML text (dedented) is rejected with."""
    with pytest.raises(ConfigFileError) as info:
        parse(text, environ)
    return str(info.value).splitlines()


def session(extra: str = "", **replace: str) -> str:
    """SESSION with keys set (`key="value"`: replaced in place, or added at the end) and
    `extra` lines (indented for the session)."""
    text = SESSION
    for key, value in replace.items():
        old = [line for line in text.splitlines() if line.strip().startswith(f"{key}:")]
        if old:
            text = text.replace(old[0], f"    {key}: {value}")
        else:
            text += f"    {key}: {value}\n"
    return text + textwrap.indent(textwrap.dedent(extra), "    ")

"""docs/configuration.md documents every key of the schema, and the example stays valid."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from trifix.config import schema
from trifix.config._source import OVERRIDES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text("utf-8")
CLASSES = [getattr(schema, name) for name in schema.__all__ if attrs.has(getattr(schema, name))]


@pytest.mark.parametrize("cl", CLASSES, ids=lambda cl: cl.__name__)
def test_every_key_is_documented(cl: type) -> None:
    for field in attrs.fields(cl):
        # As a table key, alone (`port`) or with its block (`store.path`, `weekly.end_day`).
        assert re.search(rf"`(\w+\.)?{field.name}(\.\w+)?`", DOC), f"{cl.__name__}.{field.name}"


def test_every_override_is_documented() -> None:
    for variable in OVERRIDES:
        assert f"`{variable}`" in DOC

"""YAML with line numbers: every mapping and list remembers where it was written.

Script errors must name the file, line and step, so the loader keeps the line of each mapping
and of each list item, and refuses duplicate keys (PyYAML would silently keep the last one).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

__all__ = ["LineDict", "LineList", "YamlError", "load_yaml"]


class YamlError(ValueError):
    """The text is not valid YAML; `line` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class LineDict(dict[Any, Any]):
    """A mapping that knows the (1-based) line it starts on."""

    line: int = 0


class LineList(list[Any]):
    """A list that knows its line and each item's line."""

    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader building `LineDict` and `LineList`."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(item, deep=True) for item in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [item.start_mark.line + 1 for item in node.value]
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml(text: str) -> Any:
    """Parse one YAML document, keeping line numbers.

    Raises:
        YamlError: invalid YAML, with the line of the problem.
    """
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"invalid YAML: {problem}", line) from None

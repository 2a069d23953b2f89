"""Reading a configuration document: YAML nodes to plain values, remembering where each was.

The document is composed into nodes (`yaml.compose` with the safe loader), not loaded, so every
key and value keeps its position; the values are then built by hand, which lets this module:

- substitute ``${NAME}`` and ``${NAME:-default}`` in every string value (``$$`` is a literal
  ``$``), naming the variable, the line and the key when one is unset;
- reject duplicate keys (PyYAML would silently keep the last), non-string keys and recursive
  aliases, while still honouring anchors, aliases and ``<<`` merge keys;
- apply the environment overrides (FIX_STORE_DIR, FIX_LOG_LEVEL, ...) and remember that a value
  came from one.

A string that went through substitution is an `EnvText`: the schema converts it to the type
the key wants (``port: ${LP_PORT}`` is a port number), where a string written in the file must
already be of the right type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs
import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from trifix.config.errors import ConfigProblem, KeyPath, format_key

__all__ = ["OVERRIDES", "Document", "EnvText", "read_document"]

OVERRIDES: Mapping[str, KeyPath] = {
    "FIX_STORE_DIR": ("store", "path"),
    "FIX_LOG_LEVEL": ("log_level",),
    "FIX_ENABLE_METRICS": ("metrics", "enabled"),
    "FIX_METRICS_PORT": ("metrics", "port"),
}
"""Environment variables that replace a value of the file when set to a non-empty string."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")


class EnvText(str):
    """Text that came from the environment: converted to whatever type its key wants."""

    __slots__ = ()


@attrs.frozen
class Location:
    """A 1-based position in the file."""

    line: int
    column: int


@attrs.define
class Document:
    """A configuration document as plain values, and where each value came from.

    Attributes:
        file: the file name used in messages.
        data: the top-level value (a dict for any usable document).
        keys: where the key of each mapping entry is written.
        items: where each list item (and the document itself, at the empty path) starts.
        overridden: values set by an environment override, and the variable's name.
        problems: what was wrong while reading.
    """

    file: str
    data: object = None
    keys: dict[KeyPath, Location] = attrs.Factory(dict)
    items: dict[KeyPath, Location] = attrs.Factory(dict)
    overridden: dict[KeyPath, str] = attrs.Factory(dict)
    problems: list[ConfigProblem] = attrs.Factory(list)

    def problem(self, path: KeyPath, message: str) -> ConfigProblem:
        """A problem located at `path`, or at the nearest enclosing value that is in the file."""
        if path in self.overridden:
            message = f"{message} (set by the environment variable {self.overridden[path]})"
            return ConfigProblem(self.file, None, None, format_key(path), message)
        for end in range(len(path), -1, -1):
            where = self.keys.get(path[:end]) or self.items.get(path[:end])
            if where is not None:
                return ConfigProblem(self.file, where.line, where.column, format_key(path), message)
        return ConfigProblem(self.file, None, None, format_key(path), message)

    def report(self, path: KeyPath, message: str) -> None:
        self.problems.append(self.problem(path, message))


def read_document(text: str, file: str, environ: Mapping[str, str]) -> Document:
    """Compose `text` and build its values; problems are collected in `Document.problems`."""
    doc = Document(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # The message is rebuilt from its parts: PyYAML's own quotes the offending line, which
        # may hold a password.
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{what} ({exc.context})"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        doc.problems.append(ConfigProblem(file, line, column, "", f"invalid YAML: {what}"))
        return doc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        what = f"the character U+{exc.character:04X} is not allowed"
        doc.problems.append(ConfigProblem(file, line, column, "", f"invalid YAML: {what}"))
        return doc
    if root is None:
        doc.problems.append(ConfigProblem(file, 1, 1, "", "the file is empty"))
        return doc
    doc.items[()] = _where(root)
    doc.data = _Builder(doc, environ).build(root, ())
    _override(doc, environ)
    return doc


def _where(node: Node) -> Location:
    return Location(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Builds plain values from nodes, recording positions and problems in the document."""

    def __init__(self, doc: Document, environ: Mapping[str, str]) -> None:
        self._doc = doc
        self._environ = environ
        self._constructor = SafeConstructor()
        self._active: set[int] = set()  # nodes being built, to catch an alias of an ancestor

    def build(self, node: Node, path: KeyPath) -> object:
        if id(node) in self._active:
            self._doc.report(path, "an alias refers to a value that contains it")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                items = []
                for index, item in enumerate(node.value):
                    self._doc.items.setdefault((*path, index), _where(item))
                    items.append(self.build(item, (*path, index)))
                return items
            return self._scalar(node, path)
        finally:
            self._active.discard(id(node))

    def _mapping(
        self, node: MappingNode, path: KeyPath, skip: frozenset[str] = frozenset()
    ) -> dict[str, object]:
        """Build a mapping; keys in `skip` are left out (a merge under keys set elsewhere)."""
        explicit = frozenset(
            key.value
            for key, _ in node.value
            if isinstance(key, ScalarNode) and key.tag != _MERGE_TAG
        )
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                result.update(self._merge(value_node, path, skip | explicit | frozenset(result)))
                continue
            key = self._key(key_node, path)
            if key is None or key in skip:
                continue
            if key in result:
                where = _where(key_node)
                self._doc.problems.append(
                    ConfigProblem(
                        self._doc.file,
                        where.line,
                        where.column,
                        format_key((*path, key)),
                        f"duplicate key {key!r}",
                    )
                )
                continue
            self._doc.keys[(*path, key)] = _where(key_node)
            self._doc.items[(*path, key)] = _where(value_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _key(self, node: Node, path: KeyPath) -> str | None:
        if isinstance(node, ScalarNode):
            key = self._constructor.construct_object(node)
            if isinstance(key, str):
                return key
            message = f"{node.value} is not a name: quote the key"
        else:
            message = "a key must be a name, not a mapping or list"
        line, column = _where(node).line, _where(node).column
        self._doc.problems.append(
            ConfigProblem(self._doc.file, line, column, format_key(path), message)
        )
        return None

    def _merge(self, node: Node, path: KeyPath, skip: frozenset[str]) -> dict[str, object]:
        """A ``<<`` entry: the keys of the merged mapping(s) that are not set elsewhere."""
        result: dict[str, object] = {}
        for source in node.value if isinstance(node, SequenceNode) else [node]:
            if not isinstance(source, MappingNode):
                self._doc.report(path, "<< merges a mapping, or a list of mappings")
            elif id(source) in self._active:
                self._doc.report(path, "an alias refers to a value that contains it")
            else:
                self._active.add(id(source))
                result.update(self._mapping(source, path, skip | frozenset(result)))
                self._active.discard(id(source))
        return result

    def _scalar(self, node: Node, path: KeyPath) -> object:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        if node.tag not in self._constructor.yaml_constructors:
            self._doc.report(path, f"unknown YAML tag {tag!r}")
            return None
        try:
            value = self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, LookupError, AttributeError, TypeError):
            # PyYAML's own message may quote the value, which may be a password.
            self._doc.report(path, f"not a valid {tag} value")
            return None
        if isinstance(value, str) and "$" in value:
            return self._substitute(value, path)
        return value

    def _substitute(self, text: str, path: KeyPath) -> str:
        """Replace ``${NAME}`` and ``${NAME:-default}``; report unset or malformed references."""
        parts: list[str] = []
        unset: list[str] = []
        position = 0
        substituted = False
        for match in _REFERENCE.finditer(text):
            parts.append(text[position : match.start()])
            position = match.end()
            whole, name, default = match.group(0), match.group(1), match.group(2)
            if whole == "$$":
                parts.append("$")
                continue
            if name is None:
                self._doc.report(
                    path, "malformed ${...}: write ${NAME} or ${NAME:-default} (or $$ for a $)"
                )
                return text
            substituted = True
            value = self._environ.get(name)
            if default is not None and not value:
                value = default
            if value is None:
                unset.append(name)
            else:
                parts.append(value)
        if len(unset) == 1:
            self._doc.report(
                path,
                f"environment variable {unset[0]} is not set "
                f"(set it, or give a default: ${{{unset[0]}:-...}})",
            )
        elif unset:
            self._doc.report(
                path,
                f"environment variables {', '.join(unset)} are not set "
                f"(set them, or give defaults: ${{{unset[0]}:-...}})",
            )
        if unset:
            return ""
        parts.append(text[position:])
        result = "".join(parts)
        return EnvText(result) if substituted else result


def _override(doc: Document, environ: Mapping[str, str]) -> None:
    """Apply the FIX_* environment overrides to the document's values."""
    for variable, path in OVERRIDES.items():
        value = environ.get(variable)
        if not value:
            continue
        parent = doc.data
        for part in path[:-1]:
            if not isinstance(parent, dict):
                break
            parent = parent.setdefault(part, {})
        if isinstance(parent, dict):
            parent[path[-1]] = EnvText(value)
            doc.overridden[path] = variable

"""The common shape of a card file read line by line: a shortcut past PyYAML, never a second
YAML parser.

Most card files are block mappings and lists whose values each fit on one line:
``key: value``, ``- key: value``, ``- item``, ``tags: [a, b]``, text in quotes without
escapes. For those, reading the lines directly gives the same located nodes as building them
from PyYAML's events (full_yaml.py), several times faster: each event is a Python object with
two marks, and reading YAML was half of a cold build's time on plain notes.

Anything else returns None and the file goes through the full reader, which also reports
every problem: a value over several lines, a block scalar, an escape, a comment after a
value, an anchor, alias or tag, a tab, a lone carriage return, a key given twice, an empty value,
a line YAML would refuse. So what is accepted here is a narrow, checkable subset, and a
property test compares both readers on every file this one accepts.
"""

from __future__ import annotations

import re
from pathlib import Path

from deckgen.diagnostics import Location
from deckgen.source.yamlnodes import MAX_DEPTH, Mapping, Node, Scalar, Sequence

_LINE = re.compile(r"( *)(- +)?(?:([A-Za-z_][A-Za-z0-9_-]*):(?: +|$))?(.*)")
"""Indentation, a list item's dash, a mapping key and the value, of any line (the value may
be empty or something this reader does not take)."""

_UNTAKEN_ANYWHERE = re.compile("[\t\r\x85\u2028\u2029\ufeff]")
"""Characters whose YAML meaning the line reader does not follow: tabs (indentation YAML
refuses), line breaks other than '\\n' and '\\r\\n', a byte-order mark."""

_NOT_PLAIN_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`<=")
"""How a one-line plain value must not start here: YAML's indicators, and '<' and '=', the
first characters of the merge and value types, which card files refuse."""

_WORD = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_FLOW_ITEM = re.compile(_WORD)
_FLOW_LIST = re.compile(rf"\[ *(?:{_WORD} *(?:, *{_WORD} *)*)?\]")
"""``[a, b-2, c.d]``: a one-line list of words, as tags are written."""

MAX_KEY_CHARACTERS = 1000
"""YAML refuses a key of over 1024 characters written without a '?'."""


class _NotSimple(Exception):
    """The file leaves the shape this reader takes: the full reader decides."""


class _Open:
    """A mapping or list whose lines are still being read."""

    __slots__ = ("column", "indentless", "is_mapping", "items", "keys", "location", "pending")

    def __init__(
        self, is_mapping: bool, column: int, location: Location, *, indentless: bool = False
    ) -> None:
        self.is_mapping = is_mapping
        self.column = column
        """Where its keys or dashes stand (0-based)."""
        self.location = location
        self.items: list[Node] = []
        """A list's items, or a mapping's keys and values in turn."""
        self.keys: set[str] = set()
        self.pending: Scalar | None = None
        """A mapping's key written with no value on its line: its value is the block below."""
        self.indentless = indentless
        """A list whose dashes stand at its parent key's column (``cards:`` then ``- id:``)."""

    def add(self, key: Scalar, value: Node) -> None:
        if key.text in self.keys:
            raise _NotSimple  # a key given twice: the full reader reports it
        self.keys.add(key.text)
        self.items.append(key)
        self.items.append(value)

    def take(self, node: Node) -> None:
        """Take a finished block: a list item, or the value of the pending key."""
        if self.pending is None:
            self.items.append(node)
        else:
            self.add(self.pending, node)
            self.pending = None

    def node(self) -> Node:
        if self.pending is not None:  # ``key:`` with nothing below: an empty value
            raise _NotSimple
        if not self.is_mapping:
            return Sequence(tuple(self.items), self.location)
        items = self.items
        entries = tuple(zip(items[::2], items[1::2], strict=True))
        return Mapping(entries, self.location)  # type: ignore[arg-type]  # keys are Scalars


def read_simple_yaml(path: Path, text: str) -> Node | None:
    """The located nodes of ``text`` when every line has the simple shape, else None (then
    the full reader must read it). ``text`` has passed yamlsource's character check."""
    if "\r" in text:  # Windows line ends, as YAML reads them; a lone '\r' is left to it
        text = text.replace("\r\n", "\n")
    if _UNTAKEN_ANYWHERE.search(text):
        return None
    try:
        return _read(path, text)
    except _NotSimple:
        return None


def _read(path: Path, text: str) -> Node:
    stack: list[_Open] = []

    def open_block(is_mapping: bool, column: int, *, indentless: bool = False) -> None:
        if len(stack) >= MAX_DEPTH - 1:  # a flow list inside would be one level more
            raise _NotSimple
        location = Location(path, number, column + 1)
        stack.append(_Open(is_mapping, column, location, indentless=indentless))

    for number, line in enumerate(text.split("\n"), start=1):
        match = _LINE.fullmatch(line)
        assert match is not None  # every part of the pattern is optional
        indent, dash, key, value = match.groups()
        value = value.rstrip(" ")
        column = len(indent)
        if dash is None and key is None:
            if not value or value[0] == "#":
                continue  # a blank line or a comment
            raise _NotSimple  # a line that is neither a key nor a list item
        top = _close_deeper(stack, column, is_item=dash is not None)
        if top is None:  # the first line: the top level
            if column:
                raise _NotSimple
            open_block(dash is None, column)
        elif top.column < column:  # the block below ``key:``
            if top.pending is None:
                raise _NotSimple
            open_block(dash is None, column)
        elif top.is_mapping and dash is not None:  # ``key:`` then ``- item`` at its column
            if top.pending is None:
                raise _NotSimple
            open_block(False, column, indentless=True)
        elif not top.is_mapping and dash is None:
            raise _NotSimple  # a key among a list's dashes
        if dash is not None:
            column += len(dash)
            if key is None:  # ``- value``
                stack[-1].items.append(_value(value, path, number, column))
                continue
            open_block(True, column)
        mapping = stack[-1]
        if mapping.pending is not None or len(key) > MAX_KEY_CHARACTERS:
            raise _NotSimple  # an empty value before this key, or a key YAML refuses
        key_node = Scalar(key, Location(path, number, column + 1))
        if value:
            mapping.add(key_node, _value(value, path, number, match.start(4)))
        else:
            mapping.pending = key_node
    if not stack:
        raise _NotSimple  # no document: the full reader says so
    node = stack.pop().node()
    while stack:
        stack[-1].take(node)
        node = stack.pop().node()
    return node


def _close_deeper(stack: list[_Open], column: int, *, is_item: bool) -> _Open | None:
    """Finish the blocks a line at ``column`` ends; the block it belongs to, or None for the
    file's first line."""
    while stack:
        top = stack[-1]
        ended = top.column > column or (top.indentless and top.column == column and not is_item)
        if not ended:
            return top
        stack.pop()
        assert stack  # the top level stands at column 0: no line ends it
        stack[-1].take(top.node())
    return None


def _value(value: str, path: Path, line: int, column: int) -> Node:
    """The node of a one-line value starting at 0-based ``column``."""
    if not value:
        raise _NotSimple  # ``- `` with nothing after it
    location = Location(path, line, column + 1)
    first = value[0]
    if first == '"':
        if len(value) > 1 and value[-1] == '"' and '"' not in value[1:-1] and "\\" not in value:
            return Scalar(value[1:-1], location)
        raise _NotSimple  # an escape, or text over several lines
    if first == "'":
        inside = value[1:-1]
        if len(value) > 1 and value[-1] == "'" and "'" not in inside.replace("''", ""):
            return Scalar(inside.replace("''", "'"), location)
        raise _NotSimple
    if first == "[":
        if _FLOW_LIST.fullmatch(value) is None:
            raise _NotSimple
        items = tuple(
            Scalar(item.group(), Location(path, line, column + item.start() + 1))
            for item in _FLOW_ITEM.finditer(value)
        )
        return Sequence(items, location)
    if first in _NOT_PLAIN_FIRST or value[-1] == ":" or ": " in value or " #" in value:
        raise _NotSimple  # YAML syntax at its start or inside, or a comment
    return Scalar(value, location)

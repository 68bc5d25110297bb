"""Stage 1: read a YAML file into nodes that remember where each value came from.

Card files come from many authors, so they are treated as untrusted:
- PyYAML only *composes* the document (no constructors run, so no objects from tags);
- every scalar stays the text the author wrote: ``no`` is not false, ``1.10`` is not 1.1,
  ``null`` is the word null;
- a key given twice in one mapping is an error (PyYAML would silently keep the last value);
- aliases are expanded against a budget, so an alias bomb is refused instead of eating memory.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from deckgen.diagnostics import Location, Report, did_you_mean
from deckgen.safe_files import UnsafeFile, read_file

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Card files are text written by hand; anything larger is a mistake or an attack."""

MAX_EXPANDED_NODES = 50_000
"""How many values one file may hold once aliases are expanded (a large deck has a few thousand)."""

_STANDARD_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}


@dataclass(frozen=True)
class Scalar:
    """A text value exactly as written."""

    text: str
    location: Location


@dataclass(frozen=True)
class Sequence:
    """A YAML list."""

    items: tuple[Node, ...]
    location: Location


@dataclass(frozen=True)
class Mapping:
    """A YAML mapping whose keys are text, in the order written."""

    entries: tuple[tuple[Scalar, Node], ...]
    location: Location

    def get(self, key: str) -> Node | None:
        for entry_key, value in self.entries:
            if entry_key.text == key:
                return value
        return None

    def key_nodes(self) -> Iterator[Scalar]:
        return (key for key, _ in self.entries)


Node = Scalar | Sequence | Mapping


def report_unknown_keys(
    mapping: Mapping, allowed: Collection[str], what: str, report: Report
) -> None:
    """Report every key of ``mapping`` outside ``allowed``, with a did-you-mean."""
    for key in mapping.key_nodes():
        if key.text not in allowed:
            report.error(
                key.location,
                f"unknown key '{key.text}' in {what}{did_you_mean(key.text, allowed)}; "
                f"allowed: {', '.join(sorted(allowed))}",
            )


def describe(node: Node) -> str:
    """How a node is named in a type error."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    return f"the text '{node.text}'" if node.text else "an empty value"


class _BudgetExceeded(Exception):
    pass


class _Converter:
    """Turns PyYAML's node graph into our located nodes, reporting what it cannot accept."""

    def __init__(self, path: Path, report: Report) -> None:
        self.path = path
        self.report = report
        self.expanded = 0
        self.open_nodes: set[int] = set()

    def location(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def convert(self, node: yaml.Node) -> Node | None:
        self.expanded += 1
        if self.expanded > MAX_EXPANDED_NODES:
            raise _BudgetExceeded
        location = self.location(node)
        if node.tag not in _STANDARD_TAGS:
            self.report.error(location, _tag_problem(node.tag))
            return None
        if id(node) in self.open_nodes:
            self.report.error(location, "an alias refers to a value that contains it")
            return None
        if isinstance(node, yaml.ScalarNode):
            return Scalar(str(node.value), location)
        self.open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = [self.convert(item) for item in node.value]
                return Sequence(tuple(item for item in items if item is not None), location)
            assert isinstance(node, yaml.MappingNode)  # composing yields no other node kind
            return self.convert_mapping(node, location)
        finally:
            self.open_nodes.discard(id(node))

    def convert_mapping(self, node: yaml.MappingNode, location: Location) -> Mapping:
        entries: list[tuple[Scalar, Node]] = []
        first_seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key = self.convert(key_node)
            value = self.convert(value_node)
            if key is None or value is None:
                continue
            if not isinstance(key, Scalar):
                self.report.error(key.location, "a key must be plain text")
                continue
            if key.text in first_seen:
                first = first_seen[key.text]
                self.report.error(
                    key.location,
                    f"duplicate key '{key.text}' (first at line {first.line}); "
                    "YAML would keep only the last one: remove or rename one of them",
                )
                continue
            first_seen[key.text] = key.location
            entries.append((key, value))
        return Mapping(tuple(entries), location)


def _tag_problem(tag: str) -> str:
    if tag.startswith("!"):
        # Most often an image at the start of a value: YAML reads a leading '!' as a tag.
        return (
            f"YAML reads '{tag}' as a tag because the value starts with '!': "
            f'put the whole value in quotes, e.g. "{tag} ..."'
        )
    if tag == "tag:yaml.org,2002:merge":
        return "YAML merge keys ('<<') are not supported: write the keys out"
    return f"YAML tag '{tag}' is not allowed: card files hold plain text"


def load_yaml(path: Path, report: Report, *, within: Path | None = None) -> Node | None:
    """Read one YAML file, which must lie inside ``within`` (default: its own folder); on any
    problem report it and return None."""
    whole_file = Location(path)
    try:
        data = read_file(path, within=within or path.parent, max_bytes=MAX_FILE_BYTES)
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.error(whole_file, f"not UTF-8 text (byte {exc.start + 1}): save the file as UTF-8")
        return None
    except UnsafeFile as exc:
        report.error(whole_file, f"file {exc}")
        return None
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else whole_file
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        hint = ""
        if exc.context in ("while scanning an alias", "while scanning an anchor"):
            # Most often Markdown bold or a list marker at the start of a value.
            hint = "; a value that starts with '*' or '&' must be put in quotes"
        report.error(where, f"YAML syntax: {problem}{context}{hint}")
        return None
    except yaml.YAMLError as exc:
        report.error(whole_file, f"YAML syntax: {exc}")
        return None
    documents = [doc for doc in documents if doc is not None]
    if not documents:
        report.error(whole_file, "file is empty")
        return None
    if len(documents) > 1:
        second = documents[1].start_mark
        report.error(
            Location(path, second.line + 1, second.column + 1),
            "a card file holds one YAML document: remove the '---' separator",
        )
        return None
    converter = _Converter(path, report)
    try:
        return converter.convert(documents[0])
    except _BudgetExceeded:
        report.error(
            whole_file,
            f"aliases expand to more than {MAX_EXPANDED_NODES} values: "
            "refused as an alias bomb; write the values out instead",
        )
        return None

"""The located nodes a card file is read into: text, lists and mappings, each with its place.

Both readers make them: the full one from PyYAML's events (yamlsource.py) and the shortcut for
the common one-line shape (simple_yaml.py); every stage after reading sees only these.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from deckgen.diagnostics import Location, Report, did_you_mean

MAX_DEPTH = 64
"""How deeply lists and mappings may nest (a card file needs about eight levels)."""


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


def describe(node: Node, *, quote: bool = True) -> str:
    """How a node is named in a type error. ``quote=False`` for a whole file, which may not
    be a card file at all (a symlinked key file): its text is never echoed."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    if not node.text:
        return "an empty value"
    return f"the text '{node.text}'" if quote else "text"

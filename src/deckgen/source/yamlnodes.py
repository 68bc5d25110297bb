"""The located nodes a card file is read into: text, lists and mappings, each with its place.

Both readers make them: the full one from PyYAML's events (full_yaml.py) and the shortcut for
the common one-line shape (simple_yaml.py); every stage after reading sees only these. Also
what text no node may hold (``text_problem``), which rendering checks again after Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from deckgen.diagnostics import Location, Report, did_you_mean, value_class

MAX_DEPTH = 64
"""How deeply lists and mappings may nest (a card file needs about eight levels)."""

FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
"""What no text of a node may hold, however it was written (see ``text_problem``)."""


@value_class
class Scalar:
    """A text value exactly as written."""

    text: str
    location: Location


@value_class
class Sequence:
    """A YAML list."""

    items: tuple[Node, ...]
    location: Location


@value_class
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


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot go into a package (a control character or a lone surrogate), or None.

    Anki splits a note's fields at U+001F, so one such character makes Anki refuse the whole
    package; the others corrupt terminals and databases or cannot be encoded at all.
    """
    bad = FORBIDDEN_IN_TEXT.search(text)
    if bad is None:
        return None
    return (
        f"{name_character(bad.group())} is not allowed in card text "
        "(written as an escape or an HTML entity): remove it"
    )


def name_character(character: str) -> str:
    """How a refused character is named in messages: by its code, as it may not print."""
    code = ord(character)
    if 0xD800 <= code <= 0xDFFF:
        return f"the lone surrogate U+{code:04X}"
    return f"the control character U+{code:04X}"

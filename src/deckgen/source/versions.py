"""Release versions a student can see: deck.yaml's ``version``, ``released`` and the stamp they
put on the deck overview, and ``drop_retired_after``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deckgen.diagnostics import Report
from deckgen.source.yamlsource import Mapping, Scalar, describe

if TYPE_CHECKING:  # validate.py reads deck.yaml's text keys, this module's included
    from deckgen.source.validate import Text

RELEASE_KEYS = frozenset({"version", "released", "drop_retired_after", "changes"})
"""The deck.yaml keys this module reads."""

_VERSION = re.compile(r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$")
"""Each part at most nine digits: a version of thousands of digits is refused where it is
written, never converted."""
BUMPS = ("major", "minor", "patch")


@dataclass(frozen=True, order=True)
class Version:
    """A release number, ``major.minor.patch``, ordered numerically."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def bumped(self, part: str) -> Version:
        """The next version: ``part`` is major, minor or patch."""
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)


def parse_version(text: str) -> Version | None:
    """The version written as ``text``, or None when it is not ``X.Y.Z``."""
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    return Version(*(int(part) for part in match.groups()))


@dataclass(frozen=True)
class DeckRelease:
    """What deck.yaml says about releases."""

    version: Version | None = None
    """The last released version; None before the first release."""
    released: datetime.date | None = None
    """The day of that release."""
    drop_retired_after: Version | None = None
    """Retired cards announced in this release or an earlier one are no longer shipped."""
    changes: Text | None = None
    """What changed in that release, in a few words of Markdown for the deck overview;
    written by ``deckgen release`` (validated like the deck's description)."""


def read_deck_release(mapping: Mapping, report: Report) -> DeckRelease:
    """The release keys of a deck.yaml mapping; problems go to ``report``."""
    released = None
    released_node = _scalar(mapping, "released", report)
    if released_node is not None:
        try:
            released = datetime.date.fromisoformat(released_node.text.strip())
        except ValueError:
            report.error(
                released_node.location,
                f"'released' must be a date written YYYY-MM-DD, not '{released_node.text}'",
            )
    return DeckRelease(
        version=_version(mapping, "version", report),
        released=released,
        drop_retired_after=_version(mapping, "drop_retired_after", report),
    )


def _version(mapping: Mapping, key: str, report: Report) -> Version | None:
    node = _scalar(mapping, key, report)
    if node is None:
        return None
    version = parse_version(node.text)
    if version is None:
        report.error(
            node.location,
            f"'{key}' must be a version written major.minor.patch, e.g. 1.2.0, "
            f"not '{node.text}' (quote it if YAML reads it as a number)",
        )
    return version


def _scalar(mapping: Mapping, key: str, report: Report) -> Scalar | None:
    node = mapping.get(key)
    if node is None:
        return None
    if not isinstance(node, Scalar):
        report.error(node.location, f"'{key}' must be text, not {describe(node)}")
        return None
    return node

"""Release versions a student can see: deck.yaml's ``version``, ``released`` and the stamp they
put on the deck overview, and ``drop_retired_after``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from deckgen.diagnostics import DeckgenError, Report
from deckgen.source.yamlnodes import Mapping, Scalar, describe
from deckgen.values import Text

RELEASE_KEYS = frozenset({"version", "released", "drop_retired_after", "changes"})
"""The deck.yaml keys this module reads."""

MAX_VERSION_DIGITS = 9
"""Digits per part of a version: far beyond any real release, and a bound where versions enter
(a part of thousands of digits once crashed every command)."""
MAX_VERSION_PART = 10**MAX_VERSION_DIGITS - 1
_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", re.ASCII)
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
        """The next version: ``part`` is major, minor or patch. A part past
        ``MAX_VERSION_PART`` is an error: deckgen would then refuse the version it wrote."""
        if part == "major":
            bumped = Version(self.major + 1, 0, 0)
        elif part == "minor":
            bumped = Version(self.major, self.minor + 1, 0)
        else:
            bumped = Version(self.major, self.minor, self.patch + 1)
        if max(bumped.major, bumped.minor, bumped.patch) > MAX_VERSION_PART:
            raise DeckgenError(
                f"version {self} cannot get a new {part} number: a part of a version has at "
                f"most {MAX_VERSION_DIGITS} digits; give the version to release (X.Y.Z)",
                exit_code=2,
            )
        return bumped


def parse_version(text: str) -> Version | None:
    """The version written as ``text``, or None when it is not ``X.Y.Z`` in ASCII digits with
    at most ``MAX_VERSION_DIGITS`` per part (checked before any digit is converted)."""
    match = _VERSION.fullmatch(text.strip())
    if match is None or any(len(part) > MAX_VERSION_DIGITS for part in match.groups()):
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
    if version is not None:
        return version
    if _VERSION.fullmatch(node.text.strip()):
        report.error(
            node.location,
            f"'{key}' has a part longer than {MAX_VERSION_DIGITS} digits: a version's major, "
            f"minor and patch numbers are at most {MAX_VERSION_PART}",
        )
    else:
        shown = node.text if len(node.text) <= 40 else f"{node.text[:40]}..."
        report.error(
            node.location,
            f"'{key}' must be a version written major.minor.patch, e.g. 1.2.0, "
            f"not '{shown}' (quote it if YAML reads it as a number)",
        )
    return None


def _scalar(mapping: Mapping, key: str, report: Report) -> Scalar | None:
    node = mapping.get(key)
    if node is None:
        return None
    if not isinstance(node, Scalar):
        report.error(node.location, f"'{key}' must be text, not {describe(node)}")
        return None
    return node

"""The baseline of verify, changelog and release: the package of each deck's last *release*.

Builds and ``watch`` rewrite ``decks/`` all the time, so the package there is the last build,
not what students have. ``deckgen release`` therefore keeps a copy of the package it released
in the deck folder, ``<deck>/releases/<deck folder>-<version>.apkg``, next to the
``version:`` it writes into deck.yaml; the copy travels with the sources (whatever ``-o``
the builds used) and is byte-identical to the released package, so git stores it once.

By default each deck is compared with that record. ``--against`` names the package (or a
folder of packages) students have instead; ``--first`` says a deck without any release is
released for the first time. Anything else, a deck with no release and no ``--first``, a
version whose record is missing, or an ``--against`` that holds no package of the deck, is a
clear error saying what to pass: comparing with nothing would report every card as added.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.compiled import CompiledDeck
from deckgen.anki.identity import note_guid
from deckgen.anki.package_reader import (
    PackageContent,
    UnreadablePackage,
    package_content,
    read_package_bytes,
)
from deckgen.diagnostics import DeckgenError, display_path, plural
from deckgen.pipeline.build import package_path
from deckgen.source.versions import Version
from deckgen.values import folder_name

RELEASES_DIR = "releases"
"""The folder of a deck's release record, inside the deck folder."""


def recorded_release(deck_folder: Path, version: Version) -> Path:
    """Where ``deckgen release`` keeps the package of ``version`` of the deck."""
    return deck_folder / RELEASES_DIR / f"{folder_name(deck_folder)}-{version}.apkg"


@dataclass(frozen=True)
class Baseline:
    """What students of one deck have now: a checked package, or nothing (a first release)."""

    path: Path | None
    """The package; None for a first release."""
    data: bytes = b""
    """The package's bytes as read and checked once: every later use reads these, never the
    file again, so what is compared is what was checked."""
    content: PackageContent | None = None
    """``package_content`` of ``data``."""
    version: Version | None = None
    """The release the package records, when it is the deck's record."""

    @property
    def label(self) -> str:
        """How messages and release notes name the baseline."""
        if self.path is None:
            return "nothing (first release)"
        if self.version is not None:
            return f"release {self.version} ({display_path(self.path)})"
        return display_path(self.path)


@dataclass(frozen=True)
class BaselineChoice:
    """What the command line said about the baseline."""

    against: Path | None = None
    """``--against``: the previous package, or a folder of packages named after deck folders."""
    first: bool = False
    """``--first``: decks that were never released are released for the first time."""

    def __post_init__(self) -> None:
        if self.against is not None and self.first:
            raise DeckgenError(
                "--against and --first contradict each other: --first says students have "
                "nothing yet, --against names what they have",
                exit_code=2,
            )

    def resolve(self, cards_dir: Path, decks: list[CompiledDeck]) -> list[Baseline]:
        """Each deck's baseline, in order; raises DeckgenError when one cannot be found."""
        if self.against is not None:
            return [
                _checked(path, deck, version=None)
                for path, deck in zip(
                    _against_packages(self.against, cards_dir, decks), decks, strict=True
                )
            ]
        if self.first and all(deck.spec.release.version is not None for deck in decks):
            released = ", ".join(
                f"'{deck.spec.name}' {deck.spec.release.version}" for deck in decks
            )
            raise DeckgenError(
                f"--first is for decks never released, but every deck was: {released}; "
                "leave it out to compare with the last release, or pass --against",
                exit_code=2,
            )
        return [self._recorded(deck) for deck in decks]

    def _recorded(self, deck: CompiledDeck) -> Baseline:
        spec = deck.spec
        version = spec.release.version
        if version is None:
            leftovers = _recorded_packages(spec.folder)
            if leftovers:
                raise DeckgenError(
                    f"{display_path(spec.folder / 'deck.yaml')} has no 'version', but "
                    f"{display_path(leftovers[-1])} records a release: restore the version "
                    "line from git, or pass --against the package students have"
                )
            if self.first:
                return Baseline(None)
            raise DeckgenError(
                f"deck '{spec.name}' has no release yet (no 'version' in "
                f"{display_path(spec.folder / 'deck.yaml')}): for its first release pass "
                "--first; if students already have a package of it, pass --against that "
                "package (or the folder holding it)",
                exit_code=2,
            )
        path = recorded_release(spec.folder, version)
        if not path.exists() and not path.is_symlink():
            raise DeckgenError(
                f"deck '{spec.name}' was released as {version}, but its package is not "
                f"recorded at {display_path(path)}: restore it from git "
                f"(git checkout -- {display_path(path)}), or pass --against the package of "
                f"release {version}",
                exit_code=2,
            )
        return _checked(path, deck, version=version, within=spec.folder)


def _against_packages(against: Path, cards_dir: Path, decks: list[CompiledDeck]) -> list[Path]:
    """The package of each deck in ``against``: ``against`` itself when it is one package
    (the project must then have one deck), else the package in that folder named after the
    deck's folder."""
    if against.is_dir():
        return [package_path(against, deck.spec.folder) for deck in decks]
    if len(decks) != 1:
        raise DeckgenError(
            f"{display_path(against)} is one package, but {display_path(cards_dir)} has "
            f"{plural(len(decks), 'deck')}: name the folder of the previous packages",
            exit_code=2,
        )
    return [against]


def _checked(
    path: Path, deck: CompiledDeck, *, version: Version | None, within: Path | None = None
) -> Baseline:
    """``path`` read once, within its bound, and checked to be a package of ``deck``."""
    name = deck.spec.name
    if not path.exists() and not path.is_symlink():
        raise DeckgenError(
            f"{display_path(path)} does not exist, so it holds no package of deck '{name}': "
            "pass --against the package students have (or the folder holding "
            f"{path.name}), or --first for the deck's first release",
            exit_code=2,
        )
    try:
        data = read_package_bytes(path, within=within or path.parent)
        content = package_content(data, name=display_path(path))
    except UnreadablePackage as exc:
        raise DeckgenError(
            f"{exc}: pass --against the package of deck '{name}' that students have",
            exit_code=2,
        ) from None
    if not _belongs_to(content, deck):
        raise DeckgenError(
            f"{display_path(path)} holds no package of deck '{name}': neither a deck of that "
            f"name nor a card of deck id '{deck.spec.id}'; pass --against this deck's last "
            "package (or, if you changed the deck's name and id, restore them)",
            exit_code=2,
        )
    return Baseline(path, data, content, version)


def _belongs_to(content: PackageContent, deck: CompiledDeck) -> bool:
    """Whether the package is one of ``deck``: it holds the deck by name, or a note whose guid
    a card the deck has or had gets. Either is enough, so that a package from before a
    renamed deck or a changed deck id still counts, and verify reports what that does."""
    name = deck.spec.name
    if any(shipped == name or shipped.startswith(f"{name}::") for shipped, _ in content.decks):
        return True
    card_ids = {note.card_id for note in deck.notes} | set(deck.lock.notes) | set(deck.lock.retired)
    guids = {note_guid(deck.spec.id, card_id) for card_id in card_ids}
    return not guids.isdisjoint(content.notes)


def _recorded_packages(deck_folder: Path) -> list[Path]:
    folder = deck_folder / RELEASES_DIR
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(folder.glob(f"{folder_name(deck_folder)}-*.apkg"))

"""Retired cards: a card deleted from the sources keeps shipping as a retirement notice.

Anki never deletes a note on import, and a card written suspended arrives as an ordinary new
card (ANKI.md), so a card that vanished from the package would stay in every student's
collection, unexplained, and its old text would still reach new students. Instead the package
keeps shipping the note (same guid, a newer modification time) with every field replaced by a
notice deckgen writes: the card was retired in release X (or "in this release" before one
announced it) and how to delete it. It is tagged ``deckgen::retired`` and filed in a subdeck
that sorts last, ``<deck>::~ Retired - delete``. So:
- a student who has the card sees the notice on it at the next review; Anki updates the note
  in place, keeping its cards (where they are) and their history;
- a new student gets only notices, in that last subdeck: never the old text.

No old text ships, so the lock keeps none: only the kind, the cards students have (a cloze
note's numbers, which the notice must fill so that no card of theirs goes blank), the
notice's fingerprint and time, and the release that announced it. Every entry is untrusted
input (a pull request can edit the lock) and is checked before it ships; the notice itself is
rendered through the same renderer and sanitiser as every card. The first build after the
deletion takes a cloze note's cards from the previous package (read through the bounded
reader). Once a release has announced the retirement, deck.yaml's ``drop_retired_after`` stops
shipping it. A card whose id comes back is live again: its content gets a newer time and the
tag is gone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.anki.cardrender import card_ords
from deckgen.anki.identity import (
    LOCK_FILE,
    Lock,
    RetiredNote,
    TimeExhausted,
    fingerprint_with_deck,
    newer_time,
    note_fingerprint,
    note_guid,
)
from deckgen.anki.notetypes import NOTETYPES, Notetype
from deckgen.anki.package_reader import PackageContent, UnreadablePackage, read_package
from deckgen.cards.cloze import MAX_CLOZE_NUMBER
from deckgen.cards.validate import DeckSpec, is_identifier
from deckgen.diagnostics import Location, Report, display_path, printable, shorten
from deckgen.render.render import cloze_problem, render_field
from deckgen.source.versions import Version, parse_version
from deckgen.values import CardKind

if TYPE_CHECKING:
    from deckgen.render.card import RenderedCard

RETIRED_TAG = "deckgen::retired"
RETIRED_SUBDECK = "~ Retired - delete"
"""Where a new student's notices land: '~' sorts after every letter, so Anki shows the subdeck
last and gathers its new cards last."""
_DELETE_HOW = (
    f"Delete it: in Anki open **Browse**, search `tag:{RETIRED_TAG}`, select the cards and "
    "choose **Notes → Delete**. Your other cards and their history stay as they are."
)
_MAX_VERSION_CHARACTERS = 40


@dataclass(frozen=True)
class RetiredCard:
    """A retired note as this build ships it."""

    entry: RetiredNote
    """What the new lock records."""
    fields: tuple[str, ...]
    """The notice, as HTML in the notetype's field order."""
    deck_name: str
    notetype: Notetype
    card_ords: tuple[int, ...]


def retired_deck_name(deck_name: str) -> str:
    return f"{deck_name}::{RETIRED_SUBDECK}"


def carry_retired(
    deck: DeckSpec[RenderedCard],
    previous: Lock,
    live: Collection[str],
    *,
    now: int,
    previous_package: Path,
    report: Report,
    announcing: Collection[str] = (),
) -> dict[str, RetiredCard]:
    """The retired notes this build ships, by card id: cards the previous lock knew that are
    not ``live``, minus those ``drop_retired_after`` lets go. ``announcing``: the retired cards
    whose retirement the release ``deck.release.version`` announces (its notes list them), so
    that ``drop_retired_after`` never drops a card no release notes named."""
    lock = Location(deck.folder / LOCK_FILE)
    version = str(deck.release.version) if deck.release.version else None
    drop_after = deck.release.drop_retired_after
    shipped: dict[str, RetiredCard] = {}
    for card_id, entry in previous.retired.items():
        if card_id in live:
            continue
        problem = _entry_problem(card_id, entry)
        if problem:
            report.error(lock, f"lock file is damaged: {problem}; restore it from version control")
            continue
        if drop_after is not None and _announced_by(entry.announced_in, drop_after):
            continue
        ords = entry.card_ords if entry.card_ords is not None else _legacy_ords(entry)
        if ords is None:
            report.error(
                lock,
                f"lock file is damaged: retired card '{card_id}' has other fields than "
                f"deckgen's {entry.kind} notetype; restore it from version control",
            )
            continue
        announce = version if card_id in announcing else None
        shipped[card_id] = _notice(
            deck, card_id, entry, ords, now=now, announce=announce, report=report
        )

    deleted = sorted(set(previous.notes) - set(live))
    package: PackageContent | None = None
    for card_id in deleted:
        stamp = previous.notes[card_id]
        if stamp.kind not in _KINDS or not is_identifier(card_id):
            report.error(
                lock,
                f"lock file is damaged: card '{_quoted(card_id)}' (type '{_quoted(stamp.kind)}') "
                "is not a deckgen card; restore it from version control",
            )
            continue
        cloze_ords: tuple[int, ...] = ()
        if CardKind(stamp.kind) is CardKind.CLOZE:
            # Which cards students have is in the package only (the lock keeps fingerprints).
            if package is None:
                package = _previous_package(previous_package, lock, report)
            if package is not None:
                cloze_ords = package.card_ords(note_guid(deck.id, card_id))
            if not _valid_ords(CardKind.CLOZE, cloze_ords):
                report.warning(
                    deck.location,
                    f"card '{card_id}' was deleted, but {display_path(previous_package)} does "
                    "not hold its last shipped cards, so it cannot ship as retired: students "
                    "keep their copy without the retirement notice (build from the previous "
                    "release's package to retire it, or restore the card)",
                )
                continue
        entry = RetiredNote(mod=stamp.mod, kind=stamp.kind, card_ords=cloze_ords)
        announce = version if card_id in announcing else None
        shipped[card_id] = _notice(
            deck, card_id, entry, cloze_ords, now=now, announce=announce, report=report
        )
    return shipped


_KINDS = frozenset(kind.value for kind in CardKind)


def _entry_problem(card_id: str, entry: RetiredNote) -> str | None:
    """What makes a lock's retired entry one deckgen would never have written."""
    if not is_identifier(card_id):
        return f"a retired card's id '{_quoted(card_id)}' is not a card id"
    if entry.kind not in _KINDS:
        return (
            f"retired card '{card_id}' does not fit a deckgen notetype "
            f"(type '{_quoted(entry.kind)}')"
        )
    if entry.card_ords is not None and not _valid_ords(CardKind(entry.kind), entry.card_ords):
        return f"retired card '{card_id}' lists cards Anki cannot have made"
    if entry.announced_in is not None and _version(entry.announced_in) is None:
        return f"retired card '{card_id}' names a release that is no version X.Y.Z"
    return None


def _valid_ords(kind: CardKind, ords: tuple[int, ...]) -> bool:
    """Cloze: distinct card numbers Anki makes (c1 to c500), ascending; other kinds: any,
    since their notice fills every template."""
    if kind is not CardKind.CLOZE:
        return True
    return (
        bool(ords)
        and list(ords) == sorted(set(ords))
        and all(0 <= o < MAX_CLOZE_NUMBER for o in ords)
    )


def _legacy_ords(entry: RetiredNote) -> tuple[int, ...] | None:
    """The cards of an entry from a lock written before notices, from its old text."""
    notetype = NOTETYPES[CardKind(entry.kind)]
    if len(entry.legacy_fields) != len(notetype.fields):
        return None
    return card_ords(notetype, entry.legacy_fields)


def _version(text: str) -> Version | None:
    if len(text) > _MAX_VERSION_CHARACTERS:
        return None
    return parse_version(text)


def _announced_by(announced_in: str | None, drop_after: Version) -> bool:
    version = None if announced_in is None else _version(announced_in)
    return version is not None and version <= drop_after


def _notice(
    deck: DeckSpec[RenderedCard],
    card_id: str,
    entry: RetiredNote,
    ords: tuple[int, ...],
    *,
    now: int,
    announce: str | None,
    report: Report,
) -> RetiredCard:
    """The retired note as shipped: its notice rendered like any card's fields, stamped with a
    newer time whenever the notice differs from the one last shipped."""
    kind = CardKind(entry.kind)
    notetype = NOTETYPES[kind]
    announced_in = entry.announced_in or announce
    version = _version(announced_in) if announced_in else None
    when = f"in release {version}" if version else "in this release"
    heading = f"**Retired card** (`{card_id}`): it was removed from this deck {when}."
    if kind is CardKind.CLOZE:
        # Every card the student has needs its own cloze number, or it would show blank.
        markers = " ".join(f"{{{{c{o + 1}::retired}}}}" for o in ords)
        markdown: tuple[str, ...] = (f"{heading} {_DELETE_HOW}\n\n{markers}", "", "")
    else:
        # The question holds it all: a type-in card shows its answer only as a comparison.
        markdown = (f"{heading} {_DELETE_HOW}", "This card is retired: nothing to learn.", "", "")
    lock = Location(deck.folder / LOCK_FILE)
    fields = tuple(
        render_field(text, location=lock, card_folder=deck.folder, media=None, report=report).html
        for text in markdown
    )
    if kind is CardKind.CLOZE and (problem := cloze_problem(fields[0])):
        report.error(lock, f"retired card '{card_id}' {problem}")
    deck_name = retired_deck_name(deck.name)
    guid = note_guid(deck.id, card_id)
    fingerprint = note_fingerprint(
        guid=guid, notetype_id=notetype.id, fields=fields, tags=(RETIRED_TAG,)
    )
    recorded = (
        fingerprint,  # a lock of format 1 or 2 fingerprinted the notice with its deck:
        fingerprint_with_deck(
            guid=guid, notetype_id=notetype.id, fields=fields, tags=(RETIRED_TAG,), deck=deck_name
        ),
    )
    mod = entry.mod
    if entry.fingerprint not in recorded:
        try:
            mod = newer_time(entry.mod, now)
        except TimeExhausted as exc:
            report.error(lock, f"retired card '{card_id}' {exc}")
    shipped_ords = card_ords(notetype, fields)
    return RetiredCard(
        entry=dataclasses.replace(
            entry,
            mod=mod,
            card_ords=shipped_ords,
            fingerprint=fingerprint,
            announced_in=announced_in,
            legacy_fields=(),
        ),
        fields=fields,
        deck_name=deck_name,
        notetype=notetype,
        card_ords=shipped_ords,
    )


def _previous_package(path: Path, lock: Location, report: Report) -> PackageContent | None:
    """The previous package's content; None when there is none. A package that cannot be read
    is an error: it is untrusted input, and building on a guess would lose retirements."""
    if not path.exists():
        return None
    try:
        return read_package(path, within=path.parent)
    except UnreadablePackage as exc:
        report.error(
            Location(path),
            f"{exc}; deckgen reads it to retire deleted cloze cards: restore the previous "
            "release's package, or remove it (the deleted cards then ship without a notice)",
        )
        return None


def _quoted(text: str) -> str:
    return printable(shorten(text, 60))

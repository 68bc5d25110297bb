"""Retired cards: a card deleted from the sources keeps shipping, tagged, until announced.

Anki never deletes a note on import, so a card that simply vanished from the package would stay
in every student's collection, untouched and unexplained. Instead the package keeps shipping it
exactly as it was last shipped, with the tag ``deckgen::retired`` and a newer modification time
so that the tag reaches students, who can then find it (``tag:deckgen::retired``), suspend it or
delete it. The first build after the deletion takes the last shipped content from the previous
package; from then on the lock holds it. Once a release has announced the retirement, deck.yaml's
``drop_retired_after`` stops shipping it. A card whose id comes back is live again: its new
content gets a newer time and the tag is gone.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.anki.anki_package import package_content
from deckgen.anki.identity import LOCK_FILE, Lock, RetiredNote, note_guid
from deckgen.anki.notetypes import NOTETYPES
from deckgen.diagnostics import Location, Report, display_path
from deckgen.source.validate import CardKind, DeckSpec
from deckgen.source.versions import Version, parse_version

if TYPE_CHECKING:
    from deckgen.filestage import RenderedCard

RETIRED_TAG = "deckgen::retired"


def carry_retired(
    deck: DeckSpec[RenderedCard],
    previous: Lock,
    live: Collection[str],
    *,
    now: int,
    previous_package: Path,
    report: Report,
) -> dict[str, RetiredNote]:
    """The retired section of the new lock: cards the previous lock knew that are not ``live``,
    minus those ``drop_retired_after`` lets go."""
    drop_after = deck.release.drop_retired_after
    retired = {
        card_id: note
        for card_id, note in previous.retired.items()
        if card_id not in live
        and not (
            drop_after is not None
            and note.announced_in is not None
            and _announced_by(note.announced_in, drop_after)
        )
    }
    for card_id, note in list(retired.items()):
        if not _fits_notetype(note.kind, note.fields):
            report.error(
                Location(deck.folder / LOCK_FILE),
                f"lock file is damaged: retired card '{card_id}' does not fit a deckgen "
                f"notetype (type '{note.kind}', {len(note.fields)} fields); restore it from "
                "version control",
            )
            del retired[card_id]
    deleted = sorted(set(previous.notes) - set(live))
    if not deleted:
        return retired
    shipped = shipped_notes(previous_package)
    for card_id in deleted:
        last = shipped.get(note_guid(deck.id, card_id))
        if last is None:
            report.warning(
                deck.location,
                f"card '{card_id}' was deleted, but {display_path(previous_package)} does not "
                "hold its last shipped version, so it cannot ship as retired: students keep "
                "their copy without the retired tag (build from the previous release's package "
                "to retire it, or restore the card)",
            )
            continue
        fields, tags, deck_name = last
        kind = previous.notes[card_id].kind
        if not _fits_notetype(kind, fields):
            report.warning(
                deck.location,
                f"card '{card_id}' was deleted, but its last shipped version in "
                f"{display_path(previous_package)} has other fields than deckgen's {kind} "
                "notetype, so it cannot ship as retired: students keep their copy untagged",
            )
            continue
        retired[card_id] = RetiredNote(
            mod=max(now, previous.notes[card_id].mod + 1),
            kind=kind,
            fields=fields,
            tags=(*(tag for tag in tags if tag != RETIRED_TAG), RETIRED_TAG),
            deck=deck_name,
        )
    return retired


def _fits_notetype(kind: str, fields: tuple[str, ...]) -> bool:
    return kind in {k.value for k in CardKind} and len(fields) == len(
        NOTETYPES[CardKind(kind)].fields
    )


def _announced_by(announced_in: str, drop_after: Version) -> bool:
    version = parse_version(announced_in)
    return version is not None and version <= drop_after


def shipped_notes(package: Path) -> dict[str, tuple[tuple[str, ...], tuple[str, ...], str]]:
    """Fields, tags and deck of every note in ``package``, by guid; empty when unreadable."""
    try:
        content = package_content(package.read_bytes())
    except OSError:
        return {}
    if content is None:
        return {}
    decks = {guid: deck_name for guid, _, deck_name, _ in content["cards"]}
    return {
        guid: (tuple(note["fields"].split("\x1f")), tuple(note["tags"].split()), decks[guid])
        for guid, note in content["notes"].items()
        if guid in decks
    }

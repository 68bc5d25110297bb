"""The per-deck stage: stamp a deck's rendered cards from its lock into notes.

Cards arrive checked and rendered by the per-file stage (filestage.py); what needs the whole
deck happens here: guids, modification times from the lock, the notetypes it uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.identity import (
    LOCK_FILE,
    Lock,
    Stamp,
    next_stamp,
    note_fingerprint,
    note_guid,
    read_lock,
)
from deckgen.anki.notetypes import NOTETYPES, Notetype
from deckgen.anki.occlusion import card_keys, keep_card_numbers, with_deck_colours
from deckgen.anki.retire import carry_retired, shipped_notes
from deckgen.diagnostics import Report
from deckgen.filestage import RenderedCard
from deckgen.render.cardrender import card_ords
from deckgen.render.media import MediaFile
from deckgen.render.render import render_field
from deckgen.source.validate import CardKind, CardSpec, DeckSpec


@dataclass(frozen=True)
class Note:
    """A note ready to be written into a package."""

    card_id: str
    guid: str
    notetype: Notetype
    fields: tuple[str, ...]
    """HTML, in the notetype's field order."""
    tags: tuple[str, ...]
    deck_name: str
    """The full Anki deck name, subdeck included."""
    media: tuple[MediaFile, ...]
    mod: int
    card_ords: tuple[int, ...]
    """The cards Anki makes of this note, by ordinal: the package holds exactly these."""


@dataclass(frozen=True)
class CompiledDeck:
    """Everything needed to write one deck's package and lock."""

    spec: DeckSpec[RenderedCard]
    description: str
    """HTML shown on Anki's deck overview."""
    notes: tuple[Note, ...]
    notetype_mods: dict[CardKind, int]
    """Modification time of each notetype the deck uses."""
    lock: Lock
    """The lock as this build leaves it."""

    def written_cards(self) -> list[tuple[CardSpec, Note]]:
        """Each live card as its author wrote it, with its note (retired notes, which no card
        file holds any more, are left out). Needs a deck compiled without the build cache."""
        pairs = []
        for card, note in zip(self.spec.cards, self.notes, strict=False):
            if card.spec is None:
                raise ValueError("written_cards() needs a deck compiled without the cache")
            pairs.append((card.spec, note))
        return pairs

    @property
    def retired_notes(self) -> tuple[Note, ...]:
        """Notes of deleted cards, shipped as last shipped with the retired tag; they follow
        the live notes, which match the deck's cards one to one."""
        return self.notes[len(self.spec.cards) :]

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """Every image of the deck once, in name order."""
        by_name = {file.name: file for note in self.notes for file in note.media}
        return tuple(by_name[name] for name in sorted(by_name))


def compile_deck(
    deck: DeckSpec[RenderedCard], *, now: int, report: Report, previous_package: Path
) -> CompiledDeck | None:
    """Stamp one deck's rendered cards; None when it had errors (they are in ``report``).
    ``previous_package`` holds the last shipped version of cards deleted since."""
    errors_before = report.error_count
    previous = read_lock(deck.folder / LOCK_FILE, report)
    description = ""
    if deck.description is not None:
        description = render_field(
            deck.description.markdown,
            location=deck.description.location,
            card_folder=deck.folder,
            media=None,
            report=report,
        ).html
    description += deck.release.stamp()

    notes: list[Note] = []
    note_stamps: dict[str, Stamp] = {}
    shipped: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] | None = None
    for card in deck.cards:
        notetype = NOTETYPES[card.kind]
        fields, ords = card.fields, card.card_ords
        deck_name = f"{deck.name}::{card.subdeck}" if card.subdeck else deck.name
        guid = note_guid(deck.id, card.id)
        if card.kind is CardKind.OCCLUSION:
            if deck.mask_colours is not None:
                header = with_deck_colours(fields[2], deck.mask_colours)
                fields = (*fields[:2], header, *fields[3:])
            if card_keys(fields[0]):  # each hidden label keeps its card number as shipped
                if shipped is None:
                    shipped = shipped_notes(previous_package)
                last = shipped.get(guid)
                if last is not None:
                    fields = (keep_card_numbers(fields[0], last[0][0]), *fields[1:])
                    ords = card_ords(notetype, fields)
        old = previous.last_stamp(card.id)
        if old is not None and old.kind != card.kind.value:
            report.warning(
                card.location,
                f"card '{card.id}' changed type from {old.kind} to {card.kind.value}: students "
                "who imported it keep the old note unchanged; give the card a new id to ship "
                "it as a new note",
            )
        content_fingerprint = note_fingerprint(
            guid=guid,
            notetype_id=notetype.id,
            fields=fields,
            tags=card.tags,
            deck=deck_name,
        )
        stamp = next_stamp(old, fingerprint=content_fingerprint, kind=card.kind.value, now=now)
        note_stamps[card.id] = stamp
        notes.append(
            Note(
                card.id,
                guid,
                notetype,
                fields,
                card.tags,
                deck_name,
                card.media,
                stamp.mod,
                ords,
            )
        )
    retired = carry_retired(
        deck, previous, note_stamps, now=now, previous_package=previous_package, report=report
    )
    notes.extend(
        Note(
            card_id,
            note_guid(deck.id, card_id),
            NOTETYPES[CardKind(r.kind)],
            r.fields,
            r.tags,
            r.deck,
            (),
            r.mod,
            card_ords(NOTETYPES[CardKind(r.kind)], r.fields),
        )
        for card_id, r in retired.items()
    )

    notetype_stamps = {
        kind.value: next_stamp(
            previous.notetypes.get(kind.value),
            fingerprint=NOTETYPES[kind].fingerprint(),
            kind=kind.value,
            now=now,
        )
        for kind in sorted({note.notetype.kind for note in notes}, key=lambda k: k.value)
    }
    if report.error_count > errors_before:
        return None
    return CompiledDeck(
        spec=deck,
        description=description,
        notes=tuple(notes),
        notetype_mods={CardKind(kind): stamp.mod for kind, stamp in notetype_stamps.items()},
        lock=Lock(notes=note_stamps, notetypes=notetype_stamps, retired=retired),
    )

"""The per-deck stage: stamp a deck's rendered cards from its lock into notes.

Cards arrive checked and rendered by the per-file stage (filestage.py); what needs the whole
deck happens here: guids, modification times from the lock, the notetypes it uses.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.cardrender import card_ords
from deckgen.anki.compiled import CompiledDeck, Note
from deckgen.anki.deck_description import deck_description
from deckgen.anki.identity import (
    LOCK_FILE,
    MAX_TIME,
    DeckIdentity,
    Lock,
    Stamp,
    TimeExhausted,
    fingerprint_with_deck,
    next_stamp,
    note_guid,
    read_lock,
)
from deckgen.anki.notetypes import NOTETYPES
from deckgen.anki.occlusion import card_keys, keep_card_numbers, with_deck_colours
from deckgen.anki.package_reader import PackageContent, UnreadablePackage, read_package
from deckgen.anki.retire import RETIRED_TAG, carry_retired
from deckgen.cards.validate import DeckSpec
from deckgen.diagnostics import Location, Report
from deckgen.render.card import RenderedCard
from deckgen.render.report_link import report_link, with_report_link
from deckgen.values import CardKind


def compile_deck(
    deck: DeckSpec[RenderedCard],
    *,
    now: int,
    report: Report,
    previous_package: Path,
    announcing: Collection[str] = (),
    ship_retired: bool = True,
) -> CompiledDeck | None:
    """Stamp one deck's rendered cards; None when it had errors (they are in ``report``).
    ``previous_package`` holds the cards of cloze cards deleted since; ``announcing``: the
    retired cards whose retirement the release ``deck.release.version`` announces;
    ``ship_retired`` False (a first release) ships and keeps no retired card."""
    errors_before = report.error_count
    previous = read_lock(deck.folder / LOCK_FILE, report)
    shipped = _Shipped(previous_package)
    notes: list[Note] = []
    note_stamps: dict[str, Stamp] = {}
    identity = DeckIdentity.of(deck.id, deck.report_url)
    for card in deck.cards:
        note, note_stamps[card.id] = _live_note(
            card, deck, identity, previous, shipped, now, report
        )
        notes.append(note)
    retired = (
        carry_retired(
            deck,
            previous,
            note_stamps,
            now=now,
            previous_package=previous_package,
            report=report,
            announcing=announcing,
        )
        if ship_retired
        else {}
    )
    notes.extend(
        Note(
            card_id=card_id,
            guid=note_guid(deck.id, card_id),
            notetype=r.notetype,
            fields=r.fields,
            tags=(RETIRED_TAG,),
            deck_name=r.deck_name,
            media=(),
            mod=r.entry.mod,
            card_ords=r.card_ords,
        )
        for card_id, r in sorted(retired.items())
    )
    notetype_stamps = _notetype_stamps(notes, previous, now, deck.folder, report)
    description = deck_description(
        deck.description, deck.release, has_retired=bool(retired), folder=deck.folder, report=report
    )
    if report.error_count > errors_before:
        return None
    return CompiledDeck(
        spec=deck,
        description=description,
        notes=tuple(notes),
        notetype_mods={CardKind(kind): stamp.mod for kind, stamp in notetype_stamps.items()},
        lock=Lock(
            notes=note_stamps,
            notetypes=notetype_stamps,
            retired={card_id: r.entry for card_id, r in retired.items()},
        ),
    )


@dataclass
class _Shipped:
    """What the last shipped package holds, read once and only when a card needs it; empty
    when there is none or it cannot be read (the build then replaces it)."""

    package: Path

    @functools.cached_property
    def content(self) -> PackageContent | None:
        if not self.package.exists():
            return None
        try:
            return read_package(self.package, within=self.package.parent)
        except UnreadablePackage:
            return None

    @functools.cached_property
    def occlusions(self) -> dict[str, str]:
        """The first field (an occlusion note's masks) of every note, by guid: without them
        masks are numbered in written order."""
        if self.content is None:
            return {}
        return {guid: note.field_list[0] for guid, note in self.content.notes.items()}

    @functools.cached_property
    def decks(self) -> dict[str, str]:
        """The deck each note's first card is in, by guid: without them moved notes count as
        changed."""
        decks: dict[str, str] = {}
        for guid, _, deck_name, _ in self.content.cards if self.content is not None else ():
            decks.setdefault(guid, deck_name)
        return decks


def _live_note(
    card: RenderedCard,
    deck: DeckSpec[RenderedCard],
    identity: DeckIdentity,
    previous: Lock,
    shipped: _Shipped,
    now: int,
    report: Report,
) -> tuple[Note, Stamp]:
    """One card's note, and its stamp: the lock's time while its content is unchanged."""
    notetype = NOTETYPES[card.kind]
    kind: str = card.kind._value_  # ``.value`` is a property: a tenth of this function's time
    deck_name = f"{deck.name}::{card.subdeck}" if card.subdeck else deck.name
    # The per-file stage took both for this deck's identity (its cache key holds it).
    guid = card.guid if card.guid is not None else identity.guid(card.id)
    fields, ords = card.fields, card.card_ords
    if card.kind is CardKind.OCCLUSION:
        fields, ords = _occlusion_fields(card, deck, guid, shipped)
    old = previous.last_stamp(card.id)
    if old is not None and old.kind != kind:
        report.warning(
            card.location,
            f"card '{card.id}' changed type from {old.kind} to {kind}: students "
            "who imported it keep the old note unchanged; give the card a new id to ship "
            "it as a new note",
        )
    # The report link's template, not the link, is content: the release it names is no
    # change of the card, and a release must re-stamp no note.
    content_fingerprint = card.fingerprint
    if content_fingerprint is None or card.kind is CardKind.OCCLUSION:
        content_fingerprint = identity.fingerprint(
            guid=guid, notetype_id=notetype.id, fields=fields, tags=card.tags
        )
    if old is not None and previous.fingerprints_with_deck:
        old = _recognised(
            old,
            content_fingerprint,
            [
                fingerprint_with_deck(
                    guid=guid,
                    notetype_id=notetype.id,
                    fields=identity.content(fields),
                    tags=card.tags,
                    deck=d,
                )
                for d in {deck_name, shipped.decks.get(guid, deck_name)}
            ],
        )
    if deck.report_url is not None:
        release = str(deck.release.version) if deck.release.version is not None else "unreleased"
        url = deck.report_url.filled(deck=deck.name, card=card.id, release=release)
        fields = with_report_link(notetype.fields, fields, report_link(url))
    try:
        stamp = next_stamp(old, fingerprint=content_fingerprint, kind=kind, now=now)
    except TimeExhausted as exc:
        report.error(Location(deck.folder / LOCK_FILE), f"card '{card.id}' {exc}")
        stamp = Stamp(content_fingerprint, MAX_TIME, kind)  # the deck fails
    note = Note(
        card_id=card.id,
        guid=guid,
        notetype=notetype,
        fields=fields,
        tags=card.tags,
        deck_name=deck_name,
        media=card.media,
        mod=stamp.mod,
        card_ords=ords,
    )
    return note, stamp


def _occlusion_fields(
    card: RenderedCard, deck: DeckSpec[RenderedCard], guid: str, shipped: _Shipped
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """An occlusion card's fields in the deck's mask colours, each hidden label keeping its
    card number as shipped; and the cards Anki makes of them."""
    fields, ords = card.fields, card.card_ords
    if deck.mask_colours is not None:
        header = with_deck_colours(fields[2], deck.mask_colours)
        fields = (*fields[:2], header, *fields[3:])
    if card_keys(fields[0]):
        last = shipped.occlusions.get(guid)
        if last is not None:
            fields = (keep_card_numbers(fields[0], last), *fields[1:])
            ords = card_ords(NOTETYPES[card.kind], fields)
    return fields, ords


def _notetype_stamps(
    notes: list[Note], previous: Lock, now: int, folder: Path, report: Report
) -> dict[str, Stamp]:
    """The stamp of each notetype the notes use, by kind: the lock's while it is unchanged."""
    stamps = {}
    for kind in sorted({note.notetype.kind for note in notes}, key=lambda k: k.value):
        try:
            stamps[kind.value] = next_stamp(
                previous.notetypes.get(kind.value),
                fingerprint=NOTETYPES[kind].fingerprint(),
                kind=kind.value,
                now=now,
            )
        except TimeExhausted as exc:
            report.error(Location(folder / LOCK_FILE), f"notetype '{kind.value}' {exc}")
    return stamps


def _recognised(old: Stamp, fingerprint: str, with_deck: list[str]) -> Stamp:
    """``old`` from a lock of format 1 or 2, under this build's ``fingerprint`` when it
    records the same content in any deck it may have been in (a moved note is no edit)."""
    if old.fingerprint in with_deck:
        return dataclasses.replace(old, fingerprint=fingerprint)
    return old

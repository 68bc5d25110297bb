"""Stage 5 and 6 together: render a checked deck's cards into notes and stamp them from the lock."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from deckgen.bodymap import BodymapSpec
from deckgen.bodymap_draw import render_bodymap
from deckgen.diagnostics import Report
from deckgen.identity import LOCK_FILE, Lock, Stamp, fingerprint, next_stamp, note_guid, read_lock
from deckgen.media import MediaFile, MediaResolver, media_name
from deckgen.notetypes import NOTETYPES, Notetype
from deckgen.render import cloze_problem, is_blank, render_field
from deckgen.retire import carry_retired
from deckgen.validate import CardKind, CardSpec, DeckSpec, Text


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


@dataclass(frozen=True)
class CompiledDeck:
    """Everything needed to write one deck's package and lock."""

    spec: DeckSpec
    description: str
    """HTML shown on Anki's deck overview."""
    notes: tuple[Note, ...]
    notetype_mods: dict[CardKind, int]
    """Modification time of each notetype the deck uses."""
    lock: Lock
    """The lock as this build leaves it."""

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """Every image of the deck once, in name order."""
        by_name = {file.name: file for note in self.notes for file in note.media}
        return tuple(by_name[name] for name in sorted(by_name))


def compile_deck(
    deck: DeckSpec, *, now: int, report: Report, previous_package: Path
) -> CompiledDeck | None:
    """Render and stamp one deck; None when it had errors (they are in ``report``).
    ``previous_package`` holds the last shipped version of cards deleted since."""
    errors_before = report.error_count
    previous = read_lock(deck.folder / LOCK_FILE, report)
    resolver = MediaResolver(deck.folder, report)
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
    for card in deck.cards:
        fields, media = _render_card(card, resolver, report)
        notetype = NOTETYPES[card.kind]
        deck_name = f"{deck.name}::{card.subdeck}" if card.subdeck else deck.name
        guid = note_guid(deck.id, card.id)
        content = {
            "guid": guid,
            "notetype": notetype.id,
            "fields": fields,
            "tags": card.tags,
            "deck": deck_name,
        }
        old = previous.last_stamp(card.id)
        if old is not None and old.kind != card.kind.value:
            report.warning(
                card.location,
                f"card '{card.id}' changed type from {old.kind} to {card.kind.value}: students "
                "who imported it keep the old note unchanged; give the card a new id to ship "
                "it as a new note",
            )
        stamp = next_stamp(old, fingerprint=fingerprint(content), kind=card.kind.value, now=now)
        note_stamps[card.id] = stamp
        notes.append(Note(card.id, guid, notetype, fields, card.tags, deck_name, media, stamp.mod))
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


def _render_card(
    card: CardSpec, resolver: MediaResolver, report: Report
) -> tuple[tuple[str, ...], tuple[MediaFile, ...]]:
    folder = card.location.path.parent
    media: dict[str, MediaFile] = {}
    errors_before = report.error_count

    def render(text: Text | None) -> str:
        if text is None:
            return ""
        rendered = render_field(
            text.markdown,
            location=text.location,
            card_folder=folder,
            media=resolver,
            report=report,
        )
        media.update((file.name, file) for file in rendered.media)
        return rendered.html

    by_author_name = {"extra": render(card.extra)}
    if card.kind is CardKind.CLOZE:
        by_author_name["cloze"] = render(card.cloze)
    else:
        by_author_name["question"] = render(card.question)
        by_author_name["answer"] = render(card.answer)
    for placement in card.bodymap.placements() if card.bodymap is not None else ():
        picture = bodymap_media(placement.spec)
        media[picture.name] = picture
        shown = by_author_name[placement.field]
        by_author_name[placement.field] = (
            f'{shown}<div class="deckgen-bodymap"><img src="{picture.name}" '
            f'alt="{html.escape(placement.spec.alt_text())}"></div>'
        )
    if report.error_count == errors_before:  # a dropped image would read as a blank side
        _check_cards_made(card, by_author_name, report)
    source = render(card.source)
    if card.kind is CardKind.CLOZE:
        fields: tuple[str, ...] = (by_author_name["cloze"], by_author_name["extra"], source)
    else:
        fields = (
            by_author_name["question"],
            by_author_name["answer"],
            by_author_name["extra"],
            source,
        )
    return fields, tuple(media[name] for name in sorted(media))


def _check_cards_made(card: CardSpec, rendered: dict[str, str], report: Report) -> None:
    """Report a field that would leave Anki with no card to make, judged on the final HTML."""
    if card.kind is CardKind.CLOZE:
        problem = cloze_problem(rendered["cloze"])
        if problem and card.cloze is not None:
            report.error(card.cloze.location, f"card '{card.id}' {problem}")
        return
    for key, text in (("question", card.question), ("answer", card.answer)):
        if text is not None and is_blank(rendered[key]):
            report.error(
                text.location,
                f"card '{card.id}' has a {key} that is empty once its HTML is cleaned: "
                "Anki would show a blank side; write text or a picture",
            )


def bodymap_media(spec: BodymapSpec) -> MediaFile:
    """A card's body map as a shipped image."""
    picture = render_bodymap(spec)
    return MediaFile(media_name(picture, "svg"), picture)

"""A deck compiled into notes: everything needed to write its package and its lock, what the
per-deck stage hands to the package writer, lint, stats, preview and the changelog."""

from __future__ import annotations

from dataclasses import dataclass

from deckgen.anki.identity import Lock
from deckgen.anki.notetypes import Notetype
from deckgen.cards.validate import CardSpec, DeckSpec
from deckgen.diagnostics import plural, value_class
from deckgen.render.card import AuthoredCard, RenderedCard
from deckgen.values import CardKind, MediaFile


@value_class(kw_only=True)
class Note:
    """A note ready to be written into a package. A value class, not a frozen dataclass:
    making every note of a deck through ``object.__setattr__`` was a third of the per-deck
    stage."""

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
class DeckCounts:
    """What a deck holds, counted as Anki counts it: the one count check, build, preview,
    stats and docs/deck.md give. Notes are what authors write; cards are what students study (a
    cloze note makes one card per number, a reversed note two). Retired notes, shipped as
    notices, are counted apart."""

    notes: int
    cards: int
    retired_notes: int = 0
    retired_cards: int = 0

    def __add__(self, other: DeckCounts) -> DeckCounts:
        return DeckCounts(
            self.notes + other.notes,
            self.cards + other.cards,
            self.retired_notes + other.retired_notes,
            self.retired_cards + other.retired_cards,
        )

    def __str__(self) -> str:
        text = f"{plural(self.notes, 'note')}, {plural(self.cards, 'card')}"
        if self.retired_notes:
            text += (
                f"; {plural(self.retired_notes, 'retired note')}, "
                f"{plural(self.retired_cards, 'card')}"
            )
        return text


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

    def authored_cards(self) -> list[tuple[AuthoredCard, Note]]:
        """Each live card as lint and stats read it, with its note. Needs a deck compiled
        with ``authored`` (from the build cache too)."""
        pairs = []
        for card, note in zip(self.spec.cards, self.notes, strict=False):
            if card.authored is None:
                raise ValueError("authored_cards() needs a deck compiled with authored=True")
            pairs.append((card.authored, note))
        return pairs

    @property
    def retired_notes(self) -> tuple[Note, ...]:
        """Notes of deleted cards, shipped as retirement notices (retire.py); they follow the
        live notes, which match the deck's cards one to one."""
        return self.notes[len(self.spec.cards) :]

    @property
    def counts(self) -> DeckCounts:
        live = self.notes[: len(self.spec.cards)]
        retired = self.retired_notes
        return DeckCounts(
            notes=len(live),
            cards=sum(len(note.card_ords) for note in live),
            retired_notes=len(retired),
            retired_cards=sum(len(note.card_ords) for note in retired),
        )

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """Every image of the deck once, in name order."""
        by_name = {file.name: file for note in self.notes for file in note.media}
        return tuple(by_name[name] for name in sorted(by_name))


def total_counts(compiled: list[CompiledDeck]) -> DeckCounts:
    return sum((deck.counts for deck in compiled), DeckCounts(0, 0))

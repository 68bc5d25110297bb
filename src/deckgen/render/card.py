"""A card checked and rendered: what the per-file stage hands to the per-deck stage, and what
the build cache keeps of it."""

from __future__ import annotations

from dataclasses import dataclass

from deckgen.cards.validate import CardSpec
from deckgen.diagnostics import Location
from deckgen.values import CardKind, MediaFile


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """One card checked and rendered: everything the deck stage needs, nothing it computes."""

    id: str
    kind: CardKind
    fields: tuple[str, ...]
    """HTML, in the notetype's field order."""
    tags: tuple[str, ...]
    subdeck: str | None
    media: tuple[MediaFile, ...]
    """Every image the card shows once (its body maps included), in name order."""
    bodymaps: tuple[tuple[str, MediaFile], ...]
    """The card's drawn body maps, also in ``media``, with the field (as the author names it)
    each went into: one, or a question/answer pair for a map with ``reveal``."""
    card_ords: tuple[int, ...]
    """The cards Anki makes of the note, by ordinal: what the package holds."""
    location: Location
    spec: CardSpec | None = None
    """The card as written; None when the result came from the build cache, which keeps
    only what the package needs (lint, stats and preview compile without the cache)."""
    guid: str | None = None
    """The note's guid, when the per-file stage was given the deck's identity (the cache
    key holds it, so a cached guid is the current deck's)."""
    fingerprint: str | None = None
    """The lock's content fingerprint of the note, as ``guid``; None for an image occlusion
    card, whose fields the per-deck stage still changes. Taken per file, on every core and
    from the cache, instead of for every note of the deck on every build."""

"""``deckgen stats``: what a deck holds, counted the way Anki will count it.

Deck names, subdecks and tags are the author's text: each is printed escaped (``printable``),
so no control, bidi or zero-width character reaches the terminal.

What it counts of each card as written (its source, its body map) is ``AuthoredCard``, which
the build cache keeps, so an unchanged card file is not compiled again; and the command on a
project unchanged since its last run prints that run's table before importing the pipeline
(``freshness.recorded_review``)."""

from __future__ import annotations

from collections import Counter

from deckgen.anki.compiled import CompiledDeck
from deckgen.diagnostics import Report, printable
from deckgen.values import CardKind, folder_name
from deckgen.workflow.lint import RULES

_TABLES = ("subdeck", "type", "tag")


def stats_text(compiled: list[CompiledDeck], findings: Report) -> str:
    """A plain-text summary per deck; ``findings`` holds the lint warnings of the same decks."""
    blocks = []
    for deck in compiled:
        folder = deck.spec.folder.resolve()
        notes_by: dict[str, Counter[str]] = {title: Counter() for title in _TABLES}
        cards_by: dict[str, Counter[str]] = {title: Counter() for title in _TABLES}
        written = deck.authored_cards()
        for card, note in written:
            count = len(note.card_ords)
            keys = {
                "subdeck": [printable(note.deck_name)],
                "type": [card.kind.value],
                "tag": [printable(tag) for tag in note.tags],
            }
            for title in _TABLES:
                for key in keys[title]:
                    notes_by[title][key] += 1
                    cards_by[title][key] += count
        sourced = sum(1 for card, _ in written if card.sourced)
        bodymaps = sum(1 for card, _ in written if card.has_bodymap)
        counts = deck.counts
        notes = counts.notes
        rules = Counter(
            d.rule
            for d in findings.diagnostics
            if d.rule is not None and d.location.path.resolve().is_relative_to(folder)
        )
        lines = [
            f"{printable(deck.spec.name)} ({printable(folder_name(deck.spec.folder))}): {counts}"
        ]
        for title in _TABLES:
            rows = [
                (key, notes_by[title][key], cards_by[title][key]) for key in sorted(notes_by[title])
            ]
            lines.extend(_table(title, rows))
        share = f"{sourced * 100 // notes}%" if notes else "-"
        lines.append(
            f"images: {len(deck.media) - _bodymap_files(deck)}, body maps: {bodymaps}, "
            f"sourced: {sourced} of {notes} notes ({share})"
        )
        occlusion = [note for card, note in written if card.kind is CardKind.OCCLUSION]
        if occlusion:
            masks = sum(note.fields[0].count("::image-occlusion:") for note in occlusion)
            lines.append(
                f"image occlusion: {len(occlusion)} notes, "
                f"{sum(len(note.card_ords) for note in occlusion)} cards, {masks} masks"
            )
        lines.append("lint findings:" + ("" if rules else " none"))
        lines.extend(f"  {rule:<20} {rules[rule]:>5}" for rule in RULES if rules[rule])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _bodymap_files(deck: CompiledDeck) -> int:
    """Distinct body-map pictures among the deck's media (identical maps share one file)."""
    return len({picture.name for card in deck.spec.cards for _, picture in card.bodymaps})


def _table(title: str, rows: list[tuple[str, int, int]]) -> list[str]:
    width = max([len(title), *(len(key) for key, _, _ in rows)])
    lines = [f"  {title:<{width}}  {'notes':>5}  {'cards':>5}"]
    lines.extend(f"  {key:<{width}}  {notes:>5}  {cards:>5}" for key, notes, cards in rows)
    return lines

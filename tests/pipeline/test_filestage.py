"""The per-file stage: one card file in, its rendered cards and diagnostics out."""

from __future__ import annotations

from pathlib import Path

from deckgen.diagnostics import Report
from deckgen.pipeline.filestage import compile_file
from deckgen.render.render import render_field


def test_a_shared_source_is_rendered_once_and_warned_about_on_every_card(
    tmp_path: Path,
) -> None:
    deck = tmp_path / "deck"
    deck.mkdir()
    card_file = deck / "cards.yaml"
    card_file.write_text(
        "source: 'Travell <script>x</script> & Simons'\n"
        "cards:\n"
        "  - {id: a, question: Q1, answer: A1}\n"
        "  - {id: b, question: Q2, answer: A2}\n"
        "  - {id: c, question: Q3, answer: A3, source: Own *book*}\n"
    )
    compiled = compile_file(card_file, deck_folder=deck, deck_tags=("t",))

    alone = Report()
    shared = render_field(
        "Travell <script>x</script> & Simons",
        location=compiled.diagnostics[0].location,
        card_folder=deck,
        media=None,
        report=alone,
    )
    assert [card.fields[3] for card in compiled.cards] == [
        shared.html,
        shared.html,
        "Own <em>book</em>",
    ]
    assert [str(d) for d in compiled.diagnostics] == [str(d) for d in alone.diagnostics] * 2
    assert compile_file(card_file, deck_folder=deck, deck_tags=("t",)) == compiled
